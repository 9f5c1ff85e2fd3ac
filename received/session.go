package received

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/mailtrust/mailtrust/internal/arfield"
)

// Receiver names the hosts of the receiver: its MX hosts, internal relays
// and delivery agent. It is the one list of them: trust reads the trace
// fields by it (trust.Options.Receiver), and the milter and smtptrust ask
// it whether the connecting client is one of the receiver's own hosts
// (HasIP, HasName), never to be judged as the sender. The zero value
// names none.
type Receiver struct {
	// Names are host names, compared without case and final dot. A name
	// written "*.example.net" or ".example.net" stands for every name
	// below example.net.
	Names []string
	// Networks are the receiver's address ranges; an exact address is a
	// network of one address (a /32 or /128). An address in one is the
	// receiver's own; so are loopback addresses, once any host is named.
	Networks []netip.Prefix
}

// ParseReceiver reads a comma-separated list of host names, addresses and
// CIDR networks, as the -receiver flag gives it:
// "mx1.example.net,*.mx.example.net,192.0.2.0/24,2001:db8::/32,198.51.100.25".
// A bare address counts as a one-address network; an IPv4-mapped IPv6
// address as its IPv4 address.
func ParseReceiver(s string) (Receiver, error) {
	var r Receiver
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if strings.Contains(p, "/") {
			pfx, err := netip.ParsePrefix(p)
			if err != nil {
				return Receiver{}, fmt.Errorf("received: receiver network %q: %w", p, err)
			}
			r.Networks = append(r.Networks, pfx.Masked())
			continue
		}
		if ip, err := netip.ParseAddr(p); err == nil {
			r.Networks = append(r.Networks, netip.PrefixFrom(ip.Unmap(), ip.Unmap().BitLen()))
			continue
		}
		if strings.ContainsAny(p, " \t[]():@") {
			return Receiver{}, fmt.Errorf("received: receiver host %q: %w", p, errNotHost)
		}
		r.Names = append(r.Names, strings.ToLower(strings.TrimSuffix(p, ".")))
	}
	return r, nil
}

var errNotHost = errors.New("not a host name, address or network")

// IsZero reports that r names no host.
func (r Receiver) IsZero() bool { return len(r.Names) == 0 && len(r.Networks) == 0 }

// String gives r in the form ParseReceiver reads.
func (r Receiver) String() string {
	parts := append([]string(nil), r.Names...)
	for _, p := range r.Networks {
		parts = append(parts, p.String())
	}
	return strings.Join(parts, ",")
}

// HasName reports whether name is one of the receiver's host names;
// "localhost" is, once any host is named. The zero Receiver has none.
func (r Receiver) HasName(name string) bool {
	name = strings.ToLower(strings.TrimSuffix(name, "."))
	if name == "" || r.IsZero() {
		return false
	}
	if name == "localhost" {
		return true
	}
	for _, n := range r.Names {
		switch {
		case strings.HasPrefix(n, "*."):
			if strings.HasSuffix(name, n[1:]) {
				return true
			}
		case strings.HasPrefix(n, "."):
			if strings.HasSuffix(name, n) {
				return true
			}
		case n == name:
			return true
		}
	}
	return false
}

// HasIP reports whether ip is one of the receiver's addresses: in one of
// its Networks, or loopback once any host is named. The zero Receiver has
// none.
func (r Receiver) HasIP(ip netip.Addr) bool {
	if !ip.IsValid() || r.IsZero() {
		return false
	}
	ip = ip.Unmap()
	if ip.IsLoopback() {
		return true
	}
	for _, p := range r.Networks {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// wrote reports whether a receiver host wrote f: its by-clause names one.
func (r Receiver) wrote(f Field) bool {
	return r.HasName(f.By) || r.HasIP(f.ByIP)
}

// internal reports whether the client of f is a receiver host. RFC 5321
// §4.4: only the TCP-info is the receiving MTA's own finding; the HELO
// name is the client's claim. So the client's address decides, or the PTR
// name the MTA resolved (networks are the safer: not every MTA confirms a
// PTR name before writing it); the HELO name only when the field records
// no address at all (an LMTP or local hop, which an outside client cannot
// reach), never for a field that records an address.
func (r Receiver) internal(fr From) bool {
	if r.HasIP(fr.IP) || (fr.PTR != "" && r.HasName(fr.PTR)) {
		return true
	}
	return !fr.IP.IsValid() && fr.PTR == "" && r.HasName(fr.HELO)
}

// Facts is a set of session facts.
type Facts uint8

// Session facts.
const (
	FactIP Facts = 1 << iota
	FactHELO
	FactMailFrom
	FactRcptTo
	FactTime
)

// Has reports whether every fact of g is in f.
func (f Facts) Has(g Facts) bool { return f&g == g }

// HeaderField is one header field, name and value; Session takes a
// message's fields in order, top first.
type HeaderField struct {
	Name, Value string
}

// MaxFields bounds the Received fields Session reads, top first.
const MaxFields = 50

// Session is what the trace says of the SMTP session at the boundary.
type Session struct {
	// Boundary is the index, in the fields given to Session, of the
	// Received field that the outermost receiver host wrote when it
	// accepted the message from outside; -1 when there is none.
	Boundary int
	// Field is the boundary field as parsed.
	Field Field
	// Known says which of the facts below were found; the others are
	// unknown, whatever their zero values.
	Known Facts
	// IP and HELO are the client's, from the from-clause.
	IP   netip.Addr
	HELO string
	// PTR is the client's host name as the receiver's MTA resolved it.
	PTR string
	// MailFrom is the reverse-path from Return-Path, without angle
	// brackets; "" with FactMailFrom known is the null reverse-path.
	MailFrom string
	// RcptTo are the envelope recipients: X-Original-To, else
	// Delivered-To, else the for-clause of the boundary field.
	RcptTo []string
	// Time is the time of receipt: the boundary field's date, in UTC.
	Time time.Time
	// Authenticated reports that the client authenticated: the boundary
	// field's with-protocol is ESMTPA, ESMTPSA, LMTPA or the like
	// (RFC 3848 §2: the "A" suffix says SMTP AUTH succeeded).
	Authenticated bool
	// Reason says why no boundary was found, when none was.
	Reason string
}

// FromHeader finds the session facts in a header's fields (top first):
// the Received fields are read top down, skipping notes with neither a
// from- nor a by-clause (qmail's "invoked from network") and fields by
// which the receiver's hosts passed the message among themselves; the
// first field that a receiver host wrote on accepting the message from a
// client outside is the boundary. A Received field above it not written by
// a receiver host, or a trace that ends without one, gives no boundary and
// no facts: the trace is not what the receiver configuration says, and
// facts read from it could be anybody's. Fields below the boundary were
// written by others and are never read for facts.
//
// Return-Path (RFC 5321 §4.4: the reverse-path, added at final delivery),
// X-Original-To and Delivered-To count only above the boundary, where the
// receiver wrote them.
func FromHeader(fields []HeaderField, r Receiver) Session {
	s := Session{Boundary: -1}
	if r.IsZero() {
		s.Reason = "no receiver hosts configured"
		return s
	}
	seen := 0
	for i, hf := range fields {
		if !strings.EqualFold(hf.Name, "received") {
			continue
		}
		if seen++; seen > MaxFields {
			s.Reason = fmt.Sprintf("more than %d Received fields", MaxFields)
			return s
		}
		f := Parse(hf.Value)
		if !f.HasFrom && f.By == "" {
			continue
		}
		if !r.wrote(f) {
			s.Reason = fmt.Sprintf("Received field %d (by %q) is not written by a receiver host", seen, f.By)
			return s
		}
		if !f.HasFrom || r.internal(f.From) {
			continue
		}
		s.Boundary, s.Field = i, f
		break
	}
	if s.Boundary < 0 {
		if s.Reason == "" {
			s.Reason = "no Received field records a receiver host accepting the message from outside"
		}
		return s
	}
	f := s.Field
	if f.From.IP.IsValid() {
		s.IP, s.Known = f.From.IP, s.Known|FactIP
	}
	if f.From.HELO != "" {
		s.HELO, s.Known = f.From.HELO, s.Known|FactHELO
	}
	s.PTR = f.From.PTR
	w := strings.ToUpper(f.With)
	s.Authenticated = strings.HasSuffix(w, "SMTPA") || strings.HasSuffix(w, "SMTPSA") || strings.HasSuffix(w, "LMTPA") || strings.HasSuffix(w, "LMTPSA")
	if !f.Date.IsZero() {
		s.Time, s.Known = f.Date, s.Known|FactTime
	}
	var origTo, delivTo []string
	returnPath := ""
	haveRP := false
	for _, hf := range fields[:s.Boundary] {
		switch strings.ToLower(hf.Name) {
		case "return-path":
			if !haveRP {
				if rp, ok := reversePath(hf.Value); ok {
					returnPath, haveRP = rp, true
				}
			}
		case "x-original-to":
			if a := address(hf.Value); a != "" && !contains(origTo, a) {
				origTo = append(origTo, a)
			}
		case "delivered-to":
			if a := address(hf.Value); a != "" && !contains(delivTo, a) {
				delivTo = append(delivTo, a)
			}
		}
	}
	if haveRP {
		s.MailFrom, s.Known = returnPath, s.Known|FactMailFrom
	}
	switch {
	case len(origTo) > 0:
		s.RcptTo = origTo
	case len(delivTo) > 0:
		s.RcptTo = delivTo
	case strings.Contains(f.For, "@"):
		s.RcptTo = []string{f.For}
	}
	if len(s.RcptTo) > 0 {
		s.Known |= FactRcptTo
	}
	return s
}

// reversePath reads a Return-Path value: "<addr>" or "<>" (RFC 5322
// §3.6.7: return = "Return-Path:" path, path = angle-addr / "<>").
func reversePath(v string) (string, bool) {
	v = strings.TrimSpace(arfield.StripComments(v))
	if !strings.HasPrefix(v, "<") || !strings.HasSuffix(v, ">") {
		if v != "" && !strings.ContainsAny(v, " <>") && strings.Contains(v, "@") {
			return v, true // some MDAs write it bare
		}
		return "", false
	}
	a := strings.TrimSpace(v[1 : len(v)-1])
	if strings.ContainsAny(a, "<> \t") {
		return "", false
	}
	if i := strings.LastIndexByte(a, ':'); i >= 0 && strings.HasPrefix(a, "@") {
		a = a[i+1:] // source route (RFC 5321 §4.1.2: obsolete, ignored)
	}
	return a, true
}

// address reads a Delivered-To or X-Original-To value: one address,
// bracketed or not.
func address(v string) string {
	a := strings.Trim(strings.TrimSpace(arfield.StripComments(v)), "<>")
	if strings.ContainsAny(a, "<> \t,") || !strings.Contains(a, "@") {
		return ""
	}
	return a
}

func contains(s []string, x string) bool {
	for _, y := range s {
		if strings.EqualFold(x, y) {
			return true
		}
	}
	return false
}
