package ptr_test

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/mailtrust/mailtrust/ptr"
)

func TestIsGeneric(t *testing.T) {
	const v4, v6 = "192.0.2.10", "2001:db8::10"
	tests := []struct {
		name   string
		ip     string // "" is the zero Addr
		reason string // "" means not generic
	}{
		// The address embedded, IPv4.
		{"10-2-0-192.cable.isp.example", v4, "embeds-ip"},
		{"host-192-0-2-10.dyn.example", v4, "embeds-ip"},
		{"192.0.2.10.example", v4, "embeds-ip"},
		{"10.2.0.192.static.isp.example.", v4, "embeds-ip"},
		{"192-000-002-010.dsl.example", v4, "embeds-ip"},
		{"dslb-192-000-002-010.192.000.pools.isp.example", v4, "embeds-ip"},
		{"192000002010.isp.example", v4, "embeds-ip"},
		{"010002000192.isp.example", v4, "embeds-ip"},
		{"c000020a.isp.example", v4, "embeds-ip"},
		{"pC000020A.dip0.isp.example", v4, "embeds-ip"},
		{"0a0200c0.isp.example", v4, "embeds-ip"},
		{"3221225994.isp.example", v4, "embeds-ip"},
		{"host192-0-2-10.isp.example", v4, "embeds-ip"},
		{"192_0_2_10.isp.example", v4, "embeds-ip"},
		{"ip-192-0-2-10.ec2.internal", v4, "embeds-ip"},
		{"mail-192-0-2-10.example.org", v4, "embeds-ip"},
		{"HOST-192-0-2-10.ISP.EXAMPLE", "::ffff:192.0.2.10", "embeds-ip"},
		// The address embedded, IPv6.
		{"2001-db8--10.dyn.example", v6, "embeds-ip"},
		{"host-2001-db8-0-0-0-0-0-10.isp.example", v6, "embeds-ip"},
		{"2001-0db8-0000-0000-0000-0000-0000-0010.isp.example", v6, "embeds-ip"},
		{"20010db8000000000000000000000010.isp.example", v6, "embeds-ip"},
		{"0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.isp.example", v6, "embeds-ip"},
		{"2001.db8.0.0.0.0.0.10.isp.example", v6, "embeds-ip"},
		// Four octet-like numbers, not the address.
		{"1-2-3-4.example.net", v4, "ip-pattern"},
		{"198-51-100-7.isp.example", "", "ip-pattern"},
		{"web-192-0-2-11.isp.example", v4, "ip-pattern"},
		{"10-2-0-192.isp.example", v6, "ip-pattern"},
		// Pool words in the host part.
		{"dsl12.isp.example", v4, "pool-word:dsl"},
		{"dynamic.isp.example", v4, "pool-word:dynamic"},
		{"a.b.dyn.isp.example", "", "pool-word:dyn"},
		{"adsl-line7.isp.example", v4, "pool-word:adsl"},
		{"pool-71-105.nycmny.isp.example", v4, "pool-word:pool"},
		{"ppp0.isp.example", v4, "pool-word:ppp"},
		{"cpe-42.isp.example", v4, "pool-word:cpe"},
		{"x.dhcp.isp.example", v4, "pool-word:dhcp"},
		{"dialup-3.isp.co.uk", v4, "pool-word:dialup"},
		{"customer.broadband.isp.example", v4, "pool-word:broadband"},
		{"user7.residential.isp.example", v4, "pool-word:residential"},
		// Weak words count next to three octet-like numbers.
		{"client-45-12-9.isp.example", v4, "pool-word:client"},
		{"customer-1-2-3.isp.example", v4, "pool-word:customer"},
		{"host86-150-3.isp.example", v4, "pool-word:host"},
		{"static-ip-7-8-9.isp.example", v4, "pool-word:static"},

		// Benign twins.
		{"mail.example.org", v4, ""},
		{"mail.example.org.", v6, ""},
		{"smtp-out-1.amazonses.example", v4, ""},
		{"a8-12.smtp-out.amazonses.example", v4, ""},
		{"mail-qk1-f171.google.example", v4, ""},
		{"o1.ptr1234.sendgrid.example", v4, ""},
		{"m228-4.mailgun.example", v4, ""},
		{"mx1.dsl-provider.example", v4, ""},  // the word names the company
		{"dsl.example", v4, ""},               // an organizational domain only
		{"pool.co.uk", v4, ""},                // a public suffix and one label
		{"mail.cable.example.org", v4, ""},    // the operator named it a mail server
		{"smtp2.dynamic.example.org", v4, ""}, // likewise
		{"mail.customerservice.example", v4, ""},
		{"static.example.org", v4, ""},
		{"host1.example.org", v4, ""},
		{"user.example.org", v4, ""},
		{"client-12.example.org", v4, ""},
		{"dynamo.example.org", v4, ""},
		{"poolside.example.org", v4, ""},
		{"www.192-0-2.isp.example", v4, ""},     // three octets are not an address
		{"mail-192-0-2-11.isp.example", v4, ""}, // another address in a mail host
		{"c000020b.isp.example", v4, ""},        // the next address in hex
		{"2001-db8--11.isp.example", v6, ""},    // the next IPv6 address
		{"1234.isp.example", "0.0.4.210", ""},   // short decimals are not addresses
		{"example.org", v4, ""},
		{"", v4, ""},
		{".", v4, ""},
		{strings.Repeat("dsl.", 70) + "example", v4, ""}, // longer than a name can be
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var ip netip.Addr
			if tc.ip != "" {
				ip = netip.MustParseAddr(tc.ip)
			}
			g, reason := ptr.IsGeneric(tc.name, ip)
			if g != (tc.reason != "") || reason != tc.reason {
				t.Errorf("IsGeneric(%q, %v) = %v, %q; want %q", tc.name, ip, g, reason, tc.reason)
			}
		})
	}
}

func FuzzIsGeneric(f *testing.F) {
	for _, s := range []string{
		"10-2-0-192.cable.isp.example", "2001-db8--10.dyn.example", "mail.example.org.",
		"c000020a.isp.example", "client-45-12-9.isp.example", "--.-", "0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2",
	} {
		f.Add(s, []byte{192, 0, 2, 10})
		f.Add(s, []byte{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10})
	}
	f.Fuzz(func(t *testing.T, name string, raw []byte) {
		ip, _ := netip.AddrFromSlice(raw)
		g, reason := ptr.IsGeneric(name, ip)
		if g != (reason != "") {
			t.Fatalf("IsGeneric(%q) = %v with reason %q", name, g, reason)
		}
		// Names compare case-insensitively (RFC 4343) and with or
		// without the root's dot.
		if g2, r2 := ptr.IsGeneric(asciiUpper(name), ip); g2 != g || r2 != reason {
			t.Fatalf("IsGeneric(%q) = %v %q but upper case %v %q", name, g, reason, g2, r2)
		}
		if !strings.HasSuffix(name, ".") {
			if g2, r2 := ptr.IsGeneric(name+".", ip); g2 != g || r2 != reason {
				t.Fatalf("IsGeneric(%q) = %v %q but with dot %v %q", name, g, reason, g2, r2)
			}
		}
	})
}

func asciiUpper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}
