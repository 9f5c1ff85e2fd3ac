package ptr

import (
	"encoding/binary"
	"encoding/hex"
	"net/netip"
	"strconv"
	"strings"

	"github.com/mailtrust/mailtrust/internal/domain"
)

// Reasons IsGeneric gives.
const (
	// GenericEmbedsIP: the name carries the address itself, in any common
	// spelling ("4-3-2-1.cable.isp.example", "c0000210.example", IPv6
	// nibbles or groups).
	GenericEmbedsIP = "embeds-ip"
	// GenericIPPattern: the host part carries four octet-like numbers in a
	// row, though not those of the address.
	GenericIPPattern = "ip-pattern"
	// GenericPoolWord is the prefix of "pool-word:WORD": the host part has
	// a token that access providers use for pool names.
	GenericPoolWord = "pool-word:"
)

// IsGeneric reports whether name looks like a name an access or hosting
// provider gives wholesale to the addresses of a pool (residential,
// dynamic, DSL, cable), as opposed to a name an operator chose for a mail
// server, and names the rule that matched. ip may be the zero Addr, when
// only the pool-word and pattern rules apply.
//
// The rules, in order:
//   - embeds-ip: the address appears in the name: its four octets as
//     numbers in a row, forwards or reversed, joined by ".", "-" or "_",
//     zero-padded or not ("host-192-0-2-10", "10.2.0.192.dsl",
//     "192-000-002-010"); as 12 padded digits, 8 hex digits ("c0000210") or
//     one 32-bit decimal; for IPv6, the 32 nibbles forwards or reversed
//     (separators ignored) or the groups of a label joined by "-"
//     ("2001-db8--1").
//   - The remaining rules read only the host part, the labels left of the
//     organizational domain (RFC 7489 §3.2): the registered domain names
//     the company, so "mx1.dsl-provider.example" is not a pool name. They
//     do not apply when the first label is a mail-server word (mail, mx,
//     smtp, mta, relay, out, ...) such as "mail.cable.example.org".
//   - ip-pattern: four octet-like numbers in a row ("1-2-3-4.example.net").
//   - pool-word:W: a token, split on "." and "-" and with trailing digits
//     removed ("dsl12"), is a pool word (dyn, dynamic, dhcp, dsl, adsl,
//     cable, pool, ppp, broadband, residential, dial, dialup, cpe, ...) or a
//     weaker word (customer, client, user, res, home, host, ip, static,
//     ...) that counts only next to three octet-like numbers in a row
//     ("client-45-12-9.isp.example"). Words inside tokens do not count:
//     "mail.customerservice.example" is not generic.
func IsGeneric(name string, ip netip.Addr) (bool, string) {
	n := asciiLower(strings.TrimSuffix(name, "."))
	if n == "" || len(n) > 253 {
		return false, ""
	}
	ip = ip.Unmap().WithZone("")
	if (ip.Is4() && embedsIPv4(n, ip)) || (ip.Is6() && embedsIPv6(n, ip)) {
		return true, GenericEmbedsIP
	}

	host := hostPart(n)
	if host == "" {
		return false, ""
	}
	first, _, _ := strings.Cut(host, ".")
	for _, t := range strings.FieldsFunc(first, isSep) {
		if mailWord(strings.TrimRight(t, digits)) {
			return false, ""
		}
	}
	tokens := strings.FieldsFunc(host, isSep)
	if octetRun(tokens) >= 4 {
		return true, GenericIPPattern
	}
	fragment := octetRun(tokens) >= 3
	for _, t := range tokens {
		w := strings.TrimRight(t, digits)
		if poolWord(w) || (fragment && weakPoolWord(w)) {
			return true, GenericPoolWord + w
		}
	}
	return false, ""
}

const digits = "0123456789"

// asciiLower lower-cases A to Z only: DNS names compare so (RFC 4343 §3),
// and other bytes must stay as they are.
func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
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

func isSep(r rune) bool { return r == '.' || r == '-' || r == '_' }

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// hostPart is name without its organizational domain; empty when name is
// itself an organizational domain or a public suffix.
func hostPart(n string) string {
	org := domain.Org(n)
	if org == "" || org == n || !strings.HasSuffix(n, "."+org) {
		return ""
	}
	return strings.TrimSuffix(n, "."+org)
}

// octet parses s as an octet written with 1 to 3 digits.
func octet(s string) (int, bool) {
	if len(s) == 0 || len(s) > 3 {
		return 0, false
	}
	v := 0
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return 0, false
		}
		v = v*10 + int(s[i]-'0')
	}
	return v, v <= 255
}

// octetRun returns the longest run of consecutive octet-like tokens. A
// token of letters and trailing digits ("host86") may start a run.
func octetRun(tokens []string) int {
	best, run := 0, 0
	for _, t := range tokens {
		if _, ok := octet(t); ok {
			run++
		} else if tail := t[len(strings.TrimRight(t, digits)):]; tail != "" && len(tail) < len(t) {
			if _, ok := octet(tail); ok {
				run = 1
			} else {
				run = 0
			}
		} else {
			run = 0
		}
		best = max(best, run)
	}
	return best
}

// embedsIPv4 looks for the four octets of ip in n.
func embedsIPv4(n string, ip netip.Addr) bool {
	o := ip.As4()
	r := [4]byte{o[3], o[2], o[1], o[0]}
	// The forms looked for, built on the stack: this runs for every
	// message.
	padded := func(b [4]byte) (out [12]byte) {
		for i, x := range b {
			out[3*i], out[3*i+1], out[3*i+2] = '0'+x/100, '0'+x/10%10, '0'+x%10
		}
		return out
	}
	pfb, prb := padded(o), padded(r)
	pf, pr := pfb[:], prb[:]
	var decb [10]byte
	dec := strconv.AppendUint(decb[:0], uint64(binary.BigEndian.Uint32(o[:])), 10)

	// Runs of digits; consecutive runs split by exactly one separator
	// form a chain, whose last four values are compared.
	var chain []int
	prevEnd := -1
	for i := 0; i < len(n); {
		if !isDigit(n[i]) {
			i++
			continue
		}
		j := i
		for j < len(n) && isDigit(n[j]) {
			j++
		}
		s := n[i:j]
		if s == string(pf) || s == string(pr) || (len(dec) >= 8 && s == string(dec)) {
			return true
		}
		v, ok := octet(s)
		if !ok {
			v = -1
		}
		if prevEnd >= 0 && i == prevEnd+1 && isSep(rune(n[prevEnd])) {
			chain = append(chain, v)
		} else {
			chain = append(chain[:0], v)
		}
		if k := len(chain); k >= 4 {
			c := chain[k-4:]
			if matchOctets(c, o) || matchOctets(c, r) {
				return true
			}
		}
		prevEnd = j
		i = j
	}

	var hfb, hrb [8]byte
	hex.Encode(hfb[:], o[:])
	hex.Encode(hrb[:], r[:])
	for t := range strings.FieldsFuncSeq(n, isSep) {
		if strings.Contains(t, string(hfb[:])) || strings.Contains(t, string(hrb[:])) {
			return true
		}
	}
	return false
}

func matchOctets(c []int, o [4]byte) bool {
	for i := range 4 {
		if c[i] != int(o[i]) {
			return false
		}
	}
	return true
}

// embedsIPv6 looks for ip in n: all 32 nibbles, or groups joined by "-"
// or "." that parse as ip.
func embedsIPv6(n string, ip netip.Addr) bool {
	a := ip.As16()
	nib := hex.EncodeToString(a[:])
	rev := []byte(nib)
	for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
		rev[i], rev[j] = rev[j], rev[i]
	}
	compact := strings.Map(func(r rune) rune {
		if isSep(r) {
			return -1
		}
		return r
	}, n)
	if strings.Contains(compact, nib) || strings.Contains(compact, string(rev)) {
		return true
	}

	if groupsMatch(strings.Split(n, "."), ip) {
		return true
	}
	for _, label := range strings.Split(n, ".") {
		if groupsMatch(strings.Split(label, "-"), ip) {
			return true
		}
	}
	return false
}

// groupsMatch reports whether some window of tokens, joined by ":", is
// ip. Empty tokens stand for "::" ("2001-db8--1"). A window spans at most
// ten tokens: eight groups and the empty ones of a "::".
func groupsMatch(tokens []string, ip netip.Addr) bool {
	for i := range tokens {
		if !isHex(tokens[i]) {
			continue
		}
		for j := i + 2; j <= len(tokens) && j-i <= 10; j++ {
			if !isHex(tokens[j-1]) {
				break
			}
			a, err := netip.ParseAddr(strings.Join(tokens[i:j], ":"))
			if err == nil && a == ip {
				return true
			}
		}
	}
	return false
}

// isHex reports whether s is empty or up to four hex digits.
func isHex(s string) bool {
	if len(s) > 4 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isDigit(c) && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// poolWord: tokens that on their own mark a pool name. They follow the
// naming that SpamAssassin's RDNS_DYNAMIC and HELO_DYNAMIC rules, rspamd's
// dynamic-rdns checks and Spamhaus PBL guidance describe.
func poolWord(w string) bool {
	switch w {
	case "dyn", "dynamic", "dynip", "dynamicip",
		"dhcp", "dsl", "adsl", "vdsl", "xdsl", "sdsl", "hdsl",
		"cable", "cablemodem", "modem", "cpe",
		"pool", "ppp", "pppoe", "pppoa",
		"dial", "dialup", "dialin",
		"broadband", "residential", "ftth", "fttx":
		return true
	}
	return false
}

// weakPoolWord: tokens that mark a pool name only next to octet-like
// numbers; alone they name servers too ("host1", "static.example.org").
func weakPoolWord(w string) bool {
	switch w {
	case "customer", "customers", "cust", "client", "clients",
		"user", "users", "subscriber", "subscribers",
		"res", "resi", "home", "host", "ip", "ipv4", "ipv6",
		"static", "staticip", "nat", "unassigned", "wireless", "mobile":
		return true
	}
	return false
}

// mailWord: first-label tokens that show an operator named the host as a
// mail server.
func mailWord(w string) bool {
	switch w {
	case "mail", "email", "mx", "smtp", "mta", "relay", "out", "outbound",
		"mailout", "smtpout", "mailer", "mailgw", "bounce", "bounces":
		return true
	}
	return false
}
