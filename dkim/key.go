package dkim

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	_ "crypto/sha1" // rsa-sha1, verified only when Policy.AllowSHA1
	_ "crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"

	"github.com/mailtrust/mailtrust/resolver"
)

// Key is a DKIM public key record (RFC 6376 §3.6.1, RFC 8463 §4).
type Key struct {
	// Algorithm is the key type of k=: "rsa" (the default) or "ed25519".
	Algorithm string
	// Public is a *rsa.PublicKey or an ed25519.PublicKey.
	Public crypto.PublicKey
	// Bits is the RSA modulus length; 256 for ed25519.
	Bits int
	// Hashes lists the hash algorithms h= accepts ("sha256"), lower case;
	// nil when h= is absent: any.
	Hashes []string
	// Flags lists the t= flags: "y" (the domain is testing DKIM) and "s"
	// (i= must be in d= itself, not a subdomain). Unknown flags are kept
	// and ignored (RFC 6376 §3.6.1).
	Flags []string
	// Services lists the s= service types; nil when s= is absent ("*").
	Services []string
	// Record is the TXT record as published.
	Record string
}

// Policy is the verifier's crypto policy (RFC 8301). The zero value is the
// RFC's: RSA keys of at least 1024 bits, no rsa-sha1.
type Policy struct {
	// MinRSABits is the shortest RSA key accepted. Zero, and any value
	// under 1024, mean 1024: RFC 8301 §3.2 forbids accepting shorter.
	MinRSABits int
	// AllowSHA1 accepts rsa-sha1 signatures, which RFC 8301 §3.1 says
	// verifiers MUST NOT consider valid. For studying old mail only.
	AllowSHA1 bool
}

func (p Policy) minRSABits() int { return max(p.MinRSABits, minRSABits) }

const (
	// RFC 8301 §3.2: keys under 1024 bits are never valid.
	minRSABits = 1024
	// maxRSABits bounds the cost of one verification. RFC 8301 §3.2
	// requires 1024 to 4096 bits; longer keys "MAY" be supported.
	maxRSABits = 8192
)

// Testing reports whether the key has the t=y flag: the domain is testing
// DKIM, and RFC 6376 §3.6.1 asks verifiers not to treat its messages
// differently from unsigned mail.
func (k *Key) Testing() bool { return slices.Contains(k.Flags, "y") }

// Strict reports whether the key has the t=s flag: i= must have exactly
// the domain of d= (RFC 6376 §3.6.1).
func (k *Key) Strict() bool { return slices.Contains(k.Flags, "s") }

// ForEmail reports whether s= allows the key for email (RFC 6376 §3.6.1:
// "email" or "*"; s= absent means "*").
func (k *Key) ForEmail() bool {
	return k.Services == nil || slices.Contains(k.Services, "email") || slices.Contains(k.Services, "*")
}

// ParseKeyRecord parses a DKIM key record, the text of one TXT record
// with its strings joined (RFC 6376 §3.6.1, §3.6.2.2). v=, if present, must
// be the first tag and be "DKIM1"; p= must be present, and empty means
// revoked (ErrKeyRevoked). p= is base64 of a SubjectPublicKeyInfo or, as
// some publish (RFC 6376 erratum 3017), a PKCS#1 RSAPublicKey for rsa, and
// the raw 32-octet key for ed25519 (RFC 8463 §4.2). Other errors wrap
// ErrKeyMalformed, an unknown k= included.
func ParseKeyRecord(txt string) (*Key, error) {
	tags, err := ParseTagList(txt)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKeyMalformed, err)
	}
	if v, ok := tags.Get("v"); ok && (tags[0].Name != "v" || v != "DKIM1") {
		// RFC 6376 §3.6.1 v=: "This tag MUST be the first tag in the
		// record. Records beginning with a "v=" tag with any other value
		// MUST be discarded."
		return nil, fmt.Errorf("%w: v=%s", ErrKeyMalformed, v)
	}
	p, ok := tags.Get("p")
	if !ok {
		return nil, fmt.Errorf("%w: no p=", ErrKeyMalformed)
	}
	p = stripFWS(p)
	if p == "" {
		return nil, ErrKeyRevoked
	}
	k := &Key{Algorithm: "rsa", Record: txt}
	if v, ok := tags.Get("k"); ok {
		k.Algorithm = strings.ToLower(v)
	}
	der, err := decodeBase64(p)
	if err != nil {
		return nil, fmt.Errorf("%w: p=: %v", ErrKeyMalformed, err)
	}
	switch k.Algorithm {
	case "rsa":
		pub, err := parseRSAKey(der)
		if err != nil {
			return nil, fmt.Errorf("%w: p=: %v", ErrKeyMalformed, err)
		}
		k.Public, k.Bits = pub, pub.N.BitLen()
	case "ed25519":
		pub, err := parseEd25519Key(der)
		if err != nil {
			return nil, fmt.Errorf("%w: p=: %v", ErrKeyMalformed, err)
		}
		k.Public, k.Bits = pub, 256
	default:
		// RFC 6376 §3.6.1 k=: the key cannot be used with any a= this
		// verifier knows.
		return nil, fmt.Errorf("%w: unsupported key type k=%s", ErrKeyMalformed, k.Algorithm)
	}
	if v, ok := tags.Get("h"); ok {
		k.Hashes = listLower(v)
	}
	if v, ok := tags.Get("s"); ok {
		k.Services = listLower(v)
	}
	if v, ok := tags.Get("t"); ok {
		k.Flags = listLower(v)
	}
	return k, nil
}

func listLower(v string) []string {
	out := []string{}
	for _, e := range splitColonList(v) {
		if e != "" {
			out = append(out, strings.ToLower(e))
		}
	}
	return out
}

func parseRSAKey(der []byte) (*rsa.PublicKey, error) {
	if pub, err := x509.ParsePKIXPublicKey(der); err == nil {
		rk, ok := pub.(*rsa.PublicKey)
		if !ok {
			return nil, fmt.Errorf("not an RSA key (%T)", pub)
		}
		return rk, nil
	}
	return x509.ParsePKCS1PublicKey(der)
}

func parseEd25519Key(der []byte) (ed25519.PublicKey, error) {
	if len(der) == ed25519.PublicKeySize {
		return ed25519.PublicKey(der), nil
	}
	// Not RFC 8463's form, but unambiguous: a SubjectPublicKeyInfo.
	if pub, err := x509.ParsePKIXPublicKey(der); err == nil {
		if ek, ok := pub.(ed25519.PublicKey); ok {
			return ek, nil
		}
	}
	return nil, fmt.Errorf("ed25519 key of %d octets", len(der))
}

// decodeBase64 decodes base64 with or without padding.
func decodeBase64(s string) ([]byte, error) {
	return base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "="))
}

// KeyName returns the DNS name of the key for selector and domain,
// selector._domainkey.domain (RFC 6376 §3.6.2.1), after checking both
// parts with resolver.CheckName: an empty label, a trailing dot, a NUL or a
// space in either is an error wrapping ErrInvalidName, never a name cut
// short or asked as written.
func KeyName(selector, domain string) (string, error) {
	for _, part := range [...]struct{ tag, v string }{{"s", selector}, {"d", domain}} {
		if strings.HasSuffix(part.v, ".") {
			return "", fmt.Errorf("%w: %s=%q: trailing dot", ErrInvalidName, part.tag, part.v)
		}
		if err := resolver.CheckName(part.v); err != nil {
			return "", fmt.Errorf("%w: %s=%q: %v", ErrInvalidName, part.tag, part.v, err)
		}
	}
	// Built in one buffer, lower case, with the final dot.
	b := make([]byte, 0, len(selector)+len("._domainkey.")+len(domain)+1)
	for _, part := range [...]string{selector, "._domainkey.", domain} {
		for i := 0; i < len(part); i++ {
			c := part[i]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			b = append(b, c)
		}
	}
	name := string(append(b, '.'))
	if err := resolver.CheckName(name[:len(name)-1]); err != nil {
		return "", fmt.Errorf("%w: %q: %v", ErrInvalidName, selector+"._domainkey."+domain, err)
	}
	return name, nil
}

// LookupKey fetches and parses the key of selector and domain
// (RFC 6376 §3.6.2). The resolver follows CNAMEs, as a provider's
// delegated selectors need. Of several TXT records, the first that parses
// is used (RFC 6376 §6.1.2 lets a verifier cycle through them); when none
// does, the first record's error is returned, ErrKeyRevoked before others.
//
// Errors: ErrInvalidName for a bad selector or domain; ErrKeyNotFound for
// NXDOMAIN, NODATA or a permanent DNS failure; ErrKeyUnavailable, also
// wrapping the resolver's error so that resolver.IsTemporary holds, for a
// temporary one; ErrKeyRevoked; ErrKeyMalformed.
func LookupKey(ctx context.Context, r resolver.Resolver, selector, domain string) (*Key, error) {
	return lookupKey(ctx, r, selector, domain, ParseKeyRecord)
}

func lookupKey(ctx context.Context, r resolver.Resolver, selector, domain string, parse func(string) (*Key, error)) (*Key, error) {
	name, err := KeyName(selector, domain)
	if err != nil {
		return nil, err
	}
	txts, _, err := resolver.TXT(ctx, r, name)
	if err != nil {
		if resolver.IsTemporary(err) {
			return nil, fmt.Errorf("%w: %w", ErrKeyUnavailable, err)
		}
		return nil, fmt.Errorf("%w: %w", ErrKeyNotFound, err)
	}
	if len(txts) == 0 {
		return nil, fmt.Errorf("%w: %s", ErrKeyNotFound, strings.TrimSuffix(name, "."))
	}
	var firstErr error
	for _, txt := range txts {
		k, err := parse(txt)
		if err == nil {
			return k, nil
		}
		if firstErr == nil || (err == ErrKeyRevoked && firstErr != ErrKeyRevoked) {
			firstErr = err
		}
	}
	return nil, firstErr
}

// HashFor returns the hash of signature algorithm a (RFC 6376 §3.3,
// RFC 8463 §3): crypto.SHA256 for rsa-sha256 and ed25519-sha256,
// crypto.SHA1 for rsa-sha1. Anything else is an error wrapping
// ErrUnsupported.
func HashFor(a string) (crypto.Hash, error) {
	switch strings.ToLower(a) {
	case "rsa-sha256", "ed25519-sha256":
		return crypto.SHA256, nil
	case "rsa-sha1":
		return crypto.SHA1, nil
	}
	return 0, fmt.Errorf("%w: algorithm a=%s", ErrUnsupported, a)
}

// Verify checks sig, the decoded b=, against digest, the hash of the
// signed header data, for signature algorithm a under policy p. For
// ed25519-sha256 the signed message is the SHA-256 digest itself
// (RFC 8463 §3); for RSA it is PKCS #1 v1.5 (RFC 6376 §3.3.1).
//
// Errors: ErrUnsupported for an unknown a= or an RSA key over 8192 bits;
// ErrKeyAlgorithmMismatch when k= does not fit a=; ErrHashNotAllowed when
// the key's h= excludes the hash; ErrWeakHash (matching ErrPolicy) for
// rsa-sha1 unless allowed; ErrKeyTooShort (matching ErrPolicy) for an RSA
// key under the policy's minimum; ErrSignatureMismatch.
func (k *Key) Verify(a string, p Policy, digest []byte, sig []byte) error {
	h, err := k.check(a, p)
	if err != nil {
		return err
	}
	switch pub := k.Public.(type) {
	case *rsa.PublicKey:
		if rsa.VerifyPKCS1v15(pub, h, digest, sig) != nil {
			return ErrSignatureMismatch
		}
		return nil
	case ed25519.PublicKey:
		if !ed25519.Verify(pub, digest, sig) {
			return ErrSignatureMismatch
		}
		return nil
	}
	return fmt.Errorf("%w: key type %T", ErrUnsupported, k.Public)
}

// check is Verify without the cryptography: whether the key may verify a
// signature of algorithm a under p, and with which hash.
func (k *Key) check(a string, p Policy) (crypto.Hash, error) {
	h, err := HashFor(a)
	if err != nil {
		return 0, err
	}
	keyAlg, hashAlg, _ := strings.Cut(strings.ToLower(a), "-")
	if keyAlg != k.Algorithm {
		return 0, fmt.Errorf("%w: key is %s, signature %s", ErrKeyAlgorithmMismatch, k.Algorithm, a)
	}
	if k.Hashes != nil && !slices.Contains(k.Hashes, hashAlg) {
		return 0, fmt.Errorf("%w: key allows %s, signature uses %s", ErrHashNotAllowed, strings.Join(k.Hashes, ":"), hashAlg)
	}
	if h == crypto.SHA1 && !p.AllowSHA1 {
		return 0, ErrWeakHash
	}
	switch pub := k.Public.(type) {
	case *rsa.PublicKey:
		bits := pub.N.BitLen()
		if least := p.minRSABits(); bits < least {
			return 0, fmt.Errorf("%w: %d bits, %d required", ErrKeyTooShort, bits, least)
		}
		if bits > maxRSABits {
			return 0, fmt.Errorf("%w: %d-bit rsa key", ErrUnsupported, bits)
		}
	case ed25519.PublicKey:
		if len(pub) != ed25519.PublicKeySize {
			return 0, fmt.Errorf("%w: ed25519 key of %d octets", ErrKeyMalformed, len(pub))
		}
	default:
		return 0, fmt.Errorf("%w: key type %T", ErrUnsupported, k.Public)
	}
	return h, nil
}
