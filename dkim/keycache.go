package dkim

import (
	"context"
	"sync"

	"github.com/mailtrust/mailtrust/resolver"
)

// DefaultKeyCacheSize is the number of key records a KeyCache holds when
// its Size is zero.
const DefaultKeyCacheSize = 4096

// KeyCache keeps parsed key records, keyed by the record's text, so that a
// verifier meeting the same key in message after message (most mail comes
// from a few large senders) decodes and parses it once. DNS stays the
// source of truth: a key is found by its record as the resolver returns it
// now, so a rotated or revoked key is never served from here. Records that
// do not parse are kept too, with their error.
//
// Keys it returns are shared between callers: treat them as read-only. A
// KeyCache is safe for concurrent use; the zero value is ready, and a nil
// *KeyCache parses every time.
type KeyCache struct {
	// Size bounds the number of records held; when full, an arbitrary
	// one is dropped. Zero means DefaultKeyCacheSize.
	Size int

	mu   sync.RWMutex
	keys map[string]parsedKey
}

type parsedKey struct {
	key *Key
	err error
}

// Parse returns ParseKeyRecord(txt), from the cache when it holds txt.
func (c *KeyCache) Parse(txt string) (*Key, error) {
	if c == nil {
		return ParseKeyRecord(txt)
	}
	c.mu.RLock()
	p, ok := c.keys[txt]
	c.mu.RUnlock()
	if ok {
		return p.key, p.err
	}
	k, err := ParseKeyRecord(txt)
	size := c.Size
	if size <= 0 {
		size = DefaultKeyCacheSize
	}
	c.mu.Lock()
	if c.keys == nil {
		c.keys = make(map[string]parsedKey)
	}
	for victim := range c.keys {
		if len(c.keys) < size {
			break
		}
		delete(c.keys, victim)
	}
	c.keys[txt] = parsedKey{k, err}
	c.mu.Unlock()
	return k, err
}

// Len returns the number of records held.
func (c *KeyCache) Len() int {
	if c == nil {
		return 0
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.keys)
}

// Lookup is LookupKey parsing through the cache.
func (c *KeyCache) Lookup(ctx context.Context, r resolver.Resolver, selector, domain string) (*Key, error) {
	return lookupKey(ctx, r, selector, domain, c.Parse)
}
