package resolver_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mailtrust/mailtrust/resolver"
	"github.com/mailtrust/mailtrust/resolver/resolvertest"
)

// clock is a settable clock for Cache.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// cacheOverServer is a Cache over a Client over a fresh test server.
func cacheOverServer(t *testing.T) (*resolver.Cache, *resolvertest.Server, *clock) {
	t.Helper()
	srv := resolvertest.Start(t, testZone(t))
	clk := newClock()
	return &resolver.Cache{Resolver: resolvertest.Client(t, srv), Now: clk.Now}, srv, clk
}

// TestCacheSingleflight: 100 concurrent identical questions reach the
// server once.
func TestCacheSingleflight(t *testing.T) {
	c, srv, _ := cacheOverServer(t)
	srv.SetDelay(50 * time.Millisecond) // keep the question in flight while all arrive
	const n = 100
	var wg sync.WaitGroup
	var fails atomic.Int32
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			ans, err := c.Lookup(context.Background(), "mail.example.org.", dns.TypeA)
			if err != nil || len(ans.Records) != 1 {
				fails.Add(1)
			}
		}()
	}
	close(start)
	wg.Wait()
	assert.Zero(t, fails.Load())
	assert.Equal(t, 1, srv.Queries("mail.example.org.", dns.TypeA))
	st := c.Stats()
	assert.Equal(t, uint64(1), st.Upstream)
	assert.Equal(t, uint64(n), st.Hits+st.Misses)
	assert.Equal(t, st.Misses, st.Upstream+st.Shared)
}

// TestCacheTTL: an answer lives for its TTL, measured on the injected
// clock, and reports the TTL left.
func TestCacheTTL(t *testing.T) {
	c, srv, clk := cacheOverServer(t)
	ctx := context.Background()
	ask := func() *resolver.Answer {
		t.Helper()
		ans, err := c.Lookup(ctx, "alias.example.org.", dns.TypeA) // TTL 300 (the alias)
		require.NoError(t, err)
		require.Len(t, ans.Records, 1)
		return ans
	}
	assert.Equal(t, uint32(300), ask().TTL)
	clk.Advance(100 * time.Second)
	assert.Equal(t, uint32(200), ask().TTL)
	assert.Equal(t, 1, srv.Queries("alias.example.org.", dns.TypeA))
	clk.Advance(200 * time.Second) // expired
	assert.Equal(t, uint32(300), ask().TTL)
	assert.Equal(t, 2, srv.Queries("alias.example.org.", dns.TypeA))
	assert.Equal(t, uint64(1), c.Stats().Hits)

	// MaxTTL caps.
	c.MaxTTL = 10 * time.Second
	_, err := c.Lookup(ctx, "example.org.", dns.TypeTXT) // TTL 3600
	require.NoError(t, err)
	clk.Advance(11 * time.Second)
	_, err = c.Lookup(ctx, "example.org.", dns.TypeTXT)
	require.NoError(t, err)
	assert.Equal(t, 2, srv.Queries("example.org.", dns.TypeTXT))
}

// TestCacheNegative: NXDOMAIN and NODATA are cached for the SOA's negative
// TTL (RFC 2308 §5: min(3600, 300) here).
func TestCacheNegative(t *testing.T) {
	c, srv, clk := cacheOverServer(t)
	ctx := context.Background()
	for _, q := range []struct {
		name string
		nx   bool
	}{{"nope.example.org.", true}, {"mail.example.org.", false}} {
		for i := 0; i < 3; i++ {
			ans, err := c.Lookup(ctx, q.name, dns.TypeTXT)
			require.NoError(t, err)
			assert.True(t, ans.Empty())
			assert.Equal(t, q.nx, ans.NXDomain())
		}
		assert.Equal(t, 1, srv.Queries(q.name, dns.TypeTXT), q.name)
	}
	clk.Advance(301 * time.Second)
	_, err := c.Lookup(ctx, "nope.example.org.", dns.TypeTXT)
	require.NoError(t, err)
	assert.Equal(t, 2, srv.Queries("nope.example.org.", dns.TypeTXT))
}

// TestCacheFailures: failures are asked again, unless FailureTTL is set.
func TestCacheFailures(t *testing.T) {
	c, srv, clk := cacheOverServer(t)
	srv.Servfail("mail.example.org.")
	ctx := context.Background()
	for i := 0; i < 2; i++ {
		_, err := c.Lookup(ctx, "mail.example.org.", dns.TypeA)
		assert.True(t, errors.Is(err, resolver.ErrTemporary))
	}
	assert.Equal(t, 4, srv.Queries("mail.example.org.", dns.TypeA), "not cached: 2 lookups × 2 attempts")

	c.FailureTTL = 5 * time.Second
	for i := 0; i < 3; i++ {
		_, err := c.Lookup(ctx, "mail.example.org.", dns.TypeA)
		assert.True(t, errors.Is(err, resolver.ErrTemporary))
	}
	assert.Equal(t, 6, srv.Queries("mail.example.org.", dns.TypeA), "cached after the first")
	clk.Advance(6 * time.Second)
	_, err := c.Lookup(ctx, "mail.example.org.", dns.TypeA)
	assert.True(t, errors.Is(err, resolver.ErrTemporary))
	assert.Equal(t, 8, srv.Queries("mail.example.org.", dns.TypeA))
}

// TestCacheBounded: at most MaxEntries answers, least recently used first
// out.
func TestCacheBounded(t *testing.T) {
	zone := resolver.NewZone()
	for i := 0; i < 10; i++ {
		zone.Add(mustRR(t, fmt.Sprintf("h%d.example. 300 IN A 192.0.2.%d", i, i+1)))
	}
	srv := resolvertest.Start(t, zone)
	c := &resolver.Cache{Resolver: resolvertest.Client(t, srv), MaxEntries: 3}
	ctx := context.Background()
	ask := func(i int) {
		t.Helper()
		_, err := c.Lookup(ctx, fmt.Sprintf("h%d.example.", i), dns.TypeA)
		require.NoError(t, err)
	}
	ask(0)
	ask(1)
	ask(2)
	ask(0) // h0 is now the most recently used; h1 the least
	ask(3) // evicts h1
	assert.Equal(t, 3, c.Len())
	ask(0)
	ask(2)
	assert.Equal(t, 1, srv.Queries("h0.example.", dns.TypeA))
	assert.Equal(t, 1, srv.Queries("h2.example.", dns.TypeA))
	ask(1)
	assert.Equal(t, 2, srv.Queries("h1.example.", dns.TypeA))
	for i := 0; i < 10; i++ {
		ask(i)
	}
	assert.Equal(t, 3, c.Len())
	assert.Positive(t, c.Stats().Evictions)
}

// TestCacheBoundedInBytes: answers of 60 KB, which any sender can publish,
// fill a cache up to its byte bound and no further, for an explicit
// MaxBytes and for the default; answers stay servable and small ones
// still fit beside them. The records share their text, so that the test
// itself stays small.
func TestCacheBoundedInBytes(t *testing.T) {
	big := chunks(strings.Repeat("x", 60_000))
	zone := resolver.NewZone()
	const names = 700 // 700 × 60 KB = 42 MB > DefaultMaxBytes
	for i := 0; i < names; i++ {
		zone.Add(&dns.TXT{Hdr: dns.RR_Header{Name: fmt.Sprintf("k%d.example.", i), Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 300}, Txt: big})
	}
	zone.Add(mustRR(t, "small.example. 300 IN A 192.0.2.1"))
	huge := chunks(strings.Repeat("y", 60_000))
	zone.Add(&dns.TXT{Hdr: dns.RR_Header{Name: "huge.example.", Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 300}, Txt: append(huge, huge...)})
	cases := []struct {
		name     string
		maxBytes int
		bound    int
	}{
		{"1 MiB", 1 << 20, 1 << 20},
		{"default", 0, resolver.DefaultMaxBytes},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := &resolver.Cache{Resolver: zone, MaxBytes: tc.maxBytes}
			ctx := context.Background()
			for i := 0; i < names; i++ {
				txt, _, err := resolver.TXT(ctx, c, fmt.Sprintf("k%d.example.", i))
				require.NoError(t, err)
				require.Len(t, txt, 1)
				require.Len(t, txt[0], 60_000)
				st := c.Stats()
				require.LessOrEqual(t, st.Bytes, tc.bound, "after %d answers", i+1)
			}
			st := c.Stats()
			assert.Less(t, st.Entries, names, "not every answer kept")
			assert.Greater(t, st.Entries, tc.bound/(80_000), "as many as fit kept")
			assert.GreaterOrEqual(t, st.Bytes, st.Entries*60_000, "sizes count the records")
			assert.Positive(t, st.Evictions)
			_, err := c.Lookup(ctx, "small.example.", dns.TypeA)
			require.NoError(t, err)
			assert.Equal(t, st.Entries+1-int(c.Stats().Evictions-st.Evictions), c.Stats().Entries)
		})
	}
	// An answer larger than the bound alone is served but not kept.
	c := &resolver.Cache{Resolver: zone, MaxBytes: 100_000}
	_, _, err := resolver.TXT(context.Background(), c, "huge.example.")
	require.NoError(t, err)
	assert.Equal(t, 0, c.Len())
}

// TestCacheWaiterCancel: an asker whose ctx ends returns at once, while
// the shared question goes on for the others and its answer is cached.
func TestCacheWaiterCancel(t *testing.T) {
	c, srv, _ := cacheOverServer(t)
	srv.SetDelay(200 * time.Millisecond)
	patient := make(chan error, 1)
	go func() {
		_, err := c.Lookup(context.Background(), "mail.example.org.", dns.TypeA)
		patient <- err
	}()
	time.Sleep(20 * time.Millisecond) // let the first asker start the question
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Lookup(ctx, "mail.example.org.", dns.TypeA)
	assert.Less(t, time.Since(start), 150*time.Millisecond)
	assert.True(t, resolver.IsTemporary(err), "%v", err)
	assert.True(t, errors.Is(err, context.DeadlineExceeded), "%v", err)

	require.NoError(t, <-patient)
	ans, err := c.Lookup(context.Background(), "mail.example.org.", dns.TypeA)
	require.NoError(t, err)
	assert.Len(t, ans.Records, 1)
	assert.Equal(t, 1, srv.Queries("mail.example.org.", dns.TypeA))

	// When the only asker leaves, the question is abandoned and nothing is
	// cached: the next asker asks again.
	ctx2, cancel2 := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel2()
	_, err = c.Lookup(ctx2, "example.org.", dns.TypeTXT)
	assert.True(t, errors.Is(err, context.DeadlineExceeded), "%v", err)
	srv.SetDelay(0)
	_, err = c.Lookup(context.Background(), "example.org.", dns.TypeTXT)
	require.NoError(t, err)
	assert.Equal(t, 2, srv.Queries("example.org.", dns.TypeTXT))
}

// TestCacheCopies: a caller changing its Answer does not change the
// cache's.
func TestCacheCopies(t *testing.T) {
	c := resolver.NewCache(testZone(t))
	a, err := c.Lookup(context.Background(), "mail.example.org.", dns.TypeA)
	require.NoError(t, err)
	a.Rcode = dns.RcodeNameError
	a.Records = nil
	b, err := c.Lookup(context.Background(), "mail.example.org.", dns.TypeA)
	require.NoError(t, err)
	assert.False(t, b.NXDomain())
	assert.Len(t, b.Records, 1)
	assert.Equal(t, uint64(1), c.Stats().Hits)

	var zero resolver.Cache
	_, err = zero.Lookup(context.Background(), "mail.example.org.", dns.TypeA)
	assert.True(t, errors.Is(err, resolver.ErrPermanent))
}

// TestCacheBudgetOfAnother: a question two messages share through the
// Cache runs on the budget of the first asker; when that budget runs out
// along the way, the other asker is not failed with it but asks again on
// its own budget.
func TestCacheBudgetOfAnother(t *testing.T) {
	zone := resolver.NewZone()
	zone.Add(mustRR(t, "c1.example. 60 IN CNAME c2.example."))
	zone.Add(mustRR(t, "c2.example. 60 IN CNAME c3.example."))
	zone.Add(mustRR(t, "c3.example. 60 IN A 192.0.2.3"))
	srv := resolvertest.Start(t, zone)
	srv.StopAtCNAME(true)
	srv.SetDelay(100 * time.Millisecond)
	cache := resolver.NewCache(&resolver.Client{Servers: []string{srv.Addr()}, Timeout: time.Second})
	poor := resolver.NewMemo(cache, 1) // the question, no hop
	rich := resolver.NewMemo(cache, 10)
	ctx := context.Background()
	var wg sync.WaitGroup
	var poorErr error
	wg.Go(func() { _, poorErr = poor.Lookup(ctx, "c1.example.", dns.TypeA) })
	time.Sleep(30 * time.Millisecond) // the poor message's question is in flight
	ans, err := rich.Lookup(ctx, "c1.example.", dns.TypeA)
	wg.Wait()
	assert.True(t, errors.Is(poorErr, resolver.ErrPermanent), "%v", poorErr)
	assert.True(t, poor.Exhausted())
	require.NoError(t, err)
	assert.Len(t, ans.Records, 1)
	assert.False(t, rich.Exhausted())
	assert.Positive(t, cache.Stats().Shared, "the rich message joined the poor one's question")
}

// TestCacheSharesWithMemos: the Memos of two messages over one Cache share
// one copy of a cached answer while its TTL left is the same, get a new
// one with the TTL left when it has changed, and the Cache's own callers
// still get copies of their own.
func TestCacheSharesWithMemos(t *testing.T) {
	clk := newClock()
	c := &resolver.Cache{Resolver: testZone(t), Now: clk.Now}
	ctx := context.Background()
	_, err := c.Lookup(ctx, "mail.example.org.", dns.TypeA)
	require.NoError(t, err)
	first, err := resolver.NewMemo(c, 0).Lookup(ctx, "mail.example.org.", dns.TypeA)
	require.NoError(t, err)
	second, err := resolver.NewMemo(c, 0).Lookup(ctx, "mail.example.org.", dns.TypeA)
	require.NoError(t, err)
	assert.Same(t, first, second)
	clk.Advance(10 * time.Second)
	later, err := resolver.NewMemo(c, 0).Lookup(ctx, "mail.example.org.", dns.TypeA)
	require.NoError(t, err)
	assert.NotSame(t, first, later)
	assert.Equal(t, first.TTL-10, later.TTL, "the TTL left")
	assert.Equal(t, first.Records, later.Records)
	own, err := c.Lookup(ctx, "mail.example.org.", dns.TypeA)
	require.NoError(t, err)
	assert.NotSame(t, later, own)
	assert.Equal(t, later.TTL, own.TTL)
}
