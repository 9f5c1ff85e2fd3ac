package message

import (
	"errors"
	"fmt"
	"mime"
	"strings"
	"unicode/utf8"

	"github.com/mailtrust/mailtrust/internal/domain"
)

// Bounds of ParseAddressList. Real address lists stay far below them; they
// exist so that hostile input costs little.
const (
	// MaxAddressListBytes bounds the input of ParseAddressList.
	MaxAddressListBytes = 64 << 10
	// MaxMailboxes bounds the mailboxes of one list.
	MaxMailboxes = 1000
	// MaxCommentDepth bounds the nesting of comments (RFC 5322 §3.2.2
	// sets none).
	MaxCommentDepth = 32
)

// Errors of ParseAddressList, wrapped with the offset where parsing
// stopped.
var (
	ErrAddressSyntax = errors.New("message: address syntax error")
	ErrAddressLimit  = errors.New("message: address list exceeds a limit")
)

// Flags describe how a mailbox was written. Some are facts a caller may
// distrust (Route, EncodedWord, Control); others explain a value (Quoted,
// TrailingDot).
type Flags uint32

// Mailbox flags.
const (
	// FlagAngle: written as an angle-addr "<...>" (RFC 5322 §3.4).
	FlagAngle Flags = 1 << iota
	// FlagRoute: obsolete route "<@a,@b:user@c>" (RFC 5322 §4.4); the
	// route is in Mailbox.Route and ignored for the address.
	FlagRoute
	// FlagQuotedLocal: the local part is or holds a quoted-string.
	FlagQuotedLocal
	// FlagObsolete: CFWS between the words of a local part or domain,
	// or empty list elements (RFC 5322 §4.4 obs-local-part, obs-domain,
	// obs-addr-list).
	FlagObsolete
	// FlagLaxLocal: a local part with a leading, trailing or doubled dot,
	// outside RFC 5322 yet used by some providers.
	FlagLaxLocal
	// FlagLaxPhrase: the display name holds unquoted specials such as
	// "@" (not a phrase by RFC 5322 §3.2.5, yet shown by readers).
	FlagLaxPhrase
	// FlagNoDomain: an address without "@domain" (not RFC 5322).
	FlagNoDomain
	// FlagEmpty: an empty angle-addr "<>".
	FlagEmpty
	// FlagDomainLiteral: the domain is a literal "[...]" (RFC 5322 §3.4.1).
	FlagDomainLiteral
	// FlagTrailingDot: the domain ended with a dot, removed by Normalize.
	FlagTrailingDot
	// FlagEncodedWord: the local part or domain holds something shaped
	// like an RFC 2047 encoded-word, which RFC 2047 §5 forbids there.
	FlagEncodedWord
	// FlagEncodedName: the display name held encoded-words (RFC 2047),
	// decoded into DisplayName.
	FlagEncodedName
	// FlagCharset: an encoded-word used a charset not known here; its
	// octets other than printable ASCII became U+FFFD.
	FlagCharset
	// FlagControl: control octets in a quoted-string, comment or domain
	// literal (obsolete text, RFC 5322 §4.1), or in the decoded display
	// name.
	FlagControl
	// FlagUTF8: non-ASCII octets in the mailbox (RFC 6532).
	FlagUTF8
	// FlagGroup: the mailbox is a member of a group.
	FlagGroup
)

// Has reports whether all of g are set in f.
func (f Flags) Has(g Flags) bool { return f&g == g }

// String lists the set flags by name, separated by "|".
func (f Flags) String() string {
	names := [...]string{"angle", "route", "quoted-local", "obsolete", "lax-local", "lax-phrase",
		"no-domain", "empty", "domain-literal", "trailing-dot", "encoded-word", "encoded-name",
		"charset", "control", "utf8", "group"}
	var b strings.Builder
	for i, n := range names {
		if f&(1<<i) != 0 {
			if b.Len() > 0 {
				b.WriteByte('|')
			}
			b.WriteString(n)
		}
	}
	return b.String()
}

// Mailbox is one mailbox of an address list (RFC 5322 §3.4).
type Mailbox struct {
	// DisplayName is the display name as a reader sees it: RFC 2047
	// encoded-words decoded, also inside quoted-strings, where RFC 2047 §5
	// forbids them but common readers decode them anyway.
	DisplayName string
	// RawDisplayName is the display name as written: words joined by one
	// space, quotes and quoted-pairs resolved, encoded-words not decoded.
	RawDisplayName string
	// Local is the local part, quotes and quoted-pairs resolved, case kept
	// (RFC 5321 §2.4: the local part is case-sensitive).
	Local string
	// Domain is the domain as domain.Normalize gives it (lower case, no
	// trailing dot); a domain literal keeps its brackets. Not validated:
	// check RawDomain with domain.Valid.
	Domain string
	// RawDomain is the domain as written, CFWS removed.
	RawDomain string
	// Address is Local@Domain, the local part quoted when it is not a
	// dot-atom (RFC 5321 §4.1.2); just the local part without a domain.
	Address string
	// Route holds the domains of an obsolete route, normalized.
	Route []string
	// Comments are the comments written around and inside the mailbox,
	// without the outer parentheses.
	Comments []string
	// Group is the raw display name of the group holding the mailbox.
	Group string
	// Flags say how the mailbox was written.
	Flags Flags
}

// Group is a group of an address list, "name: members;" (RFC 5322 §3.4).
type Group struct {
	// Name is the decoded display name, RawName as written.
	Name, RawName string
	// Members counts the mailboxes of the group; 0 for
	// "undisclosed-recipients:;".
	Members int
	// Unterminated reports a group missing its final ";", accepted at the
	// end of the input.
	Unterminated bool
}

// List is a parsed address list.
type List struct {
	Mailboxes []Mailbox
	Groups    []Group
	// Obsolete reports empty list elements (RFC 5322 §4.4 obs-addr-list).
	Obsolete bool
}

// ParseAddressList parses an address-list (RFC 5322 §3.4), including the
// obsolete syntax of §4.4 (routes, CFWS inside addresses, empty elements)
// and UTF-8 (RFC 6532). Folding (CRLF followed by WSP) is whitespace; any
// other control octet outside a quoted-string, comment or domain literal
// is an error.
//
// It is deliberately a little wider than the RFC where readers are, and
// flags each such case: unquoted specials in a display name before an
// angle-addr (FlagLaxPhrase), an address without a domain (FlagNoDomain),
// "<>" (FlagEmpty), misplaced dots in a local part (FlagLaxLocal), one
// trailing dot in a domain (FlagTrailingDot), a group missing its ";" at
// the end.
//
// On error the mailboxes parsed before the error are returned. The input is bounded by MaxAddressListBytes, MaxMailboxes and
// MaxCommentDepth (ErrAddressLimit).
func ParseAddressList(s string) (List, error) {
	if len(s) > MaxAddressListBytes {
		return List{}, fmt.Errorf("%w: %d octets, limit %d", ErrAddressLimit, len(s), MaxAddressListBytes)
	}
	toks, err := lex(s)
	if err != nil {
		return List{}, err
	}
	p := &parser{toks: toks, src: s, end: len(s), owner: -1}
	err = p.list()
	return p.out, err
}

// tokKind is the kind of a lexical token of an address list.
type tokKind uint8

const (
	tAtom    tokKind = iota // 1*atext, UTF-8 included (RFC 6532 §3.2)
	tQuoted                 // quoted-string
	tLiteral                // domain-literal
	tComment                // comment
	tSpecial                // one of ()<>[]:;@\,."
)

type token struct {
	kind  tokKind
	c     byte   // the special character
	text  string // unquoted value; a literal keeps its brackets
	pos   int
	space bool // whitespace or a comment precedes it
	ctl   bool // control octets inside
	utf8  bool // non-ASCII octets inside
}

// isAtext reports atext (RFC 5322 §3.2.3) widened by RFC 6532 §3.2 to
// every non-ASCII octet.
func isAtext(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c >= 0x80:
		return true
	}
	return strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0
}

func isCtl(c byte) bool { return c < ' ' && c != '\t' || c == 0x7f }

func syntaxErr(pos int, format string, args ...any) error {
	return fmt.Errorf("%w: %s at offset %d", ErrAddressSyntax, fmt.Sprintf(format, args...), pos)
}

// lex splits s into tokens. Comments become tokens too, so that the
// parser can keep them with their mailbox.
func lex(s string) ([]token, error) {
	toks := make([]token, 0, len(s)/4+2) // about one token per word and special
	space := false
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			space = true
			i++
			continue
		case c == '\r' && i+2 < len(s) && s[i+1] == '\n' && (s[i+2] == ' ' || s[i+2] == '\t'):
			// RFC 5322 §3.2.2 FWS: a fold is whitespace.
			space = true
			i += 2
			continue
		case isAtext(c):
			j := i
			for j < len(s) && isAtext(s[j]) {
				j++
			}
			t := token{kind: tAtom, text: s[i:j], pos: i, space: space}
			t.utf8 = hasHigh(t.text)
			toks = append(toks, t)
			i = j
		case c == '"':
			t, j, err := lexDelimited(s, i, '"', '"')
			if err != nil {
				return toks, err
			}
			t.kind, t.space = tQuoted, space
			toks = append(toks, t)
			i = j
		case c == '(':
			t, j, err := lexDelimited(s, i, '(', ')')
			if err != nil {
				return toks, err
			}
			t.kind, t.space = tComment, space
			toks = append(toks, t)
			i = j
			space = true // RFC 5322 §3.2.2: a comment is CFWS
			continue
		case c == '[':
			t, j, err := lexDelimited(s, i, '[', ']')
			if err != nil {
				return toks, err
			}
			t.kind, t.space = tLiteral, space
			t.text = "[" + t.text + "]"
			toks = append(toks, t)
			i = j
		case strings.IndexByte("<>:;@\\,.)]", c) >= 0:
			toks = append(toks, token{kind: tSpecial, c: c, text: s[i : i+1], pos: i, space: space})
			i++
		default:
			return toks, syntaxErr(i, "control octet %q", c)
		}
		space = false
	}
	return toks, nil
}

// lexDelimited reads a quoted-string, comment or domain literal starting at
// s[i] == open, resolving quoted-pairs and folds. Comments nest (RFC 5322
// §3.2.2), up to MaxCommentDepth. It returns the inner text and the
// offset after the closing character.
func lexDelimited(s string, i int, open, close byte) (token, int, error) {
	t := token{pos: i}
	var b strings.Builder
	depth := 1
	for j := i + 1; j < len(s); j++ {
		c := s[j]
		switch {
		case c == '\\':
			if open == '[' {
				// RFC 5322 §3.4.1: quoted-pairs in a literal are
				// obsolete; kept as written.
				b.WriteByte(c)
			}
			if j+1 >= len(s) {
				return t, j, syntaxErr(j, "backslash at end of input")
			}
			j++
			c = s[j]
			if c == '\r' && j+2 < len(s) && s[j+1] == '\n' && (s[j+2] == ' ' || s[j+2] == '\t') {
				j++ // a quoted fold is still a fold
				continue
			}
			if isCtl(c) {
				t.ctl = true // RFC 5322 §4.1 obs-qp
			}
			b.WriteByte(c)
			continue
		case c == '\r' && j+2 < len(s) && s[j+1] == '\n' && (s[j+2] == ' ' || s[j+2] == '\t'):
			j++ // RFC 5322 §3.2.2: unfolding removes the CRLF
			continue
		case c == open && open == '(':
			depth++
			if depth > MaxCommentDepth {
				return t, j, fmt.Errorf("%w: comments nested deeper than %d at offset %d", ErrAddressLimit, MaxCommentDepth, j)
			}
		case c == close:
			depth--
			if depth == 0 {
				t.text = b.String()
				t.utf8 = hasHigh(t.text)
				return t, j + 1, nil
			}
		case c == open:
			// "[" inside a literal, or '"' never: dtext excludes "[".
			return t, j, syntaxErr(j, "%q inside %q...%q", c, open, close)
		case isCtl(c):
			t.ctl = true // RFC 5322 §4.1 obs-qtext, obs-ctext, obs-dtext
		}
		b.WriteByte(c)
	}
	return t, len(s), syntaxErr(i, "unterminated %q", open)
}

func hasHigh(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return true
		}
	}
	return false
}

// parser is a recursive-descent parser over the tokens of one list.
type parser struct {
	toks     []token
	src      string // the input the tokens point into
	i        int
	end      int // input length, for error offsets
	comments []string
	ctl      bool // a collected comment held control octets
	owner    int  // index of the mailbox the pending comments belong to, or -1
	out      List
}

// peek returns the next token that is not a comment, collecting comments
// on the way, or nil at the end.
func (p *parser) peek() *token {
	for p.i < len(p.toks) {
		t := &p.toks[p.i]
		if t.kind != tComment {
			return t
		}
		p.comments = append(p.comments, t.text)
		p.ctl = p.ctl || t.ctl
		p.i++
	}
	return nil
}

func (p *parser) next() *token {
	t := p.peek()
	if t != nil {
		p.i++
	}
	return t
}

func (p *parser) pos() int {
	if t := p.peek(); t != nil {
		return t.pos
	}
	return p.end
}

func isSpecial(t *token, c byte) bool { return t != nil && t.kind == tSpecial && t.c == c }

// list parses address-list / obs-addr-list (RFC 5322 §3.4, §4.4).
func (p *parser) list() error {
	for {
		t := p.peek()
		if t == nil {
			return nil
		}
		if isSpecial(t, ',') { // RFC 5322 §4.4: empty elements are obsolete
			p.out.Obsolete = true
			p.next()
			continue
		}
		if err := p.address(false, ""); err != nil {
			return err
		}
		t = p.peek()
		if t == nil {
			p.attachComments()
			return nil
		}
		if !isSpecial(t, ',') {
			return syntaxErr(t.pos, "unexpected %q after an address", t.text)
		}
		p.attachComments()
		p.next()
	}
}

// attachComments gives the comments collected so far to the last mailbox.
func (p *parser) attachComments() {
	if len(p.comments) == 0 {
		return
	}
	if p.owner >= 0 {
		m := &p.out.Mailboxes[p.owner]
		m.Comments = append(m.Comments, p.comments...)
		if p.ctl {
			m.Flags |= FlagControl
		}
	}
	p.comments, p.ctl, p.owner = nil, false, -1
}

// address parses one element: a group, a name-addr or an addr-spec. The
// first "<" or ":" before the end of the element tells which (a route's
// ":" comes after a "<").
func (p *parser) address(inGroup bool, group string) error {
	kind := byte(0)
	for j := p.i; j < len(p.toks); j++ {
		t := &p.toks[j]
		if t.kind != tSpecial {
			continue
		}
		if t.c == ',' || t.c == ';' || t.c == '<' || t.c == ':' {
			kind = t.c
			break
		}
	}
	switch kind {
	case ':':
		if inGroup {
			return syntaxErr(p.pos(), "group inside a group")
		}
		return p.group()
	case '<':
		return p.nameAddr(group)
	}
	return p.bareAddrSpec(group)
}

// phrase reads display-name words up to (not including) the special stop.
// RFC 5322 §3.2.5 and §4.1 obs-phrase allow atoms, quoted-strings and
// dots; "@" and domain literals are accepted with lax set, as readers
// show them.
func (p *parser) phrase(stop byte) (raw string, lax, ctl, utf bool, err error) {
	var b strings.Builder
	for {
		t := p.peek()
		switch {
		case t == nil:
			return "", false, false, false, syntaxErr(p.end, "missing %q", stop)
		case isSpecial(t, stop):
			return b.String(), lax, ctl, utf, nil
		case t.kind == tAtom, t.kind == tQuoted, isSpecial(t, '.'):
		case isSpecial(t, '@'), t.kind == tLiteral:
			lax = true
		default:
			return "", false, false, false, syntaxErr(t.pos, "unexpected %q in a display name", t.text)
		}
		if b.Len() > 0 && t.space {
			b.WriteByte(' ')
		}
		b.WriteString(t.text)
		ctl = ctl || t.ctl
		utf = utf || t.utf8
		p.next()
	}
}

// group parses group (RFC 5322 §3.4) and obs-group-list (§4.4).
func (p *parser) group() error {
	raw, lax, _, _, err := p.phrase(':')
	if err != nil {
		return err
	}
	if raw == "" || lax {
		return syntaxErr(p.pos(), "invalid group name %q", raw)
	}
	p.next() // ":"
	name, _ := decodeWords(raw)
	g := Group{Name: name, RawName: raw}
	first := len(p.out.Mailboxes)
	for {
		t := p.peek()
		if t == nil {
			g.Unterminated = true
			break
		}
		if isSpecial(t, ';') {
			p.next()
			break
		}
		if isSpecial(t, ',') {
			p.next()
			continue
		}
		if err := p.address(true, raw); err != nil {
			return err
		}
		t = p.peek()
		switch {
		case t == nil, isSpecial(t, ';'), isSpecial(t, ','):
			p.attachComments()
		default:
			return syntaxErr(t.pos, "unexpected %q in a group", t.text)
		}
	}
	g.Members = len(p.out.Mailboxes) - first
	p.out.Groups = append(p.out.Groups, g)
	return nil
}

// nameAddr parses name-addr and obs-angle-addr (RFC 5322 §3.4, §4.4).
func (p *parser) nameAddr(group string) error {
	raw, lax, ctl, utf, err := p.phrase('<')
	if err != nil {
		return err
	}
	p.next() // "<"
	m := Mailbox{RawDisplayName: raw, Flags: FlagAngle}
	if lax {
		m.Flags |= FlagLaxPhrase
	}
	if ctl {
		m.Flags |= FlagControl
	}
	if utf {
		m.Flags |= FlagUTF8
	}
	// RFC 5322 §4.4 obs-route = obs-domain-list ":"; obs-domain-list =
	// *(CFWS / ",") "@" domain *("," [CFWS] ["@" domain]).
	if t := p.peek(); isSpecial(t, '@') || isSpecial(t, ',') {
		m.Flags |= FlagRoute
		for {
			t := p.next()
			switch {
			case isSpecial(t, ','):
				continue
			case isSpecial(t, ':'):
			case isSpecial(t, '@'):
				var hop Mailbox // the route's own flags are not the address's
				d, _, err := p.domain(&hop)
				if err != nil {
					return err
				}
				m.Flags |= hop.Flags & (FlagControl | FlagUTF8)
				m.Route = append(m.Route, d)
				continue
			case t == nil:
				return syntaxErr(p.end, "unterminated route")
			default:
				return syntaxErr(t.pos, "unexpected %q in a route", t.text)
			}
			break
		}
		if len(m.Route) == 0 {
			return syntaxErr(p.pos(), "route without a domain")
		}
	}
	if t := p.peek(); isSpecial(t, '>') {
		if m.Flags.Has(FlagRoute) {
			return syntaxErr(t.pos, "route without an address")
		}
		m.Flags |= FlagEmpty | FlagNoDomain
	} else if err := p.addrSpec(&m); err != nil {
		return err
	}
	t := p.next()
	if !isSpecial(t, '>') {
		if t == nil {
			return syntaxErr(p.end, "missing \">\"")
		}
		return syntaxErr(t.pos, "unexpected %q in an angle-addr", t.text)
	}
	return p.finish(m, group)
}

func (p *parser) bareAddrSpec(group string) error {
	var m Mailbox
	if err := p.addrSpec(&m); err != nil {
		return err
	}
	return p.finish(m, group)
}

// addrSpec parses local-part ["@" domain] (RFC 5322 §3.4.1, §4.4
// obs-local-part); the domain is optional here and its absence flagged.
func (p *parser) addrSpec(m *Mailbox) error {
	var b strings.Builder
	words, dots := 0, 0
	lastDot, lax := true, false
	start := p.pos()
loop:
	for {
		t := p.peek()
		switch {
		case t == nil:
			break loop
		case t.kind == tAtom || t.kind == tQuoted:
			if !lastDot {
				return syntaxErr(t.pos, "words without a dot in an address")
			}
			if t.kind == tQuoted {
				m.Flags |= FlagQuotedLocal
			}
			if t.ctl {
				m.Flags |= FlagControl
			}
			if t.utf8 {
				m.Flags |= FlagUTF8
			}
			b.WriteString(t.text)
			words++
			lastDot = false
		case isSpecial(t, '.'):
			if lastDot {
				lax = true // leading or doubled dot
			}
			b.WriteByte('.')
			dots++
			lastDot = true
		default:
			break loop
		}
		if t.space && words+dots > 1 {
			// RFC 5322 §4.4 obs-local-part: CFWS between words. CFWS
			// around the whole local part is not obsolete (§3.2.3).
			m.Flags |= FlagObsolete
		}
		p.next()
	}
	if words == 0 {
		return syntaxErr(start, "missing local part")
	}
	if lastDot || lax {
		m.Flags |= FlagLaxLocal
	}
	m.Local = b.String()
	if hasEncodedWord(m.Local) {
		m.Flags |= FlagEncodedWord // RFC 2047 §5: not in an addr-spec
	}
	if !isSpecial(p.peek(), '@') {
		m.Flags |= FlagNoDomain
		return nil
	}
	p.next()
	d, rawDomain, err := p.domain(m)
	if err != nil {
		return err
	}
	if hasEncodedWord(rawDomain) {
		m.Flags |= FlagEncodedWord
	}
	m.Domain, m.RawDomain = d, rawDomain
	return nil
}

// domain parses dot-atom / domain-literal / obs-domain (RFC 5322 §3.4.1,
// §4.4) and returns it normalized and as written.
func (p *parser) domain(m *Mailbox) (string, string, error) {
	t := p.peek()
	if t != nil && t.kind == tLiteral {
		p.next()
		m.Flags |= FlagDomainLiteral
		if t.ctl {
			m.Flags |= FlagControl
		}
		return strings.ToLower(t.text), t.text, nil
	}
	// The tokens of a domain written without CFWS inside are one piece of
	// the input: raw is then that piece, not a copy.
	var b strings.Builder
	start, end, whole, n := -1, -1, true, 0
	for ; ; n++ {
		t := p.peek()
		if t == nil || !(t.kind == tAtom || isSpecial(t, '.')) {
			break
		}
		if t.space && n > 0 {
			m.Flags |= FlagObsolete // CFWS inside a domain
		}
		if t.utf8 {
			m.Flags |= FlagUTF8
		}
		inSrc := t.pos+len(t.text) <= len(p.src) && p.src[t.pos:t.pos+len(t.text)] == t.text
		switch {
		case n == 0 && inSrc:
			start, end = t.pos, t.pos+len(t.text)
		case whole && inSrc && t.pos == end:
			end += len(t.text)
		default:
			if whole && n > 0 {
				b.WriteString(p.src[start:end])
			}
			whole = false
			b.WriteString(t.text)
		}
		p.next()
	}
	raw := b.String()
	if whole && n > 0 {
		raw = p.src[start:end]
	}
	if strings.Trim(raw, ".") == "" {
		return "", "", syntaxErr(p.pos(), "missing domain")
	}
	if strings.HasSuffix(raw, ".") {
		m.Flags |= FlagTrailingDot
	}
	return domain.Normalize(domain.ToASCII(raw)), raw, nil
}

// finish completes a mailbox and appends it.
func (p *parser) finish(m Mailbox, group string) error {
	if len(p.out.Mailboxes) >= MaxMailboxes {
		return fmt.Errorf("%w: more than %d mailboxes", ErrAddressLimit, MaxMailboxes)
	}
	if group != "" {
		m.Group = group
		m.Flags |= FlagGroup
	}
	m.Address = addrSpecString(m.Local, m.Domain)
	if m.RawDisplayName != "" {
		name, f := decodeWords(m.RawDisplayName)
		m.DisplayName = name
		m.Flags |= f
		if hasControl(name) {
			m.Flags |= FlagControl
		}
	}
	p.out.Mailboxes = append(p.out.Mailboxes, m)
	p.owner = len(p.out.Mailboxes) - 1
	return nil
}

// addrSpecString writes local@domain, quoting the local part when it is
// not a dot-atom (RFC 5321 §4.1.2 prefers the unquoted form).
func addrSpecString(local, dom string) string {
	if local == "" && dom == "" {
		return ""
	}
	if !isDotAtom(local) {
		var b strings.Builder
		b.WriteByte('"')
		for i := 0; i < len(local); i++ {
			if local[i] == '"' || local[i] == '\\' {
				b.WriteByte('\\')
			}
			b.WriteByte(local[i])
		}
		b.WriteByte('"')
		local = b.String()
	}
	if dom == "" {
		return local
	}
	return local + "@" + dom
}

func isDotAtom(s string) bool {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] != '.' && !isAtext(s[i]) {
			return false
		}
	}
	return true
}

func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if isCtl(s[i]) {
			return true
		}
	}
	return false
}

// hasEncodedWord reports whether s holds "=?charset?B|Q?text?=" (RFC 2047
// §2), however the rest of s looks.
func hasEncodedWord(s string) bool {
	for {
		i := strings.Index(s, "=?")
		if i < 0 {
			return false
		}
		s = s[i+2:]
		q := strings.IndexByte(s, '?')
		if q <= 0 || q+2 >= len(s) || s[q+2] != '?' {
			continue
		}
		switch s[q+1] {
		case 'b', 'B', 'q', 'Q':
		default:
			continue
		}
		if strings.Contains(s[q+3:], "?=") {
			return true
		}
	}
}

// decodeWords decodes the RFC 2047 encoded-words of s wherever they stand,
// as readers do, into UTF-8 from the charset each word names (see
// charsetEncoding). A word in a charset not known here sets FlagCharset
// and keeps only its printable ASCII octets (see charsetReader). Control
// characters are looked for in the result, never in the encoded octets:
// the escape sequences of ISO-2022-JP are part of its text, not controls.
func decodeWords(s string) (string, Flags) {
	if !strings.Contains(s, "=?") {
		return s, 0
	}
	var f Flags
	dec := mime.WordDecoder{CharsetReader: charsetReader(&f)}
	d, err := dec.DecodeHeader(s)
	if err != nil { // only a charset reader fails, and ours does not
		return s, f
	}
	if d != s {
		f |= FlagEncodedName
		// mime.WordDecoder copies the octets of a UTF-8 word as they are,
		// valid or not (its CharsetReader is not asked); the text read
		// from a word is Unicode, so an invalid octet is U+FFFD.
		if !utf8.ValidString(d) {
			d = strings.ToValidUTF8(d, string(utf8.RuneError))
		}
	}
	return d, f
}
