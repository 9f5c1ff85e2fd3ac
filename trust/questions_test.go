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

// TestNoNeedlessQuestions holds Evaluate of 10KB-1sig (an IPv4 client,
// HELO mail.example.com, RCPT TO support@helpdesk.example, which To names
// too) to the questions some check needs: the AAAA of the HELO name cannot
// match an IPv4 client when its A does, and the receiver accepted mail for
// its own domain, so it exists.
func TestNoNeedlessQuestions(t *testing.T) {
	f := newBenchFixture(t, case10K)
	c := f.cases[case10K]
	log := &queryLog{r: f.zone}
	v, err := evaluate(context.Background(), trust.New(&trust.Options{Resolver: log}), c)
	require.NoError(t, err)
	require.NoError(t, c.check(v))
	var asked []resolver.Question
	for _, e := range log.entries {
		asked = append(asked, e.q)
	}
	for _, q := range []resolver.Question{
		{Name: "mail.example.com.", Type: dns.TypeAAAA},
		{Name: "helpdesk.example.", Type: dns.TypeMX},
	} {
		require.False(t, slices.Contains(asked, q), "%s %s asked: %v", dns.TypeToString[q.Type], q.Name, asked)
	}
	// The questions the checks need are still asked.
	for _, q := range []resolver.Question{
		{Name: "mail.example.com.", Type: dns.TypeA},
		{Name: "example.com.", Type: dns.TypeMX},
	} {
		require.True(t, slices.Contains(asked, q), "%s %s not asked: %v", dns.TypeToString[q.Type], q.Name, asked)
	}
}
