package forward

import (
	"strings"

	"github.com/emersion/go-msgauth/authres"
)

// stripComments removes RFC 5322 §3.2.2 comments (nested parentheses,
// backslash escapes) outside quoted strings, replacing each with a space,
// so that a ";" or "=" inside "(1024-bit key; hi)" does not split a result.
// An unterminated comment runs to the end.
func stripComments(s string) string {
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

// unfold removes the CRLF of folded lines and turns other line breaks into
// spaces (RFC 5322 §2.2.3).
func unfold(s string) string {
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

// parseAuthResults parses an RFC 8601 authres-payload, the value of an
// Authentication-Results field or of an ARC-Authentication-Results field
// after its instance tag. Comments are removed first. Results that do not
// parse are skipped: RFC 8617 §3.4 "the accuracy or syntax of the
// authres-payload field does not affect the validity of the ARC chain",
// and a receiver reading an upstream header keeps what it understands.
func parseAuthResults(payload string) (authServID string, results []authres.Result) {
	parts := splitResults(stripComments(unfold(payload)))
	if len(parts) == 0 {
		return "", nil
	}
	// The authserv-id, optionally followed by a version (RFC 8601 §2.2).
	id := parts[0]
	if f := strings.Fields(id); len(f) > 0 {
		id = f[0]
	}
	id = strings.Trim(id, `"`)
	if i := strings.IndexAny(id, `";`); i >= 0 {
		id = id[:i] // an unterminated quoted string ran on
	}
	authServID = strings.ToLower(id)
	for _, p := range parts[1:] {
		_, rs, err := authres.Parse("x; " + p)
		if err != nil || len(rs) == 0 {
			continue
		}
		results = append(results, rs...)
	}
	return authServID, results
}

// resultItems returns the results of an authres-payload as written (comments
// kept, whitespace runs reduced), without the authserv-id: what a sealer
// copies into its ARC-Authentication-Results (RFC 8617 §4.1.1).
func resultItems(payload string) (authServID string, items []string) {
	parts := splitResults(unfold(payload))
	if len(parts) == 0 {
		return "", nil
	}
	id := strings.TrimSpace(stripComments(parts[0]))
	if f := strings.Fields(id); len(f) > 0 {
		id = f[0]
	}
	for _, p := range parts[1:] {
		items = append(items, strings.Join(strings.Fields(p), " "))
	}
	return strings.ToLower(id), items
}

// resultWords summarizes authentication results the way RFC 8601 words
// them: the SPF, DKIM and DMARC result, and the domains they are about.
// Of several DKIM results, a pass for fromDomain (or its organization) is
// preferred, then any pass, then the first.
type resultWords struct {
	spf, dkim, dmarc               string
	spfDomain, dkimDomain, fromDom string
}

func summarize(results []authres.Result, sameOrg func(a, b string) bool, fromDomain string) resultWords {
	var w resultWords
	dkimRank := -1
	for _, r := range results {
		switch r := r.(type) {
		case *authres.SPFResult:
			if w.spf == "" {
				w.spf = string(r.Value)
				if r.From != "" {
					w.spfDomain = domainOf(r.From)
				} else {
					w.spfDomain = strings.ToLower(r.Helo)
				}
			}
		case *authres.DKIMResult:
			d := strings.ToLower(r.Domain)
			if d == "" && r.Identifier != "" {
				d = domainOf(r.Identifier)
			}
			rank := 0
			if r.Value == authres.ResultPass {
				rank = 1
				if fromDomain != "" && d != "" && sameOrg(d, fromDomain) {
					rank = 2
				}
			}
			if rank > dkimRank {
				dkimRank = rank
				w.dkim, w.dkimDomain = string(r.Value), d
			}
		case *authres.DMARCResult:
			if w.dmarc == "" {
				w.dmarc = string(r.Value)
				w.fromDom = domainOf(r.From)
			}
		}
	}
	return w
}
