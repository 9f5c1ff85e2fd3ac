package message

import (
	"fmt"
	"slices"
	"strings"
	"unicode"

	"github.com/mailtrust/mailtrust/internal/domain"
)

// Problem is a stable code for something wrong with a message's identity
// fields or envelope. Codes never change meaning; callers key weights and
// explanations on them.
type Problem string

// Problems of the From field (ParseFrom).
const (
	// FromMissing: no From field (RFC 5322 §3.6 requires exactly one).
	FromMissing Problem = "from.missing"
	// FromMultiple: more than one From field, counting the obsolete
	// "From :" form and any letter case (RFC 7489 §6.6.1).
	FromMultiple Problem = "from.multiple"
	// FromObsColon: a From written with whitespace before the colon
	// (RFC 5322 §4.5.3).
	FromObsColon Problem = "from.obs-colon"
	// FromMultipleAddresses: a From holding several mailboxes (RFC 7489
	// §6.6.1).
	FromMultipleAddresses Problem = "from.multiple-addresses"
	// FromEmpty: an empty From, "<>", or a group with no mailbox.
	FromEmpty Problem = "from.empty"
	// FromGroup: a From holding a group (RFC 5322 §3.6.2 allows a
	// mailbox-list only).
	FromGroup Problem = "from.group"
	// FromUnparsable: a From that is no address list (RFC 5322 §3.4).
	FromUnparsable Problem = "from.unparsable"
	// FromRoute: obsolete route syntax "<@a:user@b>" (RFC 5322 §4.4).
	FromRoute Problem = "from.route"
	// FromNoDomain: an address without a domain.
	FromNoDomain Problem = "from.no-domain"
	// FromBadDomain: a domain that is not a valid DNS name (domain.Valid),
	// a domain literal among them.
	FromBadDomain Problem = "from.bad-domain"
	// FromDisplayAddress: the display name (raw or decoded), a comment or
	// a quoted local part holds an address of another organizational
	// domain than the real one.
	FromDisplayAddress Problem = "from.display-name-address"
	// FromEncodedAddress: an encoded-word inside the addr-spec (RFC 2047
	// §5 forbids it).
	FromEncodedAddress Problem = "from.encoded-word-address"
	// FromControlBytes: NUL or other control octets in the field, or in
	// the decoded display name.
	FromControlBytes Problem = "from.control-bytes"
	// FromDisplayBidi: a Unicode bidirectional override (LRO U+202D, RLO
	// U+202E) in the display name, a comment or the local part, raw or
	// decoded. An override forces the order in which characters are shown
	// (Unicode TR 9 §2.2), so "moc.elpmaxe@oec" shows as an address that
	// software never reads. Embeddings, isolates and marks are not flagged:
	// they cannot reverse Latin letters, and right-to-left names use them.
	FromDisplayBidi Problem = "from.display-name-bidi"
	// FromDisplayDomain: the display name names a domain (no "@") under a
	// public suffix, of another organization than the address:
	// "PayPal.com" <x@evil.example>. Weaker than FromDisplayAddress:
	// mailing lists and services sending on behalf of others write such
	// names too.
	FromDisplayDomain Problem = "from.display-name-domain"
	// FromMixedScript: a label of the From domain mixes scripts that
	// Unicode TS 39 §5.2 "Highly Restrictive" keeps apart, such as Latin
	// and Cyrillic in "pаypal": a homograph of another name (TS 39 §4).
	FromMixedScript Problem = "from.mixed-script-domain"
)

// From is the author identity of a message as DMARC needs it (RFC 7489
// §6.6.1) and as a reader sees it.
type From struct {
	// Address, Local and Domain are the one identity DMARC can
	// authenticate; all empty when there is none: no From, several From
	// fields or mailboxes, a group, no domain or an invalid one. Domain is
	// normalized (lower case, no trailing dot) and Address ends in
	// "@"+Domain.
	Address, Local, Domain string
	// DisplayName is the decoded display name of that identity's mailbox.
	DisplayName string
	// Problems are sorted and unique.
	Problems []Problem
	// Details has one human-readable line per entry of Problems.
	Details []string
	// Fields counts the From fields (any letter case, obsolete form too).
	Fields int
	// Mailbox is the parsed mailbox when the field holds exactly one.
	Mailbox *Mailbox `json:"-"`
}

// Has reports whether p is among f's problems.
func (f *From) Has(p Problem) bool { return slices.Contains(f.Problems, p) }

// problems collects problems with the first detail given for each.
type problems map[Problem]string

func (ps problems) add(p Problem, format string, args ...any) {
	if _, ok := ps[p]; !ok {
		ps[p] = fmt.Sprintf(format, args...)
	}
}

func (ps problems) sorted() ([]Problem, []string) {
	if len(ps) == 0 {
		return nil, nil
	}
	out := make([]Problem, 0, len(ps))
	for p := range ps {
		out = append(out, p)
	}
	slices.Sort(out)
	details := make([]string, len(out))
	for i, p := range out {
		details[i] = ps[p]
	}
	return out, details
}

// ParseFrom extracts the From identity of h. Every From field is examined
// (fields are matched in any letter case and in the obsolete "From :"
// form, as readers match them) so that each problem is reported, but an
// identity is given only for a message with exactly one From field
// holding exactly one mailbox with a valid domain: RFC 7489 §6.6.1 leaves
// other messages to the receiver, and a sender that different components
// read differently must not be authenticated. A nil h is a message
// without From.
func ParseFrom(h *Header) From {
	var out From
	ps := problems{}
	var fields []*Field
	if h != nil {
		fields = h.Get("from")
	}
	out.Fields = len(fields)
	switch {
	case len(fields) == 0:
		ps.add(FromMissing, "no From field")
	case len(fields) > 1:
		names := make([]string, len(fields))
		for i, f := range fields {
			names[i] = fmt.Sprintf("%q", f.Name)
		}
		ps.add(FromMultiple, "%d From fields: %s", len(fields), strings.Join(names, ", "))
	}
	var only *Mailbox
	for _, f := range fields {
		m := checkFrom(h, f, ps)
		if len(fields) == 1 {
			only = m
		}
	}
	if only == nil {
		out.Problems, out.Details = ps.sorted()
		return out
	}
	out.Mailbox = only
	out.DisplayName = only.DisplayName
	usable := !only.Flags.Has(FlagNoDomain) && !only.Flags.Has(FlagDomainLiteral) && domain.Valid(domain.ToASCII(only.RawDomain)) == nil
	if usable {
		out.Local, out.Domain, out.Address = only.Local, only.Domain, only.Address
	}
	out.Problems, out.Details = ps.sorted()
	return out
}

// checkFrom adds the problems of one From field and returns its mailbox
// when it holds exactly one and no group.
func checkFrom(h *Header, f *Field, ps problems) *Mailbox {
	if f.ObsColon {
		ps.add(FromObsColon, "%q: whitespace before the colon", f.Name)
	}
	v := f.unfolded(false)
	if i := controlIndex(v); i >= 0 {
		ps.add(FromControlBytes, "control octet %q in From at offset %d", v[i], i)
	}
	if strings.Trim(v, " \t") == "" {
		ps.add(FromEmpty, "empty From")
		return nil
	}
	list, err := h.AddressList(f)
	if err != nil {
		ps.add(FromUnparsable, "From %s: %v", clip(strings.Trim(v, " \t")), err)
		return nil
	}
	for _, g := range list.Groups {
		ps.add(FromGroup, "From holds the group %q", g.RawName)
		if g.Members == 0 {
			ps.add(FromEmpty, "From holds the empty group %q", g.RawName)
		}
	}
	switch n := len(list.Mailboxes); {
	case n == 0:
		ps.add(FromEmpty, "From holds no mailbox")
		return nil
	case n > 1:
		addrs := make([]string, 0, 3)
		for _, m := range list.Mailboxes[:min(n, 3)] {
			addrs = append(addrs, m.Address)
		}
		ps.add(FromMultipleAddresses, "From holds %d mailboxes: %s", n, strings.Join(addrs, ", "))
	}
	for i := range list.Mailboxes {
		checkFromMailbox(&list.Mailboxes[i], ps)
	}
	if len(list.Mailboxes) != 1 || len(list.Groups) != 0 {
		return nil
	}
	return &list.Mailboxes[0]
}

func checkFromMailbox(m *Mailbox, ps problems) {
	fl := m.Flags
	if fl.Has(FlagEmpty) {
		ps.add(FromEmpty, "From is \"<>\"")
	} else if fl.Has(FlagNoDomain) {
		ps.add(FromNoDomain, "From %q has no domain", m.Address)
	}
	if fl.Has(FlagRoute) {
		// RFC 5322 §4.4: the route is ignored; the address stands.
		ps.add(FromRoute, "From route %s before %s", strings.Join(m.Route, ","), m.Address)
	}
	if fl.Has(FlagEncodedWord) {
		ps.add(FromEncodedAddress, "encoded-word in the From address %s", clip(m.Address))
	}
	if fl.Has(FlagControl) {
		ps.add(FromControlBytes, "control octets in the From mailbox %s", clip(fmt.Sprintf("%q", m.DisplayName+" <"+m.Address+">")))
	}
	if fl.Has(FlagDomainLiteral) {
		ps.add(FromBadDomain, "From domain is the literal %s", m.Domain)
	} else if !fl.Has(FlagNoDomain) {
		if err := domain.Valid(domain.ToASCII(m.RawDomain)); err != nil {
			ps.add(FromBadDomain, "From domain %s: %v", clip(fmt.Sprintf("%q", m.RawDomain)), err)
			return
		}
	}
	if m.Domain == "" || fl.Has(FlagDomainLiteral) {
		return
	}
	if label, mix, ok := domain.MixedScript(m.Domain); ok {
		ps.add(FromMixedScript, "From domain label %q mixes %s", label, strings.Join(mix, ", "))
	}
	// What the reader may take for the sender: the display name as
	// written and decoded, comments, and a quoted or encoded local part.
	texts := []string{m.RawDisplayName, m.DisplayName}
	for _, c := range m.Comments {
		d, _ := decodeWords(c)
		texts = append(texts, c, d)
	}
	if fl.Has(FlagQuotedLocal) || fl.Has(FlagEncodedWord) {
		d, _ := decodeWords(m.Local)
		texts = append(texts, m.Local, d)
	}
	for _, t := range append(texts, m.Local) {
		if r, ok := bidiControl(t); ok {
			ps.add(FromDisplayBidi, "From holds the bidirectional override U+%04X: shown in another order than written", r)
			break
		}
	}
	org := domain.Org(m.Domain)
	for _, t := range texts {
		for _, d := range embeddedDomains(t) {
			// RFC 7489 §3.2: the same organizational domain is the same
			// sender, as relaxed alignment has it.
			if domain.Org(d) != org {
				ps.add(FromDisplayAddress, "From shows an address at %s, the address is %s", d, m.Address)
				return
			}
		}
	}
	for _, t := range []string{m.RawDisplayName, m.DisplayName} {
		if d := namedDomain(t, org); d != "" {
			ps.add(FromDisplayDomain, "From's display name names %s, the address is %s", d, m.Address)
			return
		}
	}
}

// bidiControl returns the first bidirectional override in s (LRO, RLO;
// Unicode TR 9 §2.2).
func bidiControl(s string) (rune, bool) {
	for _, r := range s {
		if r == '\u202d' || r == '\u202e' {
			return r, true
		}
	}
	return 0, false
}

// brandTLD reports whether name ends in a country-code TLD or one of the
// original generic TLDs (RFC 1591 §2), where the names that senders put in
// display names live. The newer generic TLDs are words ("Mr.Green",
// "Dr.House") that would turn people's names into domains.
func brandTLD(name string) bool {
	tld := domain.TLD(name)
	switch tld {
	case "com", "net", "org", "edu", "gov", "mil", "int", "info", "biz":
		return true
	}
	return len(tld) == 2
}

// namedDomain returns the first word of a display name that is a domain
// name under an ICANN public suffix and a brandTLD ("PayPal.com",
// "bank.co.uk") and of another organizational domain than org, or "".
// Words are separated by anything but letters, digits, dots and hyphens;
// words that only look like names ("e.g.", "Dr.Smith", "v1.2") have no
// such suffix.
func namedDomain(s, org string) string {
	if !strings.Contains(s, ".") {
		return ""
	}
	words := strings.FieldsFunc(s, func(r rune) bool {
		return !(r == '.' || r == '-' || r >= '0' && r <= '9' || unicode.IsLetter(r) || unicode.IsMark(r))
	})
	for _, w := range words[:min(len(words), 16)] {
		w = strings.Trim(w, ".-")
		if !strings.Contains(w, ".") {
			continue
		}
		d := domain.Normalize(domain.ToASCII(w))
		// A bare public suffix ("co.uk") names no organization.
		if domain.Valid(d) != nil || !brandTLD(d) || !domain.ListedTLD(d) || domain.IsPublicSuffix(d) {
			continue
		}
		if domain.Org(d) != org {
			return d
		}
	}
	return ""
}

// unfold removes the CRLF of folds (RFC 5322 §2.2.3); Field.Raw has no
// other CRLF.
func unfold(v string) string { return strings.ReplaceAll(v, "\r\n", "") }

// controlIndex returns the offset of the first control octet other than
// HTAB, or -1.
func controlIndex(s string) int {
	for i := 0; i < len(s); i++ {
		if isCtl(s[i]) {
			return i
		}
	}
	return -1
}

// clip shortens s for a detail line.
func clip(s string) string {
	const max = 120
	if len(s) <= max {
		return s
	}
	return s[:max] + "..."
}

// embeddedDomains returns the domains of the address-like strings in s:
// an "@" (or its full-width and small forms, U+FF20, U+FE6B) followed by
// a name of at least two labels. Dots include the ideographic and
// full-width full stops (U+3002, U+FF0E) that IDNA maps to ".". At most
// 16 are returned.
func embeddedDomains(s string) []string {
	if !strings.ContainsAny(s, "@\uff20\ufe6b") {
		return nil
	}
	s = strings.NewReplacer("\uff20", "@", "\ufe6b", "@", "\u3002", ".", "\uff0e", ".").Replace(s)
	var out []string
	for len(out) < 16 {
		i := strings.IndexByte(s, '@')
		if i < 0 {
			break
		}
		s = s[i+1:]
		j := 0
		for j < len(s) && isNameOctet(s[j]) {
			j++
		}
		d := strings.Trim(strings.ToLower(s[:j]), ".-")
		// A last label of ASCII running into other script is a name
		// followed by text ("example.com様"), not a U-label.
		if k := strings.LastIndexByte(d, '.'); k >= 0 && k+1 < len(d) && d[k+1] < 0x80 {
			if h := strings.IndexFunc(d[k+1:], func(r rune) bool { return r >= 0x80 }); h >= 0 {
				d = d[:k+1+h]
			}
		}
		if k := strings.LastIndexByte(d, '.'); k > 0 && k < len(d)-1 && !strings.Contains(d, "..") {
			out = append(out, d)
		}
	}
	return out
}

// isNameOctet reports octets of a domain name as a reader might show one:
// LDH, dots, underscores and non-ASCII (U-labels).
func isNameOctet(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c >= 0x80:
		return true
	}
	return c == '-' || c == '.' || c == '_'
}
