package spf

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// term is one directive or modifier of a record.
type term struct {
	raw      string // as written, qualifier included: "-ip4:192.0.2.0/24"
	qual     byte   // '+', '-', '~' or '?' (default '+'); 0 for a modifier
	name     string // lower case: "all", "include", ..., "redirect", "exp" or an unknown modifier's name
	value    string // after ':' or '=', CIDR lengths removed; "" when absent
	modifier bool
	// net is the network of ip4 and ip6, parsed once with the record.
	net netip.Prefix
	// cidr4 and cidr6 are the prefix lengths of a and mx (RFC 7208 §5.6),
	// 32 and 128 when not written.
	cidr4, cidr6 int
	// query is, for a domain-spec without macros, the name to ask, fully
	// qualified and lower case (see queryName); "" when the spec has
	// macros, or names no valid DNS name.
	query string
}

// record is a parsed SPF record.
type record struct {
	raw   string
	terms []term
}

// isSPF reports whether a TXT string is an SPF record. RFC 7208 §4.5: the
// version section "v=spf1" (case-insensitive, §12: ABNF strings) followed by
// a space or the end of the record; anything else, "v=spf10" included, is
// some other TXT record.
func isSPF(txt string) bool {
	return len(txt) >= 6 && strings.EqualFold(txt[:6], "v=spf1") && (len(txt) == 6 || txt[6] == ' ')
}

// parseRecord checks the whole record against the grammar of RFC 7208 §12
// before anything of it is evaluated. RFC 7208 §4.6: "If there are any
// syntax errors anywhere in the record, check_host() returns immediately
// with the result "permerror", without further interpretation or
// evaluation." So the record is judged whole, errors behind the term that
// would match included, and what evaluation needs (networks, CIDR
// lengths) is parsed here once. The error describes the fault; callers
// wrap ErrSyntax.
func parseRecord(txt string) (*record, error) {
	if !isSPF(txt) {
		return nil, errors.New("not an SPF record")
	}
	// RFC 7208 §3.1, §12: records are 7-bit ASCII; terms are separated by
	// spaces only (§4.6.1), so any other control octet is an error.
	for i := 0; i < len(txt); i++ {
		if c := txt[i]; c < ' ' || c > '~' {
			return nil, fmt.Errorf("octet 0x%02x at offset %d (RFC 7208 §3.1: 7-bit ASCII, terms separated by spaces)", c, i)
		}
	}
	rec := &record{raw: txt, terms: make([]term, 0, strings.Count(txt, " "))}
	var redirects, exps int
	for field := range strings.SplitSeq(txt[6:], " ") {
		if field == "" {
			continue // RFC 7208 §4.6.1: 1*SP between terms, *SP at the end
		}
		// Parsed in place: a term is large enough for copies to show.
		rec.terms = append(rec.terms, term{})
		t := &rec.terms[len(rec.terms)-1]
		if err := parseTerm(t, field); err != nil {
			return nil, fmt.Errorf("term %q: %w", field, err)
		}
		switch {
		case t.modifier && t.name == "redirect":
			redirects++
		case t.modifier && t.name == "exp":
			exps++
		}
	}
	// RFC 7208 §6: redirect= and exp= MUST NOT appear more than once.
	if redirects > 1 || exps > 1 {
		return nil, errors.New("redirect= or exp= given more than once (RFC 7208 §6)")
	}
	return rec, nil
}

// parseTerm parses one directive or modifier (RFC 7208 §4.6.1, §5, §6)
// into t.
func parseTerm(t *term, s string) error {
	err := parseTermSyntax(t, s)
	if err == nil && t.value != "" && strings.IndexByte(t.value, '%') < 0 {
		switch t.name {
		case "include", "exists", "a", "mx", "ptr", "redirect":
			t.query, _ = queryName(t.value)
		}
	}
	return err
}

func parseTermSyntax(t *term, s string) error {
	*t = term{raw: s}
	// A modifier is a name followed by "=" before any ":" or "/" (§4.6.1):
	// name = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." ).
	if n := modifierName(s); n != "" {
		t.modifier = true
		t.name = strings.ToLower(n)
		t.value = s[len(n)+1:]
		switch t.name {
		case "redirect", "exp":
			// RFC 7208 §6.1, §6.2: "redirect" "=" domain-spec and "exp" "="
			// domain-spec; an empty or malformed domain-spec is a syntax
			// error, not an unknown modifier (errata 4350 / test suite).
			if err := checkDomainSpec(t.value); err != nil {
				return err
			}
		default:
			// RFC 7208 §6: unknown modifiers are ignored, but must still be
			// name "=" macro-string.
			if _, err := checkMacroString(t.value, true); err != nil {
				return err
			}
		}
		return nil
	}

	t.qual = '+'
	switch s[0] {
	case '+', '-', '~', '?':
		t.qual = s[0]
		s = s[1:]
	}
	// The mechanism name runs up to ":" or "/" (§12).
	i := strings.IndexAny(s, ":/")
	name, rest := s, ""
	if i >= 0 {
		name, rest = s[:i], s[i:]
	}
	t.name = strings.ToLower(name)
	switch t.name {
	case "all":
		if rest != "" {
			return fmt.Errorf("all takes no argument")
		}
	case "include", "exists":
		// include = "include" ":" domain-spec; exists = "exists" ":" domain-spec
		if !strings.HasPrefix(rest, ":") {
			return fmt.Errorf("%s needs \":\" domain-spec", t.name)
		}
		t.value = rest[1:]
		if err := checkDomainSpec(t.value); err != nil {
			return err
		}
	case "a", "mx":
		// a = "a" [ ":" domain-spec ] [ dual-cidr-length ]
		spec, c4, c6, err := splitDualCIDR(rest)
		t.cidr4, t.cidr6 = c4, c6
		if err != nil {
			return err
		}
		if spec != "" {
			if !strings.HasPrefix(spec, ":") {
				return fmt.Errorf("unexpected %q", spec)
			}
			t.value = spec[1:]
			if err := checkDomainSpec(t.value); err != nil {
				return err
			}
		}
	case "ptr":
		// ptr = "ptr" [ ":" domain-spec ]
		if rest != "" {
			if !strings.HasPrefix(rest, ":") {
				return fmt.Errorf("unexpected %q", rest)
			}
			t.value = rest[1:]
			if err := checkDomainSpec(t.value); err != nil {
				return err
			}
		}
	case "ip4", "ip6":
		// ip4 = "ip4" ":" ip4-network [ ip4-cidr-length ]
		if !strings.HasPrefix(rest, ":") {
			return fmt.Errorf("%s needs \":\" address", t.name)
		}
		addr, bits, hasBits := strings.Cut(rest[1:], "/")
		ip, err := netip.ParseAddr(addr)
		if err != nil || ip.Zone() != "" {
			return fmt.Errorf("invalid address %q", addr)
		}
		max := 32
		if t.name == "ip4" {
			// ip4-network is a dotted quad without leading zeros, which
			// netip.ParseAddr enforces.
			if !ip.Is4() {
				return fmt.Errorf("%q is not an IPv4 address", addr)
			}
		} else {
			// ip6-network as per RFC 4291 §2.2, which includes the mixed
			// form ::ffff:192.0.2.1 but not a bare dotted quad.
			if !ip.Is6() {
				return fmt.Errorf("%q is not an IPv6 address", addr)
			}
			max = 128
		}
		n := max
		if hasBits {
			if n, err = cidrLength(bits, max); err != nil {
				return err
			}
		}
		t.value = rest[1:]
		t.net = netip.PrefixFrom(ip, n).Masked()
	default:
		// RFC 7208 §5: an unknown mechanism is a syntax error.
		return fmt.Errorf("unknown mechanism %q", name)
	}
	return nil
}

// modifierName returns the name of a modifier term, or "" if s is not one.
func modifierName(s string) string {
	if s == "" || !isAlpha(s[0]) {
		return ""
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '=':
			return s[:i]
		case isAlpha(c) || isDigit(c) || c == '-' || c == '_' || c == '.':
		default:
			return ""
		}
	}
	return ""
}

// splitDualCIDR removes a trailing dual-cidr-length from the argument of a
// or mx (RFC 7208 §5.6: [ "/" ip4-cidr ] [ "//" ip6-cidr ]) and returns
// what precedes it and the two lengths (32 and 128 when absent). A
// domain-spec may itself contain "/" (a macro-literal), but its domain-end
// cannot, so the lengths are taken from the end.
func splitDualCIDR(s string) (spec string, cidr4, cidr6 int, err error) {
	cidr4, cidr6 = 32, 128
	if i := strings.LastIndex(s, "//"); i >= 0 && allDigits(s[i+2:]) {
		if cidr6, err = cidrLength(s[i+2:], 128); err != nil {
			return "", 0, 0, err
		}
		s = s[:i]
	}
	if i := strings.LastIndexByte(s, '/'); i >= 0 && allDigits(s[i+1:]) {
		if cidr4, err = cidrLength(s[i+1:], 32); err != nil {
			return "", 0, 0, err
		}
		s = s[:i]
	}
	if strings.HasPrefix(s, "/") {
		return "", 0, 0, fmt.Errorf("invalid CIDR length %q", s)
	}
	return s, cidr4, cidr6, nil
}

// cidrLength parses a prefix length: "0" / %x31-39 0*2DIGIT, at most max
// (RFC 7208 §5.6; leading zeros are refused as in ip4-network).
func cidrLength(s string, max int) (int, error) {
	if s == "" || !allDigits(s) || (len(s) > 1 && s[0] == '0') || len(s) > 3 {
		return 0, fmt.Errorf("invalid CIDR length %q", s)
	}
	n, err := strconv.Atoi(s)
	if err != nil || n > max {
		return 0, fmt.Errorf("CIDR length %q out of range 0-%d", s, max)
	}
	return n, nil
}

// checkDomainSpec validates a domain-spec (RFC 7208 §7.1):
//
//	domain-spec = macro-string domain-end
//	domain-end  = ( "." toplabel [ "." ] ) / macro-expand
//
// Only the text as written is judged: what a macro expands to is not
// subject to syntax checks (a nonsensical name simply does not match).
func checkDomainSpec(s string) error {
	if s == "" {
		return fmt.Errorf("empty domain-spec")
	}
	if _, err := checkMacroString(s, false); err != nil {
		return err
	}
	// The grammar allows a trailing dot after a toplabel only; it is
	// accepted after a macro too ("%{d}."), where it means the same: the
	// name is fully qualified.
	if ends, _ := checkMacroString(strings.TrimSuffix(s, "."), false); ends {
		return nil
	}
	// The literal text after the last macro-expand.
	lit := s
	if i := strings.LastIndex(s, "}"); i >= 0 {
		lit = s[i+1:]
	}
	lit = strings.TrimSuffix(lit, ".")
	i := strings.LastIndexByte(lit, '.')
	if i < 0 {
		return fmt.Errorf("domain-spec %q does not end in \".\" toplabel or a macro", s)
	}
	if !isToplabel(lit[i+1:]) {
		return fmt.Errorf("invalid top label %q", lit[i+1:])
	}
	return nil
}

// checkMacroString validates a macro-string (RFC 7208 §7.1) and reports
// whether it ends in a macro-expand. The letters c, r and t are allowed
// only in explanation text (§7.1); explain lets them through for unknown
// modifiers, whose values are never expanded.
func checkMacroString(s string, explain bool) (endsInMacro bool, err error) {
	for i := 0; i < len(s); {
		c := s[i]
		if c != '%' {
			// macro-literal = %x21-24 / %x26-7E
			if c < 0x21 || c > 0x7e {
				return false, fmt.Errorf("invalid octet 0x%02x", c)
			}
			i++
			endsInMacro = false
			continue
		}
		if i+1 >= len(s) {
			return false, fmt.Errorf("%w: unterminated in %q", ErrMacro, s)
		}
		switch s[i+1] {
		case '%', '_', '-':
			i += 2
		case '{':
			j := strings.IndexByte(s[i:], '}')
			if j < 0 {
				return false, fmt.Errorf("%w: unterminated in %q", ErrMacro, s)
			}
			if err := checkMacroBody(s[i+2:i+j], explain); err != nil {
				return false, err
			}
			i += j + 1
		default:
			return false, fmt.Errorf("%w: %q", ErrMacro, s[i:i+2])
		}
		endsInMacro = true
	}
	return endsInMacro, nil
}

// checkMacroBody validates what is between "%{" and "}":
//
//	macro-letter transformers *delimiter
//	transformers = *DIGIT [ "r" ]
func checkMacroBody(b string, explain bool) error {
	if b == "" {
		return fmt.Errorf("%w: empty", ErrMacro)
	}
	switch lower(b[0]) {
	case 's', 'l', 'o', 'd', 'i', 'p', 'h', 'v':
	case 'c', 'r', 't':
		if !explain {
			return fmt.Errorf("%w: letter %q is allowed only in explanation text (RFC 7208 §7.1)", ErrMacro, b[0])
		}
	default:
		return fmt.Errorf("%w: unknown letter %q", ErrMacro, b[0])
	}
	i := 1
	for i < len(b) && isDigit(b[i]) {
		i++
	}
	// RFC 7208 §7.1: a digit transformer, if given, is nonzero.
	if digits := b[1:i]; digits != "" {
		if n, err := strconv.Atoi(digits); err != nil || n == 0 {
			return fmt.Errorf("%w: invalid digit transformer %q", ErrMacro, digits)
		}
	}
	if i < len(b) && lower(b[i]) == 'r' {
		i++
	}
	for ; i < len(b); i++ {
		if !strings.ContainsRune(".-+,/_=", rune(b[i])) {
			return fmt.Errorf("%w: invalid delimiter %q", ErrMacro, b[i])
		}
	}
	return nil
}

// isToplabel reports whether s matches (RFC 7208 §7.1)
//
//	toplabel = ( *alphanum ALPHA *alphanum ) /
//	           ( 1*alphanum "-" *( alphanum / "-" ) alphanum )
//
// that is, letters, digits and inner dashes, and not all digits unless a
// dash is present.
func isToplabel(s string) bool {
	if s == "" {
		return false
	}
	alpha, dash := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case isAlpha(c):
			alpha = true
		case isDigit(c):
		case c == '-':
			if i == 0 || i == len(s)-1 {
				return false
			}
			dash = true
		default:
			return false
		}
	}
	return alpha || dash
}

// all returns the record's "all" directive, or nil.
func (r *record) all() *term {
	for i := range r.terms {
		if t := &r.terms[i]; !t.modifier && t.name == "all" {
			return t
		}
	}
	return nil
}

// modifier returns the named modifier, or nil.
func (r *record) modifier(name string) *term {
	for i := range r.terms {
		if t := &r.terms[i]; t.modifier && t.name == name {
			return t
		}
	}
	return nil
}

func isAlpha(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}
