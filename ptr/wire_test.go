package ptr_test

import (
	"context"
	"net/netip"
	"slices"
	"testing"

	"github.com/miekg/dns"

	"github.com/mailtrust/mailtrust/ptr"
	"github.com/mailtrust/mailtrust/resolver"
	"github.com/mailtrust/mailtrust/resolver/resolvertest"
)

// TestCheckWire runs a few cases over the wire, through resolver.Client
// and a loopback server answering from the same zone.
func TestCheckWire(t *testing.T) {
	srv := resolvertest.Start(t, newZone(t))
	srv.StopAtCNAME(true) // the client follows RFC 2317 aliases itself
	srv.Servfail("44.2.0.192.in-addr.arpa.")
	srv.Drop("to.example.org.")
	c := resolvertest.Client(t, srv)

	tests := []struct {
		ip        string
		status    ptr.Status
		confirmed []string
	}{
		{"192.0.2.10", ptr.StatusPass, []string{"mail.example.org."}},
		{"2001:db8::10", ptr.StatusPass, []string{"mail6.example.org."}},
		{"192.0.2.70", ptr.StatusPass, []string{"classless.example.org."}},
		{"192.0.2.13", ptr.StatusPass, []string{"multi.example.org."}},
		{"192.0.2.12", ptr.StatusFail, nil},
		{"192.0.2.20", ptr.StatusNone, nil},
		{"192.0.2.44", ptr.StatusTemperror, nil}, // SERVFAIL from the server
		{"192.0.2.42", ptr.StatusTemperror, nil}, // the forward question is never answered
	}
	for _, tc := range tests {
		t.Run(tc.ip, func(t *testing.T) {
			res := ptr.Check(context.Background(), c, netip.MustParseAddr(tc.ip), nil)
			if res.Status != tc.status || !slices.Equal(res.Confirmed, tc.confirmed) {
				t.Errorf("got %q %q, want %q %q (reason %q, err %v)", res.Status, res.Confirmed, tc.status, tc.confirmed, res.Reason, res.Err)
			}
			if tc.status == ptr.StatusTemperror && !resolver.IsTemporary(res.Err) {
				t.Errorf("Err = %v, want temporary", res.Err)
			}
		})
	}
	if n := srv.Queries("mail.example.org.", dns.TypeAAAA); n != 0 {
		t.Errorf("asked AAAA for an IPv4 client %d times", n)
	}
	if n := srv.Queries("mail.example.org.", dns.TypeA); n != 1 {
		t.Errorf("asked A %d times, want 1", n)
	}
}
