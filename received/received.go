// Package received reads trace fields (RFC 5321 §4.4): what each Received
// field says about the hop it records, and, given the hosts of the
// receiver, the SMTP session facts of the hop at which the message entered
// the receiver's systems from outside.
//
// Parse reads one Received field value as the MTAs in use write it:
// Postfix, Exim, Sendmail, qmail, Microsoft Exchange and Microsoft 365,
// Gmail, Courier. FromHeader finds the boundary field and returns the facts it
// records. Both work on untrusted input: they never fail, never panic, and
// leave a fact they cannot read unknown rather than guess it.
package received

import (
	"net/mail"
	"net/netip"
	"strings"
	"time"
)

// MaxFieldBytes bounds the part of one field value that is read: a field
// may be made up by a sender to any length.
const MaxFieldBytes = 4096

// From is the from-clause of a Received field: who handed the message over.
type From struct {
	// HELO is the name the client gave in HELO/EHLO (or LHLO), as the
	// field records it: the from-clause's domain, or Exim's helo= and
	// qmail's (HELO x) when they give it apart. An address literal given
	// as HELO is kept as written ("[192.0.2.1]").
	HELO string
	// PTR is the client's host name as the receiving MTA resolved it,
	// without the final dot; empty when the field gives none or "unknown",
	// or when the MTA marks it unconfirmed (Sendmail's "(may be forged)":
	// the name's addresses do not include the client's).
	PTR string
	// IP is the client's address from the TCP-info (RFC 5321 §4.4), an
	// IPv4-mapped IPv6 address unmapped; invalid when the field gives none.
	// An address literal given as HELO is the client's claim and counts
	// only when the field has no TCP-info address (Exim's
	// "from [ip] (helo=...)").
	IP netip.Addr
}

// Field is what one Received field says. A clause that is absent or
// cannot be read is left zero.
type Field struct {
	From From
	// HasFrom reports a from-clause.
	HasFrom bool
	// By is the host that wrote the field, as it named itself, lower-cased
	// and without the final dot; ByIP its address when the field gives one
	// (Microsoft writes "by HOST (10.0.0.5)").
	By   string
	ByIP netip.Addr
	// Via, With and ID are the words of those clauses ("ESMTPS", ...).
	Via, With, ID string
	// For is the for-clause's address without angle brackets.
	For string
	// Date is the time stamp after ";", zero when absent or unreadable.
	Date time.Time
}

// token kinds.
const (
	tWord = iota
	tComment
	tSemicolon
)

type token struct {
	kind int
	text string // a comment's text without its outer parentheses
}

// tokenize splits v into words, comments (nested, RFC 5322 §3.2.2) and
// semicolons. Quoted strings are words. An unclosed comment runs to the end.
func tokenize(v string) []token {
	var out []token
	for i := 0; i < len(v); {
		c := v[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			i++
		case c == ';':
			out = append(out, token{tSemicolon, ";"})
			i++
		case c == ')':
			i++ // a stray close: nothing to read
		case c == '(':
			depth, j := 0, i
			for ; j < len(v); j++ {
				if v[j] == '\\' {
					j++
					continue
				}
				if v[j] == '(' {
					depth++
				} else if v[j] == ')' {
					depth--
					if depth == 0 {
						break
					}
				}
			}
			end := min(j, len(v))
			out = append(out, token{tComment, v[i+1 : end]})
			i = end + 1
		case c == '"':
			j := i + 1
			for j < len(v) && v[j] != '"' {
				if v[j] == '\\' {
					j++
				}
				j++
			}
			end := min(j+1, len(v))
			out = append(out, token{tWord, v[i:end]})
			i = end
		default:
			j := i
			for j < len(v) && !strings.ContainsRune(" \t\r\n;()", rune(v[j])) {
				if v[j] == '[' { // an address literal may not hold spaces, but keep it whole
					if k := strings.IndexByte(v[j:], ']'); k >= 0 {
						j += k
					}
				}
				j++
			}
			out = append(out, token{tWord, v[i:j]})
			i = j
		}
	}
	return out
}

// Parse reads a Received field value (the text after "Received:", folded
// or not). It never fails: what it cannot read stays zero.
func Parse(v string) Field {
	if len(v) > MaxFieldBytes {
		v = v[:MaxFieldBytes]
	}
	toks := tokenize(v)
	var f Field
	// The date follows the last semicolon outside comments (RFC 5321
	// §4.4); Courier writes "; date id X" after it.
	last := -1
	for i, t := range toks {
		if t.kind == tSemicolon {
			last = i
		}
	}
	var tail []token
	if last >= 0 {
		tail = toks[last+1:]
		f.Date = parseDate(tail)
		toks = toks[:last]
	}
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if t.kind != tWord || i+1 >= len(toks) || toks[i+1].kind != tWord {
			continue
		}
		next := toks[i+1].text
		// The comments after the clause's word belong to it.
		var comments []string
		for j := i + 2; j < len(toks) && toks[j].kind == tComment; j++ {
			comments = append(comments, toks[j].text)
		}
		switch strings.ToLower(t.text) {
		case "from":
			if !f.HasFrom && f.By == "" {
				f.HasFrom = true
				f.From = parseFrom(next, comments)
				i++
			}
		case "by":
			if f.By == "" {
				f.By = hostWord(next)
				if ip, ok := literal(next); ok {
					f.ByIP = ip
				}
				for _, c := range comments {
					if ip, ok := findIP(c); ok && !f.ByIP.IsValid() {
						f.ByIP = ip
					}
				}
				i++
			}
		case "via":
			if f.Via == "" {
				f.Via = next
				i++
			}
		case "with":
			if f.With == "" {
				f.With = next
				i++
			}
		case "id":
			if f.ID == "" {
				f.ID = strings.Trim(next, "<>")
				i++
			}
		case "for":
			if f.For == "" {
				f.For = strings.Trim(next, "<>,")
				i++
			}
		}
	}
	// Courier: "; date id X" gives the id after the date. The tokens
	// after the last semicolon are the ones tokenize found outside
	// comments and quoted strings.
	if f.ID == "" {
		for k := 0; k+1 < len(tail); k++ {
			if tail[k].kind == tWord && tail[k+1].kind == tWord && strings.EqualFold(tail[k].text, "id") {
				f.ID = strings.Trim(tail[k+1].text, "<>")
				break
			}
		}
	}
	return f
}

// parseDate reads the date-time after ";" (RFC 5322 §3.3), ignoring
// comments and anything after the zone (Courier's "id X").
func parseDate(toks []token) time.Time {
	var words []string
	for _, t := range toks {
		if t.kind != tWord {
			continue
		}
		if strings.EqualFold(t.text, "id") {
			break
		}
		words = append(words, t.text)
	}
	// Try the longest prefix that parses: the date is at most six words
	// (day-name, day, month, year, time, zone).
	for n := min(len(words), 6); n >= 4; n-- {
		s := strings.Join(words[:n], " ")
		// The RFC 5322 §3.3 form nearly every receiver writes, first:
		// mail.ParseDate tries dozens of layouts, and every one that
		// fails allocates an error. This layout is one of them, and any
		// layout that reads s reads the same instant.
		switch {
		case n == 6 && strings.HasSuffix(words[0], ","):
			if d, err := time.Parse(dateWithDay, s); err == nil {
				return d.UTC()
			}
		case n == 5 && !strings.HasSuffix(words[0], ","):
			if d, err := time.Parse(dateWithoutDay, s); err == nil {
				return d.UTC()
			}
		}
		if d, err := mail.ParseDate(s); err == nil {
			return d.UTC()
		}
	}
	return time.Time{}
}

// The common date-time forms (RFC 5322 §3.3, numeric zone); "2" reads a
// day of one or two digits.
const (
	dateWithDay    = "Mon, 2 Jan 2006 15:04:05 -0700"
	dateWithoutDay = "2 Jan 2006 15:04:05 -0700"
)

// parseFrom reads the from-clause: its word and the TCP-info comments.
//
// RFC 5321 §4.4: the TCP-info is the receiving MTA's own finding, the
// from-clause's domain the client's HELO. Postfix and Sendmail write
// "from [HELO-literal] (ptr [ip])", so the address comes from the
// comments; the word's literal counts only when they give none.
func parseFrom(word string, comments []string) From {
	var fr From
	fr.HELO = strings.TrimSuffix(word, ".")
	if strings.EqualFold(fr.HELO, "unknown") {
		// qmail writes "from unknown" when the client has no PTR name.
		fr.HELO = ""
	}
	ptrFromWord := ""
	// The receiving MTA's TCP-info comment is the last of the from-clause:
	// comments before it may be the client's own (a HELO such as
	// "a.example([127.0.0.1])"), so the address is taken from the last
	// comment that holds one.
	for i := len(comments) - 1; i >= 0; i-- {
		words := strings.Fields(comments[i])
		for k := 0; k < len(words); k++ {
			w := words[k]
			lw := strings.ToLower(w)
			switch {
			case strings.HasPrefix(lw, "helo="):
				// Exim: the word before is its verified host name.
				if h := strings.TrimSuffix(w[len("helo="):], "."); h != "" {
					if _, isLit := literal(word); !isLit {
						ptrFromWord = fr.HELO
					}
					fr.HELO = h
				}
			case lw == "helo" && k+1 < len(words):
				// qmail: "(HELO name)"; the from word is the PTR name.
				if fr.HELO != "" {
					ptrFromWord = fr.HELO
				}
				fr.HELO = strings.TrimSuffix(words[k+1], ".")
				k++
			default:
				if ip, ok := literal(w); ok {
					if !fr.IP.IsValid() {
						fr.IP = ip
					}
					// Postfix, Sendmail, Gmail: "(ptr [ip])". Sendmail
					// adds "(may be forged)" when the name does not
					// resolve back to ip: then it is no PTR name at all.
					if k > 0 && fr.PTR == "" && !mayBeForged(words[k+1:]) {
						if n := ptrName(words[k-1]); n != "" {
							fr.PTR = n
						}
					}
				} else if ip, ok := bareIP(w); ok && !fr.IP.IsValid() {
					// qmail "(192.0.2.1)" or "(user@192.0.2.1)",
					// Microsoft "(192.0.2.1)".
					fr.IP = ip
				}
			}
		}
	}
	if fr.PTR == "" && ptrFromWord != "" {
		fr.PTR = ptrName(ptrFromWord)
	}
	if ip, ok := literal(word); ok && !fr.IP.IsValid() {
		fr.IP = ip
	}
	return fr
}

// mayBeForged reports whether the words after a TCP-info literal begin
// with Sendmail's "(may be forged)".
func mayBeForged(words []string) bool {
	return len(words) >= 3 && strings.EqualFold(words[0], "(may") &&
		strings.EqualFold(words[1], "be") && strings.HasPrefix(strings.ToLower(words[2]), "forged)")
}

// ptrName returns the host name of a TCP-info word, after Sendmail's
// "ident@", when it is one (HostName).
func ptrName(w string) string {
	if i := strings.LastIndexByte(w, '@'); i >= 0 { // Sendmail "(ident@ptr [ip])"
		w = w[i+1:]
	}
	return HostName(w)
}

// HostName returns the word w of a Received field (a from-clause domain, a
// by-clause host, a TCP-info name) as a host name, ASCII letters
// lower-cased and without the final dot, when it is one: not "unknown",
// not an address or address literal, of two labels at least. Otherwise it
// returns "". It does not check the name's syntax further.
func HostName(w string) string {
	w = strings.TrimSuffix(w, ".")
	if w == "" || strings.EqualFold(w, "unknown") || strings.ContainsAny(w, "[]=:") || !strings.Contains(w, ".") {
		return ""
	}
	if _, err := netip.ParseAddr(w); err == nil {
		return ""
	}
	return lowerASCII(w)
}

// literal reads an address literal (RFC 5321 §4.1.3) "[192.0.2.1]" or
// "[IPv6:2001:db8::1]", also with Exim's ":port" after it.
func literal(w string) (netip.Addr, bool) {
	if !strings.HasPrefix(w, "[") {
		return netip.Addr{}, false
	}
	end := strings.IndexByte(w, ']')
	if end < 0 {
		return netip.Addr{}, false
	}
	s := w[1:end]
	if len(s) > 5 && strings.EqualFold(s[:5], "ipv6:") {
		s = s[5:]
	}
	ip, err := netip.ParseAddr(s)
	if err != nil || ip.Zone() != "" {
		return netip.Addr{}, false
	}
	return ip.Unmap(), true
}

// bareIP reads an address written without brackets, possibly after
// "ident@", or a literal.
func bareIP(w string) (netip.Addr, bool) {
	if i := strings.LastIndexByte(w, '@'); i >= 0 {
		w = w[i+1:]
	}
	if ip, ok := literal(w); ok {
		return ip, true
	}
	ip, err := netip.ParseAddr(strings.Trim(w, ","))
	if err != nil || ip.Zone() != "" {
		return netip.Addr{}, false
	}
	return ip.Unmap(), true
}

// findIP returns the first address in a comment.
func findIP(c string) (netip.Addr, bool) {
	for _, w := range strings.Fields(c) {
		if ip, ok := bareIP(w); ok {
			return ip, true
		}
	}
	return netip.Addr{}, false
}

// hostWord normalizes a by-clause word: lower case, no final dot.
func hostWord(w string) string {
	return lowerASCII(strings.TrimSuffix(w, "."))
}

// lowerASCII lower-cases the ASCII letters of a host name and leaves other
// octets as written: strings.ToLower would turn each invalid UTF-8 octet a
// sender wrote into a three-octet U+FFFD.
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}
