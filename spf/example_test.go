package spf_test

import (
	"context"
	"fmt"
	"net/netip"
	"strings"

	"github.com/emersion/go-msgauth/authres"

	"github.com/mailtrust/mailtrust/resolver"
	"github.com/mailtrust/mailtrust/spf"
)

func ExampleCheck() {
	z := resolver.NewZone()
	err := z.ReadMasterFile(strings.NewReader(`
$ORIGIN example.org.
bounce  IN TXT "v=spf1 include:_spf.example.net ~all"
$ORIGIN example.net.
_spf    IN TXT "v=spf1 ip4:192.0.2.0/24 -all"
`), ".", "example")
	if err != nil {
		panic(err)
	}

	res := spf.Check(context.Background(), z, netip.MustParseAddr("192.0.2.10"),
		"mail.example.net", "alice@bounce.example.org", nil)
	fmt.Println(res.Status, res.Mechanism)
	for _, s := range res.Path {
		fmt.Printf("  %s: %s\n", s.Domain, s.Term)
	}
	fmt.Println(authres.Format("mx.example.com", []authres.Result{res.AuthResult()}))
	// Output:
	// pass include:_spf.example.net
	//   bounce.example.org: include:_spf.example.net
	//   _spf.example.net: ip4:192.0.2.0/24
	// mx.example.com; spf=pass reason="192.0.2.10 matched ip4:192.0.2.0/24 in _spf.example.net's record, reached through include:_spf.example.net" smtp.mailfrom=alice@bounce.example.org
}
