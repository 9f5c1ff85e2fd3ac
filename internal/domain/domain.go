// Package domain holds the name arithmetic the checks share: normalizing a
// domain as written in mail, and finding its organizational domain with the
// public suffix list (RFC 7489 §3.2).
package domain

import (
	"strings"

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
	org, err := publicsuffix.EffectiveTLDPlusOne(n)
	if err != nil {
		return n
	}
	return org
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
