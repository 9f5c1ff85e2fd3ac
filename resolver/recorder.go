package resolver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/miekg/dns"
)

// PlaceholderType is the record type the Recorder writes to make a name
// exist when it answered NODATA and no record of it is known: a private-use
// type (RFC 6895 §3.1) that no check asks for, written in the generic
// syntax of RFC 3597 §5 so that any server loading the file accepts it.
const PlaceholderType = 65534

// Recorder is a Resolver that passes questions to another and remembers
// what it saw, so that WriteTo can write it as an RFC 1035 master file that
// a Zone (ReadMasterFile, LoadZone) answers identically from: the DNS of a
// replay corpus (docs/CORPUS.md).
//
//   - Records and aliases of positive answers are written as they came.
//   - NXDOMAIN needs nothing: a name the file does not hold does not exist.
//   - NODATA needs the name to exist without the asked type. That holds when
//     the file has another record at the name or below it (an empty
//     non-terminal); otherwise one record of PlaceholderType is written at
//     the name, with a comment.
//   - The SOA that came with a negative answer is written at its owner, the
//     zone apex, so that the replay gives the same negative TTL (RFC 2308
//     §5). An upstream that reports no SOA (System) leaves the replay with
//     DefaultNegativeTTL or the SOA of an enclosing zone.
//   - Temporary failures are written as fault comments: "; servfail: name."
//     for SERVFAIL and REFUSED, "; timeout: name." for the rest. A failure
//     met along a CNAME chain is charged to the alias target that failed
//     when the error reports the chain (Error.CNAMEs), else to the question
//     name. A fault holds for every type at its name, so a name that failed
//     once fails for every question in the replay. A question abandoned
//     because its caller's ctx ended is not a fault.
//   - A CNAME loop (or a chain too long) is written as the aliases the
//     error carries (Error.CNAMEs), so that the replay meets the same loop.
//     Other permanent failures (an invalid name, a spent budget) are not
//     written: the error carries no records to replay them with.
//
// Output is sorted (faults by name, then records in canonical name order,
// RFC 4034 §6.1, then type and data), so recording the same answers twice
// writes the same file. Records equal but for their TTL are written once,
// with the smallest TTL. A Recorder is safe for concurrent use; the zero
// value needs Resolver set.
type Recorder struct {
	// Resolver is asked every question. Required.
	Resolver Resolver

	mu      sync.Mutex
	records map[string]dns.RR // by text without TTL
	nodata  map[string]uint32 // names that answered NODATA → TTL
	faults  map[string]Fault
}

// NewRecorder returns a Recorder in front of r.
func NewRecorder(r Resolver) *Recorder { return &Recorder{Resolver: r} }

// Lookup implements Resolver: it returns what the upstream returned.
func (rec *Recorder) Lookup(ctx context.Context, name string, qtype uint16) (*Answer, error) {
	if rec.Resolver == nil {
		q := question(name, qtype)
		return nil, &Error{Name: q.Name, Type: qtype, Rcode: -1, Reason: "recorder without upstream resolver", Kind: ErrPermanent}
	}
	ans, err := rec.Resolver.Lookup(ctx, name, qtype)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if rec.records == nil {
		rec.records = map[string]dns.RR{}
		rec.nodata = map[string]uint32{}
		rec.faults = map[string]Fault{}
	}
	if err != nil {
		var e *Error
		if errors.As(err, &e) && errors.Is(e.Kind, ErrPermanent) {
			for _, c := range e.CNAMEs {
				rec.add(c)
			}
		}
		rec.fault(ctx, err)
		return ans, err
	}
	if ans == nil {
		return ans, err
	}
	for _, c := range ans.CNAMEs {
		rec.add(c)
	}
	for _, rr := range ans.Records {
		rec.add(rr)
	}
	if ans.Empty() {
		if ans.SOA != nil {
			rec.add(ans.SOA)
		}
		if !ans.NXDomain() {
			t := Fqdn(ans.Target())
			if old, ok := rec.nodata[t]; !ok || ans.TTL < old {
				rec.nodata[t] = ans.TTL
			}
		}
	}
	return ans, nil
}

func (rec *Recorder) fault(ctx context.Context, err error) {
	var e *Error
	if ctx.Err() != nil || !errors.As(err, &e) || !errors.Is(e.Kind, ErrTemporary) {
		return
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return
	}
	f := FaultTimeout
	if e.Rcode == dns.RcodeServerFailure || e.Rcode == dns.RcodeRefused {
		f = FaultServfail
	}
	name := Fqdn(e.Name)
	if n := len(e.CNAMEs); n > 0 {
		// The failure happened along the chain: charge it to the name
		// that failed, and keep the way there.
		for _, c := range e.CNAMEs {
			rec.add(c)
		}
		name = Fqdn(e.CNAMEs[n-1].Target)
	}
	if _, err := escapedName(name); err != nil {
		return // no domain name: nothing a zone could hold
	}
	if old := rec.faults[name]; old != FaultServfail { // SERVFAIL is the more telling
		rec.faults[name] = f
	}
}

// add keeps rr once, with the smallest TTL seen.
func (rec *Recorder) add(rr dns.RR) {
	c := dns.Copy(rr)
	h := c.Header()
	h.Name = Fqdn(h.Name)
	key := rrKey(c)
	if old, ok := rec.records[key]; ok && old.Header().Ttl <= h.Ttl {
		return
	}
	rec.records[key] = c
}

// WriteTo writes the recorded DNS as a master file. It implements
// io.WriterTo.
func (rec *Recorder) WriteTo(w io.Writer) (int64, error) {
	rec.mu.Lock()
	var b bytes.Buffer
	names := make([]string, 0, len(rec.faults))
	for n := range rec.faults {
		names = append(names, n)
	}
	slices.SortFunc(names, compareNames)
	for _, n := range names {
		word := "timeout"
		if rec.faults[n] == FaultServfail {
			word = "servfail"
		}
		// RFC 1035 §5.1: \DDD for every special octet, so that the
		// comment holds no space or quote a reader could misread.
		esc, _ := escapedName(n)
		fmt.Fprintf(&b, "; %s: %s\n", word, esc)
	}

	rrs := make([]dns.RR, 0, len(rec.records)+len(rec.nodata))
	owners := map[string]bool{}
	for _, rr := range rec.records {
		rrs = append(rrs, rr)
		owners[rr.Header().Name] = true
	}
	// Deepest names first: a placeholder makes its ancestors exist too.
	nodata := make([]string, 0, len(rec.nodata))
	for n := range rec.nodata {
		nodata = append(nodata, n)
	}
	slices.SortFunc(nodata, func(a, b string) int {
		if c := dns.CountLabel(b) - dns.CountLabel(a); c != 0 {
			return c
		}
		return compareNames(a, b)
	})
	placeholders := map[string]bool{}
	for _, n := range nodata {
		if existsIn(owners, n) {
			continue
		}
		rrs = append(rrs, &dns.RFC3597{Hdr: dns.RR_Header{Name: n, Rrtype: PlaceholderType, Class: dns.ClassINET, Ttl: rec.nodata[n]}})
		placeholders[n] = true
		owners[n] = true
	}
	rec.mu.Unlock()

	slices.SortFunc(rrs, func(a, b dns.RR) int {
		ha, hb := a.Header(), b.Header()
		if c := compareNames(ha.Name, hb.Name); c != 0 {
			return c
		}
		if ha.Rrtype != hb.Rrtype {
			return int(ha.Rrtype) - int(hb.Rrtype)
		}
		return strings.Compare(a.String(), b.String())
	})
	for _, rr := range rrs {
		h := rr.Header()
		if placeholders[h.Name] && h.Rrtype == PlaceholderType {
			fmt.Fprintf(&b, "; exists: %s (NODATA seen, no record of it known)\n", h.Name)
			fmt.Fprintf(&b, "%s\t%d\tIN\tTYPE%d\t\\# 0\n", h.Name, h.Ttl, PlaceholderType)
			continue
		}
		b.WriteString(rr.String())
		b.WriteByte('\n')
	}
	n, err := w.Write(b.Bytes())
	return int64(n), err
}

// existsIn reports whether name owns a record or has a descendant that
// does.
func existsIn(owners map[string]bool, name string) bool {
	if owners[name] {
		return true
	}
	suffix := "." + name
	if name == "." {
		suffix = "."
	}
	for o := range owners {
		if strings.HasSuffix(o, suffix) {
			return true
		}
	}
	return false
}

// compareNames orders names canonically (RFC 4034 §6.1): by their labels
// from the root, so that a zone's names stay together.
func compareNames(a, b string) int {
	la, lb := dns.SplitDomainName(a), dns.SplitDomainName(b)
	for i, j := len(la)-1, len(lb)-1; i >= 0 && j >= 0; i, j = i-1, j-1 {
		if c := strings.Compare(lowerASCII(la[i]), lowerASCII(lb[j])); c != 0 {
			return c
		}
	}
	return len(la) - len(lb)
}
