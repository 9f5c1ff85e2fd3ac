package dkim

import (
	"strings"
	"testing"

	"github.com/emersion/go-msgauth/authres"
	"github.com/stretchr/testify/assert"
)

// TestAuthResultsHostile: what a signature carries cannot break the
// Authentication-Results field or add a result to it.
func TestAuthResultsHostile(t *testing.T) {
	res := []Result{{
		Status:          StatusPermerror,
		Domain:          "example.com\x00.evil.test",
		Selector:        `s"; dkim=pass header.d=bank.example; x="`,
		Identifier:      `@evil.test\`,
		Algorithm:       "rsa-sha256\r\nX-Injected: 1",
		SignaturePrefix: "AAAA\rBB",
		Reason:          "invalid d=\"example.com\\x00\"\r\n\tü\x7f §6.1",
	}, {
		Status: StatusPass, Domain: "example.com", Selector: "sel1", Identifier: "@example.com",
		Algorithm: "rsa-sha256", SignaturePrefix: "rPW76Cfx",
	}}
	s := authres.Format("mx.example.net", AuthResults(res))
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' || c > '~' {
			t.Fatalf("octet %#x in %q", c, s)
		}
	}
	assert.NotContains(t, s, `\`)
	assert.Equal(t, 2, strings.Count(s, "dkim="), s)
	assert.Contains(t, s, `dkim=permerror reason="invalid d='example.com/x00'?????? section 6.1"`)
	assert.NotContains(t, s, "bank.example")
	assert.NotContains(t, s, "evil.test")
	assert.NotContains(t, s, "X-Injected")
	assert.Contains(t, s, "; dkim=pass header.a=rsa-sha256 header.b=rPW76Cfx header.d=example.com header.i=@example.com header.s=sel1")
}
