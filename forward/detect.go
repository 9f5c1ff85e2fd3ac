package forward

import (
	"fmt"
	"slices"
	"strings"

	"github.com/mailtrust/mailtrust/dkim"
	"github.com/mailtrust/mailtrust/internal/domain"
	"github.com/mailtrust/mailtrust/message"
	"github.com/mailtrust/mailtrust/spf"
)

// Code is a stable forwarding signal code.
type Code string

// Signal is one observation, with a stable code and a human-readable
// detail.
type Signal struct {
	Code   Code
	Detail string
}

// Forwarding signal codes. A strong signal alone makes a message
// Forwarded; weak ones count only in pairs, since each also occurs in
// direct mail (a Bcc recipient, a misconfigured SPF record, a gateway's
// subject tag, a secretary's Sender).
const (
	// Strong.
	SignalListID           Code = "list.list-id"       // List-Id (RFC 2919)
	SignalListPost         Code = "list.list-post"     // List-Post (RFC 2369)
	SignalMailingList      Code = "list.mailing-list"  // Mailing-List (ezmlm)
	SignalListFooter       Code = "list.footer"        // From-domain DKIM body hash broken on list mail: a footer
	SignalSRS              Code = "srs"                // MAIL FROM rewritten by the Sender Rewriting Scheme
	SignalResent           Code = "resent"             // Resent-* fields (RFC 5322 §3.6.6)
	SignalForwardHeader    Code = "header.forwarded"   // X-Forwarded-To/-For, X-MS-Exchange-Inbox-Rules-Loop
	SignalReceivedOtherOrg Code = "received.other-org" // accepted for a mailbox of another organization on the way
	// Weak.
	SignalListUnsubscribe Code = "list.list-unsubscribe"    // List-Unsubscribe next to List-Id
	SignalSenderDiffers   Code = "list.sender-differs"      // Sender is not From
	SignalSubjectTag      Code = "list.subject-tag"         // "[list-name]" in Subject, the name of List-Id
	SignalRcptNotInToCc   Code = "rcpt.not-in-to-cc"        // no RCPT TO address in To or Cc
	SignalDKIMPassSPFFail Code = "dkim-pass-spf-fail"       // aligned DKIM passes, SPF fails: the path changed
	SignalRelayOtherOrg   Code = "received.relay-other-org" // the connecting relay's own Received field: it got the message from another organization
)

// strongForwardSignal reports whether code alone shows forwarding.
func strongForwardSignal(code Code) bool {
	switch code {
	case SignalListID, SignalListPost, SignalMailingList, SignalListFooter, SignalSRS,
		SignalResent, SignalForwardHeader, SignalReceivedOtherOrg:
		return true
	}
	return false
}

// Forwarding is what Detect found.
type Forwarding struct {
	// Forwarded reports a strong signal or two weak ones.
	Forwarded bool
	// Signals are every signal found, in a fixed order.
	Signals []Signal
	// OriginalSender is the author as best known: X-Original-From (set by
	// lists that rewrite From), else X-Original-Sender, else From.
	OriginalSender string
	// Requester is whom a reply goes to: the first Reply-To address, else
	// From. Helpdesks open tickets for it; when forwarding hops stack, each
	// hop that cares sets Reply-To, and the first one is the person.
	Requester string
	// Forwarder is who forwarded, when a signal names one: Resent-Sender
	// or Resent-From, the SRS rewriting domain, the list's List-Id.
	Forwarder string
}

// DKIMOutcome is one DKIM signature's result as Detect needs it.
type DKIMOutcome struct {
	Domain           string
	Status           dkim.Status
	BodyHashMismatch bool
}

// DetectInput is what Detect looks at. Only Header is required.
type DetectInput struct {
	Header *message.Header
	// MailFrom is the SMTP reverse-path ("" for the null path); Rcpt the
	// RCPT TO addresses.
	MailFrom string
	Rcpt     []string
	// SPFStatus and SPFDomain are the SPF result.
	SPFStatus spf.Status
	SPFDomain string
	// DKIM has one entry per DKIM signature.
	DKIM []DKIMOutcome
	// From is the author identity as the caller holds it
	// (message.ParseFrom): every component reads the same sender, and a
	// message without a single usable From has no From domain here.
	From message.From
	// ClientNames are the connecting client's confirmed names: PTR names
	// that resolve back to its IP, and its HELO name when that resolves
	// to it. With them Detect finds the Received field the client wrote.
	ClientNames []string
}

// maxSubjectPrefixes bounds the "Re:"/"Fwd:" prefixes skipped before a
// subject tag.
const maxSubjectPrefixes = 10

// Detect looks for signs that a message was forwarded without ARC: list
// headers (RFC 2369, RFC 2919), a rewritten envelope (SRS), Resent-*
// fields, forwarding headers of common providers, a Received chain through
// another organization's mailbox, recipients not among To and Cc, and
// authentication that survived in the content but not in the path.
func Detect(in DetectInput) Forwarding {
	var fw Forwarding
	h := in.Header
	if h == nil {
		return fw
	}
	add := func(code Code, detail string) { fw.Signals = append(fw.Signals, Signal{code, detail}) }

	from, fromDomain := in.From.Address, in.From.Domain

	// Mailing lists (RFC 2369, RFC 2919).
	listID := ""
	if f := h.First("list-id"); f != nil {
		listID = f.Unfolded()
		add(SignalListID, listID)
		fw.Forwarder = listIDName(listID)
	}
	if f := h.First("list-post"); f != nil {
		add(SignalListPost, f.Unfolded())
	}
	if f := h.First("mailing-list"); f != nil {
		add(SignalMailingList, f.Unfolded())
	}
	list := listID != "" || h.First("list-post") != nil || h.First("mailing-list") != nil
	if f := h.First("list-unsubscribe"); f != nil && listID != "" {
		add(SignalListUnsubscribe, f.Unfolded())
	}
	if sender := h.FirstLooseAddress("sender"); sender != "" && from != "" && message.FoldAddress(sender) != message.FoldAddress(from) {
		add(SignalSenderDiffers, fmt.Sprintf("Sender %s, From %s", sender, from))
	}
	if listID != "" {
		if tag, ok := subjectTag(h); ok && sameListName(tag, listID) {
			add(SignalSubjectTag, "["+tag+"]")
		}
	}
	if list && fromDomain != "" {
		for _, d := range in.DKIM {
			if d.BodyHashMismatch && domain.SameOrg(d.Domain, fromDomain) {
				add(SignalListFooter, "DKIM d="+d.Domain+" body hash broken on list mail")
				break
			}
		}
	}

	// The Sender Rewriting Scheme: SRS0=hash=tt=domain=local@forwarder,
	// SRS1=hash=forwarder==hash=tt=domain=local@forwarder2 (a convention,
	// no RFC).
	if orig, ok := srsOriginal(in.MailFrom); ok {
		add(SignalSRS, fmt.Sprintf("MAIL FROM %s rewrites %s", in.MailFrom, orig))
		if fw.Forwarder == "" {
			fw.Forwarder = message.DomainOf(in.MailFrom)
		}
	}

	// Resent-* (RFC 5322 §3.6.6): the topmost block is the latest resend.
	for _, k := range []string{"resent-sender", "resent-from", "resent-to", "resent-cc", "resent-bcc", "resent-date", "resent-message-id"} {
		if f := h.First(k); f != nil {
			by := firstNonEmpty(h.FirstLooseAddress("resent-sender"), h.FirstLooseAddress("resent-from"))
			d := f.Name + ": " + f.Unfolded()
			if by != "" {
				d = "resent by " + by
				fw.Forwarder = by // the most explicit forwarder there is
			}
			add(SignalResent, d)
			break
		}
	}

	// Headers providers add when they forward automatically.
	for _, k := range []string{"x-forwarded-to", "x-forwarded-for", "x-ms-exchange-inbox-rules-loop"} {
		if f := h.First(k); f != nil {
			add(SignalForwardHeader, f.Name+": "+f.Unfolded())
			break
		}
	}

	// A Received chain through another organization's mailbox.
	if d, ok := receivedOtherOrg(h, fromDomain, message.DomainOf(in.MailFrom), in.Rcpt); ok {
		add(SignalReceivedOtherOrg, d)
	}

	// Plain alias forwarding: the relay that connected says, in its own
	// Received field, that it got the message from a host of another
	// organization. Weak alone (any relay of an outbound service says as
	// much), it pairs with dkim-pass-spf-fail, the mark an alias leaves.
	if d, ok := relayOtherOrg(h, in.ClientNames, fromDomain, message.DomainOf(in.MailFrom)); ok {
		add(SignalRelayOtherOrg, d)
	}

	// Recipients that the visible header does not name.
	if len(in.Rcpt) > 0 {
		visible := map[string]bool{}
		for _, key := range [...]string{"to", "cc"} {
			for _, a := range h.LooseAddresses(key) {
				visible[message.FoldAddress(a)] = true
			}
		}
		found := false
		for _, r := range in.Rcpt {
			if visible[message.FoldAddress(r)] {
				found = true
				break
			}
		}
		if !found {
			add(SignalRcptNotInToCc, fmt.Sprintf("RCPT TO %s not in To/Cc", strings.Trim(in.Rcpt[0], "<>")))
		}
	}

	// Content authenticated, path not: RFC 7960 §3.1.
	if st := in.SPFStatus; (st == spf.StatusFail || st == spf.StatusSoftfail) && fromDomain != "" {
		for _, d := range in.DKIM {
			if d.Status == dkim.StatusPass && domain.SameOrg(d.Domain, fromDomain) {
				add(SignalDKIMPassSPFFail, fmt.Sprintf("DKIM d=%s passes, SPF %s for %s", d.Domain, st, firstNonEmpty(in.SPFDomain, message.DomainOf(in.MailFrom))))
				break
			}
		}
	}

	weak := 0
	for _, s := range fw.Signals {
		if strongForwardSignal(s.Code) {
			fw.Forwarded = true
		} else {
			weak++
		}
	}
	if weak >= 2 {
		fw.Forwarded = true
	}

	fw.OriginalSender = firstNonEmpty(h.FirstLooseAddress("x-original-from"), h.FirstLooseAddress("x-original-sender"), from)
	fw.Requester = firstNonEmpty(h.FirstLooseAddress("reply-to"), from)
	return fw
}

// receivedOtherOrg looks, below the topmost Received field (written by the
// receiver), for a hop where a host of another organization — not the
// receiver's, not the sender's, not a recipient's — accepted the message
// "for" a mailbox of its own organization that is not among the
// recipients: the message had arrived somewhere else and was sent on.
// Relays and outbound services record the final recipient or nothing, so
// they do not match.
func receivedOtherOrg(h *message.Header, fromDomain, mailFromDomain string, rcpt []string) (string, bool) {
	hops := receivedHops(h)
	if len(hops) < 2 {
		return "", false
	}
	skip := map[string]bool{}
	for _, d := range []string{hops[0].by, fromDomain, mailFromDomain} {
		if d != "" {
			skip[domain.Org(d)] = true
		}
	}
	rcpts := map[string]bool{}
	for _, r := range rcpt {
		rcpts[message.FoldAddress(r)] = true
		if d := message.DomainOf(r); d != "" {
			skip[domain.Org(d)] = true
		}
	}
	for _, hop := range hops[1:] {
		if hop.by == "" || hop.rcpt == "" || !strings.Contains(hop.rcpt, "@") {
			continue
		}
		org := domain.Org(hop.by)
		if org == "" || skip[org] || rcpts[message.FoldAddress(hop.rcpt)] {
			continue
		}
		if domain.Org(message.DomainOf(hop.rcpt)) == org {
			return fmt.Sprintf("received by %s for <%s>", hop.by, hop.rcpt), true
		}
	}
	return "", false
}

// maxRelayHops bounds the Received fields, from the top, searched for the
// one the connecting client wrote: the receiver writes one or two of its
// own above it.
const maxRelayHops = 4

// relayOtherOrg finds, among the topmost Received fields, the one written
// by the connecting client (its "by" host in the organization of one of
// the client's confirmed names) and reports whether it received the
// message from a host of another organization. A relay in the author's
// own organization (From or MAIL FROM) is the author's outbound path, not
// a forwarder.
func relayOtherOrg(h *message.Header, client []string, fromDomain, mailFromDomain string) (string, bool) {
	if len(client) == 0 {
		return "", false
	}
	hops := receivedHops(h)
	for _, hop := range hops[:min(len(hops), maxRelayHops)] {
		org := domain.Org(hop.by)
		if hop.by == "" || org == "" || !slices.ContainsFunc(client, func(n string) bool { return domain.Org(n) == org }) {
			continue
		}
		if org == domain.Org(fromDomain) || org == domain.Org(mailFromDomain) {
			return "", false
		}
		if hop.from == "" || domain.Org(hop.from) == org {
			return "", false
		}
		return fmt.Sprintf("relay %s received it from %s", hop.by, hop.from), true
	}
	return "", false
}

// srsOriginal reports whether addr is an SRS address and returns the
// original address it encodes, as far as it can be read.
func srsOriginal(addr string) (string, bool) {
	local := message.LocalOf(addr)
	if len(local) < 5 {
		return "", false
	}
	tag := strings.ToUpper(local[:4])
	if (tag != "SRS0" && tag != "SRS1") || !strings.ContainsRune("=+-", rune(local[4])) {
		return "", false
	}
	rest := local[5:]
	if tag == "SRS1" {
		// SRS1=hash=forwarder==SRS0-part: the original follows "==".
		i := strings.Index(rest, "==")
		if i < 0 {
			return "", true
		}
		rest = rest[i+2:]
	}
	// hash=tt=domain=local
	p := strings.SplitN(rest, "=", 4)
	if len(p) != 4 || p[2] == "" || p[3] == "" {
		return "", true
	}
	return p[3] + "@" + p[2], true
}

// subjectTag returns the text of a leading "[tag]" in Subject, after any
// reply and forward prefixes.
func subjectTag(h *message.Header) (string, bool) {
	f := h.First("subject")
	if f == nil {
		return "", false
	}
	s := f.Unfolded()
	for i := 0; i < maxSubjectPrefixes; i++ {
		t := strings.TrimSpace(s)
		lower := strings.ToLower(t)
		cut := false
		for _, p := range []string{"re:", "fwd:", "fw:", "aw:", "wg:", "sv:", "tr:"} {
			if strings.HasPrefix(lower, p) {
				s, cut = t[len(p):], true
				break
			}
		}
		if !cut {
			s = t
			break
		}
	}
	if !strings.HasPrefix(s, "[") {
		return "", false
	}
	end := strings.IndexByte(s, ']')
	if end < 2 || end > 80 {
		return "", false
	}
	return s[1:end], true
}

// listIDName returns the list identifier of a List-Id value:
// "Desc <name.lists.example>" gives "name.lists.example" (RFC 2919 §2).
func listIDName(v string) string {
	if i := strings.LastIndexByte(v, '<'); i >= 0 {
		if j := strings.IndexByte(v[i:], '>'); j > 0 {
			return strings.ToLower(strings.TrimSpace(v[i+1 : i+j]))
		}
	}
	return strings.ToLower(strings.TrimSpace(v))
}

// sameListName reports whether a subject tag names the list of List-Id:
// the first label of its identifier or its description, compared without
// case, spaces and punctuation.
func sameListName(tag, listID string) bool {
	t := squash(tag)
	if t == "" {
		return false
	}
	id := listIDName(listID)
	label, _, _ := strings.Cut(id, ".")
	desc := listID
	if i := strings.IndexByte(listID, '<'); i >= 0 {
		desc = listID[:i]
	}
	return slices.Contains([]string{squash(label), squash(strings.Trim(desc, `" `))}, t)
}

func squash(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r > 0x7f {
			b.WriteRune(r)
		}
	}
	return b.String()
}
