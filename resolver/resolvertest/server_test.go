package resolvertest_test

import (
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mailtrust/mailtrust/resolver"
	"github.com/mailtrust/mailtrust/resolver/resolvertest"
)

const zoneText = `
$ORIGIN example.org.
@     3600 IN SOA ns.example.org. h.example.org. 1 7200 3600 1209600 300
www    300 IN CNAME web
web    300 IN A 192.0.2.80
; timeout: slow
`

// exchange asks srv directly, without resolver.Client, to see the wire.
func exchange(t *testing.T, srv *resolvertest.Server, network, name string, qtype uint16, edns bool) *dns.Msg {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	if edns {
		m.SetEdns0(1232, false)
	}
	c := &dns.Client{Net: network}
	r, _, err := c.Exchange(m, srv.Addr())
	require.NoError(t, err)
	return r
}

func TestServerWire(t *testing.T) {
	z := resolver.NewZone()
	require.NoError(t, z.ReadMasterFile(strings.NewReader(zoneText), ".", "t"))
	srv := resolvertest.Start(t, z)

	r := exchange(t, srv, "udp", "www.example.org.", dns.TypeA, true)
	assert.True(t, r.Authoritative)
	assert.Equal(t, dns.RcodeSuccess, r.Rcode)
	require.Len(t, r.Answer, 2, "the chain and the record")
	assert.Equal(t, dns.TypeCNAME, r.Answer[0].Header().Rrtype)
	assert.NotNil(t, r.IsEdns0(), "EDNS answered with EDNS")
	assert.Empty(t, r.Ns)

	r = exchange(t, srv, "tcp", "nope.example.org.", dns.TypeA, false)
	assert.Equal(t, dns.RcodeNameError, r.Rcode)
	require.Len(t, r.Ns, 1)
	assert.Equal(t, dns.TypeSOA, r.Ns[0].Header().Rrtype, "RFC 2308 §3: SOA in authority")
	assert.Nil(t, r.IsEdns0())

	r = exchange(t, srv, "udp", "web.example.org.", dns.TypeTXT, false)
	assert.Equal(t, dns.RcodeSuccess, r.Rcode)
	assert.Empty(t, r.Answer)
	assert.Len(t, r.Ns, 1)

	srv.Truncate("web.example.org.")
	r = exchange(t, srv, "udp", "web.example.org.", dns.TypeA, true)
	assert.True(t, r.Truncated)
	assert.Empty(t, r.Answer)
	r = exchange(t, srv, "tcp", "web.example.org.", dns.TypeA, true)
	assert.False(t, r.Truncated)
	assert.Len(t, r.Answer, 1)

	assert.Equal(t, 1, srv.Queries("www.example.org.", dns.TypeA))
	assert.Equal(t, 2, srv.Queries("web.example.org.", dns.TypeA))
	assert.Equal(t, 3, srv.Transport("udp"))
	assert.Equal(t, 2, srv.Transport("tcp"))
	assert.Equal(t, 5, srv.Total())

	// The zone's timeout fault: no reply.
	m := new(dns.Msg)
	m.SetQuestion("slow.example.org.", dns.TypeA)
	c := &dns.Client{Net: "udp", Timeout: 100 * time.Millisecond}
	_, _, err := c.Exchange(m, srv.Addr())
	assert.Error(t, err)
	assert.Equal(t, 1, srv.Queries("slow.example.org.", dns.TypeA), "received, not answered")
}
