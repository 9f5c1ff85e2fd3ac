package resolver

import (
	"container/list"
	"context"
	"errors"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// Cache defaults.
const (
	// DefaultMaxEntries bounds a Cache whose MaxEntries is zero.
	DefaultMaxEntries = 10000
	// DefaultMaxBytes bounds the approximate memory of a Cache whose
	// MaxBytes is zero: 32 MiB, some 60,000 answers of a typical size,
	// but only some 500 of the 60 KB records a sender may publish.
	DefaultMaxBytes = 32 << 20
	// DefaultMaxTTL caps the cache time of a Cache whose MaxTTL is zero.
	DefaultMaxTTL = 24 * time.Hour
)

// Cache is a Resolver that remembers the answers of another for as long as
// their TTL allows, so that the messages of one sender do not ask the same
// questions again and again. It is meant to be shared by every evaluation
// of a process and is safe for concurrent use.
//
//   - Positive answers live for their TTL (the smallest of the records and
//     aliases), capped by MaxTTL; a TTL of zero is not cached (RFC 1035
//     §3.2.1).
//   - NXDOMAIN and NODATA are cached alike, for the negative TTL the
//     upstream computed from the SOA (RFC 2308 §5).
//   - Failures (SERVFAIL, timeouts, malformed answers) are not cached unless
//     FailureTTL is set (RFC 2308 §7 allows up to five minutes); a question
//     abandoned because a context ended is never cached.
//   - Concurrent identical questions (same name and type) share one
//     upstream question; an asker whose ctx ends returns at once while the
//     others go on waiting. The question runs on the DNS budget of the
//     first asker (Memo); when that budget runs out on the way, the others
//     ask again on their own.
//   - At most MaxEntries answers are kept, of at most MaxBytes in all (the
//     approximate memory of each, see entrySize: senders choose the size
//     of the records they publish); the least recently used goes first.
//     An answer larger than MaxBytes alone is not kept.
//
// Answers returned carry the TTL left. The zero value needs Resolver set
// and is then ready; a Cache must not be copied after first use.
type Cache struct {
	// Resolver is asked on a miss. Required.
	Resolver Resolver
	// MaxEntries bounds the number of cached answers. Zero means
	// DefaultMaxEntries.
	MaxEntries int
	// MaxBytes bounds the approximate memory of the cached answers, in
	// octets. Zero means DefaultMaxBytes.
	MaxBytes int
	// MaxTTL caps how long any answer is kept. Zero means DefaultMaxTTL.
	MaxTTL time.Duration
	// FailureTTL is how long a failed question is remembered. Zero, the
	// default, asks again every time.
	FailureTTL time.Duration
	// Now is the clock that ages entries. Nil means time.Now. This is the
	// cache's wall clock, unrelated to the time of receipt of a message.
	Now func() time.Time

	mu       sync.Mutex
	entries  map[Question]*list.Element // of *cacheEntry
	lru      list.List                  // front: most recently used
	bytes    int                        // sum of the entries' sizes
	inflight flights
	stats    CacheStats
}

// CacheStats counts what a Cache did since it was made.
type CacheStats struct {
	Hits      uint64 // questions answered from the cache
	Misses    uint64 // questions not in the cache (Upstream + Shared)
	Upstream  uint64 // questions asked of the upstream Resolver
	Shared    uint64 // misses that joined a question already in flight
	Evictions uint64 // entries dropped to respect MaxEntries or MaxBytes
	Entries   int    // entries held now, expired ones included
	Bytes     int    // approximate memory of the entries held now
}

type cacheEntry struct {
	q       Question
	ans     *Answer
	err     error
	expires time.Time
	size    int
	// view is the answer as last given to a Memo, TTL left included:
	// shared read-only by the Memos that take it within the same second.
	view *Answer
}

// entrySize approximates the memory an entry holds: a fixed overhead for
// the entry, the answer and the map and list slots, and for each record
// its wire length (the text of a TXT, the octets of a name) plus the Go
// values around it. It need not be exact, only grow with what a sender
// controls.
func entrySize(q Question, ans *Answer, err error) int {
	const entry, record = 256, 64
	n := entry + len(q.Name)
	if err != nil {
		n += len(err.Error())
	}
	if ans == nil {
		return n
	}
	n += len(ans.Name)
	for _, c := range ans.CNAMEs {
		n += record + dns.Len(c)
	}
	for _, rr := range ans.Records {
		n += record + dns.Len(rr)
		if t, ok := rr.(*dns.TXT); ok {
			n += 16 * len(t.Txt) // a string header per character-string
		}
	}
	if ans.SOA != nil {
		n += record + dns.Len(ans.SOA)
	}
	return n
}

// NewCache returns a Cache over r with default settings.
func NewCache(r Resolver) *Cache {
	return &Cache{Resolver: r}
}

// Default returns a new Cache over the host's resolver ([System]): what
// callers that configure nothing use. Each call makes a new Cache; share
// the one returned rather than calling Default per message.
func Default() *Cache {
	return NewCache(NewSystem())
}

// Lookup implements Resolver.
func (c *Cache) Lookup(ctx context.Context, name string, qtype uint16) (*Answer, error) {
	for i := 0; ; i++ {
		ans, err, joined := c.lookup(ctx, name, qtype)
		if !joined || err == nil || !IsBudget(err) || i == 3 {
			return ans, err
		}
		// The shared question ran on the budget of the message that
		// asked it first (Memo), and that budget is spent; this asker's
		// may not be. Ask again, so that one message's budget does not
		// fail another's questions (budget errors are never stored).
	}
}

// lookup answers q from the cache or upstream; joined reports that the
// answer came from a question another asker started.
func (c *Cache) lookup(ctx context.Context, name string, qtype uint16) (*Answer, error, bool) {
	q := question(name, qtype)
	if c.Resolver == nil {
		return nil, &Error{Name: q.Name, Type: qtype, Rcode: -1, Reason: "cache without upstream resolver", Kind: ErrPermanent}, false
	}
	if err := ctx.Err(); err != nil {
		return nil, contextError(q, err), false
	}
	now := c.now()
	c.mu.Lock()
	if ans, err, ok := c.hit(q, now, false); ok {
		c.mu.Unlock()
		return ans, err, false
	}
	c.stats.Misses++
	f := c.inflight[q]
	joined := f != nil
	if joined {
		f.refs++
		c.stats.Shared++
	} else {
		c.stats.Upstream++
		f = c.inflight.start(&c.mu, ctx, q, c.Resolver, func(ans *Answer, err error) {
			c.store(q, ans, err)
		})
	}
	c.mu.Unlock()
	ans, err := c.inflight.wait(&c.mu, ctx, q, f)
	return ans.clone(), err, joined
}

// hit returns the fresh entry for q, if there is one, dropping an expired
// one: a copy of its answer, or with shared the answer a Memo may share
// read-only (cacheEntry.shared). Called with c.mu held.
func (c *Cache) hit(q Question, now time.Time, shared bool) (*Answer, error, bool) {
	if c.entries == nil {
		c.entries = map[Question]*list.Element{}
		c.inflight = flights{}
	}
	el, ok := c.entries[q]
	if !ok {
		return nil, nil, false
	}
	e := el.Value.(*cacheEntry)
	if !now.Before(e.expires) {
		c.remove(el)
		return nil, nil, false
	}
	c.lru.MoveToFront(el)
	c.stats.Hits++
	if shared {
		ans, err := e.shared(now)
		return ans, err, true
	}
	ans, err := e.result(now)
	return ans, err, true
}

// cached implements immediate: the answer held for q, without asking
// upstream or waiting for a question in flight.
func (c *Cache) cached(q Question) (*Answer, error, bool) {
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hit(q, now, true) // a Memo: its answers are read-only
}

// Stats returns the counters so far.
func (c *Cache) Stats() CacheStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.stats
	s.Entries = len(c.entries)
	s.Bytes = c.bytes
	return s
}

// Len returns the number of entries held, expired ones included.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}

func (c *Cache) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// store keeps a result for as long as it may be. Called with c.mu held.
func (c *Cache) store(q Question, ans *Answer, err error) {
	var ttl time.Duration
	switch {
	case err != nil:
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || IsBudget(err) {
			return
		}
		ttl = c.FailureTTL
	case ans != nil:
		ttl = time.Duration(ans.TTL) * time.Second
	}
	maxTTL := c.MaxTTL
	if maxTTL <= 0 {
		maxTTL = DefaultMaxTTL
	}
	ttl = min(ttl, maxTTL)
	if ttl <= 0 {
		return
	}
	if el, ok := c.entries[q]; ok {
		c.remove(el)
	}
	maxEntries := c.MaxEntries
	if maxEntries <= 0 {
		maxEntries = DefaultMaxEntries
	}
	maxBytes := c.MaxBytes
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	size := entrySize(q, ans, err)
	if size > maxBytes {
		return
	}
	for len(c.entries) >= maxEntries || c.bytes+size > maxBytes {
		c.remove(c.lru.Back())
		c.stats.Evictions++
	}
	e := &cacheEntry{q: q, ans: ans, err: err, expires: c.now().Add(ttl), size: size}
	c.entries[q] = c.lru.PushFront(e)
	c.bytes += size
}

func (c *Cache) remove(el *list.Element) {
	e := el.Value.(*cacheEntry)
	c.bytes -= e.size
	delete(c.entries, e.q)
	c.lru.Remove(el)
}

// result is the entry as seen at now: a copy of the answer whose TTL is
// the time left, or the remembered error.
func (e *cacheEntry) result(now time.Time) (*Answer, error) {
	if e.err != nil {
		return nil, e.err
	}
	a := e.ans.clone()
	a.TTL = uint32(e.expires.Sub(now) / time.Second)
	return a, nil
}

// shared is result for a Memo, whose answers are read-only: the same copy
// for every Memo that asks within one second of TTL left, made anew when
// the TTL left has changed.
func (e *cacheEntry) shared(now time.Time) (*Answer, error) {
	if e.err != nil {
		return nil, e.err
	}
	ttl := uint32(e.expires.Sub(now) / time.Second)
	if e.view == nil || e.view.TTL != ttl {
		a := e.ans.clone()
		a.TTL = ttl
		e.view = a
	}
	return e.view, nil
}
