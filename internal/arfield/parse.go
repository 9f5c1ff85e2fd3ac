package arfield

import (
	"strings"

	"github.com/emersion/go-msgauth/authres"
)

// StripComments removes RFC 5322 §3.2.2 comments (nested parentheses,
// backslash escapes) outside quoted strings, replacing each with a space,
// so that a ";" or "=" inside "(1024-bit key; hi)" does not split a result.
// An unterminated comment runs to the end.
func StripComments(s string) string {
	if !strings.ContainsAny(s, "()") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	depth := 0
	quoted := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case depth > 0:
			switch c {
			case '\\':
				i++
			case '(':
				depth++
			case ')':
				depth--
				if depth == 0 {
					b.WriteByte(' ')
				}
			}
		case quoted:
			b.WriteByte(c)
			if c == '\\' && i+1 < len(s) {
				i++
				b.WriteByte(s[i])
			} else if c == '"' {
				quoted = false
			}
		case c == '"':
			quoted = true
			b.WriteByte(c)
		case c == '(':
			depth = 1
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// Unfold removes the CRLF of folded lines and turns other line breaks into
// spaces (RFC 5322 §2.2.3).
func Unfold(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "")
	return strings.NewReplacer("\r", " ", "\n", " ").Replace(s)
}

// splitResults splits an authres-payload at the semicolons outside
// quoted strings and comments, trimming each part and dropping empty ones.
// A quoted-pair is recognized where RFC 5322 §3.2.1 allows one: inside a
// quoted string or a comment.
func splitResults(s string) []string {
	var out []string
	depth := 0
	quoted := false
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && (quoted || depth > 0):
			i++
		case quoted:
			if c == '"' {
				quoted = false
			}
		case depth > 0:
			if c == '(' {
				depth++
			} else if c == ')' {
				depth--
			}
		case c == '"':
			quoted = true
		case c == '(':
			depth = 1
		case c == ';':
			if p := strings.TrimSpace(s[start:i]); p != "" {
				out = append(out, p)
			}
			start = i + 1
		}
	}
	if start < len(s) {
		if p := strings.TrimSpace(s[start:]); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Parse parses an RFC 8601 authres-payload, the value of an
// Authentication-Results field or of an ARC-Authentication-Results field
// after its instance tag. Comments are removed first. Results that do not
// parse are skipped: RFC 8617 §3.4 "the accuracy or syntax of the
// authres-payload field does not affect the validity of the ARC chain",
// and a receiver reading an upstream header keeps what it understands.
func Parse(payload string) (authServID string, results []authres.Result) {
	// The authserv-id, optionally followed by a version (RFC 8601 §2.2),
	// read as AuthServID reads it, so that a field is read as a
	// receiver's exactly when the receiver removes it as its own. A field
	// that starts with no id (";", a space other than ASCII's) names no
	// one, and its results are nobody's.
	authServID = AuthServID(payload)
	parts := splitResults(StripComments(Unfold(payload)))
	if authServID == "" || len(parts) == 0 {
		return "", nil
	}
	for _, p := range parts[1:] {
		_, rs, err := authres.Parse("x; " + p)
		if err != nil || len(rs) == 0 {
			continue
		}
		results = append(results, rs...)
	}
	return authServID, results
}

// Items returns the results of an authres-payload as written (comments
// kept, whitespace runs reduced), without the authserv-id: what a sealer
// copies into its ARC-Authentication-Results (RFC 8617 §4.1.1).
func Items(payload string) (authServID string, items []string) {
	parts := splitResults(Unfold(payload))
	if len(parts) == 0 {
		return "", nil
	}
	id := strings.TrimSpace(StripComments(parts[0]))
	if f := strings.Fields(id); len(f) > 0 {
		id = f[0]
	}
	for _, p := range parts[1:] {
		items = append(items, strings.Join(strings.Fields(p), " "))
	}
	return strings.ToLower(id), items
}
