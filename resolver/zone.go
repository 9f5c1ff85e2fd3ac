package resolver

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// Fault is a failure a Zone replays for a name instead of answering.
type Fault int

// Faults, as written in master-file comments (docs/CORPUS.md):
//
//	; servfail: name.
//	; timeout: name.
const (
	NoFault Fault = iota
	// FaultServfail answers every question at the name with SERVFAIL.
	FaultServfail
	// FaultTimeout never answers: the question ends with the context or
	// after Zone.Timeout, as a temporary failure.
	FaultTimeout
)

// DefaultMaxFileBytes bounds a master file a Zone reads when its
// MaxFileBytes is zero: 64 MiB, several times the DNS of a corpus of
// thousands of messages. Loading costs about 0.3 s of CPU and 20 MiB of
// memory per MiB of small records (TXT and A), so a file at the limit
// takes some 20 s and over 1 GiB: lower it where that matters.
const DefaultMaxFileBytes = 64 << 20

// DefaultNegativeTTL is the TTL, in seconds, of a negative answer that came
// without an SOA to take it from (RFC 2308 §5).
const DefaultNegativeTTL = 300

// Zone answers from records held in memory, typically read from RFC 1035
// master files: the whole DNS of an offline replay. A name with no records
// and none below it does not exist (NXDOMAIN); a name with records of other
// types, or with names below it (an empty non-terminal, RFC 8020), answers
// NODATA. Wildcards (RFC 4592) and CNAMEs (RFC 1034 §3.6.2) are followed.
// A negative answer reports the SOA of the closest enclosing apex the zone
// holds, and lives min(SOA TTL, SOA MINIMUM), DefaultNegativeTTL without
// one (RFC 2308 §5).
//
// Build a Zone with NewZone (or from the zero value), Add, SetFault and
// ReadMasterFile; once built it is read-only and safe for concurrent use.
type Zone struct {
	// Timeout bounds how long a FaultTimeout question waits when the
	// context has no earlier deadline. Zero means one second.
	Timeout time.Duration
	// MaxFileBytes bounds each master file ReadMasterFile (and LoadZone)
	// reads; a larger one is refused with an error saying so, before it
	// is parsed. Zero means DefaultMaxFileBytes.
	MaxFileBytes int64

	names  map[string]map[uint16][]dns.RR // owner → type → records
	exists map[string]bool                // owners and all their ancestors
	faults map[string]Fault
	seen   map[string]bool // rrKey of every record held
}

// rrKey identifies a record by its text form without TTL, so that equal
// records compare equal whatever their TTL (RFC 2181 §5.2).
func rrKey(rr dns.RR) string {
	h := rr.Header()
	ttl := h.Ttl
	h.Ttl = 0
	k := rr.String()
	h.Ttl = ttl
	return k
}

// NewZone returns an empty zone: every name is NXDOMAIN.
func NewZone() *Zone {
	return &Zone{
		names:  map[string]map[uint16][]dns.RR{},
		exists: map[string]bool{},
		faults: map[string]Fault{},
		seen:   map[string]bool{},
	}
}

// init makes the zero Zone usable.
func (z *Zone) init() {
	if z.names == nil {
		z.names = map[string]map[uint16][]dns.RR{}
		z.exists = map[string]bool{}
		z.faults = map[string]Fault{}
		z.seen = map[string]bool{}
	}
}

// LoadZone reads a master file into a new Zone, refusing one larger than
// DefaultMaxFileBytes.
func LoadZone(path string) (*Zone, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	z := NewZone()
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() && fi.Size() > DefaultMaxFileBytes {
		return nil, fmt.Errorf("resolver: zone %s: %d octets, larger than %d (Zone.MaxFileBytes)", path, fi.Size(), int64(DefaultMaxFileBytes))
	}
	if err := z.ReadMasterFile(f, ".", path); err != nil {
		return nil, err
	}
	return z, nil
}

// Add adds a record. Owner names are compared case-insensitively; a record
// equal to one already held, TTL aside, is dropped (RFC 2181 §5: an RRset
// holds no duplicates), so that loading the same data twice is harmless.
// A second, different CNAME or SOA at a name is dropped too: there can be
// only one (RFC 2181 §10.1, RFC 1035 §5.2); ReadMasterFile reports it.
func (z *Zone) Add(rr dns.RR) {
	z.add(rr)
}

// add is Add reporting whether rr was a second CNAME or SOA.
func (z *Zone) add(rr dns.RR) (conflict bool) {
	z.init()
	h := rr.Header()
	owner := Fqdn(h.Name)
	h.Name = owner
	types := z.names[owner]
	if types == nil {
		types = map[uint16][]dns.RR{}
		z.names[owner] = types
	}
	key := rrKey(rr)
	if z.seen[key] {
		return false
	}
	if (h.Rrtype == dns.TypeCNAME || h.Rrtype == dns.TypeSOA) && len(types[h.Rrtype]) > 0 {
		return true
	}
	z.seen[key] = true
	types[h.Rrtype] = append(types[h.Rrtype], rr)
	z.markExists(owner)
	return false
}

// markExists records that name and all its ancestors are nodes of the tree.
func (z *Zone) markExists(name string) {
	for n := name; ; {
		z.exists[n] = true
		if n == "." {
			break
		}
		i := strings.IndexByte(n, '.')
		n = n[i+1:]
		if n == "" {
			n = "."
		}
	}
}

// SetFault makes every question at name fail with f.
func (z *Zone) SetFault(name string, f Fault) {
	z.init()
	z.faults[Fqdn(name)] = f
	// A name that fails was a node of the tree where it was seen: for the
	// names below it, it is a closest encloser that stops wildcards
	// (RFC 4592 §3.3.1) even when no record of it was recorded.
	z.markExists(Fqdn(name))
}

var faultComment = regexp.MustCompile(`(?i)^\s*;\s*(servfail|timeout)\s*:\s*(\S+)`)

// ReadMasterFile adds the records of an RFC 1035 §5 master file, with any
// number of $ORIGIN blocks, and the fault comments "; servfail: name." and
// "; timeout: name." (a relative name is taken relative to the $ORIGIN in
// force; octets special in master files are written as RFC 1035 §5.1
// escapes, as a Recorder writes them: "; timeout: a\039b.example.").
// Names, in records and comments alike, are read as the wire gives them,
// so that every spelling of an octet ("'", "\'", "\039") is one name.
// A file larger than MaxFileBytes is refused before it is parsed.
func (z *Zone) ReadMasterFile(r io.Reader, origin, filename string) error {
	limit := z.MaxFileBytes
	if limit <= 0 {
		limit = DefaultMaxFileBytes
	}
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return fmt.Errorf("resolver: zone %s: %w", filename, err)
	}
	if int64(len(data)) > limit {
		return fmt.Errorf("resolver: zone %s: larger than %d octets (Zone.MaxFileBytes)", filename, limit)
	}
	// Fault comments are invisible to the zone parser: find them first.
	cur := Fqdn(origin)
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if f := strings.Fields(line); len(f) >= 2 && strings.EqualFold(f[0], "$ORIGIN") {
			cur = Fqdn(f[1])
			continue
		}
		m := faultComment.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		name := m[2]
		if !strings.HasSuffix(name, ".") {
			if cur == "." {
				name += "."
			} else {
				name += "." + cur
			}
		}
		// Recorders write names with \DDD escapes (escapedName).
		name, err := canonicalName(name)
		if err != nil {
			return fmt.Errorf("resolver: zone %s: fault comment %q: %w", filename, line, err)
		}
		if strings.EqualFold(m[1], "servfail") {
			z.SetFault(name, FaultServfail)
		} else {
			z.SetFault(name, FaultTimeout)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("resolver: zone %s: %w", filename, err)
	}
	zp := dns.NewZoneParser(bytes.NewReader(data), Fqdn(origin), filename)
	zp.SetDefaultTTL(3600)
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		// The parser also accepts records without data (the RFC 2136
		// §2.5 update forms: "name TXT" alone); a zone holds none, so a
		// record must read back from its own text form.
		_, err := dns.NewRR(rr.String())
		if err != nil {
			return fmt.Errorf("resolver: zone %s: incomplete record %q: %w", filename, rr.String(), err)
		}
		// Every name and string is taken as the wire would give it, so
		// that "'" and "\'" or "\039" are one name, as they are one
		// octet (RFC 1035 §5.1): a Recorder's escapes replay as the names
		// it saw. The record must then read back from its own text form
		// as the same octets, field by field.
		canon, err := wireCopy(rr)
		if err != nil {
			return fmt.Errorf("resolver: zone %s: record %q: %w", filename, rr.String(), err)
		}
		again, err := dns.NewRR(canon.String())
		if err != nil || again == nil {
			return fmt.Errorf("resolver: zone %s: record %q does not read back as itself", filename, rr.String())
		}
		if again, err = wireCopy(again); err != nil || !dns.IsDuplicate(again, canon) || again.String() != canon.String() {
			return fmt.Errorf("resolver: zone %s: record %q does not read back as itself", filename, rr.String())
		}
		rr = canon
		// An SOA without MNAME and RNAME (RFC 1035 §3.3.13) reads back
		// from its text form too, but not once written with an owner.
		if soa, ok := rr.(*dns.SOA); ok && (soa.Ns == "" || soa.Mbox == "") {
			return fmt.Errorf("resolver: zone %s: incomplete record %q", filename, rr.String())
		}
		if z.add(rr) {
			return fmt.Errorf("resolver: zone %s: second %s at %s", filename, TypeString(rr.Header().Rrtype), rr.Header().Name)
		}
	}
	if err := zp.Err(); err != nil {
		return fmt.Errorf("resolver: zone %s: %w", filename, err)
	}
	return nil
}

// maxCNAMEs bounds alias chains; longer chains are treated as loops.
const maxCNAMEs = 8

// Lookup implements Resolver. A FaultServfail met at the name or along its
// CNAME chain fails with ErrTemporary at once; a FaultTimeout waits for ctx
// or Timeout, then fails with ErrTemporary.
func (z *Zone) Lookup(ctx context.Context, name string, qtype uint16) (*Answer, error) {
	q := question(name, qtype)
	if err := ctx.Err(); err != nil {
		return nil, contextError(q, err)
	}
	if err := CheckName(q.Name); err != nil && q.Name != "." {
		return nil, &Error{Name: q.Name, Type: qtype, Rcode: -1, Reason: "invalid name", Kind: ErrPermanent, Err: err}
	}
	ans, f, err := z.Resolve(name, qtype)
	switch f {
	case FaultServfail:
		return nil, &Error{Name: q.Name, Type: qtype, Rcode: dns.RcodeServerFailure, Reason: "SERVFAIL", Kind: ErrTemporary, CNAMEs: ans.CNAMEs}
	case FaultTimeout:
		return nil, z.wait(ctx, q.Name, qtype, ans.CNAMEs)
	}
	return ans, err
}

// Resolve answers like Lookup but never waits: when the question meets a
// fault, at the name or along its CNAME chain, it returns that fault with
// an Answer holding only the aliases followed to the faulty name (its
// Target), so that a server built on the Zone (package resolvertest) can
// reply SERVFAIL or stay silent. The error is non-nil only for an invalid
// name or a CNAME loop, and wraps ErrPermanent; the Answer is then nil.
func (z *Zone) Resolve(name string, qtype uint16) (*Answer, Fault, error) {
	// Any valid domain name, whatever its octets: a server built on the
	// Zone is asked the alias targets and PTR names of senders, which
	// CheckName would refuse (Lookup applies it to its questions).
	qname, err := canonicalName(name)
	if err != nil {
		qname := Fqdn(name)
		return nil, NoFault, &Error{Name: qname, Type: qtype, Rcode: -1, Reason: "invalid name", Kind: ErrPermanent, Err: err}
	}
	ans := &Answer{Name: qname, Type: qtype, Rcode: dns.RcodeSuccess, TTL: ^uint32(0)}
	seen := map[string]bool{}
	cur := qname
	for {
		if f := z.faults[cur]; f != NoFault {
			ans.Records, ans.TTL = nil, 0
			return ans, f, nil
		}
		types, owner := z.find(cur)
		if rrs := types[qtype]; len(rrs) > 0 {
			for _, rr := range rrs {
				if owner != cur { // wildcard: synthesize the owner (RFC 4592 §3.3.1)
					rr = dns.Copy(rr)
					rr.Header().Name = cur
				}
				ans.Records = append(ans.Records, rr)
				ans.TTL = min(ans.TTL, rr.Header().Ttl)
			}
			return ans, NoFault, nil
		}
		if c, ok := first(types[dns.TypeCNAME]).(*dns.CNAME); ok && qtype != dns.TypeCNAME {
			// RFC 1034 §3.6.2: follow the alias; a chain longer than
			// maxCNAMEs is treated as the loop it most likely is.
			if owner != cur {
				c = dns.Copy(c).(*dns.CNAME)
				c.Hdr.Name = cur
			}
			if seen[cur] || len(ans.CNAMEs) >= maxCNAMEs {
				return nil, NoFault, &Error{Name: qname, Type: qtype, Rcode: -1, Reason: "CNAME loop", Kind: ErrPermanent,
					CNAMEs: append(ans.CNAMEs, c)}
			}
			seen[cur] = true
			ans.CNAMEs = append(ans.CNAMEs, c)
			ans.TTL = min(ans.TTL, c.Hdr.Ttl)
			if cur, err = canonicalName(c.Target); err != nil {
				return nil, NoFault, &Error{Name: qname, Type: qtype, Rcode: -1, Reason: "invalid CNAME target", Kind: ErrPermanent, Err: err, CNAMEs: ans.CNAMEs}
			}
			continue
		}
		if types == nil && !z.exists[cur] {
			ans.Rcode = dns.RcodeNameError
		}
		// RFC 2308 §5: a negative answer lives min(SOA TTL, SOA MINIMUM).
		ans.SOA = z.soa(cur)
		ans.TTL = min(ans.TTL, negativeTTL(ans.SOA))
		return ans, NoFault, nil
	}
}

// find returns the records at name, or those of the wildcard that covers
// it (RFC 4592 §4.3: only when name does not exist), and their owner.
func (z *Zone) find(name string) (map[uint16][]dns.RR, string) {
	if t := z.names[name]; t != nil || z.exists[name] {
		return t, name
	}
	for n := name; n != "."; {
		i := strings.IndexByte(n, '.')
		n = n[i+1:]
		if n == "" {
			n = "."
		}
		if n != "." {
			if t := z.names["*."+n]; t != nil {
				return t, "*." + n
			}
		}
		if z.exists[n] {
			break // the closest encloser has no wildcard
		}
	}
	return nil, name
}

// soa returns the SOA record of the closest enclosing zone apex held, or
// nil.
func (z *Zone) soa(name string) *dns.SOA {
	for n := name; ; {
		if soa, ok := first(z.names[n][dns.TypeSOA]).(*dns.SOA); ok {
			return soa
		}
		if n == "." {
			return nil
		}
		i := strings.IndexByte(n, '.')
		n = n[i+1:]
		if n == "" {
			n = "."
		}
	}
}

// negativeTTL is the cache time of a negative answer that came with soa
// (RFC 2308 §5), DefaultNegativeTTL without one.
func negativeTTL(soa *dns.SOA) uint32 {
	if soa == nil {
		return DefaultNegativeTTL
	}
	return min(soa.Minttl, soa.Hdr.Ttl)
}

func (z *Zone) wait(ctx context.Context, name string, qtype uint16, chain []*dns.CNAME) error {
	d := z.Timeout
	if d <= 0 {
		d = time.Second
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
	return &Error{Name: name, Type: qtype, Rcode: -1, Reason: "timeout", Kind: ErrTemporary, Err: ctx.Err(), CNAMEs: chain}
}

func first(rrs []dns.RR) dns.RR {
	if len(rrs) == 0 {
		return nil
	}
	return rrs[0]
}
