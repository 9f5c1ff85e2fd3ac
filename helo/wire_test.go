package helo_test

import (
	"context"
	"net/netip"
	"testing"

	"github.com/miekg/dns"

	"github.com/mailtrust/mailtrust/helo"
	"github.com/mailtrust/mailtrust/resolver"
	"github.com/mailtrust/mailtrust/resolver/resolvertest"
)

// TestCheckWire runs a few cases over the wire, through resolver.Client
// and a loopback server answering from the same zone.
func TestCheckWire(t *testing.T) {
	srv := resolvertest.Start(t, newZone(t))
	srv.Servfail("busy.example.org.")
	c := resolvertest.Client(t, srv)
	ip := netip.MustParseAddr("192.0.2.10")

	tests := []struct {
		name   string
		sender string
		status helo.Status
		code   helo.Code
		isMX   bool
	}{
		{"mail.example.org", "", helo.StatusPass, helo.CodeMatch, false},
		{"mx1.example.org", "example.org", helo.StatusFail, helo.CodeOtherIP, true},
		{"alias.example.org", "", helo.StatusPass, helo.CodeMatch, false},
		{"nothere.example.org", "", helo.StatusNone, helo.CodeNXDomain, false},
		{"txtonly.example.org", "", helo.StatusNone, helo.CodeNoAddress, false},
		{"mail.isp.example", "", helo.StatusFail, helo.CodeOtherIP, false},
		{"mail.nosuchtld", "", helo.StatusInvalid, helo.CodeUnknownTLD, false},
		{"busy.example.org", "", helo.StatusTemperror, helo.CodeDNSTemporary, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := helo.Check(context.Background(), c, tc.name, ip, &helo.Options{SenderDomain: tc.sender})
			if res.Status != tc.status || res.Code != tc.code || res.IsMX != tc.isMX {
				t.Errorf("got %q %q mx=%v, want %q %q mx=%v (reason %q, err %v)",
					res.Status, res.Code, res.IsMX, tc.status, tc.code, tc.isMX, res.Reason, res.Err)
			}
			if tc.status == helo.StatusTemperror && !resolver.IsTemporary(res.Err) {
				t.Errorf("Err = %v, want temporary", res.Err)
			}
		})
	}
	if n := srv.Queries("nosuchtld.", dns.TypeSOA); n != 1 {
		t.Errorf("asked the unknown TLD %d times, want 1", n)
	}
	if n := srv.Queries("org.", dns.TypeSOA); n != 0 {
		t.Errorf("asked a listed TLD %d times, want 0", n)
	}
}
