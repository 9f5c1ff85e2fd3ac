package dmarc_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/mailtrust/mailtrust/dmarc"
	"github.com/mailtrust/mailtrust/resolver"
)

// Discovery runs while SPF and DKIM are checked; Evaluate combines them.
func Example() {
	z := resolver.NewZone()
	zone := `$ORIGIN example.com.
_dmarc 3600 IN TXT "v=DMARC1; p=reject; sp=quarantine"
`
	if err := z.ReadMasterFile(strings.NewReader(zone), ".", "example"); err != nil {
		panic(err)
	}
	d := dmarc.Lookup(context.Background(), z, "News.Example.COM.")
	fmt.Println(d.FromDomain, "policy found at", d.RecordDomain)

	// SPF passed for an Amazon SES style custom MAIL FROM domain.
	r := dmarc.Evaluate(d, dmarc.Identifiers{SPFDomain: "bounce.example.com", SPFPass: true}, nil)
	fmt.Println(r.Status, r.Policy, r.Disposition, r.Reason)

	// Nothing aligned: the subdomain policy applies.
	r = dmarc.Evaluate(d, dmarc.Identifiers{DKIMPassDomains: []string{"example.net"}}, &dmarc.Options{SampleKey: "<1@example.com>"})
	fmt.Println(r.Status, r.Policy, r.Disposition, r.Reason)
	// Output:
	// news.example.com policy found at example.com
	// pass quarantine none aligned SPF bounce.example.com
	// fail quarantine quarantine no aligned SPF or DKIM pass: DKIM d=example.net not aligned (relaxed)
}
