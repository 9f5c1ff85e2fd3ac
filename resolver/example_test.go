package resolver_test

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/miekg/dns"

	"github.com/mailtrust/mailtrust/resolver"
)

func ExampleZone() {
	z := resolver.NewZone()
	err := z.ReadMasterFile(strings.NewReader(`
$ORIGIN example.org.
@     300 IN TXT "v=spf1 " "-all"
mail  300 IN A   192.0.2.10
; servfail: broken
`), ".", "example.zone")
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	txt, _, _ := resolver.TXT(ctx, z, "example.org.")
	fmt.Println(txt)
	ans, _ := z.Lookup(ctx, "mail.example.org.", dns.TypeTXT)
	fmt.Println(ans.Empty(), ans.NXDomain()) // NODATA
	ans, _ = z.Lookup(ctx, "www.example.org.", dns.TypeA)
	fmt.Println(ans.Empty(), ans.NXDomain()) // NXDOMAIN
	_, err = z.Lookup(ctx, "broken.example.org.", dns.TypeA)
	fmt.Println(resolver.IsTemporary(err))
	// Output:
	// [v=spf1 -all]
	// true false
	// true true
	// true
}

func ExampleRecorder() {
	z := resolver.NewZone()
	for _, s := range []string{
		"alias.example.org. 300 IN CNAME mail.example.org.",
		"mail.example.org. 300 IN A 192.0.2.10",
		"example.org. 300 IN SOA ns.example.org. h.example.org. 1 2 3 4 60",
	} {
		rr, _ := dns.NewRR(s)
		z.Add(rr)
	}
	z.SetFault("broken.example.org.", resolver.FaultServfail)

	rec := resolver.NewRecorder(z)
	ctx := context.Background()
	rec.Lookup(ctx, "alias.example.org.", dns.TypeA)
	rec.Lookup(ctx, "nope.example.org.", dns.TypeA)
	rec.Lookup(ctx, "broken.example.org.", dns.TypeTXT)
	rec.WriteTo(os.Stdout)
	// Output:
	// ; servfail: broken.example.org.
	// example.org.	300	IN	SOA	ns.example.org. h.example.org. 1 2 3 4 60
	// alias.example.org.	300	IN	CNAME	mail.example.org.
	// mail.example.org.	300	IN	A	192.0.2.10
}
