// Package domain holds the name arithmetic the checks share: normalizing a
// domain as written in mail, and finding its organizational domain with the
// public suffix list (RFC 7489 §3.2).
package domain

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
	"golang.org/x/net/publicsuffix"
)

// Normalize lower-cases name and removes one trailing dot, so that
// "Example.ORG." and "example.org" compare equal (RFC 7489 §3.1: domain
// comparisons are case-insensitive).
func Normalize(name string) string {
	return strings.ToLower(strings.TrimSuffix(name, "."))
}

// Org returns the organizational domain of name (RFC 7489 §3.2): the public
// suffix plus one label. Under a TLD the list does not know, the list's
// default rule "*" applies, so "bounce.shop.example" belongs to
// "shop.example". A name that is itself a public suffix is returned as is.
func Org(name string) string {
	n := Normalize(name)
	if n == "" {
		return ""
	}
	// publicsuffix.EffectiveTLDPlusOne, without the error it allocates for
	// every name it cannot shorten (a public suffix, an empty label): Org
	// is asked about every name of every message.
	if n[0] == '.' || n[len(n)-1] == '.' || strings.Contains(n, "..") {
		return n
	}
	suffix, _ := publicsuffix.PublicSuffix(n)
	if len(n) <= len(suffix) {
		return n
	}
	i := len(n) - len(suffix) - 1
	if n[i] != '.' {
		return n
	}
	return n[1+strings.LastIndexByte(n[:i], '.'):]
}

// IsPublicSuffix reports whether name is itself a public suffix ("com",
// "co.uk"), under which organizations register names.
func IsPublicSuffix(name string) bool {
	n := Normalize(name)
	ps, _ := publicsuffix.PublicSuffix(n)
	return n != "" && ps == n
}

// SameOrg reports whether a and b share an organizational domain (relaxed
// alignment, RFC 7489 §3.1.1).
func SameOrg(a, b string) bool {
	oa, ob := Org(a), Org(b)
	return oa != "" && oa == ob
}

// IsSubdomain reports whether name equals parent or lies below it.
func IsSubdomain(name, parent string) bool {
	n, p := Normalize(name), Normalize(parent)
	return n == p || strings.HasSuffix(n, "."+p)
}

// TLD returns the last label of name.
func TLD(name string) string {
	n := Normalize(name)
	if i := strings.LastIndexByte(n, '.'); i >= 0 {
		return n[i+1:]
	}
	return n
}

// ListedTLD reports whether the public suffix list knows the top-level
// domain of name under its ICANN section. Callers ask DNS about the others:
// in an offline replay the zone data decides which TLDs exist.
func ListedTLD(name string) bool {
	tld := TLD(name)
	if tld == "" {
		return false
	}
	_, icann := publicsuffix.PublicSuffix(tld)
	return icann
}

// Reserved reports whether name lies under a special-use TLD that never
// resolves on the public DNS: "invalid" and "localhost" (RFC 6761 §6.4,
// §6.3).
func Reserved(name string) bool {
	switch TLD(name) {
	case "invalid", "localhost":
		return true
	}
	return false
}

// ErrInvalid is wrapped by Valid's errors.
var ErrInvalid = errors.New("domain: invalid name")

// Valid reports whether name, as written in mail, is a usable DNS name for
// a mail domain: RFC 5321 §4.1.2 sub-domain syntax (letters, digits and
// inner hyphens), RFC 1035 §2.3.4 limits (labels of 1 to 63 octets, 253 in
// all), and a top-level label that is not all digits, so that an IP address
// written without brackets is not taken for a name (RFC 3696 §2). One
// trailing dot and any letter case are accepted, as Normalize removes them.
//
// Valid checks syntax only and never asks DNS. Internationalized names
// must be in A-label form ("xn--"); U-labels are refused, since converting
// them (RFC 8616 §4) is not done here.
func Valid(name string) error {
	n := strings.TrimSuffix(name, ".")
	if n == "" {
		return fmt.Errorf("%w: empty name", ErrInvalid)
	}
	if len(n) > 253 {
		return fmt.Errorf("%w: longer than 253 octets", ErrInvalid)
	}
	for l := range strings.SplitSeq(n, ".") {
		if l == "" {
			return fmt.Errorf("%w: empty label in %q", ErrInvalid, name)
		}
		if len(l) > 63 {
			return fmt.Errorf("%w: label longer than 63 octets", ErrInvalid)
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			switch {
			case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
			case c == '-':
				if i == 0 || i == len(l)-1 {
					return fmt.Errorf("%w: label %q starts or ends with a hyphen", ErrInvalid, l)
				}
			case c >= 0x80:
				return fmt.Errorf("%w: non-ASCII octet in %q (not an A-label)", ErrInvalid, name)
			default:
				return fmt.Errorf("%w: invalid octet %q in %q", ErrInvalid, c, name)
			}
		}
	}
	tld := n[strings.LastIndexByte(n, '.')+1:]
	if strings.Trim(tld, "0123456789") == "" {
		return fmt.Errorf("%w: all-numeric top-level label in %q", ErrInvalid, name)
	}
	return nil
}

// ToASCII returns name with its U-labels converted to A-labels (RFC 5890
// §2.3.2.1, with the IDNA2008 lookup mapping of RFC 5891 §5), the form DNS
// holds, so that "bücher.example" is asked and aligned as
// "xn--bcher-kva.example". A name that is already ASCII, or that cannot
// be converted, is returned unchanged; Valid then refuses the latter.
func ToASCII(name string) string {
	ascii := true
	for i := 0; i < len(name); i++ {
		if name[i] >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii || !utf8.ValidString(name) {
		return name
	}
	a, err := idna.Lookup.ToASCII(name)
	if err != nil || strings.Trim(a, ".") == "" {
		// RFC 5891 §5.2 (UTS #46 mapping) deletes some code points, such
		// as variation selectors: a name of nothing else maps to no name
		// at all, which is not a conversion.
		return name
	}
	return a
}

// MayBeIP reports whether netip.ParseAddr could accept s: an IPv6 address
// holds a colon, an IPv4 address only digits and dots. Ask it first:
// ParseAddr allocates its error, and nearly every name is no address.
func MayBeIP(s string) bool {
	if strings.IndexByte(s, ':') >= 0 {
		return true
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c != '.' && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}
