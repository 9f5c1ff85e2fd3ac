package trust_test

import (
	"fmt"

	"github.com/mailtrust/mailtrust/trust"
)

// A reason explains itself from the signal table: what it means, why it
// weighs what it weighs, and what it deliberately does not fire on.
func ExampleLookupSignal() {
	s, _ := trust.LookupSignal(trust.SPFFailForwarded)
	fmt.Println(s.Group, s.Weight)
	fmt.Println(trust.Reason{Code: trust.FromRoute}.Doc()[:48])
	t := trust.DefaultThresholds()
	fmt.Println(t.Trusted, t.Suspicious, t.Untrusted)
	// Output:
	// forward 0
	// From uses obsolete route syntax <@a:user@b> (RFC
	// -2.5 2.5 6
}
