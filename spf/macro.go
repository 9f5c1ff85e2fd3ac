package spf

import (
	"net/netip"
	"strconv"
	"strings"
)

// expand expands the macros of a domain-spec (RFC 7208 §7) for the
// evaluation of domain's record. The text was checked against the grammar
// when the record was parsed, so expansion cannot fail: a malformed macro
// left here (none should be) is copied as written. A text without "%" is
// returned unchanged, without allocating.
func (e *evaluator) expand(spec, domain string) string {
	if strings.IndexByte(spec, '%') < 0 {
		return spec
	}
	var b strings.Builder
	b.Grow(len(spec) + 32)
	for i := 0; i < len(spec); {
		c := spec[i]
		if c != '%' || i+1 >= len(spec) {
			b.WriteByte(c)
			i++
			continue
		}
		switch spec[i+1] {
		case '%': // RFC 7208 §7.1: "%%" is a literal "%"
			b.WriteByte('%')
			i += 2
			continue
		case '_': // a space
			b.WriteByte(' ')
			i += 2
			continue
		case '-': // a URL-encoded space
			b.WriteString("%20")
			i += 2
			continue
		case '{':
		default:
			b.WriteByte(c)
			i++
			continue
		}
		j := strings.IndexByte(spec[i:], '}')
		if j < 0 {
			b.WriteString(spec[i:])
			break
		}
		e.macro(&b, spec[i+2:i+j], domain)
		i += j + 1
	}
	return b.String()
}

// macro writes the expansion of one macro body, what is between "%{" and
// "}" (RFC 7208 §7.1, §7.3):
//
//	macro-letter transformers *delimiter
//	transformers = *DIGIT [ "r" ]
//
// The value is split at the delimiters (default "."), reversed with "r",
// cut to its rightmost DIGIT parts, and joined with "."; an upper-case
// letter URL-escapes the result (RFC 7208 §7.3, RFC 3986 §2.3).
func (e *evaluator) macro(b *strings.Builder, body, domain string) {
	if body == "" {
		return
	}
	letter := body[0]
	value, ok := e.macroValue(lower(letter), domain)
	if !ok {
		b.WriteString("%{" + body + "}")
		return
	}
	i := 1
	for i < len(body) && isDigit(body[i]) {
		i++
	}
	keep := 0
	if i > 1 {
		n, err := strconv.Atoi(body[1:i])
		if err != nil {
			n = 1 << 30 // more digits than parts: keep them all
		}
		keep = n
	}
	reverse := false
	if i < len(body) && lower(body[i]) == 'r' {
		reverse = true
		i++
	}
	delims := "."
	if i < len(body) {
		delims = body[i:]
	}
	if keep > 0 || reverse || delims != "." {
		value = transform(value, delims, keep, reverse)
	}
	if isUpper(letter) {
		value = urlEscape(value)
	}
	b.WriteString(value)
}

// transform splits value at any of delims, reverses the parts if asked,
// keeps the rightmost keep of them (all when keep is 0) and joins them
// with "." (RFC 7208 §7.3).
func transform(value, delims string, keep int, reverse bool) string {
	parts := splitAny(value, delims)
	if reverse {
		for l, r := 0, len(parts)-1; l < r; l, r = l+1, r-1 {
			parts[l], parts[r] = parts[r], parts[l]
		}
	}
	if keep > 0 && keep < len(parts) {
		parts = parts[len(parts)-keep:]
	}
	return strings.Join(parts, ".")
}

// splitAny splits s at every octet that is in delims, keeping empty parts
// ("a..b" has three).
func splitAny(s, delims string) []string {
	var parts []string
	start := 0
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(delims, s[i]) >= 0 {
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	return append(parts, s[start:])
}

// macroValue is the value of a macro letter (RFC 7208 §7.2), lower case.
// The letters c, r and t appear only in explanation strings, which this
// package does not expand; they are refused by the grammar elsewhere.
func (e *evaluator) macroValue(letter byte, domain string) (string, bool) {
	switch letter {
	case 's':
		return e.local + "@" + e.senderDomain, true
	case 'l':
		return e.local, true
	case 'o':
		return e.senderDomain, true
	case 'd':
		return domain, true
	case 'i':
		return dotted(e.ip), true
	case 'p':
		return e.validatedName(domain), true
	case 'v':
		if e.ip.Is4() {
			return "in-addr", true
		}
		return "ip6", true
	case 'h':
		return e.helo, true
	}
	return "", false
}

// urlEscape escapes every octet outside RFC 3986's unreserved set, as RFC
// 7208 §7.3 asks of upper-case macros.
func urlEscape(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isAlpha(c) || isDigit(c) || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&0xf])
	}
	return b.String()
}

func isUpper(c byte) bool { return 'A' <= c && c <= 'Z' }

// dotted is the "i" macro's form of ip (RFC 7208 §7.3): the dotted quad
// of an IPv4 address, the 32 nibbles of an IPv6 address in hexadecimal,
// lower case, separated by dots.
func dotted(ip netip.Addr) string {
	if ip.Is4() {
		return ip.String()
	}
	const hex = "0123456789abcdef"
	a := ip.As16()
	b := make([]byte, 0, 63)
	for i, x := range a {
		if i > 0 {
			b = append(b, '.')
		}
		b = append(b, hex[x>>4], '.', hex[x&0xf])
	}
	return string(b)
}
