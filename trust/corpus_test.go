package trust_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mailtrust/mailtrust/internal/corpus"
	"github.com/mailtrust/mailtrust/resolver"
	"github.com/mailtrust/mailtrust/trust"
)

const corpusDir = "../testdata/corpus"

// TestCorpus replays the sample corpus and holds every case to all of its
// expectations: per-check results in the RFC words, the trust verdict, and
// the forwarding and automated flags.
func TestCorpus(t *testing.T) {
	zone, err := resolver.LoadZone(filepath.Join(corpusDir, "zone.txt"))
	require.NoError(t, err)
	casesPath := filepath.Join(corpusDir, "cases.jsonl")
	cases, errs, err := corpus.ReadFile(casesPath)
	require.NoError(t, err)
	require.Empty(t, errs)
	require.NotEmpty(t, cases)
	for _, c := range cases {
		t.Run(c.ID, func(t *testing.T) {
			t.Parallel()
			v := evalCase(t, zone, casesPath, c)
			x := c.Expect
			require.NotNil(t, x, "every sample case carries expectations")
			if x.SPF != "" {
				assert.Equal(t, x.SPF, string(v.SPF.Status), "spf: %s", v.SPF.Reason)
			}
			if x.DKIM != nil {
				var got []string
				for _, d := range v.DKIM {
					got = append(got, string(d.Status))
				}
				assert.Equal(t, x.DKIM, got, "dkim: %+v", v.DKIM)
			}
			if x.DMARC != "" {
				assert.Equal(t, x.DMARC, string(v.DMARC.Status), "dmarc: %s", v.DMARC.Reason)
			}
			if x.ARC != "" {
				assert.Equal(t, x.ARC, string(v.ARC.Status), "arc: %s", v.ARC.Reason)
			}
			if x.PTR != "" {
				assert.Equal(t, x.PTR, string(v.PTR.Status), "ptr: %s", v.PTR.Reason)
			}
			if x.HELO != "" {
				assert.Equal(t, x.HELO, string(v.HELO.Status), "helo: %s %s", v.HELO.Code, v.HELO.Reason)
			}
			if x.Trusted != nil {
				got := v.Level == trust.Trusted || v.Level == trust.Neutral
				assert.Equal(t, *x.Trusted, got, "verdict %s score %.2f reasons %+v", v.Level, v.Score, v.Reasons)
			}
			if x.Forwarded != nil {
				assert.Equal(t, *x.Forwarded, v.Forward.Forwarded, "forward: %+v", v.Forward)
			}
			if x.Automated != nil {
				assert.Equal(t, *x.Automated, v.Automated.Automated, "automated: %+v", v.Automated)
			}
		})
	}
}

func evalCase(t *testing.T, r resolver.Resolver, casesPath string, c corpus.Case) *trust.Verdict {
	t.Helper()
	ip, at, err := c.Parsed()
	require.NoError(t, err)
	f, err := os.Open(corpus.MessagePath(casesPath, &c))
	require.NoError(t, err)
	defer f.Close()
	ev := trust.New(&trust.Options{Resolver: r, TrustedForwarders: c.TrustedForwarders})
	v, err := ev.Evaluate(context.Background(), trust.Conn{
		IP: ip, HELO: c.HELO, MailFrom: c.MailFrom, RcptTo: c.RcptTo, Time: at, Authenticated: c.Authenticated,
	}, f)
	require.NoError(t, err)
	return v
}
