package trust_test

import (
	"context"
	"slices"
	"testing"

	"github.com/miekg/dns"
	"github.com/stretchr/testify/require"

	"github.com/mailtrust/mailtrust/resolver"
	"github.com/mailtrust/mailtrust/trust"
)

// TestConnCache evaluates the same message from the same connection twice:
// with Options.ConnCache zero (the default) or positive, the second
// evaluation asks none of the questions of PTR, HELO, SPF and the From and
// MAIL FROM existence checks, only those of the message (DKIM key,
// DMARC), and gives the same verdict; with it negative, it asks them all
// again.
func TestConnCache(t *testing.T) {
	f := newBenchFixture(t, case10K)
	c := f.cases[case10K]
	connQuestions := []resolver.Question{
		{Name: "10.2.0.192.in-addr.arpa.", Type: dns.TypePTR}, // PTR
		{Name: "mail.example.com.", Type: dns.TypeA},          // HELO, PTR confirmation, SPF mx
		{Name: "example.com.", Type: dns.TypeTXT},             // SPF
	}
	for _, tc := range []struct {
		desc   string
		size   int
		reused bool
	}{
		{"off", -1, false},
		{"on by default", 0, true},
		{"on", 16, true},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			log := &queryLog{r: f.zone}
			ev := trust.New(&trust.Options{Resolver: log, ConnCache: tc.size})
			first, err := evaluate(context.Background(), ev, c)
			require.NoError(t, err)
			require.NoError(t, c.check(first))
			asked := func() []resolver.Question {
				var qs []resolver.Question
				for _, e := range log.entries {
					qs = append(qs, e.q)
				}
				log.entries = nil
				return qs
			}
			firstAsked := asked()
			for _, q := range connQuestions {
				require.True(t, slices.Contains(firstAsked, q), "first evaluation asks %v: %v", q, firstAsked)
			}
			second, err := evaluate(context.Background(), ev, c)
			require.NoError(t, err)
			require.NoError(t, c.check(second))
			secondAsked := asked()
			for _, q := range connQuestions {
				require.Equal(t, !tc.reused, slices.Contains(secondAsked, q), "second evaluation and %v: %v", q, secondAsked)
			}
			require.True(t, slices.Contains(secondAsked, resolver.Question{Name: "_dmarc.example.com.", Type: dns.TypeTXT}),
				"the message's own questions are asked: %v", secondAsked)
			require.Equal(t, first.Level, second.Level)
			require.Equal(t, first.Score, second.Score)
			require.Equal(t, first.Reasons, second.Reasons)
			require.Equal(t, first.AuthenticationResults, second.AuthenticationResults)
			require.Equal(t, first.SPF.Status, second.SPF.Status)
			require.Equal(t, first.PTR.Confirmed, second.PTR.Confirmed)
			require.Equal(t, first.HELO.Status, second.HELO.Status)

			// Another MAIL FROM is another SPF evaluation.
			other := c.conn
			other.MailFrom = "alice@example.com"
			_, err = ev.Evaluate(context.Background(), other, c.message())
			require.NoError(t, err)
			require.True(t, slices.Contains(asked(), resolver.Question{Name: "example.com.", Type: dns.TypeTXT}),
				"a new MAIL FROM evaluates SPF again")
		})
	}
}
