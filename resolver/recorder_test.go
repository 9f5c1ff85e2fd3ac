package resolver_test

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mailtrust/mailtrust/resolver"
	"github.com/mailtrust/mailtrust/resolver/resolvertest"
)

var recordQuestions = []resolver.Question{
	{Name: "example.org.", Type: dns.TypeTXT},
	{Name: "example.org.", Type: dns.TypeMX},
	{Name: "mail.example.org.", Type: dns.TypeTXT},        // NODATA; exists through its AAAA
	{Name: "nope.example.org.", Type: dns.TypeTXT},        // NXDOMAIN
	{Name: "split.example.org.", Type: dns.TypeTXT},       // several strings
	{Name: "big.example.org.", Type: dns.TypeTXT},         // over TCP
	{Name: "alias2.example.org.", Type: dns.TypeAAAA},     // chain of two
	{Name: "alias2.example.org.", Type: dns.TypeTXT},      // chain to NODATA
	{Name: "dangling.example.org.", Type: dns.TypeA},      // chain to NXDOMAIN
	{Name: "x.wild.example.org.", Type: dns.TypeTXT},      // wildcard
	{Name: "y.wild.example.org.", Type: dns.TypeA},        // wildcard NODATA: placeholder
	{Name: "wild.example.org.", Type: dns.TypeTXT},        // ENT: exists through x.wild
	{Name: "example.", Type: dns.TypeA},                   // ENT, zone without SOA: exists through a.b
	{Name: "a.b.example.", Type: dns.TypeTXT},             // NODATA, no SOA
	{Name: "c.example.", Type: dns.TypeA},                 // NXDOMAIN, no SOA
	{Name: "10.2.0.192.in-addr.arpa.", Type: dns.TypePTR}, //
	{Name: "broken.example.org.", Type: dns.TypeA},        // SERVFAIL
	{Name: "tobroken.example.org.", Type: dns.TypeTXT},    // SERVFAIL along a chain
	{Name: "slow.example.org.", Type: dns.TypeA},          // timeout
	{Name: "loop1.example.org.", Type: dns.TypeTXT},       // CNAME loop: permanent, written as its aliases
}

type observed struct {
	desc string
	err  error
}

// record asks every question through a Recorder, in random order and
// concurrently, and returns what it saw and the file it wrote.
func record(t *testing.T, r resolver.Resolver) (map[resolver.Question]observed, string) {
	t.Helper()
	rec := resolver.NewRecorder(r)
	seen := map[resolver.Question]observed{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, i := range rand.Perm(len(recordQuestions)) {
		q := recordQuestions[i]
		wg.Add(1)
		go func() {
			defer wg.Done()
			ans, err := rec.Lookup(context.Background(), q.Name, q.Type)
			mu.Lock()
			seen[q] = observed{describe(ans), kind(err)}
			mu.Unlock()
		}()
	}
	wg.Wait()
	var b bytes.Buffer
	n, err := rec.WriteTo(&b)
	require.NoError(t, err)
	assert.Equal(t, int64(b.Len()), n)
	return seen, b.String()
}

func kind(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, resolver.ErrTemporary):
		return resolver.ErrTemporary
	case errors.Is(err, resolver.ErrPermanent):
		return resolver.ErrPermanent
	}
	return err
}

// TestRecorderRoundTrip records the answers of a Client talking to the
// test server, loads the file into a Zone and checks that the Zone gives
// the same answers — and that recording from the replay writes the same
// file again.
func TestRecorderRoundTrip(t *testing.T) {
	zone := testZone(t)
	big := strings.Repeat("b", 2000)
	zone.Add(&dns.TXT{Hdr: dns.RR_Header{Name: "big.example.org.", Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 60}, Txt: chunks(big)})
	srv := resolvertest.Start(t, zone)
	live, file := record(t, resolvertest.Client(t, srv))

	replay := resolver.NewZone()
	replay.Timeout = 50 * time.Millisecond
	require.NoError(t, replay.ReadMasterFile(strings.NewReader(file), ".", "recorded"), file)
	for _, q := range recordQuestions {
		ans, err := replay.Lookup(context.Background(), q.Name, q.Type)
		assert.Equal(t, live[q].desc, describe(ans), "%s\n%s", q, file)
		assert.Equal(t, live[q].err, kind(err), q.String())
	}
	// The expected kinds of answer were there to record.
	assert.Equal(t, resolver.ErrTemporary, live[resolver.Question{Name: "slow.example.org.", Type: dns.TypeA}].err)
	assert.Contains(t, file, "; servfail: broken.example.org.\n")
	assert.Contains(t, file, "; servfail: tobroken.example.org.\n")
	assert.Contains(t, file, "; timeout: slow.example.org.\n")
	assert.Equal(t, resolver.ErrPermanent, live[resolver.Question{Name: "loop1.example.org.", Type: dns.TypeTXT}].err)
	assert.Contains(t, file, "loop1.example.org.\t900\tIN\tCNAME\tloop2.example.org.\n")
	assert.Contains(t, file, "loop2.example.org.\t900\tIN\tCNAME\tloop1.example.org.\n")
	assert.Contains(t, file, "; exists: y.wild.example.org.")
	assert.Contains(t, file, "; exists: a.b.example.")
	assert.NotContains(t, file, "; exists: mail.example.org.", "its AAAA makes it exist")
	assert.NotContains(t, file, "; exists: wild.example.org.", "x.wild makes it exist")
	assert.NotContains(t, file, "; exists: example.", "a.b.example. makes it exist")
	assert.NotContains(t, file, "nope")

	again, file2 := record(t, replay)
	assert.Equal(t, file, file2)
	for q, o := range again {
		assert.Equal(t, live[q], o, q.String())
	}
}

// TestRecorderDedupe: records seen in several answers, or again with a
// smaller TTL, are written once.
func TestRecorderDedupe(t *testing.T) {
	zone := resolver.NewZone()
	zone.Add(mustRR(t, "a.example. 300 IN CNAME b.example."))
	zone.Add(mustRR(t, "b.example. 300 IN A 192.0.2.1"))
	zone.Add(mustRR(t, "b.example. 300 IN TXT \"t\""))
	rec := resolver.NewRecorder(zone)
	for _, qt := range []uint16{dns.TypeA, dns.TypeTXT, dns.TypeA, dns.TypeMX} {
		_, err := rec.Lookup(context.Background(), "a.example.", qt)
		require.NoError(t, err)
	}
	var b strings.Builder
	_, err := rec.WriteTo(&b)
	require.NoError(t, err)
	assert.Equal(t, "a.example.\t300\tIN\tCNAME\tb.example.\n"+
		"b.example.\t300\tIN\tA\t192.0.2.1\n"+
		"b.example.\t300\tIN\tTXT\t\"t\"\n", b.String())
}

// TestRecorderSpecialNames: names holding octets that are special in
// master files (RFC 1035 §5.1: "'", "(", ")", ";", '"', space, "\", "@",
// "$", NUL, octets above 0x7e), as a sender may put in an alias target,
// an alias chain to its own DKIM key or a PTR name, are recorded escaped
// and read back as the same names: the recorded attack replays, faults at
// such names included.
func TestRecorderSpecialNames(t *testing.T) {
	const text = `
sel._domainkey.victim.example. 300 IN CNAME s._domainkey.victim.example\'a.attacker.example.
s._domainkey.victim.example\'a.attacker.example. 300 IN TXT "v=DKIM1; p=AAAA"
paren.example. 300 IN CNAME x\(y\).attacker.example.
x\(y\).attacker.example. 300 IN A 192.0.2.1
mixed.example. 300 IN CNAME a\;b\ c\"d\\e\@f$g\000h\255.attacker.example.
a\;b\ c\"d\\e\@f$g\000h\255.attacker.example. 300 IN TXT "mixed"
10.2.0.192.in-addr.arpa. 300 IN PTR evil'host.attacker.example.
evil'host.attacker.example. 300 IN A 192.0.2.10
nodata.example. 300 IN CNAME no\ data.attacker.example.
no\ data.attacker.example. 300 IN MX 10 mx.attacker.example.
slow.example. 300 IN CNAME slow\'x.attacker.example.
broken.example. 300 IN CNAME bro\ ken\;.attacker.example.
; timeout: slow\039x.attacker.example.
; servfail: bro\032ken\059.attacker.example.
`
	zone := resolver.NewZone()
	zone.Timeout = 50 * time.Millisecond
	require.NoError(t, zone.ReadMasterFile(strings.NewReader(text), ".", "special"))
	srv := resolvertest.Start(t, zone)
	// The client follows each alias itself: the special names go on the
	// wire as questions, and a fault is met at them.
	srv.StopAtCNAME(true)
	questions := []resolver.Question{
		{Name: "sel._domainkey.victim.example.", Type: dns.TypeTXT},
		{Name: "paren.example.", Type: dns.TypeA},
		{Name: "mixed.example.", Type: dns.TypeTXT},
		{Name: "10.2.0.192.in-addr.arpa.", Type: dns.TypePTR},
		{Name: "nodata.example.", Type: dns.TypeTXT},
		{Name: "slow.example.", Type: dns.TypeA},
		{Name: "broken.example.", Type: dns.TypeA},
	}
	rec := resolver.NewRecorder(resolvertest.Client(t, srv))
	type seen struct {
		desc string
		err  error
	}
	live := map[resolver.Question]seen{}
	for _, q := range questions {
		ans, err := rec.Lookup(context.Background(), q.Name, q.Type)
		live[q] = seen{describe(ans), kind(err)}
	}
	// What a live server answered is what the zone holds.
	assert.Contains(t, live[questions[0]].desc, `v=DKIM1; p=AAAA`)
	assert.Contains(t, live[questions[2]].desc, `"mixed"`)
	assert.Contains(t, live[questions[3]].desc, `evil\'host.attacker.example.`)
	assert.Equal(t, resolver.ErrTemporary, live[questions[5]].err)
	assert.Equal(t, resolver.ErrTemporary, live[questions[6]].err)

	var b strings.Builder
	_, err := rec.WriteTo(&b)
	require.NoError(t, err)
	file := b.String()
	assert.Contains(t, file, "; timeout: slow\\039x.attacker.example.\n")
	assert.Contains(t, file, "; servfail: bro\\032ken\\059.attacker.example.\n")

	replay := resolver.NewZone()
	replay.Timeout = 50 * time.Millisecond
	require.NoError(t, replay.ReadMasterFile(strings.NewReader(file), ".", "recorded"), file)
	for _, q := range questions {
		ans, err := replay.Lookup(context.Background(), q.Name, q.Type)
		assert.Equal(t, live[q].desc, describe(ans), "%s\n%s", q, file)
		assert.Equal(t, live[q].err, kind(err), "%s: %v", q, err)
	}
	// And over the wire again, from a server on the replayed zone.
	again := resolvertest.Client(t, resolvertest.Start(t, replay))
	for _, q := range questions {
		ans, err := again.Lookup(context.Background(), q.Name, q.Type)
		assert.Equal(t, live[q].desc, describe(ans), "%s\n%s", q, file)
		assert.Equal(t, live[q].err, kind(err), "%s: %v", q, err)
	}
}
