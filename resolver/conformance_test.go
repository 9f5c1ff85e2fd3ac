package resolver_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mailtrust/mailtrust/resolver"
	"github.com/mailtrust/mailtrust/resolver/resolvertest"
)

// TestZoneAndClientAgree asks the same questions of the Zone directly and
// of a Client talking to a server that serves that Zone: both must give
// the expected answer and the very same one (records, rcode, chain, TTL,
// SOA), so that a replay from a zone file sees what the wire would give.
func TestZoneAndClientAgree(t *testing.T) {
	zone := testZone(t)
	zone.Timeout = 100 * time.Millisecond
	srv := resolvertest.Start(t, zone)
	client := resolvertest.Client(t, srv)

	cases := []struct {
		name    string
		qtype   uint16
		rcode   int
		records int
		cnames  int
		ttl     uint32
		err     error // ErrTemporary or ErrPermanent when the question fails
	}{
		{"example.org.", dns.TypeTXT, dns.RcodeSuccess, 1, 0, 3600, nil},
		{"EXAMPLE.org", dns.TypeMX, dns.RcodeSuccess, 1, 0, 3600, nil},
		{"mail.example.org.", dns.TypeA, dns.RcodeSuccess, 1, 0, 3600, nil},
		{"mail.example.org.", dns.TypeAAAA, dns.RcodeSuccess, 1, 0, 3600, nil},
		{"mail.example.org.", dns.TypeTXT, dns.RcodeSuccess, 0, 0, 300, nil},         // NODATA, SOA minimum
		{"nope.example.org.", dns.TypeTXT, dns.RcodeNameError, 0, 0, 300, nil},       // NXDOMAIN
		{"deeper.nope.example.org.", dns.TypeA, dns.RcodeNameError, 0, 0, 300, nil},  // below NXDOMAIN
		{"split.example.org.", dns.TypeTXT, dns.RcodeSuccess, 1, 0, 600, nil},        // one record, three strings
		{"alias.example.org.", dns.TypeA, dns.RcodeSuccess, 1, 1, 300, nil},          // CNAME followed
		{"alias2.example.org.", dns.TypeA, dns.RcodeSuccess, 1, 2, 120, nil},         // chain of two
		{"alias2.example.org.", dns.TypeTXT, dns.RcodeSuccess, 0, 2, 120, nil},       // chain to NODATA
		{"alias.example.org.", dns.TypeCNAME, dns.RcodeSuccess, 1, 0, 300, nil},      // the alias itself
		{"dangling.example.org.", dns.TypeA, dns.RcodeNameError, 0, 1, 300, nil},     // chain to NXDOMAIN
		{"x.wild.example.org.", dns.TypeTXT, dns.RcodeSuccess, 1, 0, 900, nil},       // wildcard
		{"y.x.wild.example.org.", dns.TypeTXT, dns.RcodeSuccess, 1, 0, 900, nil},     // wildcard, deeper
		{"x.wild.example.org.", dns.TypeA, dns.RcodeSuccess, 0, 0, 300, nil},         // wildcard NODATA
		{"wild.example.org.", dns.TypeTXT, dns.RcodeSuccess, 0, 0, 300, nil},         // empty non-terminal
		{"example.", dns.TypeA, dns.RcodeSuccess, 0, 0, 300, nil},                    // ENT, no SOA: default
		{"b.example.", dns.TypeTXT, dns.RcodeSuccess, 0, 0, 300, nil},                // ENT
		{"a.b.example.", dns.TypeA, dns.RcodeSuccess, 1, 0, 300, nil},                //
		{"c.example.", dns.TypeA, dns.RcodeNameError, 0, 0, 300, nil},                // NXDOMAIN, no SOA
		{"other.example.", dns.TypeA, dns.RcodeSuccess, 1, 1, 300, nil},              // alias across zones
		{"10.2.0.192.in-addr.arpa.", dns.TypePTR, dns.RcodeSuccess, 1, 0, 3600, nil}, // reverse
		{"loop1.example.org.", dns.TypeA, 0, 0, 0, 0, resolver.ErrPermanent},
		{"broken.example.org.", dns.TypeA, 0, 0, 0, 0, resolver.ErrTemporary},
		{"tobroken.example.org.", dns.TypeTXT, 0, 0, 0, 0, resolver.ErrTemporary},
		{"slow.example.org.", dns.TypeA, 0, 0, 0, 0, resolver.ErrTemporary},
	}
	resolvers := []struct {
		name string
		r    resolver.Resolver
	}{{"zone", zone}, {"client", client}}
	for _, tc := range cases {
		t.Run(tc.name+"/"+resolver.TypeString(tc.qtype), func(t *testing.T) {
			var got []string
			for _, r := range resolvers {
				ans, err := r.r.Lookup(context.Background(), tc.name, tc.qtype)
				if tc.err != nil {
					require.Error(t, err, r.name)
					assert.True(t, errors.Is(err, tc.err), "%s: %v", r.name, err)
					assert.Nil(t, ans, r.name)
					continue
				}
				require.NoError(t, err, r.name)
				assert.Equal(t, resolver.Fqdn(tc.name), ans.Name, r.name)
				assert.Equal(t, tc.rcode, ans.Rcode, r.name)
				assert.Len(t, ans.Records, tc.records, r.name)
				assert.Len(t, ans.CNAMEs, tc.cnames, r.name)
				assert.Equal(t, tc.ttl, ans.TTL, r.name)
				got = append(got, describe(ans))
			}
			if tc.err == nil {
				assert.Equal(t, got[0], got[1], "zone and client differ")
			}
		})
	}
}
