package resolver

import (
	"container/list"
	"context"
	"errors"
	"sync"
	"time"
)

// Cache defaults.
const (
	// DefaultMaxEntries bounds a Cache whose MaxEntries is zero.
	DefaultMaxEntries = 10000
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
//     others go on waiting.
//   - At most MaxEntries answers are kept; the least recently used goes
//     first.
//
// Answers returned carry the TTL left. The zero value needs Resolver set
// and is then ready; a Cache must not be copied after first use.
type Cache struct {
	// Resolver is asked on a miss. Required.
	Resolver Resolver
	// MaxEntries bounds the number of cached answers. Zero means
	// DefaultMaxEntries.
	MaxEntries int
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
	inflight flights
	stats    CacheStats
}

// CacheStats counts what a Cache did since it was made.
type CacheStats struct {
	Hits      uint64 // questions answered from the cache
	Misses    uint64 // questions not in the cache (Upstream + Shared)
	Upstream  uint64 // questions asked of the upstream Resolver
	Shared    uint64 // misses that joined a question already in flight
	Evictions uint64 // entries dropped to respect MaxEntries
	Entries   int    // entries held now, expired ones included
}

type cacheEntry struct {
	q       Question
	ans     *Answer
	err     error
	expires time.Time
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
	q := question(name, qtype)
	if c.Resolver == nil {
		return nil, &Error{Name: q.Name, Type: qtype, Rcode: -1, Reason: "cache without upstream resolver", Kind: ErrPermanent}
	}
	if err := ctx.Err(); err != nil {
		return nil, contextError(q, err)
	}
	now := c.now()
	c.mu.Lock()
	if ans, err, ok := c.hit(q, now); ok {
		c.mu.Unlock()
		return ans, err
	}
	c.stats.Misses++
	f := c.inflight[q]
	if f != nil {
		f.refs++
		c.stats.Shared++
	} else {
		c.stats.Upstream++
		f = c.inflight.start(&c.mu, ctx, q, c.Resolver, func(ans *Answer, err error) {
			c.store(q, ans, err)
		})
	}
	c.mu.Unlock()
	return c.inflight.wait(&c.mu, ctx, q, f)
}

// hit returns the fresh entry for q, if there is one, dropping an expired
// one. Called with c.mu held.
func (c *Cache) hit(q Question, now time.Time) (*Answer, error, bool) {
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
	ans, err := e.result(now)
	return ans, err, true
}

// cached implements immediate: the answer held for q, without asking
// upstream or waiting for a question in flight.
func (c *Cache) cached(q Question) (*Answer, error, bool) {
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hit(q, now)
}

// Stats returns the counters so far.
func (c *Cache) Stats() CacheStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.stats
	s.Entries = len(c.entries)
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
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || isBudget(err) {
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
	for len(c.entries) >= maxEntries {
		c.remove(c.lru.Back())
		c.stats.Evictions++
	}
	e := &cacheEntry{q: q, ans: ans, err: err, expires: c.now().Add(ttl)}
	c.entries[q] = c.lru.PushFront(e)
}

func (c *Cache) remove(el *list.Element) {
	delete(c.entries, el.Value.(*cacheEntry).q)
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
