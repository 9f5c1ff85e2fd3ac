package resolver

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"testing"

	"github.com/miekg/dns"
	"github.com/stretchr/testify/assert"
)

// TestSystemMapError classifies errors as *net.Resolver reports them.
func TestSystemMapError(t *testing.T) {
	q := Question{Name: "example.org.", Type: dns.TypeTXT}
	cases := []struct {
		name string
		err  error
		want error // nil: not found, an answer
	}{
		{"not found", &net.DNSError{Err: "no such host", Name: "example.org", IsNotFound: true}, nil},
		{"timeout", &net.DNSError{Err: "i/o timeout", IsTimeout: true}, ErrTemporary},
		{"servfail", &net.DNSError{Err: "server misbehaving", IsTemporary: true}, ErrTemporary},
		{"refused", &net.DNSError{Err: "server misbehaving"}, ErrTemporary},
		{"unmarshal", &net.DNSError{Err: "cannot unmarshal DNS message"}, ErrPermanent},
		{"wrapped", errors.Join(errors.New("x"), &net.DNSError{Err: "i/o timeout", IsTimeout: true}), ErrTemporary},
		{"deadline", context.DeadlineExceeded, ErrTemporary},
		{"other", errors.New("something"), ErrPermanent},
	}
	s := &System{}
	for _, tc := range cases {
		err := s.mapError(context.Background(), q, tc.err)
		if tc.want == nil {
			assert.NoError(t, err, tc.name)
			continue
		}
		assert.True(t, errors.Is(err, tc.want), "%s: %v", tc.name, err)
	}
	// A cancelled question is temporary whatever the error says.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := s.mapError(ctx, q, &net.DNSError{Err: "cannot unmarshal DNS message"})
	assert.True(t, errors.Is(err, context.Canceled), "%v", err)
}

func TestParseReverseName(t *testing.T) {
	for _, s := range []string{"192.0.2.10", "0.0.0.0", "255.255.255.255", "2001:db8::10", "2001:db8:1:2:3:4:5:6", "::"} {
		ip := netip.MustParseAddr(s)
		got, ok := parseReverseName(ReverseName(ip))
		assert.True(t, ok, s)
		assert.Equal(t, ip, got, s)
	}
	for _, name := range []string{"example.org.", "1.2.3.in-addr.arpa.", "256.2.0.192.in-addr.arpa.", "01.2.0.192.in-addr.arpa.", "x.2.0.192.in-addr.arpa.", "g.0.ip6.arpa.", "in-addr.arpa."} {
		_, ok := parseReverseName(name)
		assert.False(t, ok, name)
	}
}

func TestSplitTXT(t *testing.T) {
	assert.Equal(t, []string{""}, splitTXT(""))
	parts := splitTXT(string(make([]byte, 600)))
	assert.Len(t, parts, 3)
	assert.Len(t, parts[0], 255)
	assert.Len(t, parts[2], 90)
}
