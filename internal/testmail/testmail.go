// Package testmail builds signed test messages and the DNS records that go
// with them, for mailtrust's tests, examples, benchmarks and sample corpus.
// Its DKIM signer (RFC 6376 §5) takes the signing time as an input, so the
// fixtures it makes are reproducible and judged against a chosen time of
// receipt. It also holds what the tests of several packages share: the
// example messages, the loading of the test keys in the repository's
// testdata/keys, and the reading and editing of a message's header
// fields.
package testmail

import (
	"bufio"
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/mailtrust/mailtrust/arc"
	"github.com/mailtrust/mailtrust/dkim"
	"github.com/mailtrust/mailtrust/message"
)

// Key is a signing key with its selector and domain.
type Key struct {
	Domain   string
	Selector string
	Signer   crypto.Signer
}

// Record returns the DKIM key TXT record value (RFC 6376 §3.6.1).
func (k Key) Record() string {
	switch pub := k.Signer.Public().(type) {
	case *rsa.PublicKey:
		der, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			panic(err)
		}
		return "v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(der)
	case ed25519.PublicKey:
		return "v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(pub)
	}
	panic("testmail: unsupported key type")
}

// TXT returns the key as a master-file TXT record, split into 255-octet
// strings (RFC 1035 §3.3.14), at sel._domainkey.domain.
func (k Key) TXT() string {
	return fmt.Sprintf("%s._domainkey.%s. 3600 IN TXT %s", k.Selector, k.Domain, SplitTXT(k.Record()))
}

// SplitTXT quotes s as one or more master-file character-strings.
func SplitTXT(s string) string {
	var parts []string
	for len(s) > 255 {
		parts = append(parts, `"`+s[:255]+`"`)
		s = s[255:]
	}
	parts = append(parts, `"`+s+`"`)
	return strings.Join(parts, " ")
}

// LoadOrCreateKey reads a PKCS#8 PEM key from path, or generates one of
// the given kind ("rsa1024", "rsa2048", "ed25519") and writes it there.
func LoadOrCreateKey(path, kind string) (crypto.Signer, error) {
	if b, err := os.ReadFile(path); err == nil {
		return parseKey(path, b)
	}
	k, err := NewKey(kind)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return nil, err
	}
	return k, nil
}

// ReadKey reads a PKCS#8 PEM key from path.
func ReadKey(path string) (crypto.Signer, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("testmail: %w", err)
	}
	return parseKey(path, b)
}

// parseKey decodes the PKCS#8 PEM key b read from path.
func parseKey(path string, b []byte) (crypto.Signer, error) {
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, fmt.Errorf("testmail: %s: no PEM block", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("testmail: %s: %w", path, err)
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("testmail: %s: key of type %T cannot sign", path, k)
	}
	return s, nil
}

// NewKey generates a key: "rsa512", "rsa1024", "rsa2048" or "ed25519".
func NewKey(kind string) (crypto.Signer, error) {
	switch kind {
	case "rsa512":
		return rsa.GenerateKey(rand.Reader, 512)
	case "rsa1024":
		return rsa.GenerateKey(rand.Reader, 1024)
	case "rsa2048":
		return rsa.GenerateKey(rand.Reader, 2048)
	case "ed25519":
		_, k, err := ed25519.GenerateKey(rand.Reader)
		return k, err
	}
	return nil, fmt.Errorf("testmail: unknown key kind %q", kind)
}

// SignOptions describe one DKIM signature.
type SignOptions struct {
	Key Key
	// Headers to sign, in h= order. Nil means From, To, Subject, Date,
	// Message-ID (RFC 6376 §5.4.1).
	Headers []string
	// Canon is "relaxed/relaxed" when empty.
	Canon string
	// Time is the signature timestamp t=; Expire, when non-zero, is x=.
	Time, Expire time.Time
	// BodyLength, when >= 0 and Limit is true, sets l=.
	BodyLength int64
	Limit      bool
	// Identifier is i=, optional.
	Identifier string
	// SHA1 signs with rsa-sha1 (refused by verifiers per RFC 8301; for
	// tests of that refusal).
	SHA1 bool
}

// Sign returns msg with a DKIM-Signature field prepended (RFC 6376 §5).
func Sign(msg []byte, o SignOptions) ([]byte, error) {
	br := bufio.NewReader(bytes.NewReader(msg))
	h, err := message.ReadHeader(br, message.Limits{})
	if err != nil {
		return nil, err
	}
	body := msg[h.Size:]
	if h.Size > len(msg) {
		body = nil
	}
	canon := o.Canon
	if canon == "" {
		canon = "relaxed/relaxed"
	}
	hc, bc, err := dkim.ParseCanonicalization(canon)
	if err != nil {
		return nil, err
	}
	hashAlg, algName := crypto.SHA256, "sha256"
	if o.SHA1 {
		hashAlg, algName = crypto.SHA1, "sha1"
	}
	limit := int64(-1)
	if o.Limit {
		limit = o.BodyLength
	}
	bh := dkim.NewBodyHasher(bc, hashAlg, limit)
	bh.Write(body)
	bodyHash := base64.StdEncoding.EncodeToString(bh.Sum())

	keyAlg := "rsa"
	if _, ok := o.Key.Signer.Public().(ed25519.PublicKey); ok {
		keyAlg = "ed25519"
	}
	headers := o.Headers
	if headers == nil {
		headers = []string{"From", "To", "Subject", "Date", "Message-ID"}
	}
	tags := []string{
		"v=1", "a=" + keyAlg + "-" + algName, "c=" + canon, "d=" + o.Key.Domain, "s=" + o.Key.Selector,
	}
	if !o.Time.IsZero() {
		tags = append(tags, fmt.Sprintf("t=%d", o.Time.Unix()))
	}
	if !o.Expire.IsZero() {
		tags = append(tags, fmt.Sprintf("x=%d", o.Expire.Unix()))
	}
	if o.Identifier != "" {
		tags = append(tags, "i="+o.Identifier)
	}
	if o.Limit {
		tags = append(tags, fmt.Sprintf("l=%d", o.BodyLength))
	}
	tags = append(tags, "h="+strings.Join(headers, ":"), "bh="+bodyHash, "b=")
	sigField := "DKIM-Signature: " + strings.Join(tags, ";\r\n\t") + "\r\n"

	hh := hashAlg.New()
	for _, f := range dkim.SelectHeaders(h, headers) {
		hh.Write(dkim.CanonicalHeader(hc, f.Raw))
	}
	c := dkim.CanonicalHeader(hc, []byte(sigField))
	hh.Write(bytes.TrimSuffix(c, []byte("\r\n")))
	digest := hh.Sum(nil)

	var sig []byte
	switch k := o.Key.Signer.(type) {
	case ed25519.PrivateKey:
		// RFC 8463 §3: ed25519 signs the SHA-256 digest.
		sig = ed25519.Sign(k, digest)
	default:
		sig, err = o.Key.Signer.Sign(rand.Reader, digest, hashAlg)
		if err != nil {
			return nil, err
		}
	}
	sigField = strings.TrimSuffix(sigField, "\r\n") + base64.StdEncoding.EncodeToString(sig) + "\r\n"
	out := make([]byte, 0, len(sigField)+len(msg))
	out = append(out, sigField...)
	return append(out, msg...), nil
}

// CRLF converts LF line endings to CRLF.
func CRLF(s string) []byte {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return []byte(strings.ReplaceAll(s, "\n", "\r\n"))
}

// Seal adds an ARC set to msg (RFC 8617 §5.1) and returns the sealed
// message.
func Seal(msg []byte, o arc.SealOptions) ([]byte, error) {
	br := bufio.NewReader(bytes.NewReader(msg))
	h, err := message.ReadHeader(br, message.Limits{})
	if err != nil {
		return nil, err
	}
	set, err := arc.Seal(h, br, o)
	if err != nil {
		return nil, err
	}
	return append(set, msg...), nil
}
