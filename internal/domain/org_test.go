package domain

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"golang.org/x/net/publicsuffix"
)

// TestOrgAgreesWithPublicSuffix holds Org to publicsuffix.EffectiveTLDPlusOne
// (the name itself where that fails) on names of every shape it must
// shorten or leave alone.
func TestOrgAgreesWithPublicSuffix(t *testing.T) {
	names := []string{
		"example.com", "mail.example.com", "a.b.c.example.co.uk", "co.uk", "com", "example",
		"bounce.shop.example", "shop.example", "x.test", "test", "192.0.2.1", "[192.0.2.1]",
		"2001:db8::1", "a..example.com", ".example.com", "..", ".", "a", "a.", "Mail.Example.ORG.",
		"foo.blogspot.com", "blogspot.com", "s3.amazonaws.com", "x.s3.amazonaws.com", "xn--bcher-kva.example",
		"under_score.example.net", "-.example.org", "a.b", "a.b.c",
	}
	for _, name := range names {
		n := Normalize(name)
		want, err := publicsuffix.EffectiveTLDPlusOne(n)
		if err != nil {
			want = n
		}
		assert.Equal(t, want, Org(name), "%q", name)
	}
	assert.Equal(t, "", Org(""))
	assert.Equal(t, "example.com", Org("Mail.Example.COM."))
}

func BenchmarkOrg(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = Org("mail.example.com")
		_ = Org("com")
	}
}
