package trust

import (
	"context"
	"net/netip"
	"sync"
	"time"

	"github.com/mailtrust/mailtrust/helo"
	"github.com/mailtrust/mailtrust/ptr"
	"github.com/mailtrust/mailtrust/resolver"
	"github.com/mailtrust/mailtrust/sender"
	"github.com/mailtrust/mailtrust/spf"
)

// maxConnAge caps how long connection results are kept whatever the TTLs
// say, and is the age of results that asked no DNS at all.
const maxConnAge = 5 * time.Minute

// connKey is what the connection-level checks depend on: PTR on the IP and
// the sender domains, HELO on the name, the IP and the sender domain, SPF
// on the IP, the HELO name and the whole MAIL FROM (its local part feeds
// macros, RFC 7208 §7.3), existence on the From and MAIL FROM domains.
type connKey struct {
	ip         netip.Addr
	helo       string
	mailFrom   string
	fromDomain string
	// unknown are the facts not given (Conn.Missing): an unknown MAIL
	// FROM is not the null reverse-path, whose SPF is the HELO's.
	unknown Facts
}

// connResults are the results of those checks for one connKey.
type connResults struct {
	expires    time.Time
	ptr        ptr.Result
	helo       helo.Result
	spf        spf.Result
	fromExists sender.Result
	mfExists   sender.Result
}

// connCache keeps connection results across the messages of one Evaluator
// (Options.ConnCache), bounded in entries. Safe for concurrent use.
type connCache struct {
	mu  sync.Mutex
	max int
	m   map[connKey]*connResults
}

// DefaultConnCache is the number of connections whose results an
// Evaluator keeps when Options.ConnCache is zero: a few KiB each at most,
// a few MiB in all.
const DefaultConnCache = 4096

func newConnCache(max int) *connCache {
	if max == 0 {
		max = DefaultConnCache
	}
	if max < 0 {
		return nil
	}
	return &connCache{max: max, m: make(map[connKey]*connResults)}
}

// get returns the fresh results for k at now, or nil.
func (c *connCache) get(k connKey, now time.Time) *connResults {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.m[k]
	if r == nil {
		return nil
	}
	if !now.Before(r.expires) {
		delete(c.m, k)
		return nil
	}
	return r
}

// put stores r for k. When the cache is full, expired entries go first,
// then arbitrary ones: a bound, not a policy.
func (c *connCache) put(k connKey, r *connResults, now time.Time) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		for key, old := range c.m {
			if !now.Before(old.expires) {
				delete(c.m, key)
			}
		}
		for key := range c.m {
			if len(c.m) < c.max {
				break
			}
			delete(c.m, key)
		}
	}
	c.m[k] = r
}

// memoExpiry returns until when the answers of every question m asked
// upstream stay valid, counted from start: start plus the smallest TTL,
// capped at maxConnAge. ok is false when a question failed (a temporary or
// permanent error, the budget spent): results that saw less of DNS than
// they asked for are not kept. The answers are m's own, so asking again
// sends nothing. The TTLs are those of every question of the evaluation,
// a superset of the ones the connection checks used: the expiry can only
// be earlier than theirs.
func memoExpiry(ctx context.Context, m *resolver.Memo, start time.Time) (time.Time, bool) {
	if m.Exhausted() {
		return time.Time{}, false
	}
	ttl := maxConnAge
	for _, q := range m.Log() {
		a, err := m.Lookup(ctx, q.Name, q.Type)
		if err != nil || a == nil {
			return time.Time{}, false
		}
		ttl = min(ttl, time.Duration(a.TTL)*time.Second)
	}
	if ttl <= 0 {
		return time.Time{}, false
	}
	return start.Add(ttl), true
}
