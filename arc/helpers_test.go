package arc

import (
	"bufio"
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	msgdkim "github.com/emersion/go-msgauth/dkim"
	"github.com/stretchr/testify/require"

	"github.com/mailtrust/mailtrust/message"
	"github.com/mailtrust/mailtrust/resolver"
)

// testKey is a signing key published at selector._domainkey.domain.
type testKey struct {
	domain, selector string
	signer           crypto.Signer
}

// loadKey reads one of the keys generated for these tests (testdata).
func loadKey(t *testing.T, name, domain, selector string) testKey {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name+".key.pem"))
	require.NoError(t, err)
	block, _ := pem.Decode(b)
	require.NotNil(t, block, "PEM in %s", name)
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	require.NoError(t, err)
	return testKey{domain, selector, k.(crypto.Signer)}
}

// newEd25519Key makes a fresh ed25519 key (cheap, for long chains).
func newEd25519Key(t testing.TB, domain, selector string) testKey {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	return testKey{domain, selector, priv}
}

// record is the key's TXT record (RFC 6376 §3.6.1, RFC 8463 §4).
func (k testKey) record(t *testing.T) string {
	t.Helper()
	switch pub := k.signer.Public().(type) {
	case *rsa.PublicKey:
		der, err := x509.MarshalPKIXPublicKey(pub)
		require.NoError(t, err)
		return "v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(der)
	case ed25519.PublicKey:
		return "v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(pub)
	}
	t.Fatalf("key type %T", k.signer.Public())
	return ""
}

// zoneOf publishes keys in a new zone.
func zoneOf(t *testing.T, keys ...testKey) *resolver.Zone {
	t.Helper()
	z := resolver.NewZone()
	for _, k := range keys {
		z.Add(txtRR(k.selector+"._domainkey."+k.domain, k.record(t)))
	}
	return z
}

// crlf turns a readable test message into wire form.
func crlf(s string) []byte {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return []byte(strings.ReplaceAll(s, "\n", "\r\n"))
}

// dkimSign signs msg with go-msgauth's independent signer (relaxed/relaxed).
func dkimSign(t *testing.T, msg []byte, k testKey) []byte {
	t.Helper()
	var out bytes.Buffer
	err := msgdkim.Sign(&out, bytes.NewReader(msg), &msgdkim.SignOptions{
		Domain: k.domain, Selector: k.selector, Signer: k.signer,
		HeaderCanonicalization: msgdkim.CanonicalizationRelaxed,
		BodyCanonicalization:   msgdkim.CanonicalizationRelaxed,
		HeaderKeys:             []string{"From", "To", "Subject", "Date", "Message-ID"},
	})
	require.NoError(t, err)
	return out.Bytes()
}

// split reads the header of msg and returns it with the body.
func split(t *testing.T, msg []byte) (*message.Header, []byte) {
	t.Helper()
	br := bufio.NewReader(bytes.NewReader(msg))
	h, err := message.ReadHeader(br, message.Limits{})
	require.NoError(t, err)
	var body bytes.Buffer
	_, err = body.ReadFrom(br)
	require.NoError(t, err)
	return h, body.Bytes()
}

// sealMsg adds an ARC set to msg with Seal and returns the sealed message.
func sealMsg(t *testing.T, msg []byte, k testKey, authServID string, cv Status, results []string, at time.Time) []byte {
	t.Helper()
	h, body := split(t, msg)
	out, err := Seal(h, bytes.NewReader(body), SealOptions{
		Domain: k.domain, Selector: k.selector, Signer: k.signer,
		AuthServID: authServID, AuthResults: results, ChainStatus: cv, Time: at,
	})
	require.NoError(t, err)
	return append(out, msg...)
}

// verifyAt validates msg's chain at time at.
func verifyAt(t *testing.T, r resolver.Resolver, msg []byte, at time.Time) Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := Verify(ctx, r, bytes.NewReader(msg), &Options{Time: at})
	require.NoError(t, err)
	return res
}

// prepend puts a header field on top of msg.
func prepend(msg []byte, field string) []byte {
	return append(crlf(field+"\n"), msg...)
}

// editField rewrites with f the first field that starts with marker, when
// marker ends with ":" (a field name), or else whose raw text contains it
// (folded lines included). The body is left alone.
func editField(t *testing.T, msg []byte, marker string, f func(raw string) string) []byte {
	t.Helper()
	h, body := split(t, msg)
	var out bytes.Buffer
	done := false
	for _, fl := range h.Fields {
		raw := string(fl.Raw)
		match := strings.Contains(raw, marker)
		if strings.HasSuffix(marker, ":") {
			match = strings.HasPrefix(strings.ToLower(raw), strings.ToLower(marker))
		}
		if !done && match {
			done = true
			raw = f(raw)
		}
		out.WriteString(raw)
	}
	require.True(t, done, "no field contains %q", marker)
	out.WriteString("\r\n")
	out.Write(body)
	return out.Bytes()
}
