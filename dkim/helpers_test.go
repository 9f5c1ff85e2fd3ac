// The short-key cases need 512- and 768-bit RSA keys, which crypto/rsa
// refuses to generate or use by default.
//go:debug rsa1024min=0

package dkim

import (
	"bufio"
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"strings"
	"sync"
	"testing"

	gmdkim "github.com/emersion/go-msgauth/dkim"
	"github.com/miekg/dns"
	"github.com/stretchr/testify/require"

	"github.com/mailtrust/mailtrust/message"
	"github.com/mailtrust/mailtrust/resolver"
)

// testKeys are generated once per test binary: RSA generation is slow.
type testKeys struct {
	rsaA, rsaB     *rsa.PrivateKey // 2048 bits
	rsa512, rsa768 *rsa.PrivateKey
	rsa1024        *rsa.PrivateKey
	edA, edB       ed25519.PrivateKey
}

var keysOnce = sync.OnceValue(func() *testKeys {
	gen := func(bits int) *rsa.PrivateKey {
		k, err := rsa.GenerateKey(rand.Reader, bits)
		if err != nil {
			panic(err)
		}
		return k
	}
	ed := func(seed string) ed25519.PrivateKey {
		s := sha256.Sum256([]byte(seed))
		return ed25519.NewKeyFromSeed(s[:])
	}
	return &testKeys{
		rsaA: gen(2048), rsaB: gen(2048),
		rsa512: gen(512), rsa768: gen(768), rsa1024: gen(1024),
		edA: ed("mailtrust dkim test key A"), edB: ed("mailtrust dkim test key B"),
	}
})

func keys(t testing.TB) *testKeys {
	t.Helper()
	return keysOnce()
}

// pubRecord is the key record text for signer's public key, with extra
// tags before p=.
func pubRecord(t testing.TB, signer crypto.Signer, extra string) string {
	t.Helper()
	switch pub := signer.Public().(type) {
	case *rsa.PublicKey:
		der, err := x509.MarshalPKIXPublicKey(pub)
		require.NoError(t, err)
		return "v=DKIM1; k=rsa; " + extra + "p=" + base64.StdEncoding.EncodeToString(der)
	case ed25519.PublicKey:
		return "v=DKIM1; k=ed25519; " + extra + "p=" + base64.StdEncoding.EncodeToString(pub)
	}
	t.Fatalf("unknown key %T", signer.Public())
	return ""
}

// txtRR is a TXT record at name holding value, split into strings of at
// most 255 octets as DNS requires.
func txtRR(t testing.TB, name, value string) dns.RR {
	t.Helper()
	var parts []string
	for len(value) > 255 {
		parts = append(parts, value[:255])
		value = value[255:]
	}
	parts = append(parts, value)
	return &dns.TXT{Hdr: dns.RR_Header{Name: dns.Fqdn(name), Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 300}, Txt: parts}
}

func mustRR(t testing.TB, s string) dns.RR {
	t.Helper()
	rr, err := dns.NewRR(s)
	require.NoError(t, err)
	return rr
}

// testZone publishes the keys the verification tests use.
func testZone(t testing.TB) *resolver.Zone {
	t.Helper()
	k := keys(t)
	z := resolver.NewZone()
	add := func(sel, dom string, signer crypto.Signer, extra string) {
		z.Add(txtRR(t, sel+"._domainkey."+dom, pubRecord(t, signer, extra)))
	}
	add("rsa1", "example.com", k.rsaA, "")
	add("ed", "example.com", k.edA, "")
	// SES style: the domain's selector is delegated to the provider.
	z.Add(mustRR(t, "sel._domainkey.example.com. 300 IN CNAME sel.dkim.amazonses.example."))
	z.Add(txtRR(t, "sel.dkim.amazonses.example", pubRecord(t, k.rsaB, "")))
	add("prov", "amazonses.example", k.edB, "")
	z.Add(txtRR(t, "revoked._domainkey.example.com", "v=DKIM1; k=rsa; p="))
	z.Add(txtRR(t, "servfail._domainkey.example.com", "v=DKIM1; p=AAAA"))
	z.SetFault("servfail._domainkey.example.com", resolver.FaultServfail)
	z.SetFault("slow._domainkey.example.com", resolver.FaultTimeout)
	add("short512", "example.com", k.rsa512, "")
	add("short768", "example.com", k.rsa768, "")
	add("k1024", "example.com", k.rsa1024, "")
	add("strict", "example.com", k.rsaA, "t=s; ")
	add("testing", "example.com", k.rsaA, "t=y; ")
	add("sha1only", "example.com", k.rsaA, "h=sha1; ")
	add("notmail", "example.com", k.rsaA, "s=other; ")
	add("rsaforEd", "example.com", k.rsaA, "")
	add("rsa1", "mail.example.com", k.rsaA, "")
	z.Add(mustRR(t, "nodata._domainkey.example.com. 300 IN A 192.0.2.1"))
	return z
}

const testHeader = "From: Joe SixPack <joe@example.com>\r\n" +
	"To: Suzie Q <suzie@shopping.example.net>\r\n" +
	"Subject: Is dinner ready?\r\n" +
	"Date: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)\r\n" +
	"Message-ID: <20030712040037.46341.5F8J@example.com>\r\n"

const testBody = "Hi.\r\n" +
	"\r\n" +
	"We lost the game.  Are you hungry yet?\r\n" +
	"\r\n" +
	"Joe.\r\n"

const testMessage = testHeader + "\r\n" + testBody

// sign signs msg with the independent signer of go-msgauth.
func sign(t testing.TB, msg string, o gmdkim.SignOptions) string {
	t.Helper()
	var b strings.Builder
	require.NoError(t, gmdkim.Sign(&b, strings.NewReader(msg), &o))
	return b.String()
}

// craft signs msg with a DKIM-Signature built from tags, for signatures
// go-msgauth will not make (l=, rsa-sha1, h= without From, odd tags).
// tags is the field value up to and excluding b=; "{bh}" in it is
// replaced by the body hash. The hashing uses this package's building
// blocks; TestCraftCrossCheck checks them against go-msgauth's verifier.
func craft(t testing.TB, msg string, signer crypto.Signer, tags string) string {
	t.Helper()
	tl, err := ParseTagList(strings.ReplaceAll(tags, "{bh}", "x") + "b=")
	require.NoError(t, err)
	a, _ := tl.Get("a")
	h, err := HashFor(a)
	require.NoError(t, err)
	c, _ := tl.Get("c")
	hc, bc, err := ParseCanonicalization(c)
	require.NoError(t, err)
	limit := int64(-1)
	if l, ok := tl.Get("l"); ok {
		limit, err = parseDigits(l, 76)
		require.NoError(t, err)
	}
	br := bufio.NewReader(strings.NewReader(msg))
	hdr, err := message.ReadHeader(br, message.Limits{})
	require.NoError(t, err)
	bh := NewBodyHasher(bc, h, limit)
	_, err = br.WriteTo(bh)
	require.NoError(t, err)

	field := "DKIM-Signature: " + strings.ReplaceAll(tags, "{bh}", base64.StdEncoding.EncodeToString(bh.Sum())) + "b="
	hv, _ := tl.Get("h")
	d := h.New()
	for _, f := range SelectHeaders(hdr, splitColonList(hv)) {
		d.Write(CanonicalHeader(hc, f.Raw))
	}
	d.Write(trimCRLF(CanonicalHeader(hc, []byte(field+"\r\n"))))
	digest := d.Sum(nil)
	var sig []byte
	switch k := signer.(type) {
	case *rsa.PrivateKey:
		sig, err = rsa.SignPKCS1v15(rand.Reader, k, h, digest)
	case ed25519.PrivateKey:
		sig = ed25519.Sign(k, digest)
	default:
		t.Fatalf("unknown key %T", signer)
	}
	require.NoError(t, err)
	return field + base64.StdEncoding.EncodeToString(sig) + "\r\n" + msg
}

// canonBody is the canonical form of body, computed the plain way: the
// reference BodyHasher is tested against.
func canonBody(c Canonicalization, body []byte) []byte {
	s := strings.ReplaceAll(string(body), "\r\n", "\n")
	lines := strings.Split(s, "\n")
	if c == Relaxed {
		for i, l := range lines {
			l = strings.ReplaceAll(l, "\t", " ")
			for strings.Contains(l, "  ") {
				l = strings.ReplaceAll(l, "  ", " ")
			}
			lines[i] = strings.TrimRight(l, " ")
		}
	}
	for len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	if len(lines) == 0 {
		if c == Relaxed {
			return []byte{}
		}
		return []byte("\r\n")
	}
	var b bytes.Buffer
	for _, l := range lines {
		b.WriteString(l)
		b.WriteString("\r\n")
	}
	return b.Bytes()
}
