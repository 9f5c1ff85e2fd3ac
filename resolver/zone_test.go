package resolver_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mailtrust/mailtrust/resolver"
)

// TestZoneMasterFile: several $ORIGIN blocks, relative and absolute names,
// default TTL, fault comments relative to the $ORIGIN in force.
func TestZoneMasterFile(t *testing.T) {
	const text = `
$ORIGIN example.org.
@        IN TXT "v=spf1 -all"          ; default TTL 3600
www  60  IN A   192.0.2.1
; servfail: bad
; TIMEOUT: slow.example.net.
$ORIGIN example.net.
@   120  IN MX  5 mx
mx       IN A   198.51.100.7
;servfail:other
`
	z := resolver.NewZone()
	z.Timeout = 20 * time.Millisecond
	require.NoError(t, z.ReadMasterFile(strings.NewReader(text), ".", "t.zone"))
	ctx := context.Background()

	txt, ans, err := resolver.TXT(ctx, z, "example.org")
	require.NoError(t, err)
	assert.Equal(t, []string{"v=spf1 -all"}, txt)
	assert.Equal(t, uint32(3600), ans.TTL)

	ips, ans, err := resolver.Addrs(ctx, z, "WWW.example.org.", dns.TypeA)
	require.NoError(t, err)
	assert.Equal(t, "192.0.2.1", ips[0].String())
	assert.Equal(t, uint32(60), ans.TTL)
	assert.Equal(t, "www.example.org.", ans.Records[0].Header().Name)

	mx, _, err := resolver.MX(ctx, z, "example.net.")
	require.NoError(t, err)
	require.Len(t, mx, 1)
	assert.Equal(t, "mx.example.net.", mx[0].Mx)

	for _, name := range []string{"bad.example.org.", "other.example.net."} {
		_, err := z.Lookup(ctx, name, dns.TypeA)
		var e *resolver.Error
		require.True(t, errors.As(err, &e), name)
		assert.Equal(t, dns.RcodeServerFailure, e.Rcode)
		assert.True(t, resolver.IsTemporary(err))
	}
	start := time.Now()
	_, err = z.Lookup(ctx, "slow.example.net.", dns.TypeTXT)
	assert.True(t, errors.Is(err, resolver.ErrTemporary), "%v", err)
	assert.GreaterOrEqual(t, time.Since(start), 20*time.Millisecond)

	// Resolve reports faults without waiting.
	ans, f, err := z.Resolve("slow.example.net.", dns.TypeA)
	assert.NoError(t, err)
	assert.Equal(t, resolver.FaultTimeout, f)
	assert.Equal(t, "slow.example.net.", ans.Target())

	// A fault along a chain: the error tells where.
	z.Add(mustRR(t, "to-bad.example.org. 60 IN CNAME bad.example.org."))
	_, err = z.Lookup(ctx, "to-bad.example.org.", dns.TypeTXT)
	var e *resolver.Error
	require.True(t, errors.As(err, &e))
	assert.Equal(t, "to-bad.example.org.", e.Name)
	require.Len(t, e.CNAMEs, 1)
	assert.Equal(t, "bad.example.org.", e.CNAMEs[0].Target)
	ans, f, err = z.Resolve("to-bad.example.org.", dns.TypeTXT)
	assert.NoError(t, err)
	assert.Equal(t, resolver.FaultServfail, f)
	assert.Equal(t, "bad.example.org.", ans.Target())

	// A timeout fault ends with the context, whichever comes first.
	z.Timeout = time.Minute
	cctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	_, err = z.Lookup(cctx, "slow.example.net.", dns.TypeA)
	assert.True(t, resolver.IsTemporary(err))
	assert.True(t, errors.Is(err, context.DeadlineExceeded))
}

func TestZoneParseError(t *testing.T) {
	z := resolver.NewZone()
	err := z.ReadMasterFile(strings.NewReader("example.org. IN A not-an-address\n"), ".", "bad.zone")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "bad.zone")

	dir := t.TempDir()
	path := filepath.Join(dir, "zone.txt")
	require.NoError(t, os.WriteFile(path, []byte(testZoneText), 0o600))
	lz, err := resolver.LoadZone(path)
	require.NoError(t, err)
	ans, err := lz.Lookup(context.Background(), "alias.example.org.", dns.TypeA)
	require.NoError(t, err)
	assert.Equal(t, "mail.example.org.", ans.Target())
	_, err = resolver.LoadZone(filepath.Join(dir, "missing"))
	assert.Error(t, err)
}

// TestZoneExistence: NXDOMAIN only for names with nothing at or below them
// (RFC 8020); wildcards only where the name does not exist (RFC 4592).
func TestZoneExistence(t *testing.T) {
	z := resolver.NewZone()
	for _, s := range []string{
		"a.b.c.example. 60 IN A 192.0.2.1",
		"*.w.example. 60 IN TXT \"any\"",
		"real.w.example. 60 IN A 192.0.2.2",
		"*.w.example. 60 IN TXT \"any\"", // duplicate, dropped
	} {
		z.Add(mustRR(t, s))
	}
	cases := []struct {
		name    string
		qtype   uint16
		nx      bool
		records int
	}{
		{"a.b.c.example.", dns.TypeA, false, 1},
		{"a.b.c.example.", dns.TypeTXT, false, 0},
		{"b.c.example.", dns.TypeA, false, 0}, // empty non-terminal
		{"c.example.", dns.TypeA, false, 0},
		{"example.", dns.TypeA, false, 0},
		{".", dns.TypeA, false, 0},
		{"x.a.b.c.example.", dns.TypeA, true, 0},
		{"d.example.", dns.TypeA, true, 0},
		{"other.", dns.TypeA, true, 0},
		{"foo.w.example.", dns.TypeTXT, false, 1},   // wildcard
		{"a.foo.w.example.", dns.TypeTXT, false, 1}, // wildcard, deeper
		{"foo.w.example.", dns.TypeA, false, 0},     // wildcard NODATA
		{"real.w.example.", dns.TypeTXT, false, 0},  // exists: no wildcard
		{"x.real.w.example.", dns.TypeTXT, true, 0}, // closest encloser real.w has no wildcard
		{"*.w.example.", dns.TypeTXT, false, 1},
	}
	for _, tc := range cases {
		ans, err := z.Lookup(context.Background(), tc.name, tc.qtype)
		require.NoError(t, err, tc.name)
		assert.Equal(t, tc.nx, ans.NXDomain(), tc.name)
		assert.Len(t, ans.Records, tc.records, tc.name)
		for _, rr := range ans.Records {
			assert.Equal(t, resolver.Fqdn(tc.name), rr.Header().Name, "synthesized owner")
		}
		if tc.records == 0 {
			assert.Equal(t, uint32(resolver.DefaultNegativeTTL), ans.TTL, tc.name)
			assert.Nil(t, ans.SOA)
		}
	}
}

func TestZoneInvalidName(t *testing.T) {
	z := testZone(t)
	for _, name := range []string{"a..example.", "a b.example.", "x\x00.example."} {
		_, err := z.Lookup(context.Background(), name, dns.TypeTXT)
		assert.True(t, errors.Is(err, resolver.ErrPermanent), "%q: %v", name, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := z.Lookup(ctx, "example.org.", dns.TypeTXT)
	assert.True(t, errors.Is(err, context.Canceled))
}

// TestHelpers covers the typed helpers over a zone.
func TestHelpers(t *testing.T) {
	z := testZone(t)
	ctx := context.Background()
	names, _, err := resolver.PTR(ctx, z, netip.MustParseAddr("192.0.2.10"))
	require.NoError(t, err)
	assert.Equal(t, []string{"mail.example.org."}, names)

	ips, exists, err := resolver.IPs(ctx, z, "alias.example.org.")
	require.NoError(t, err)
	assert.True(t, exists)
	assert.Len(t, ips, 2)
	_, exists, err = resolver.IPs(ctx, z, "nope.example.org.")
	require.NoError(t, err)
	assert.False(t, exists)
	_, exists, err = resolver.IPs(ctx, z, "example.org.")
	require.NoError(t, err)
	assert.True(t, exists, "NODATA: the name exists")
	_, _, err = resolver.IPs(ctx, z, "broken.example.org.")
	assert.True(t, resolver.IsTemporary(err))
}

func TestZoneZeroValue(t *testing.T) {
	var z resolver.Zone
	ans, err := z.Lookup(context.Background(), "a.example.", dns.TypeA)
	require.NoError(t, err)
	assert.True(t, ans.NXDomain())
	z.Add(mustRR(t, "a.example. 60 IN A 192.0.2.1"))
	z.Add(mustRR(t, "a.example. 30 IN A 192.0.2.1")) // duplicate but for the TTL
	ans, err = z.Lookup(context.Background(), "a.example.", dns.TypeA)
	require.NoError(t, err)
	assert.Len(t, ans.Records, 1)

	err = z.ReadMasterFile(strings.NewReader("a.example. 60 IN CNAME b.example.\na.example. 60 IN CNAME c.example.\n"), ".", "two")
	assert.ErrorContains(t, err, "second CNAME")
	err = resolver.NewZone().ReadMasterFile(strings.NewReader("a.example. 60 IN A\n"), ".", "empty")
	assert.ErrorContains(t, err, "incomplete record")
	// An unescaped "'" in a name prints as "\'": both spellings, and
	// "\039", are the same octet (RFC 1035 §5.1) and load as one name.
	for _, spelling := range []string{"b'", "b\\'", "b\\039"} {
		z := resolver.NewZone()
		err = z.ReadMasterFile(strings.NewReader("a.example. 60 IN CNAME "+spelling+".example.\n"+spelling+".example. 60 IN A 192.0.2.1\n"), ".", "quote")
		require.NoError(t, err, spelling)
		ans, _, err := z.Resolve("a.example.", dns.TypeA)
		require.NoError(t, err, spelling)
		require.Len(t, ans.Records, 1, spelling)
		assert.Equal(t, "b\\'.example.", ans.Target(), spelling)
	}
}

// commentLines is an endless master file of comment lines.
type commentLines struct{ n int64 }

func (c *commentLines) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = "; padding\n"[(c.n+int64(i))%10]
	}
	c.n += int64(len(p))
	return len(p), nil
}

// TestZoneFileLimit: a master file larger than MaxFileBytes is refused,
// with an error naming the limit, before it is parsed; one at the limit
// loads. The default holds for a file without end.
func TestZoneFileLimit(t *testing.T) {
	const rec = "a.example. 60 IN A 192.0.2.1\n"
	cases := []struct {
		name  string
		limit int64
		text  string
		ok    bool
	}{
		{"at the limit", int64(len(rec)), rec, true},
		{"one octet over", int64(len(rec)) - 1, rec, false},
		{"default", 0, rec, true},
	}
	for _, tc := range cases {
		z := resolver.NewZone()
		z.MaxFileBytes = tc.limit
		err := z.ReadMasterFile(strings.NewReader(tc.text), ".", "small.txt")
		if tc.ok {
			assert.NoError(t, err, tc.name)
			continue
		}
		assert.ErrorContains(t, err, "zone small.txt: larger than", tc.name)
	}
	body := &commentLines{}
	err := resolver.NewZone().ReadMasterFile(body, ".", "endless")
	assert.ErrorContains(t, err, fmt.Sprintf("larger than %d octets", resolver.DefaultMaxFileBytes))
	assert.LessOrEqual(t, body.n, int64(resolver.DefaultMaxFileBytes)+1, "read no further than the limit")

	// LoadZone refuses a large file from its size alone.
	path := filepath.Join(t.TempDir(), "big.txt")
	f, err := os.Create(path)
	require.NoError(t, err)
	require.NoError(t, f.Truncate(resolver.DefaultMaxFileBytes+1))
	require.NoError(t, f.Close())
	_, err = resolver.LoadZone(path)
	assert.ErrorContains(t, err, "larger than")
}
