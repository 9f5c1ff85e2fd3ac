package arfield

import "strings"

// AuthServID returns the authserv-id of an Authentication-Results field
// value (RFC 8601 §2.2: authserv-id, an optional version, then the
// results), lower-cased, or "" when the value starts with no id. Comments
// and folding before and around it are skipped (RFC 5322 §3.2.2 CFWS); a
// quoted-string id is returned without its quotes. A receiver compares it
// with its own name to find the fields it must remove (RFC 8601 §5).
func AuthServID(value string) string {
	s := skipCFWS(value)
	if s == "" {
		return ""
	}
	var id strings.Builder
	if s[0] == '"' {
		for i := 1; i < len(s); i++ {
			switch c := s[i]; c {
			case '\\':
				if i+1 < len(s) {
					i++
					id.WriteByte(s[i])
				}
			case '"':
				return lowerASCII(id.String())
			default:
				id.WriteByte(c)
			}
		}
		return "" // an unterminated quoted string names nothing
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c == ';' || c == '(' || c == '"' || c > '~' {
			break
		}
		id.WriteByte(c)
	}
	return lowerASCII(id.String())
}

// skipCFWS returns s after its leading whitespace, line breaks and
// comments (nested, with quoted-pairs).
func skipCFWS(s string) string {
	depth := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case depth > 0 && c == '\\':
			i++
		case c == '(':
			depth++
		case depth > 0 && c == ')':
			depth--
		case depth > 0, c == ' ', c == '\t', c == '\r', c == '\n':
		default:
			return s[i:]
		}
	}
	return ""
}

// lowerASCII lower-cases ASCII letters only: strings.ToLower would turn
// each invalid UTF-8 octet of a quoted id into a three-octet U+FFFD, and
// fold non-ASCII letters (U+212A KELVIN SIGN) into ASCII ones, so that
// other octets than the receiver's name would compare equal to it.
func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
