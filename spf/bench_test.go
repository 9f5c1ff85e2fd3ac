package spf

import (
	"context"
	"testing"
	"time"

	"github.com/mailtrust/mailtrust/internal/cputime"
	"github.com/mailtrust/mailtrust/resolver"
	"github.com/mailtrust/mailtrust/resolver/resolvertest"
)

// benchZone is a bulk sender's layout: the MAIL FROM domain includes a
// provider, whose record includes two netblock records; the client sits in
// the second. An mx and an a term come first, as they often do.
const benchZone = `
$ORIGIN example.org.
bounce          IN TXT  "v=spf1 mx a:relay.example.org include:_spf.example.net ~all"
bounce          IN MX   10 mx.example.org.
mx              IN A    192.0.2.25
relay           IN A    192.0.2.26
$ORIGIN example.net.
_spf            IN TXT  "v=spf1 include:_netblocks.example.net include:_netblocks2.example.net -all"
_netblocks      IN TXT  "v=spf1 ip4:198.51.100.0/26 ip4:198.51.100.64/26 ip6:2001:db8:1::/48 ip6:2001:db8:2::/48 ~all"
_netblocks2     IN TXT  "v=spf1 ip4:203.0.113.0/25 ip4:203.0.113.128/26 ip6:2001:db8:3::/48 ~all"
`

// BenchmarkCheck measures one MAIL FROM check through the include chain
// above on a warm resolver.Cache: DNS costs a map look-up, the rest is
// evaluation. include-chain parses the four records on every check;
// include-chain-record-cache takes them from a RecordCache, as a process
// that shares one between its checks does.
func BenchmarkCheck(b *testing.B) {
	cache := resolver.NewCache(resolvertest.Zone(b, benchZone, time.Second))
	ip := addr("203.0.113.130")
	ctx := context.Background()
	run := func(b *testing.B, opts *Options) {
		if res := Check(ctx, cache, ip, "mail.example.org", "bounce-1234@bounce.example.org", opts); res.Status != StatusPass {
			b.Fatalf("status %s (%s)", res.Status, res.Reason)
		}
		b.ReportAllocs()
		start, ok := cputime.Process()
		for b.Loop() {
			Check(ctx, cache, ip, "mail.example.org", "bounce-1234@bounce.example.org", opts)
		}
		// CPU time of the whole process per check, which other load on the
		// machine does not inflate the way it does ns/op.
		if end, ok2 := cputime.Process(); ok && ok2 && b.N > 0 {
			b.ReportMetric(float64(end-start)/float64(b.N), "cpu-ns/op")
		}
	}
	b.Run("include-chain", func(b *testing.B) { run(b, nil) })
	b.Run("include-chain-record-cache", func(b *testing.B) { run(b, &Options{Records: &RecordCache{}}) })
}
