package spf

import "sync"

// DefaultRecordCacheSize is the number of records a RecordCache holds when
// its Size is zero.
const DefaultRecordCacheSize = 4096

// RecordCache keeps parsed SPF records, keyed by the record's text, so that
// checks meeting the same records message after message (most mail comes
// from a few large senders and their providers' include chains) parse each
// of them once. DNS stays the source of truth: a record is found by its
// text as the resolver returns it now, so a changed record is parsed
// anew. Records that do not parse are kept too, with their error.
//
// A RecordCache is safe for concurrent use; the zero value is ready, and a
// nil *RecordCache parses every time. Give one to every check through
// Options.Records.
type RecordCache struct {
	// Size bounds the number of records held; when full, an arbitrary one
	// is dropped. Zero means DefaultRecordCacheSize.
	Size int

	mu   sync.RWMutex
	recs map[string]parsedRecord
}

type parsedRecord struct {
	rec *record
	err error
}

// parse returns parseRecord(txt), from the cache when it holds txt. The
// record returned is shared: evaluation only reads it.
func (c *RecordCache) parse(txt string) (*record, error) {
	if c == nil {
		return parseRecord(txt)
	}
	c.mu.RLock()
	p, ok := c.recs[txt]
	c.mu.RUnlock()
	if ok {
		return p.rec, p.err
	}
	rec, err := parseRecord(txt)
	size := c.Size
	if size <= 0 {
		size = DefaultRecordCacheSize
	}
	c.mu.Lock()
	if c.recs == nil {
		c.recs = make(map[string]parsedRecord)
	}
	for victim := range c.recs {
		if len(c.recs) < size {
			break
		}
		delete(c.recs, victim)
	}
	c.recs[txt] = parsedRecord{rec, err}
	c.mu.Unlock()
	return rec, err
}

// Len returns the number of records held.
func (c *RecordCache) Len() int {
	if c == nil {
		return 0
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.recs)
}
