package helo

import (
	"net/netip"
	"strings"

	"github.com/mailtrust/mailtrust/internal/domain"
)

// Code is a stable machine reason carried in Result.Code.
type Code string

// Codes.
const (
	// StatusInvalid names (no DNS is asked).
	CodeEmpty       Code = "empty"        // nothing given
	CodeLocalhost   Code = "localhost"    // localhost, localhost.localdomain, *.localhost
	CodeBareIP      Code = "bare-ip"      // an IP address without brackets
	CodeSingleLabel Code = "single-label" // no dot: a local alias, not an FQDN
	CodeSyntax      Code = "syntax"       // not an RFC 5321 Domain
	CodeReservedTLD Code = "reserved-tld" // a special-use TLD (invalid, local, onion, ...)
	CodeBadLiteral  Code = "bad-literal"  // a malformed address literal
	CodeUnknownTLD  Code = "unknown-tld"  // DNS says the TLD does not exist

	// Outcomes of the comparison with the connecting address.
	CodeLiteralMatch    Code = "literal-match"    // pass: the literal is the address
	CodeLiteralMismatch Code = "literal-mismatch" // fail: the literal is another address
	CodeMatch           Code = "match"            // pass: the name resolves to the address
	CodeOtherIP         Code = "other-ip"         // fail: the name resolves elsewhere
	CodeNXDomain        Code = "nxdomain"         // none: the name does not exist
	CodeNoAddress       Code = "no-address"       // none: the name has no A or AAAA
	CodeDNSPermanent    Code = "dns-permanent"    // none: the answer is broken (CNAME loop)
	CodeDNSTemporary    Code = "dns-temporary"    // temperror
	CodeNoIP            Code = "no-ip"            // none: no valid connecting address given
)

// Syntax checks the EHLO/HELO argument without DNS. It returns ok for a
// fully qualified domain name (RFC 5321 §2.3.5, §4.1.2) or a well-formed
// address literal (RFC 5321 §4.1.3), with an empty code; otherwise one of
// the invalid codes (CodeEmpty, CodeLocalhost, CodeBareIP,
// CodeSingleLabel, CodeSyntax, CodeReservedTLD, CodeBadLiteral).
//
// One trailing dot is accepted: it only says the name is absolute.
// Whether the TLD exists is a DNS question, left to Check.
func Syntax(name string) (code Code, ok bool) {
	if strings.TrimSpace(name) == "" {
		return CodeEmpty, false
	}
	if name[0] == '[' {
		if _, ok := parseLiteral(name); !ok {
			return CodeBadLiteral, false
		}
		return "", true
	}
	n := asciiLower(strings.TrimSuffix(name, "."))
	// RFC 6761 §6.3: localhost names are the host itself; "localhost.localdomain"
	// is the common misconfigured spelling of the same.
	if n == "localhost" || n == "localhost.localdomain" || strings.HasSuffix(n, ".localhost") {
		return CodeLocalhost, false
	}
	// RFC 5321 §4.1.3: an address is given as a literal in brackets, never bare.
	if bareIP(n) {
		return CodeBareIP, false
	}
	// RFC 5321 §4.5.3.1.2 and RFC 1035 §2.3.4: 255 octets on the wire, so
	// 253 in text; labels of 1 to 63 octets.
	if n == "" || len(n) > 253 {
		return CodeSyntax, false
	}
	labels := strings.Split(n, ".")
	for _, l := range labels {
		if !ldh(l) {
			return CodeSyntax, false
		}
	}
	// RFC 5321 §2.3.5: a name not in FQDN form is a local alias and MUST
	// NOT appear in an SMTP transaction.
	if len(labels) == 1 {
		return CodeSingleLabel, false
	}
	tld := labels[len(labels)-1]
	// RFC 3696 §2: a TLD is never all-numeric (that would read as an
	// address).
	if strings.Trim(tld, "0123456789") == "" {
		return CodeSyntax, false
	}
	if reservedTLD(n, tld) {
		return CodeReservedTLD, false
	}
	return "", true
}

// ldh reports whether l is an RFC 5321 §4.1.2 sub-domain: 1 to 63 letters,
// digits and hyphens, starting and ending with a letter or digit.
// Underscores and other octets are not hostname characters (RFC 1123
// §2.1); internationalized names travel as A-labels ("xn--"), which are
// LDH.
func ldh(l string) bool {
	if len(l) == 0 || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
		return false
	}
	for i := 0; i < len(l); i++ {
		c := l[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// reservedTLD reports special-use names that never name a host on the
// public DNS, so no DNS question is needed.
func reservedTLD(n, tld string) bool {
	switch tld {
	case "invalid", // RFC 6761 §6.4
		"local",    // RFC 6762 §3: multicast DNS, link-local
		"onion",    // RFC 7686 §2
		"internal": // reserved by ICANN (2024) for private networks
		return true
	}
	return n == "home.arpa" || strings.HasSuffix(n, ".home.arpa") // RFC 8375
}

// bareIP reports an IP address written without brackets: IPv4 in dotted
// decimal (leading zeros too), IPv6, or IPv6 with the literal's tag.
func bareIP(n string) bool {
	if domain.MayBeIP(n) {
		if _, err := netip.ParseAddr(n); err == nil {
			return true
		}
	}
	if rest, ok := strings.CutPrefix(n, "ipv6:"); ok {
		if _, err := netip.ParseAddr(rest); err == nil {
			return true
		}
	}
	_, ok := parseIPv4(n)
	return ok
}

// parseLiteral parses an RFC 5321 §4.1.3 address literal: "[" IPv4 "]"
// or "[IPv6:" IPv6 "]". The tag is case-insensitive (RFC 5234 §2.3).
// General-address-literals (another tag) name no registered address type
// and are refused.
func parseLiteral(s string) (netip.Addr, bool) {
	if len(s) < 3 || s[0] != '[' || s[len(s)-1] != ']' {
		return netip.Addr{}, false
	}
	inner := s[1 : len(s)-1]
	if len(inner) > 5 && strings.EqualFold(inner[:5], "ipv6:") {
		a, err := netip.ParseAddr(inner[5:])
		// A zone ("%eth0") is no part of the RFC 4291 text form the
		// literal allows.
		if err != nil || !a.Is6() || a.Zone() != "" {
			return netip.Addr{}, false
		}
		return a, true
	}
	return parseIPv4(inner)
}

// parseIPv4 parses RFC 5321 §4.1.3 IPv4-address-literal content:
// Snum 3("." Snum), Snum being 1 to 3 digits worth 0 to 255. Unlike
// netip.ParseAddr it accepts leading zeros, as the grammar does.
func parseIPv4(s string) (netip.Addr, bool) {
	parts := strings.Split(s, ".")
	if len(parts) != 4 {
		return netip.Addr{}, false
	}
	var b [4]byte
	for i, p := range parts {
		if len(p) == 0 || len(p) > 3 {
			return netip.Addr{}, false
		}
		v := 0
		for j := 0; j < len(p); j++ {
			if p[j] < '0' || p[j] > '9' {
				return netip.Addr{}, false
			}
			v = v*10 + int(p[j]-'0')
		}
		if v > 255 {
			return netip.Addr{}, false
		}
		b[i] = byte(v)
	}
	return netip.AddrFrom4(b), true
}

// asciiLower lower-cases A to Z only (RFC 4343 §3); other octets stay, so
// that the syntax check still sees them.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
