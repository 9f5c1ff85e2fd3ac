package message

import (
	"net/netip"
	"strings"

	"github.com/mailtrust/mailtrust/internal/domain"
)

// Problems of other address fields (Addresses).
const (
	// AddrMultipleFields: a field RFC 5322 §3.6 allows once (Sender,
	// Reply-To, To, Cc, Bcc) occurs several times.
	AddrMultipleFields Problem = "address.multiple-fields"
	// AddrUnparsable: a field that is no address list (RFC 5322 §3.4).
	AddrUnparsable Problem = "address.unparsable"
	// AddrControlBytes: control octets in the field.
	AddrControlBytes Problem = "address.control-bytes"
	// AddrRoute: obsolete route syntax (RFC 5322 §4.4).
	AddrRoute Problem = "address.route"
	// AddrNoDomain: an address without a domain, or "<>".
	AddrNoDomain Problem = "address.no-domain"
	// AddrBadDomain: a domain that is not a valid DNS name, or a literal.
	AddrBadDomain Problem = "address.bad-domain"
	// AddrEncodedAddress: an encoded-word inside an addr-spec (RFC 2047 §5).
	AddrEncodedAddress Problem = "address.encoded-word-address"
)

// Problems of the SMTP envelope (CheckEnvelope).
const (
	// EnvelopeControlBytes: NUL or other control octets in MAIL FROM or
	// HELO.
	EnvelopeControlBytes Problem = "envelope.control-bytes"
	// EnvelopeMailFromSyntax: a MAIL FROM that is not a reverse-path of
	// RFC 5321 §4.1.2.
	EnvelopeMailFromSyntax Problem = "envelope.mailfrom-syntax"
)

// Addresses returns the mailboxes of every field named key (any case),
// top to bottom, group members included, and the problems found, sorted
// and unique. It is meant for To, Cc, Reply-To, Sender, Resent-From and
// the like; From has ParseFrom. Mailboxes of a field that fails to parse
// are returned up to the failing element. At most MaxMailboxes are
// returned in all.
func Addresses(h *Header, key string) ([]Mailbox, []Problem) {
	if h == nil {
		return nil, nil
	}
	ps := problems{}
	fields := h.Get(key)
	if len(fields) > 1 {
		switch strings.ToLower(key) {
		case "sender", "reply-to", "to", "cc", "bcc", "from":
			// RFC 5322 §3.6: at most one of each.
			ps.add(AddrMultipleFields, "%d %s fields", len(fields), key)
		}
	}
	var out []Mailbox
	for _, f := range fields {
		v := f.unfolded(false)
		if controlIndex(v) >= 0 {
			ps.add(AddrControlBytes, "control octets in %s", f.Name)
		}
		list, err := h.AddressList(f)
		if err != nil {
			ps.add(AddrUnparsable, "%s: %v", f.Name, err)
		}
		for i := range list.Mailboxes {
			if len(out) >= MaxMailboxes {
				break
			}
			m := list.Mailboxes[i]
			switch fl := m.Flags; {
			case fl.Has(FlagNoDomain):
				ps.add(AddrNoDomain, "%s: %q has no domain", f.Name, m.Address)
			case fl.Has(FlagDomainLiteral):
				ps.add(AddrBadDomain, "%s: domain literal %s", f.Name, m.Domain)
			default:
				if err := domain.Valid(m.RawDomain); err != nil {
					ps.add(AddrBadDomain, "%s: %v", f.Name, err)
				}
			}
			if m.Flags.Has(FlagRoute) {
				ps.add(AddrRoute, "%s: route before %s", f.Name, m.Address)
			}
			if m.Flags.Has(FlagEncodedWord) {
				ps.add(AddrEncodedAddress, "%s: encoded-word in %s", f.Name, clip(m.Address))
			}
			if m.Flags.Has(FlagControl) {
				ps.add(AddrControlBytes, "control octets in %s", f.Name)
			}
			out = append(out, m)
		}
	}
	p, _ := ps.sorted()
	return out, p
}

// CheckEnvelope checks the MAIL FROM reverse-path and the HELO name as the
// SMTP session gave them: control octets in either, and a MAIL FROM that
// is not a Mailbox of RFC 5321 §4.1.2 (with RFC 6531 UTF-8). The null
// reverse-path, "" or "<>", is valid (RFC 5321 §4.5.5); surrounding angle
// brackets are accepted, and so is an obsolete source route, which
// RFC 5321 §3.3 says servers must accept and should ignore. HELO syntax is
// the helo check's business, not this one's. Problems are sorted and
// unique.
func CheckEnvelope(mailFrom, helo string) []Problem {
	ps := problems{}
	if controlIndex(mailFrom) >= 0 || controlIndex(helo) >= 0 {
		ps.add(EnvelopeControlBytes, "")
	}
	if !validReversePath(mailFrom) {
		ps.add(EnvelopeMailFromSyntax, "")
	}
	p, _ := ps.sorted()
	return p
}

// validReversePath reports whether s is a reverse-path (RFC 5321 §4.1.2),
// with or without its angle brackets.
func validReversePath(s string) bool {
	if strings.HasPrefix(s, "<") != strings.HasSuffix(s, ">") {
		return false
	}
	if strings.HasPrefix(s, "<") {
		s = s[1 : len(s)-1]
	}
	if s == "" {
		return true // the null reverse-path
	}
	// RFC 5321 §4.5.3.1.3: a path is at most 256 octets, brackets included.
	if len(s)+2 > 256 {
		return false
	}
	// RFC 5321 §4.1.2: A-d-l ":" before the mailbox, obsolete.
	if strings.HasPrefix(s, "@") {
		i := strings.IndexByte(s, ':')
		if i < 0 {
			return false
		}
		for _, hop := range strings.Split(s[:i], ",") {
			if !strings.HasPrefix(hop, "@") || smtpDomain(hop[1:]) != nil {
				return false
			}
		}
		s = s[i+1:]
	}
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 {
		return false
	}
	return smtpLocal(s[:at]) && addressLiteralOrDomain(s[at+1:])
}

// smtpLocal reports whether s is a Local-part: Dot-string or
// Quoted-string (RFC 5321 §4.1.2), atext widened to UTF-8 (RFC 6531 §3.3).
func smtpLocal(s string) bool {
	if isDotAtom(s) {
		return true
	}
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return false
	}
	q := s[1 : len(s)-1]
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '\\':
			// quoted-pairSMTP = %d92 %d32-126
			if i+1 >= len(q) || q[i+1] < 32 || q[i+1] > 126 {
				return false
			}
			i++
		case c == '"':
			return false
		case c >= 32 && c <= 126, c >= 0x80: // qtextSMTP, RFC 6531 UTF-8
		default:
			return false
		}
	}
	return true
}

// addressLiteralOrDomain reports whether s is a Domain or an
// address-literal (RFC 5321 §4.1.2, §4.1.3).
func addressLiteralOrDomain(s string) bool {
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		lit := s[1 : len(s)-1]
		if len(lit) > 5 && strings.EqualFold(lit[:5], "IPv6:") { // ABNF strings ignore case
			a, err := netip.ParseAddr(lit[5:])
			return err == nil && a.Is6() && a.Zone() == ""
		}
		a, err := netip.ParseAddr(lit)
		return err == nil && a.Is4()
	}
	return smtpDomain(s) == nil
}

// smtpDomain checks a Domain: domain.Valid without its tolerance of a
// trailing dot, which RFC 5321 §4.1.2 does not allow.
func smtpDomain(s string) error {
	if strings.HasSuffix(s, ".") {
		return domain.ErrInvalid
	}
	return domain.Valid(s)
}
