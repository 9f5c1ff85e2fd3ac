package trust

import (
	"fmt"
	"strings"

	"github.com/mailtrust/mailtrust/forward"
	"github.com/mailtrust/mailtrust/message"
	"github.com/mailtrust/mailtrust/received"
)

// Facts is a set of session facts (Conn.Unknown).
type Facts = received.Facts

// Session facts.
const (
	FactIP       = received.FactIP
	FactHELO     = received.FactHELO
	FactMailFrom = received.FactMailFrom
	FactRcptTo   = received.FactRcptTo
	FactTime     = received.FactTime
)

// Where a Conn's facts came from (Conn.Source).
const (
	SourceCase    = "case"
	SourceHeaders = "headers"
)

// Missing returns the facts of c that are unknown: those listed in
// Unknown, and a zero IP and an empty HELO whether listed or not (neither
// can be a fact).
func (c Conn) Missing() Facts {
	m := c.Unknown
	if !c.IP.IsValid() {
		m |= FactIP
	}
	if c.HELO == "" {
		m |= FactHELO
	}
	if len(c.RcptTo) == 0 {
		m |= FactRcptTo
	}
	return m
}

// Recorded is what the receiver itself wrote into the message when it
// accepted it: its Authentication-Results (Options.ReceiverAuthServID)
// above the trace boundary, in RFC 8601 words. Replaying a message,
// comparing it with the verdict says how today's checks agree with the
// receiver's at the time.
type Recorded = forward.Recorded

// headerFields gives h's fields as the received package reads them.
func headerFields(h *message.Header) []received.HeaderField {
	out := make([]received.HeaderField, len(h.Fields))
	for i := range h.Fields {
		out[i] = received.HeaderField{Name: h.Fields[i].Key, Value: h.Fields[i].Unfolded()}
	}
	return out
}

// readTrace finds the receiver's boundary in the trace fields and, when
// the caller gave no connecting IP, takes from it (received.FromHeader) the
// session facts the caller did not give (see Options.Receiver): a fact the
// caller gave is kept. The zero Conn gives none, and so takes them all.
// Facts that neither gives stay unknown.
func (ev *evaluation) readTrace(h *message.Header) {
	ev.boundary = -1
	if h == nil || ev.e.receiver.IsZero() {
		return
	}
	s := received.FromHeader(headerFields(h), ev.e.receiver)
	ev.boundary = s.Boundary
	c := &ev.conn
	if c.IP.IsValid() {
		return
	}
	given := ev.given
	c.Source = SourceHeaders
	c.IP = s.IP
	if !given.Has(FactHELO) {
		c.HELO = s.HELO
	}
	if !given.Has(FactMailFrom) {
		c.MailFrom = s.MailFrom
		c.Unknown |= FactMailFrom
		if s.Known.Has(FactMailFrom) {
			c.Unknown &^= FactMailFrom
		}
	}
	if !given.Has(FactRcptTo) {
		c.RcptTo = s.RcptTo
	}
	if !given.Has(FactTime) {
		c.Unknown |= FactTime
		if s.Known.Has(FactTime) {
			c.Time, c.Unknown = s.Time, c.Unknown&^FactTime
		}
		// Else judged against the caller's time (or now), which is no
		// fact about this message: not reported as its time of receipt.
	}
	c.Authenticated = c.Authenticated || s.Authenticated
	if s.Boundary < 0 {
		ev.traceNote = s.Reason
	}
}

// given returns the facts the caller gave in c: a HELO name, recipients,
// a time not listed in Unknown, and MAIL FROM unless Unknown lists it. A
// Conn that gives nothing else does not give the null reverse-path either:
// the zero Conn describes no session at all.
func (c Conn) given() Facts {
	var g Facts
	if c.IP.IsValid() {
		g |= FactIP
	}
	if c.HELO != "" {
		g |= FactHELO
	}
	if len(c.RcptTo) > 0 {
		g |= FactRcptTo
	}
	if !c.Time.IsZero() && !c.Unknown.Has(FactTime) {
		g |= FactTime
	}
	if !c.Unknown.Has(FactMailFrom) && (c.MailFrom != "" || g != 0) {
		g |= FactMailFrom
	}
	return g
}

// noteUnknown gives one reason per unknown fact. They weigh nothing: the
// checks that need the fact are not run (see run), and capUnknown holds
// the level at neutral.
func (ev *evaluation) noteUnknown() {
	m := ev.conn.Missing()
	why := ""
	if ev.traceNote != "" {
		why = ": " + ev.traceNote
	}
	if m.Has(FactIP) {
		ev.add(ConnIPUnknown, "connecting IP not known"+why+"; PTR, HELO and SPF not checked")
	}
	if m.Has(FactHELO) {
		ev.add(ConnHELOUnknown, "HELO name not known"+why+"; HELO not checked")
	}
	if m.Has(FactMailFrom) {
		ev.add(ConnMailFromUnknown, "MAIL FROM not known"+why+"; SPF not checked")
	}
}

// unknownDecides reports whether an unknown fact the level depends on
// (the IP, HELO or MAIL FROM) is missing.
func (ev *evaluation) unknownDecides() bool {
	return ev.conn.Missing()&(FactIP|FactHELO|FactMailFrom) != 0
}

// capUnknown holds the level at neutral when a deciding fact is unknown:
// the checks left out might have turned it.
func (ev *evaluation) capUnknown() {
	v := ev.v
	if ev.unknownDecides() && v.Level == Trusted {
		v.Level = Neutral
		v.Reasons = append(v.Reasons, Reason{Code: UnknownCapped, Detail: "a session fact was not known; the checks that need it did not run"})
	}
}

// receiverResults separates the receiver's own Authentication-Results
// (Options.ReceiverAuthServID) from the others. Above the trace boundary
// they are the receiver's, written at receipt: the first is kept in the
// verdict (Verdict.Recorded) and none is read by Rescue. Below it, or in a
// message judged at the door (facts from the caller, no receiver hosts
// configured), a field with the receiver's id was written by someone else:
// a forgery (RFC 8601 §5). With receiver hosts but no boundary found, their
// place is unknown: neither used nor counted. It returns the header Rescue
// reads: h without the receiver's fields.
func (ev *evaluation) receiverResults(h *message.Header) *message.Header {
	id := ev.e.receiverAuthServID
	if id == "" || h == nil {
		return h
	}
	var kept []message.Field
	removed := false
	forged := false
	for i := range h.Fields {
		f := &h.Fields[i]
		if f.Key != "authentication-results" {
			kept = append(kept, *f)
			continue
		}
		r := forward.ReadAuthResults(f.Value(), ev.v.From.Domain)
		if r.AuthServID != id {
			kept = append(kept, *f)
			continue
		}
		removed = true
		switch {
		case ev.boundary >= 0 && i < ev.boundary:
			if ev.v.Recorded == nil {
				ev.v.Recorded = &r
			}
		case ev.boundary >= 0 || (ev.e.receiver.IsZero() && ev.conn.Source != SourceHeaders):
			forged = true
		}
	}
	if forged {
		where := "below the receiver's boundary"
		if ev.boundary < 0 {
			where = "in a message arriving from outside"
		}
		ev.forged = append(ev.forged, fmt.Sprintf("Authentication-Results with the receiver's own authserv-id %s %s", id, where))
	}
	if !removed {
		return h
	}
	return &message.Header{Fields: kept, Anomalies: h.Anomalies, Size: h.Size}
}

// normAuthServID lower-cases an authserv-id for comparison (RFC 8601
// §2.5: compared case-insensitively).
func normAuthServID(s string) string { return strings.ToLower(strings.TrimSpace(s)) }
