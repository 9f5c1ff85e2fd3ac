package arfield

import (
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/emersion/go-msgauth/authres"
)

// Format writes the value of an Authentication-Results header field (RFC
// 8601 §2.2): the authserv-id, then "; method=result" and the properties
// of each result, "; none" when there are none. It writes what go-msgauth's
// authres.Format writes (reason first, the other properties sorted, empty
// ones left out), with three differences: no space after a result that has
// no properties; an *authres.ARCResult is written as method "arc" (RFC
// 8617 §4.2.2), which authres.Format leaves nameless; and a backslash is
// never written bare and is escaped in a quoted value, as is a double
// quote (RFC 5322 §3.2.4). It builds the field in one buffer: an
// evaluation writes one per message.
func Format(authServID string, results []authres.Result) string {
	var b strings.Builder
	b.Grow(64 + 96*len(results))
	b.WriteString(authServID)
	if len(results) == 0 {
		b.WriteString("; none")
		return b.String()
	}
	for _, r := range results {
		var (
			method string
			value  authres.ResultValue
			params []param
			buf    [4]param
		)
		params = buf[:0]
		switch r := r.(type) {
		case *authres.SPFResult:
			method, value = "spf", r.Value
			params = append(params, param{"reason", r.Reason}, param{"smtp.helo", r.Helo}, param{"smtp.mailfrom", r.From})
		case *authres.DKIMResult:
			method, value = "dkim", r.Value
			params = append(params, param{"reason", r.Reason}, param{"header.d", r.Domain}, param{"header.i", r.Identifier})
		case *authres.DMARCResult:
			method, value = "dmarc", r.Value
			params = append(params, param{"reason", r.Reason}, param{"header.from", r.From})
		case *authres.IPRevResult:
			method, value = "iprev", r.Value
			params = append(params, param{"reason", r.Reason}, param{"policy.iprev", r.IP})
		case *authres.ARCResult:
			method, value = "arc", r.Value
			var oldest string
			if r.OldestPass > 0 {
				oldest = strconv.Itoa(r.OldestPass)
			}
			params = append(params, param{"header.oldest-pass", oldest}, param{"smtp.remote-ip", r.RemoteIP})
		case *authres.AuthResult:
			method, value = "auth", r.Value
			params = append(params, param{"smtp.auth", r.Auth})
		case *authres.DomainKeysResult:
			method, value = "domainkeys", r.Value
			params = append(params, param{"reason", r.Reason}, param{"header.d", r.Domain}, param{"header.from", r.From}, param{"header.sender", r.Sender})
		case *authres.SenderIDResult:
			method, value = "sender-id", r.Value
			params = append(params, param{"reason", r.Reason}, param{"header." + strings.ToLower(r.HeaderKey), r.HeaderValue})
		case *authres.GenericResult:
			method, value = r.Method, r.Value
			for k, v := range r.Params {
				params = append(params, param{k, v})
			}
			// Reason first, then by name: the order authres.Format uses,
			// so that a header field reads the same whoever wrote it.
			slices.SortFunc(params, func(a, b param) int {
				if (a.key == "reason") != (b.key == "reason") {
					if a.key == "reason" {
						return -1
					}
					return 1
				}
				return strings.Compare(a.key, b.key)
			})
		}
		b.WriteString("; ")
		b.WriteString(method)
		b.WriteByte('=')
		b.WriteString(string(value))
		for _, p := range params {
			if p.value == "" {
				continue
			}
			b.WriteByte(' ')
			b.WriteString(p.key)
			b.WriteByte('=')
			if p.key == "reason" {
				writeValue(&b, p.value)
			} else {
				writePvalue(&b, p.value)
			}
		}
	}
	return b.String()
}

type param struct{ key, value string }

// writeValue writes s as an RFC 2045 token when it is one, else as a
// quoted-string (RFC 8601 §2.2 value).
func writeValue(b *strings.Builder, s string) {
	quote := s == ""
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || strings.IndexByte(`()<>@,;:\"/[]?=`, c) >= 0 {
			quote = true
			break
		}
	}
	if !quote {
		b.WriteString(s)
		return
	}
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '"' || c == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
}

// writePvalue writes a property value (RFC 8601 §2.2 pvalue): bare when
// it reads as an address or a domain name, else as writeValue does. The
// octets allowed bare are authres.Format's: letters, digits and the
// punctuation of addresses, but not "(", ")", "=" or '"', which other
// parsers could take for a comment or the start of another property, and
// not a backslash, which only a quoted-string may hold.
func writePvalue(b *strings.Builder, s string) {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && !strings.ContainsRune("#$%&'*+,./-@[]^_`{|}~", r) {
			writeValue(b, s)
			return
		}
	}
	b.WriteString(s)
}
