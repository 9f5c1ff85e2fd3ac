// Package arfield makes values safe to write into an Authentication-Results
// header field (RFC 8601 §2.2). Reasons and properties often carry what a
// message or DNS said (a DKIM d=, a PTR name, an SMTP identity); go-msgauth's
// formatter quotes values but escapes neither backslashes nor control
// characters, so anything else could break the field or forge a result.
package arfield

import "strings"

// Reason reduces s to RFC 5322 §3.2.4 qtext and spaces, for a quoted
// reason= value: controls and non-ASCII octets become '?', a double quote a
// single one, a backslash a slash, a semicolon a comma.
func Reason(s string) string {
	clean := true
	for i := 0; i < len(s) && clean; i++ {
		c := s[i]
		clean = c >= ' ' && c <= '~' && c != '"' && c != '\\' && c != ';'
	}
	if clean {
		return s // the usual case: nothing to rewrite, nothing to allocate
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case strings.HasPrefix(s[i:], "§"):
			b.WriteString("section ")
			i += len("§") - 1
		case c < ' ' || c > '~':
			b.WriteByte('?')
		case c == '"':
			b.WriteByte('\'')
		case c == '\\':
			b.WriteByte('/')
		case c == ';':
			b.WriteByte(',')
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// TemporaryReason is the reason= written for every temperror result. The
// detail of a temporary failure (a resolver's address, a timeout, the
// question asked) is for logs and the verdict: it says nothing the
// message's reader or a downstream filter can use (RFC 8601 §2.7.1 makes
// reason= a comment for people), and it tells anyone who receives the
// header where the receiver's resolvers are.
const TemporaryReason = "temporary DNS failure"

// ResultReason is the reason= value for a result with status: reason
// reduced by Reason, or TemporaryReason for a temperror.
func ResultReason(status, reason string) string {
	if status == "temperror" {
		return TemporaryReason
	}
	return Reason(reason)
}

// Value returns s when it can be written as a property value by a
// formatter that quotes but does not escape: printable US-ASCII without
// space, double quote, backslash or semicolon (readers such as go-msgauth's
// split results at every ";", quoted or not). Otherwise "": the property is
// left out rather than written wrong.
func Value(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c > '~' || c == '"' || c == '\\' || c == ';' {
			return ""
		}
	}
	return s
}

// Token returns s when it needs no quoting at all (RFC 2045 token octets
// plus '@'), or "".
func Token(s string) string {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c > '~' || strings.IndexByte(`"\;()<>,[]=`, c) >= 0 {
			return ""
		}
	}
	return s
}
