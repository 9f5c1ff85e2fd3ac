package resolver_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mailtrust/mailtrust/resolver"
	"github.com/mailtrust/mailtrust/resolver/resolvertest"
)

// TestClientFaults sends questions through the real loopback server with a
// fault injected, and checks the error class each maps to.
func TestClientFaults(t *testing.T) {
	cases := []struct {
		name   string
		inject func(*resolvertest.Server, string)
		want   error
		rcode  int
	}{
		{"servfail", (*resolvertest.Server).Servfail, resolver.ErrTemporary, dns.RcodeServerFailure},
		{"refused", (*resolvertest.Server).Refused, resolver.ErrTemporary, dns.RcodeRefused},
		{"drop", (*resolvertest.Server).Drop, resolver.ErrTemporary, -1},
		{"formerr", func(s *resolvertest.Server, n string) { s.Rcode(n, dns.RcodeFormatError) }, resolver.ErrPermanent, dns.RcodeFormatError},
		{"notimp", func(s *resolvertest.Server, n string) { s.Rcode(n, dns.RcodeNotImplemented) }, resolver.ErrPermanent, dns.RcodeNotImplemented},
		// RFC 5452 §9.1: a reply to another question is ignored as if
		// none came, so the question times out rather than failing.
		{"mismatch", (*resolvertest.Server).Mismatch, resolver.ErrTemporary, -1},
		// Junk and no reply: the junk is ignored, the question times out
		// and is asked again.
		{"junk, then drop", func(s *resolvertest.Server, n string) { s.Junk(n); s.Drop(n) }, resolver.ErrTemporary, -1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := resolvertest.Start(t, testZone(t))
			c := resolvertest.Client(t, srv)
			tc.inject(srv, "mail.example.org.")
			start := time.Now()
			ans, err := c.Lookup(context.Background(), "mail.example.org.", dns.TypeA)
			elapsed := time.Since(start)
			require.Error(t, err)
			assert.Nil(t, ans)
			assert.True(t, errors.Is(err, tc.want), "%v", err)
			var e *resolver.Error
			require.True(t, errors.As(err, &e))
			assert.Equal(t, tc.rcode, e.Rcode)
			assert.Equal(t, "mail.example.org.", e.Name)
			// Temporary failures are tried again (Retries 1); permanent
			// ones are not.
			wantQueries := 1
			if tc.want == resolver.ErrTemporary {
				wantQueries = 2
			}
			assert.Equal(t, wantQueries, srv.Queries("mail.example.org.", dns.TypeA))
			// A dropped question ends within the timeouts (2 × 300ms).
			assert.Less(t, elapsed, 1500*time.Millisecond)
			// Other names are unaffected.
			ans, err = c.Lookup(context.Background(), "example.org.", dns.TypeTXT)
			require.NoError(t, err)
			assert.Len(t, ans.Records, 1)
		})
	}
}

// TestClientTruncation checks the TCP fallback: forced by the TC bit, and
// needed by an answer larger than the EDNS buffer.
func TestClientTruncation(t *testing.T) {
	zone := testZone(t)
	// 600 octets: more than 512, fits 1232 with EDNS.
	medium := strings.Repeat("m", 600)
	// 3000 octets: more than 1232, needs TCP.
	big := strings.Repeat("b", 3000)
	zone.Add(&dns.TXT{Hdr: dns.RR_Header{Name: "medium.example.org.", Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 60}, Txt: chunks(medium)})
	zone.Add(&dns.TXT{Hdr: dns.RR_Header{Name: "big.example.org.", Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 60}, Txt: chunks(big)})
	srv := resolvertest.Start(t, zone)
	c := resolvertest.Client(t, srv)
	ctx := context.Background()

	srv.Truncate("mail.example.org.")
	ips, _, err := resolver.Addrs(ctx, c, "mail.example.org.", dns.TypeA)
	require.NoError(t, err)
	require.Len(t, ips, 1, "the TCP answer, not the empty truncated one")
	assert.Equal(t, "192.0.2.10", ips[0].String())
	assert.Equal(t, 1, srv.Transport("udp"))
	assert.Equal(t, 1, srv.Transport("tcp"))

	txt, _, err := resolver.TXT(ctx, c, "medium.example.org.")
	require.NoError(t, err)
	assert.Equal(t, []string{medium}, txt)
	assert.Equal(t, 2, srv.Transport("udp"))
	assert.Equal(t, 1, srv.Transport("tcp"), "600 octets fit the EDNS buffer")

	txt, _, err = resolver.TXT(ctx, c, "big.example.org.")
	require.NoError(t, err)
	assert.Equal(t, []string{big}, txt)
	assert.Equal(t, 3, srv.Transport("udp"))
	assert.Equal(t, 2, srv.Transport("tcp"), "3000 octets need TCP")

	// Without EDNS (a 512-octet client buffer) the medium answer needs TCP.
	small := &resolver.Client{Servers: []string{srv.Addr()}, Timeout: time.Second, UDPSize: 512}
	txt, _, err = resolver.TXT(ctx, small, "medium.example.org.")
	require.NoError(t, err)
	assert.Equal(t, []string{medium}, txt)
	assert.Equal(t, 3, srv.Transport("tcp"))
}

// TestClientNoEDNS: RFC 6891 §7, a server that answers FORMERR to EDNS is
// asked again without it, and its 512-octet UDP limit sends larger answers
// to TCP.
func TestClientNoEDNS(t *testing.T) {
	zone := testZone(t)
	medium := strings.Repeat("m", 600)
	zone.Add(&dns.TXT{Hdr: dns.RR_Header{Name: "medium.example.org.", Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 60}, Txt: chunks(medium)})
	srv := resolvertest.Start(t, zone)
	srv.NoEDNS()
	c := resolvertest.Client(t, srv)
	ans, err := c.Lookup(context.Background(), "mail.example.org.", dns.TypeA)
	require.NoError(t, err)
	assert.Len(t, ans.Records, 1)
	assert.Equal(t, 2, srv.Queries("mail.example.org.", dns.TypeA))

	txt, _, err := resolver.TXT(context.Background(), c, "medium.example.org.")
	require.NoError(t, err)
	assert.Equal(t, []string{medium}, txt)
	assert.Equal(t, 1, srv.Transport("tcp"))
}

func chunks(s string) []string {
	var out []string
	for len(s) > 255 {
		out = append(out, s[:255])
		s = s[255:]
	}
	return append(out, s)
}

// TestClientTXTJoined: a TXT record of several strings is one value.
func TestClientTXTJoined(t *testing.T) {
	srv := resolvertest.Start(t, testZone(t))
	txt, ans, err := resolver.TXT(context.Background(), resolvertest.Client(t, srv), "split.example.org")
	require.NoError(t, err)
	require.Len(t, ans.Records, 1)
	assert.Len(t, ans.Records[0].(*dns.TXT).Txt, 3)
	assert.Equal(t, []string{"v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEF"}, txt)
}

// TestClientFollowsPartialChain: a server that gives only the first alias
// leaves the rest of the chain to the client.
func TestClientFollowsPartialChain(t *testing.T) {
	zone := testZone(t)
	srv := resolvertest.Start(t, zone)
	srv.StopAtCNAME(true)
	c := resolvertest.Client(t, srv)
	ctx := context.Background()

	ans, err := c.Lookup(ctx, "alias2.example.org.", dns.TypeA)
	require.NoError(t, err)
	want, err := zone.Lookup(ctx, "alias2.example.org.", dns.TypeA)
	require.NoError(t, err)
	assert.Equal(t, describe(want), describe(ans))
	assert.Equal(t, 1, srv.Queries("alias2.example.org.", dns.TypeA))
	assert.Equal(t, 1, srv.Queries("alias.example.org.", dns.TypeA))
	assert.Equal(t, 1, srv.Queries("mail.example.org.", dns.TypeA))

	ans, err = c.Lookup(ctx, "dangling.example.org.", dns.TypeA)
	require.NoError(t, err)
	assert.True(t, ans.NXDomain())
	assert.Len(t, ans.CNAMEs, 1)
	assert.Equal(t, "nowhere.example.org.", ans.Target())

	_, err = c.Lookup(ctx, "loop1.example.org.", dns.TypeA)
	assert.True(t, errors.Is(err, resolver.ErrPermanent), "%v", err)
	assert.Equal(t, 1, srv.Queries("loop1.example.org.", dns.TypeA))
	assert.Equal(t, 1, srv.Queries("loop2.example.org.", dns.TypeA))
}

// TestClientLongChain: eight aliases are followed, nine are refused.
func TestClientLongChain(t *testing.T) {
	zone := resolver.NewZone()
	for i := 0; i < 9; i++ {
		zone.Add(mustRR(t, "c"+string(rune('0'+i))+".example. 60 IN CNAME c"+string(rune('1'+i))+".example."))
	}
	zone.Add(mustRR(t, "c9.example. 60 IN A 192.0.2.9"))
	srv := resolvertest.Start(t, zone)
	c := resolvertest.Client(t, srv)
	for _, r := range []resolver.Resolver{zone, c} {
		ans, err := r.Lookup(context.Background(), "c1.example.", dns.TypeA)
		require.NoError(t, err)
		assert.Len(t, ans.CNAMEs, 8)
		_, err = r.Lookup(context.Background(), "c0.example.", dns.TypeA)
		assert.True(t, errors.Is(err, resolver.ErrPermanent), "%v", err)
	}
}

// TestClientNextServer: a temporary failure at the first server is retried
// at the next.
func TestClientNextServer(t *testing.T) {
	zone := testZone(t)
	bad := resolvertest.Start(t, zone)
	good := resolvertest.Start(t, zone)
	bad.Drop("mail.example.org.")
	c := &resolver.Client{Servers: []string{bad.Addr(), good.Addr()}, Timeout: 200 * time.Millisecond}
	ans, err := c.Lookup(context.Background(), "mail.example.org.", dns.TypeA)
	require.NoError(t, err)
	assert.Len(t, ans.Records, 1)
	assert.Equal(t, 1, bad.Total())
	assert.Equal(t, 1, good.Total())

	// Retries < 0: one attempt only.
	c.Retries = -1
	_, err = c.Lookup(context.Background(), "mail.example.org.", dns.TypeA)
	assert.True(t, errors.Is(err, resolver.ErrTemporary))
	assert.Equal(t, 2, bad.Total())
	assert.Equal(t, 1, good.Total())
}

// TestClientContext: a question ends as soon as its ctx does, with an
// error that IsTemporary, however long the server would take.
func TestClientContext(t *testing.T) {
	srv := resolvertest.Start(t, testZone(t))
	srv.SetDelay(5 * time.Second)
	c := &resolver.Client{Servers: []string{srv.Addr()}, Timeout: 10 * time.Second}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	_, err := c.Lookup(ctx, "mail.example.org.", dns.TypeA)
	assert.Less(t, time.Since(start), time.Second)
	assert.True(t, resolver.IsTemporary(err), "%v", err)
	assert.True(t, errors.Is(err, context.Canceled), "%v", err)

	_, err = c.Lookup(ctx, "mail.example.org.", dns.TypeA)
	assert.True(t, errors.Is(err, context.Canceled), "already cancelled: %v", err)
}

// TestClientNegativeTTL: RFC 2308 §5, min(SOA TTL, SOA MINIMUM).
func TestClientNegativeTTL(t *testing.T) {
	zone := resolver.NewZone()
	zone.Add(mustRR(t, "example.net. 120 IN SOA ns.example.net. h.example.net. 1 2 3 4 900"))
	zone.Add(mustRR(t, "a.example.net. 3600 IN A 192.0.2.1"))
	srv := resolvertest.Start(t, zone)
	c := resolvertest.Client(t, srv)
	ans, err := c.Lookup(context.Background(), "b.example.net.", dns.TypeA)
	require.NoError(t, err)
	assert.True(t, ans.NXDomain())
	assert.Equal(t, uint32(120), ans.TTL, "SOA TTL is the smaller")
	require.NotNil(t, ans.SOA)
	assert.Equal(t, "example.net.", ans.SOA.Hdr.Name)
}

func TestClientInvalid(t *testing.T) {
	srv := resolvertest.Start(t, testZone(t))
	c := resolvertest.Client(t, srv)
	for _, name := range []string{"", "a..example.", "a b.example.", strings.Repeat("x", 64) + ".example."} {
		_, err := c.Lookup(context.Background(), name, dns.TypeA)
		assert.True(t, errors.Is(err, resolver.ErrPermanent), "%q: %v", name, err)
	}
	assert.Equal(t, 0, srv.Total(), "invalid names are never sent")

	_, err := (&resolver.Client{}).Lookup(context.Background(), "example.org.", dns.TypeA)
	assert.True(t, errors.Is(err, resolver.ErrPermanent), "no servers: %v", err)
}

func TestClientFromResolvConf(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "resolv.conf")
	require.NoError(t, os.WriteFile(path, []byte("search example.org\nnameserver 127.0.0.1\nnameserver ::1\noptions ndots:2\n"), 0o600))
	c, err := resolver.ClientFromResolvConf(path)
	require.NoError(t, err)
	assert.Equal(t, []string{"127.0.0.1:53", "[::1]:53"}, c.Servers)

	require.NoError(t, os.WriteFile(path, []byte("search example.org\n"), 0o600))
	_, err = resolver.ClientFromResolvConf(path)
	assert.Error(t, err)
	_, err = resolver.ClientFromResolvConf(filepath.Join(dir, "missing"))
	assert.Error(t, err)
}

// TestClientJunkFirst: RFC 5452 §9.1, datagrams that do not parse or do
// not answer the question (another ID, another name) reach the client's
// port before the reply; they are ignored and the genuine reply is taken,
// with no second question.
func TestClientJunkFirst(t *testing.T) {
	cases := []struct {
		name, qname string
		qtype       uint16
		records     int
		nxdomain    bool
	}{
		{"A", "mail.example.org.", dns.TypeA, 1, false},
		{"TXT", "example.org.", dns.TypeTXT, 1, false},
		{"NXDOMAIN", "nothing.example.org.", dns.TypeTXT, 0, true},
		{"NODATA", "mail.example.org.", dns.TypeTXT, 0, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := resolvertest.Start(t, testZone(t))
			srv.Junk(tc.qname)
			ans, err := resolvertest.Client(t, srv).Lookup(context.Background(), tc.qname, tc.qtype)
			require.NoError(t, err)
			assert.Len(t, ans.Records, tc.records)
			assert.Equal(t, tc.nxdomain, ans.NXDomain())
			assert.Equal(t, 1, srv.Queries(tc.qname, tc.qtype), "no retry needed")
		})
	}
}

// TestClientOversized: a UDP reply larger than the buffer advertised,
// without TC, is asked again over TCP rather than failing.
func TestClientOversized(t *testing.T) {
	zone := testZone(t)
	big := strings.Repeat("b", 3000)
	zone.Add(&dns.TXT{Hdr: dns.RR_Header{Name: "big.example.org.", Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 60}, Txt: chunks(big)})
	srv := resolvertest.Start(t, zone)
	srv.Oversize("big.example.org.")
	txt, _, err := resolver.TXT(context.Background(), resolvertest.Client(t, srv), "big.example.org.")
	require.NoError(t, err)
	assert.Equal(t, []string{big}, txt)
	assert.Equal(t, 1, srv.Transport("udp"))
	assert.Equal(t, 1, srv.Transport("tcp"))
}

// TestClientNXDomainWithRecords: the rcode is the authority; an NXDOMAIN
// reply that also carries the records asked for is a negative answer.
func TestClientNXDomainWithRecords(t *testing.T) {
	srv := resolvertest.Start(t, testZone(t))
	srv.Contradict("mail.example.org.", dns.RcodeNameError)
	srv.Contradict("alias.example.org.", dns.RcodeNameError)
	c := resolvertest.Client(t, srv)
	for _, name := range []string{"mail.example.org.", "alias.example.org."} {
		ans, err := c.Lookup(context.Background(), name, dns.TypeA)
		require.NoError(t, err, name)
		assert.True(t, ans.NXDomain(), name)
		assert.Empty(t, ans.Records, name)
	}
}

// TestClientTimeoutCoversTCP: Timeout bounds the whole exchange, the UDP
// reply and the TCP retry it asks for together: each alone would come in
// time (a deadline per transport would succeed at about 1.2 s), both
// together do not. The margins leave room for a loaded machine.
func TestClientTimeoutCoversTCP(t *testing.T) {
	srv := resolvertest.Start(t, testZone(t))
	srv.Truncate("mail.example.org.")
	srv.SetDelay(600 * time.Millisecond) // per reply: 1.2 s for UDP then TCP
	c := &resolver.Client{Servers: []string{srv.Addr()}, Timeout: time.Second, Retries: -1}
	start := time.Now()
	_, err := c.Lookup(context.Background(), "mail.example.org.", dns.TypeA)
	elapsed := time.Since(start)
	require.Error(t, err, "a deadline per transport would have let the TCP reply in")
	assert.True(t, errors.Is(err, resolver.ErrTemporary), "%v", err)
	assert.Contains(t, err.Error(), "timeout over")
	assert.Less(t, elapsed, 1600*time.Millisecond, "one deadline for UDP and TCP")
	if strings.Contains(err.Error(), "timeout over tcp") {
		assert.Equal(t, 1, srv.Transport("tcp"))
	}
}

// TestMemoBudgetCountsExchanges: the budget of a Memo counts round trips,
// CNAME hops the client follows and TCP retries included, not only
// distinct questions.
func TestMemoBudgetCountsExchanges(t *testing.T) {
	zone := resolver.NewZone()
	zone.Add(mustRR(t, "c1.example. 60 IN CNAME c2.example."))
	zone.Add(mustRR(t, "c2.example. 60 IN CNAME c3.example."))
	zone.Add(mustRR(t, "c3.example. 60 IN A 192.0.2.3"))
	cases := []struct {
		name      string
		truncate  bool
		budget    int
		ok        bool
		exchanges int
	}{
		{"three hops, budget 3", false, 3, true, 3},
		{"three hops, budget 2", false, 2, false, 2},
		{"three hops and TCP, budget 4", true, 4, true, 4},
		{"three hops and TCP, budget 3", true, 3, false, 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := resolvertest.Start(t, zone)
			srv.StopAtCNAME(true)
			if tc.truncate {
				srv.Truncate("c1.example.")
			}
			m := resolver.NewMemo(resolvertest.Client(t, srv), tc.budget)
			_, err := m.Lookup(context.Background(), "c1.example.", dns.TypeA)
			if tc.ok {
				require.NoError(t, err)
				assert.False(t, m.Exhausted())
			} else {
				assert.True(t, errors.Is(err, resolver.ErrPermanent), "%v", err)
				assert.True(t, m.Exhausted())
			}
			assert.Equal(t, tc.exchanges, m.Exchanges())
			assert.Equal(t, tc.exchanges, srv.Total(), "every round trip charged")
			assert.Equal(t, 1, m.Queries())
		})
	}
}
