package dkim

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mailtrust/mailtrust/resolver"
)

func TestParseKeyRecord(t *testing.T) {
	k := keys(t)
	spki, err := x509.MarshalPKIXPublicKey(&k.rsaA.PublicKey)
	require.NoError(t, err)
	pkcs1 := x509.MarshalPKCS1PublicKey(&k.rsaA.PublicKey)
	edPub := k.edA.Public().(ed25519.PublicKey)
	edSPKI, err := x509.MarshalPKIXPublicKey(edPub)
	require.NoError(t, err)
	b64 := base64.StdEncoding.EncodeToString
	rsaP := b64(spki)
	folded := rsaP[:40] + "\r\n " + rsaP[40:]

	tests := []struct {
		name   string
		txt    string
		err    error // nil: parses
		alg    string
		bits   int
		hashes []string
		flags  []string
		svc    []string
	}{
		{"rsa spki", "v=DKIM1; k=rsa; p=" + rsaP, nil, "rsa", 2048, nil, nil, nil},
		{"rsa default k", "p=" + rsaP, nil, "rsa", 2048, nil, nil, nil},
		{"rsa pkcs1", "v=DKIM1; p=" + b64(pkcs1), nil, "rsa", 2048, nil, nil, nil},
		{"rsa unpadded", "p=" + strings.TrimRight(rsaP, "="), nil, "rsa", 2048, nil, nil, nil},
		{"p with FWS", "v=DKIM1; p=" + folded, nil, "rsa", 2048, nil, nil, nil},
		{"ed25519 raw", "v=DKIM1; k=ed25519; p=" + b64(edPub), nil, "ed25519", 256, nil, nil, nil},
		{"ed25519 spki", "k=ed25519; p=" + b64(edSPKI), nil, "ed25519", 256, nil, nil, nil},
		{"tags", "v=DKIM1; h=sha256 : SHA1; t=y:s:zz; s=email; n=note; p=" + rsaP, nil, "rsa", 2048,
			[]string{"sha256", "sha1"}, []string{"y", "s", "zz"}, []string{"email"}},
		{"unknown tags ignored", "v=DKIM1; x_new=1; p=" + rsaP, nil, "rsa", 2048, nil, nil, nil},
		{"revoked", "v=DKIM1; p=", ErrKeyRevoked, "", 0, nil, nil, nil},
		{"revoked with FWS", "v=DKIM1; k=rsa; p= \r\n ", ErrKeyRevoked, "", 0, nil, nil, nil},
		{"no p", "v=DKIM1; k=rsa", ErrKeyMalformed, "", 0, nil, nil, nil},
		{"v not first", "k=rsa; v=DKIM1; p=" + rsaP, ErrKeyMalformed, "", 0, nil, nil, nil},
		{"v wrong", "v=DKIM2; p=" + rsaP, ErrKeyMalformed, "", 0, nil, nil, nil},
		{"spf record", "v=spf1 -all", ErrKeyMalformed, "", 0, nil, nil, nil},
		{"unknown k", "v=DKIM1; k=dsa; p=" + rsaP, ErrKeyMalformed, "", 0, nil, nil, nil},
		{"bad base64", "p=!!!!", ErrKeyMalformed, "", 0, nil, nil, nil},
		{"not a key", "p=" + b64([]byte("hello world")), ErrKeyMalformed, "", 0, nil, nil, nil},
		{"ed25519 key as rsa", "k=rsa; p=" + b64(edSPKI), ErrKeyMalformed, "", 0, nil, nil, nil},
		{"short ed25519", "k=ed25519; p=" + b64(edPub[:31]), ErrKeyMalformed, "", 0, nil, nil, nil},
		{"duplicate tag", "p=" + rsaP + "; p=" + rsaP, ErrKeyMalformed, "", 0, nil, nil, nil},
		{"empty", "", ErrKeyMalformed, "", 0, nil, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key, err := ParseKeyRecord(tt.txt)
			if tt.err != nil {
				assert.True(t, errors.Is(err, tt.err), "got %v, want %v", err, tt.err)
				assert.Nil(t, key)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.alg, key.Algorithm)
			assert.Equal(t, tt.bits, key.Bits)
			assert.Equal(t, tt.hashes, key.Hashes)
			assert.Equal(t, tt.flags, key.Flags)
			assert.Equal(t, tt.svc, key.Services)
			assert.Equal(t, tt.txt, key.Record)
		})
	}
}

func TestKeyFlags(t *testing.T) {
	rsaP := strings.TrimPrefix(pubRecord(t, keys(t).rsaA, ""), "v=DKIM1; k=rsa; ")
	for _, tt := range []struct {
		extra                    string
		testing, strict, forMail bool
	}{
		{"", false, false, true},
		{"t=y; ", true, false, true},
		{"t=s:y; ", true, true, true},
		{"s=email; ", false, false, true},
		{"s=*; ", false, false, true},
		{"s=other:email; ", false, false, true},
		{"s=other; ", false, false, false},
	} {
		k, err := ParseKeyRecord("v=DKIM1; " + tt.extra + rsaP)
		require.NoError(t, err)
		assert.Equal(t, tt.testing, k.Testing(), tt.extra)
		assert.Equal(t, tt.strict, k.Strict(), tt.extra)
		assert.Equal(t, tt.forMail, k.ForEmail(), tt.extra)
	}
}

func TestKeyName(t *testing.T) {
	tests := []struct {
		sel, dom, want string // want "": ErrInvalidName
	}{
		{"sel", "example.com", "sel._domainkey.example.com."},
		{"Sel.Sub", "Example.COM", "sel.sub._domainkey.example.com."},
		{"", "example.com", ""},
		{"sel", "", ""},
		{"sel", "example..com", ""},
		{"sel", ".example.com", ""},
		{"sel", "example.com.", ""},
		{"sel.", "example.com", ""},
		{"sel", "exa\x00mple.com", ""},
		{"sel", "exa mple.com", ""},
		{"se l", "example.com", ""},
		{"sel", "example.com\x00.evil.example", ""},
		{"sel", "bücher.example", ""},
		{"sel", strings.Repeat("a", 64) + ".example", ""},
		{strings.Repeat("s.", 120) + "s", "example.com", ""},
	}
	for _, tt := range tests {
		got, err := KeyName(tt.sel, tt.dom)
		if tt.want == "" {
			assert.True(t, errors.Is(err, ErrInvalidName), "%q %q: %v", tt.sel, tt.dom, err)
			continue
		}
		require.NoError(t, err)
		assert.Equal(t, tt.want, got)
	}
}

func TestLookupKey(t *testing.T) {
	k := keys(t)
	z := testZone(t)
	z.Add(txtRR(t, "multi._domainkey.example.com", "v=spf1 -all"))
	z.Add(txtRR(t, "multi._domainkey.example.com", pubRecord(t, k.edA, "")))
	z.Add(txtRR(t, "bad._domainkey.example.com", "v=DKIM1; p=!!!"))
	z.Add(txtRR(t, "bad._domainkey.example.com", "v=DKIM1; p="))
	z.Add(mustRR(t, "loop._domainkey.example.com. 300 IN CNAME loop._domainkey.example.com."))

	ctx := context.Background()
	tests := []struct {
		sel, dom string
		err      error
		alg      string
	}{
		{"rsa1", "example.com", nil, "rsa"},
		{"ed", "example.com", nil, "ed25519"},
		{"sel", "example.com", nil, "rsa"}, // through a CNAME
		{"multi", "example.com", nil, "ed25519"},
		{"missing", "example.com", ErrKeyNotFound, ""},
		{"nodata", "example.com", ErrKeyNotFound, ""},
		{"loop", "example.com", ErrKeyNotFound, ""},
		{"revoked", "example.com", ErrKeyRevoked, ""},
		{"bad", "example.com", ErrKeyRevoked, ""},
		{"servfail", "example.com", ErrKeyUnavailable, ""},
		{"rsa1", "example..com", ErrInvalidName, ""},
	}
	for _, tt := range tests {
		key, err := LookupKey(ctx, z, tt.sel, tt.dom)
		if tt.err != nil {
			assert.True(t, errors.Is(err, tt.err), "%s/%s: %v", tt.sel, tt.dom, err)
			continue
		}
		require.NoError(t, err, "%s/%s", tt.sel, tt.dom)
		assert.Equal(t, tt.alg, key.Algorithm)
	}

	_, err := LookupKey(ctx, z, "servfail", "example.com")
	assert.True(t, resolver.IsTemporary(err), "a temporary failure stays classifiable: %v", err)
	_, err = LookupKey(ctx, z, "missing", "example.com")
	assert.False(t, resolver.IsTemporary(err))

	ctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = LookupKey(ctx, z, "slow", "example.com")
	assert.True(t, errors.Is(err, ErrKeyUnavailable) && resolver.IsTemporary(err), "%v", err)
	assert.Less(t, time.Since(start), 900*time.Millisecond, "bounded by ctx")
}

func TestKeyVerify(t *testing.T) {
	k := keys(t)
	digest := sha256.Sum256([]byte("signed header data"))
	rsaSig, err := rsa.SignPKCS1v15(rand.Reader, k.rsaA, crypto.SHA256, digest[:])
	require.NoError(t, err)
	digest1 := sha1.Sum([]byte("signed header data"))
	rsaSig1, err := rsa.SignPKCS1v15(rand.Reader, k.rsaA, crypto.SHA1, digest1[:])
	require.NoError(t, err)
	edSig := ed25519.Sign(k.edA, digest[:])
	sig1024, err := rsa.SignPKCS1v15(rand.Reader, k.rsa1024, crypto.SHA256, digest[:])
	require.NoError(t, err)
	sig512, err := rsa.SignPKCS1v15(rand.Reader, k.rsa512, crypto.SHA256, digest[:])
	require.NoError(t, err)

	parse := func(signer crypto.Signer, extra string) *Key {
		key, err := ParseKeyRecord(pubRecord(t, signer, extra))
		require.NoError(t, err)
		return key
	}
	rsaKey, edKey := parse(k.rsaA, ""), parse(k.edA, "")
	bad := append([]byte{}, rsaSig...)
	bad[10] ^= 1

	tests := []struct {
		name   string
		key    *Key
		a      string
		p      Policy
		digest []byte
		sig    []byte
		err    error
	}{
		{"rsa-sha256", rsaKey, "rsa-sha256", Policy{}, digest[:], rsaSig, nil},
		{"ed25519-sha256", edKey, "ed25519-sha256", Policy{}, digest[:], edSig, nil},
		{"rsa 1024", parse(k.rsa1024, ""), "rsa-sha256", Policy{}, digest[:], sig1024, nil},
		{"bad rsa signature", rsaKey, "rsa-sha256", Policy{}, digest[:], bad, ErrSignatureMismatch},
		{"other digest", rsaKey, "rsa-sha256", Policy{}, digest1[:], rsaSig, ErrSignatureMismatch},
		{"bad ed25519 signature", edKey, "ed25519-sha256", Policy{}, digest1[:], edSig, ErrSignatureMismatch},
		{"empty signature", edKey, "ed25519-sha256", Policy{}, digest[:], nil, ErrSignatureMismatch},
		{"rsa key, ed25519 a=", rsaKey, "ed25519-sha256", Policy{}, digest[:], edSig, ErrKeyAlgorithmMismatch},
		{"ed25519 key, rsa a=", edKey, "rsa-sha256", Policy{}, digest[:], rsaSig, ErrKeyAlgorithmMismatch},
		{"unknown a=", rsaKey, "rsa-sha512", Policy{}, digest[:], rsaSig, ErrUnsupported},
		{"h= excludes sha256", parse(k.rsaA, "h=sha1; "), "rsa-sha256", Policy{}, digest[:], rsaSig, ErrHashNotAllowed},
		{"h= includes sha256", parse(k.rsaA, "h=sha1:sha256; "), "rsa-sha256", Policy{}, digest[:], rsaSig, nil},
		{"rsa-sha1 refused", rsaKey, "rsa-sha1", Policy{}, digest1[:], rsaSig1, ErrWeakHash},
		{"rsa-sha1 is policy", rsaKey, "rsa-sha1", Policy{}, digest1[:], rsaSig1, ErrPolicy},
		{"rsa-sha1 allowed", rsaKey, "rsa-sha1", Policy{AllowSHA1: true}, digest1[:], rsaSig1, nil},
		{"512 bits", parse(k.rsa512, ""), "rsa-sha256", Policy{}, digest[:], sig512, ErrKeyTooShort},
		{"512 bits even if policy says 512", parse(k.rsa512, ""), "rsa-sha256", Policy{MinRSABits: 512}, digest[:], sig512, ErrKeyTooShort},
		{"2048 under a 4096 policy", rsaKey, "rsa-sha256", Policy{MinRSABits: 4096}, digest[:], rsaSig, ErrPolicy},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.key.Verify(tt.a, tt.p, tt.digest, tt.sig)
			if tt.err == nil {
				assert.NoError(t, err)
				return
			}
			assert.True(t, errors.Is(err, tt.err), "got %v, want %v", err, tt.err)
		})
	}
}

func TestHashFor(t *testing.T) {
	for a, want := range map[string]crypto.Hash{"rsa-sha256": crypto.SHA256, "ed25519-sha256": crypto.SHA256, "rsa-sha1": crypto.SHA1, "RSA-SHA256": crypto.SHA256} {
		h, err := HashFor(a)
		require.NoError(t, err, a)
		assert.Equal(t, want, h, a)
	}
	for _, a := range []string{"", "rsa", "rsa-sha512", "ed25519-sha1", "rsa-sha256 "} {
		_, err := HashFor(a)
		assert.True(t, errors.Is(err, ErrUnsupported), "%q: %v", a, err)
	}
}
