package trust_test

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/stretchr/testify/require"

	"github.com/mailtrust/mailtrust/internal/testmail"
	"github.com/mailtrust/mailtrust/resolver"
	"github.com/mailtrust/mailtrust/resolver/resolvertest"
	"github.com/mailtrust/mailtrust/trust"
)

// TestDNSBudgetSpoof: a spoof of example.com (p=reject) whose message
// spends the whole DNS budget (five Cc domains, eight DKIM signatures whose
// keys lie at the end of CNAME chains the client must follow, an SPF
// include chain with ten terms asking 81 questions) still reads DMARC fail
// and is judged untrusted, with dns.budget-exhausted: the From domain's
// policy and existence are reserved (resolver.Memo.Reserve). The server
// holds their replies until the budget is spent and then truncates them,
// so that their TCP retries come when no unreserved unit is left.
func TestDNSBudgetSpoof(t *testing.T) {
	w := loadWorld(t)
	z, err := resolver.LoadZone(filepath.Join(corpusDir, "zone.txt"))
	require.NoError(t, err)
	const dom = "spend.evil.test"
	rrs := []string{"mx.evil.test. 3600 IN A 203.0.113.66"}
	for i := 1; i <= 5; i++ { // the Cc domains exist: no rcpt-nxdomain
		rrs = append(rrs, fmt.Sprintf("cc%d.example.net. 3600 IN MX 10 mx.evil.test.", i))
	}
	// SPF: c0 (the MAIL FROM domain) to c3, each mx naming ten hosts
	// that are not the client; ten terms in all (RFC 7208 §4.6.4).
	rec := func(i int, terms string) string {
		owner := dom
		if i > 0 {
			owner = fmt.Sprintf("c%d.%s", i, dom)
		}
		return fmt.Sprintf(`%s. 3600 IN TXT "v=spf1 %s -all"`, owner, terms)
	}
	mx := func(name string) {
		for j := range 10 {
			host := fmt.Sprintf("h%d.%s.", j, name)
			rrs = append(rrs, fmt.Sprintf("%s. 3600 IN MX %d %s", name, j, host), host+" 3600 IN A 198.51.100.250")
		}
	}
	for i := range 3 {
		a, b := fmt.Sprintf("m%da.%s", i, dom), fmt.Sprintf("m%db.%s", i, dom)
		rrs = append(rrs, rec(i, fmt.Sprintf("mx:%s mx:%s include:c%d.%s", a, b, i+1, dom)))
		mx(a)
		mx(b)
	}
	rrs = append(rrs, rec(3, "mx:m3a."+dom))
	mx("m3a." + dom)
	// DKIM: eight signatures, each key behind three aliases.
	m := testmail.CRLF(msg("CEO <ceo@example.com>",
		"Cc: a@cc1.example.net, b@cc2.example.net, c@cc3.example.net, d@cc4.example.net, e@cc5.example.net"))
	for i := range 8 {
		k := testmail.Key{Domain: dom, Selector: fmt.Sprintf("s%d", i), Signer: w.evil.Signer}
		owner := fmt.Sprintf("s%d._domainkey.%s.", i, dom)
		for j := range 3 {
			rrs = append(rrs, fmt.Sprintf("%s 3600 IN CNAME a%d.%s", owner, j, owner))
			owner = fmt.Sprintf("a%d.%s", j, owner)
		}
		rrs = append(rrs, strings.Replace(k.TXT(), fmt.Sprintf("s%d._domainkey.%s.", i, dom), owner, 1))
		m = sign(t, m, k, nil)
	}
	for _, s := range rrs {
		rr, err := dns.NewRR(s)
		require.NoError(t, err, s)
		z.Add(rr)
	}

	const budget = trust.DefaultMaxDNSQueries
	srv := resolvertest.Start(t, z)
	srv.StopAtCNAME(true)
	decisive := map[resolver.Question]bool{
		{Name: "_dmarc.example.com.", Type: dns.TypeTXT}: true,
		{Name: "example.com.", Type: dns.TypeMX}:         true,
	}
	held := make(chan bool, len(decisive))
	srv.Inject(func(q resolver.Question, network string) resolvertest.Injection {
		if !decisive[q] || network != "udp" {
			return resolvertest.Injection{}
		}
		deadline := time.Now().Add(4 * time.Second)
		for srv.Total() < budget && time.Now().Before(deadline) {
			time.Sleep(2 * time.Millisecond)
		}
		held <- srv.Total() >= budget
		return resolvertest.Injection{Truncate: true}
	})
	conn := trust.Conn{IP: netip.MustParseAddr("203.0.113.66"), HELO: "mx.evil.test", MailFrom: "x@" + dom,
		RcptTo: []string{"support@helpdesk.example"}, Time: receipt}
	ev := trust.New(&trust.Options{Resolver: &resolver.Client{Servers: []string{srv.Addr()}, Timeout: 5 * time.Second}})
	v, err := ev.Evaluate(context.Background(), conn, bytes.NewReader(m))
	require.NoError(t, err)

	codes := reasonCodes(v)
	t.Logf("%s %.2f %v", v.Level, v.Score, codes)
	for range decisive {
		require.True(t, <-held, "a decisive reply was sent before the budget was spent")
	}
	require.True(t, v.Has(trust.DNSBudget), "%v", codes)
	require.False(t, v.Has(trust.RcptNXDomain), "%v", codes)
	require.Len(t, v.DKIM, 8)
	require.Equal(t, "permerror", string(v.SPF.Status), "spf: %s", v.SPF.Reason)
	require.True(t, resolver.IsBudget(v.SPF.Err), "spf: %v", v.SPF.Err)
	require.Equal(t, "fail", string(v.DMARC.Status), "dmarc: %s", v.DMARC.Reason)
	require.Equal(t, "reject", string(v.DMARC.Policy))
	require.True(t, v.Has(trust.DMARCFail), "%v", codes)
	require.Equal(t, trust.Untrusted, v.Level, "%.2f %v", v.Score, codes)
	for q := range decisive {
		require.Equal(t, 2, srv.Queries(q.Name, q.Type), "%s: UDP, then TCP beyond the budget", q)
	}
}
