package trust_test

import (
	"context"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emersion/go-msgauth/authres"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mailtrust/mailtrust/dkim"
	"github.com/mailtrust/mailtrust/internal/arfield"
	"github.com/mailtrust/mailtrust/internal/corpus"
	"github.com/mailtrust/mailtrust/resolver"
	"github.com/mailtrust/mailtrust/trust"
)

// viaAuthres is the Authentication-Results field built from the checks'
// own AuthResult values and arfield.Format, as the verdict's was before it
// was written from the results directly.
func viaAuthres(authServID string, v *trust.Verdict) string {
	var rs []authres.Result
	if v.SPF.Status != "" {
		rs = append(rs, v.SPF.AuthResult())
	}
	rs = append(rs, dkim.AuthResults(v.DKIM)...)
	if v.From.Domain != "" {
		rs = append(rs, v.DMARC.AuthResult())
	}
	if v.ARC.Status != "" {
		rs = append(rs, v.ARC.AuthResult())
	}
	if v.PTR.Status != "" {
		rs = append(rs, v.PTR.AuthResult())
	}
	return "Authentication-Results: " + arfield.Format(authServID, rs)
}

// TestAuthResultsAsAuthres holds the verdict's Authentication-Results
// field to the text the checks' AuthResult values format to, on every
// case of the sample corpus against its zone and against an empty zone
// (no records: none, permerror and fail results, no PTR), and on a
// message with neither header nor signature.
func TestAuthResultsAsAuthres(t *testing.T) {
	zone, err := resolver.LoadZone(filepath.Join(corpusDir, "zone.txt"))
	require.NoError(t, err)
	empty := resolver.NewZone()
	casesPath := filepath.Join(corpusDir, "cases.jsonl")
	cases, _, err := corpus.ReadFile(casesPath)
	require.NoError(t, err)
	require.NotEmpty(t, cases)
	seen := map[string]bool{}
	for _, r := range []resolver.Resolver{zone, empty} {
		for _, c := range cases {
			v := evalCase(t, r, casesPath, c)
			assert.Equal(t, viaAuthres("mailtrust", v), v.AuthenticationResults, "case %s", c.ID)
			for _, item := range strings.Split(v.AuthenticationResults, "; ")[1:] {
				seen[strings.SplitN(item, " ", 2)[0]] = true
			}
		}
	}
	ev := trust.New(&trust.Options{Resolver: empty, AuthServID: "mx.example.net"})
	v, err := ev.Evaluate(context.Background(), trust.Conn{IP: netip.MustParseAddr("192.0.2.1"), HELO: "mail.example.com", MailFrom: "a@example.com"},
		strings.NewReader("Subject: x\r\n\r\nbody\r\n"))
	require.NoError(t, err)
	assert.Equal(t, viaAuthres("mx.example.net", v), v.AuthenticationResults)
	// The cases reach every method and the statuses that differ in form.
	for _, want := range []string{"spf=pass", "spf=none", "dkim=pass", "dkim=none", "dkim=permerror", "dmarc=pass",
		"dmarc=none", "arc=pass", "arc=none", "iprev=pass", "iprev=permerror"} {
		assert.True(t, seen[want], "no case gives %s", want)
	}
}
