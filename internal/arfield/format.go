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
	var w Writer
	w.Start(authServID, len(results))
	for _, r := range results {
		var (
			method string
			value  authres.ResultValue
			params []Param
			buf    [4]Param
		)
		params = buf[:0]
		switch r := r.(type) {
		case *authres.SPFResult:
			method, value = "spf", r.Value
			params = append(params, Param{"reason", r.Reason}, Param{"smtp.helo", r.Helo}, Param{"smtp.mailfrom", r.From})
		case *authres.DKIMResult:
			method, value = "dkim", r.Value
			params = append(params, Param{"reason", r.Reason}, Param{"header.d", r.Domain}, Param{"header.i", r.Identifier})
		case *authres.DMARCResult:
			method, value = "dmarc", r.Value
			params = append(params, Param{"reason", r.Reason}, Param{"header.from", r.From})
		case *authres.IPRevResult:
			method, value = "iprev", r.Value
			params = append(params, Param{"reason", r.Reason}, Param{"policy.iprev", r.IP})
		case *authres.ARCResult:
			method, value = "arc", r.Value
			var oldest string
			if r.OldestPass > 0 {
				oldest = strconv.Itoa(r.OldestPass)
			}
			params = append(params, Param{"header.oldest-pass", oldest}, Param{"smtp.remote-ip", r.RemoteIP})
		case *authres.AuthResult:
			method, value = "auth", r.Value
			params = append(params, Param{"smtp.auth", r.Auth})
		case *authres.DomainKeysResult:
			method, value = "domainkeys", r.Value
			params = append(params, Param{"reason", r.Reason}, Param{"header.d", r.Domain}, Param{"header.from", r.From}, Param{"header.sender", r.Sender})
		case *authres.SenderIDResult:
			method, value = "sender-id", r.Value
			params = append(params, Param{"reason", r.Reason}, Param{"header." + strings.ToLower(r.HeaderKey), r.HeaderValue})
		case *authres.GenericResult:
			method, value = r.Method, r.Value
			for k, v := range r.Params {
				params = append(params, Param{k, v})
			}
			// Reason first, then by name: the order authres.Format uses,
			// so that a header field reads the same whoever wrote it.
			slices.SortFunc(params, func(a, b Param) int {
				if (a.Key == "reason") != (b.Key == "reason") {
					if a.Key == "reason" {
						return -1
					}
					return 1
				}
				return strings.Compare(a.Key, b.Key)
			})
		}
		w.Result(method, string(value), params...)
	}
	return w.String()
}

// Param is one property of a result (RFC 8601 §2.2 "reason" or ptype.property).
type Param struct{ Key, Value string }

// Writer writes an Authentication-Results value result by result, as
// Format does, from the caller's own result types: no authres value, map
// or sort per result. Call Start, then Result for each result, then
// String.
type Writer struct {
	b strings.Builder
	n int
}

// Start begins the value with authServID; results is the number of
// results expected, to size the buffer.
func (w *Writer) Start(authServID string, results int) {
	w.b.Grow(len("Authentication-Results: ") + 64 + 96*results)
	w.b.WriteString(authServID)
}

// StartField is Start for a whole header field: the value follows
// "Authentication-Results: " in the same buffer.
func (w *Writer) StartField(authServID string, results int) {
	w.b.Grow(len("Authentication-Results: ") + 64 + 96*results)
	w.b.WriteString("Authentication-Results: ")
	w.b.WriteString(authServID)
}

// Result writes "; method=value" and the params in the order given,
// leaving out those with an empty value: a reason as an RFC 2045 value,
// the others as pvalues (RFC 8601 §2.2). The caller puts the reason
// first, as Format does.
func (w *Writer) Result(method, value string, params ...Param) {
	w.n++
	w.b.WriteString("; ")
	w.b.WriteString(method)
	w.b.WriteByte('=')
	w.b.WriteString(value)
	for _, p := range params {
		if p.Value == "" {
			continue
		}
		w.b.WriteByte(' ')
		w.b.WriteString(p.Key)
		w.b.WriteByte('=')
		if p.Key == "reason" {
			writeValue(&w.b, p.Value)
		} else {
			writePvalue(&w.b, p.Value)
		}
	}
}

// String returns what was written, with "; none" when no result was.
func (w *Writer) String() string {
	if w.n == 0 {
		w.b.WriteString("; none")
		w.n = -1 // written once
	}
	return w.b.String()
}

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
