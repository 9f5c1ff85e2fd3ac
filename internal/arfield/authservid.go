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
				return strings.ToLower(id.String())
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
	return strings.ToLower(id.String())
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
