package resolver_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mailtrust/mailtrust/resolver"
	"github.com/mailtrust/mailtrust/resolver/resolvertest"
)

// TestMemoDedupe: each question reaches the server once per evaluation,
// names compared case-insensitively, concurrent askers included.
func TestMemoDedupe(t *testing.T) {
	srv := resolvertest.Start(t, testZone(t))
	srv.SetDelay(30 * time.Millisecond)
	m := resolver.NewMemo(resolvertest.Client(t, srv), 0)
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := "mail.example.org."
			if i%2 == 1 {
				name = "MAIL.Example.org"
			}
			ans, err := m.Lookup(context.Background(), name, dns.TypeA)
			assert.NoError(t, err)
			assert.Len(t, ans.Records, 1)
		}()
	}
	wg.Wait()
	_, err := m.Lookup(context.Background(), "example.org.", dns.TypeTXT)
	require.NoError(t, err)
	_, err = m.Lookup(context.Background(), "mail.example.org.", dns.TypeAAAA)
	require.NoError(t, err)
	_, err = m.Lookup(context.Background(), "example.org.", dns.TypeTXT)
	require.NoError(t, err)

	assert.Equal(t, 1, srv.Queries("mail.example.org.", dns.TypeA))
	assert.Equal(t, 3, srv.Total())
	assert.Equal(t, 3, m.Queries())
	assert.Equal(t, []resolver.Question{
		{Name: "mail.example.org.", Type: dns.TypeA},
		{Name: "example.org.", Type: dns.TypeTXT},
		{Name: "mail.example.org.", Type: dns.TypeAAAA},
	}, m.Log())
}

// TestMemoRemembersErrors: a question that failed fails again, without
// asking again, so the evaluation sees one DNS.
func TestMemoRemembersErrors(t *testing.T) {
	srv := resolvertest.Start(t, testZone(t))
	srv.Servfail("mail.example.org.")
	m := resolver.NewMemo(resolvertest.Client(t, srv), 10)
	_, err1 := m.Lookup(context.Background(), "mail.example.org.", dns.TypeA)
	require.True(t, errors.Is(err1, resolver.ErrTemporary))
	queries := srv.Total()

	_, err2 := m.Lookup(context.Background(), "mail.example.org.", dns.TypeA)
	assert.Equal(t, err1, err2)
	assert.Equal(t, queries, srv.Total())
	assert.Equal(t, 1, m.Queries())

	// NXDOMAIN is remembered as an answer.
	for i := 0; i < 2; i++ {
		ans, err := m.Lookup(context.Background(), "nope.example.org.", dns.TypeTXT)
		require.NoError(t, err)
		assert.True(t, ans.NXDomain())
	}
	assert.Equal(t, 1, srv.Queries("nope.example.org.", dns.TypeTXT))
}

// TestMemoBudget: beyond the budget, new questions fail permanently
// without being asked; answered ones are still answered.
func TestMemoBudget(t *testing.T) {
	zone := testZone(t)
	srv := resolvertest.Start(t, zone)
	m := resolver.NewMemo(resolvertest.Client(t, srv), 3)
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		_, err := m.Lookup(ctx, fmt.Sprintf("n%d.example.org.", i), dns.TypeTXT)
		require.NoError(t, err)
	}
	assert.False(t, m.Exhausted(), "the budget is spent, not yet exceeded")
	_, err := m.Lookup(ctx, "example.org.", dns.TypeTXT)
	assert.True(t, m.Exhausted())
	require.Error(t, err)
	assert.True(t, errors.Is(err, resolver.ErrPermanent))
	var e *resolver.Error
	require.True(t, errors.As(err, &e))
	assert.Equal(t, "query budget exhausted", e.Reason)
	assert.Equal(t, 3, srv.Total())
	assert.Equal(t, 3, m.Queries())

	ans, err := m.Lookup(ctx, "n1.example.org.", dns.TypeTXT)
	require.NoError(t, err)
	assert.True(t, ans.NXDomain())

	// The default budget.
	d := resolver.NewMemo(zone, 0)
	for i := 0; i < resolver.DefaultMaxQueries; i++ {
		_, err := d.Lookup(ctx, fmt.Sprintf("n%d.example.org.", i), dns.TypeA)
		require.NoError(t, err)
	}
	_, err = d.Lookup(ctx, "example.org.", dns.TypeA)
	assert.True(t, errors.Is(err, resolver.ErrPermanent))
}

// TestMemoWaiterCancel: an asker whose ctx ends leaves at once; the
// others get the answer.
func TestMemoWaiterCancel(t *testing.T) {
	srv := resolvertest.Start(t, testZone(t))
	srv.SetDelay(150 * time.Millisecond)
	m := resolver.NewMemo(resolvertest.Client(t, srv), 0)
	done := make(chan error, 1)
	go func() {
		_, err := m.Lookup(context.Background(), "mail.example.org.", dns.TypeA)
		done <- err
	}()
	time.Sleep(10 * time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := m.Lookup(ctx, "mail.example.org.", dns.TypeA)
	assert.True(t, errors.Is(err, context.Canceled))
	ctx, cancel = context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err = m.Lookup(ctx, "mail.example.org.", dns.TypeA)
	assert.True(t, errors.Is(err, context.DeadlineExceeded))
	require.NoError(t, <-done)
	assert.Equal(t, 1, srv.Total())
	assert.Equal(t, 1, m.Queries())
}

// TestMemoReserve: a reserved question is asked however many others came
// first, and only within the budget: the units set aside are refused to
// the others, a reserve larger than the budget is cut to it, and once the
// budget is spent a reserved question may still make ReservedRoundTrips
// further round trips (here a TCP retry), no other question any.
func TestMemoReserve(t *testing.T) {
	ctx := context.Background()
	q := func(name string) resolver.Question { return resolver.Question{Name: name, Type: dns.TypeTXT} }
	decisive, second := q("example.org."), q("Split.Example.org")
	cases := []struct {
		name    string
		budget  int
		reserve []resolver.Question
		others  int      // distinct questions asked before the reserved ones
		refused []string // the questions refused, in the order asked
	}{
		{"no reserve", 3, nil, 4, []string{"n3.example.org.", "example.org.", "split.example.org."}},
		{"one reserved", 3, []resolver.Question{decisive}, 4, []string{"n2.example.org.", "n3.example.org.", "split.example.org."}},
		{"two reserved, case-insensitive", 3, []resolver.Question{decisive, second}, 4, []string{"n1.example.org.", "n2.example.org.", "n3.example.org."}},
		{"reserve cut to the budget", 1, []resolver.Question{decisive, second}, 2, []string{"n0.example.org.", "n1.example.org.", "split.example.org."}},
		{"reserved twice counts once", 3, []resolver.Question{decisive, decisive}, 4, []string{"n2.example.org.", "n3.example.org.", "split.example.org."}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := resolver.NewMemo(testZone(t), tc.budget)
			m.Reserve(tc.reserve...)
			var refused []string
			ask := func(name string) {
				if _, err := m.Lookup(ctx, name, dns.TypeTXT); err != nil {
					require.True(t, resolver.IsBudget(err), "%v", err)
					refused = append(refused, resolver.Fqdn(name))
				}
			}
			for i := range tc.others {
				ask(fmt.Sprintf("n%d.example.org.", i))
			}
			ask(decisive.Name)
			ask(second.Name)
			assert.Equal(t, tc.refused, refused)
			assert.Equal(t, tc.budget, m.Spent())
			assert.True(t, m.Exhausted())
		})
	}

	t.Run("round trips beyond the budget", func(t *testing.T) {
		for _, reserved := range []bool{false, true} {
			srv := resolvertest.Start(t, testZone(t))
			srv.Truncate("example.org.")
			m := resolver.NewMemo(resolvertest.Client(t, srv), 2)
			if reserved {
				m.Reserve(decisive)
			}
			_, err := m.Lookup(ctx, "mail.example.org.", dns.TypeA)
			require.NoError(t, err)
			_, err = m.Lookup(ctx, "example.org.", dns.TypeTXT) // UDP, then TCP
			if !reserved {
				require.True(t, resolver.IsBudget(err), "%v", err)
				assert.Equal(t, 2, m.Spent())
				continue
			}
			require.NoError(t, err)
			assert.Equal(t, 3, m.Spent(), "one round trip beyond the budget")
			assert.Equal(t, 2, srv.Queries("example.org.", dns.TypeTXT))
			_, err = m.Lookup(ctx, "mail.example.org.", dns.TypeAAAA)
			require.True(t, resolver.IsBudget(err), "%v", err)
		}
	})
}

// TestMemoManyQuestions: past the questions a message usually asks, a
// Memo still asks each once, counts each once against its budget, and
// shares one Answer between the askers of a question.
func TestMemoManyQuestions(t *testing.T) {
	z := resolver.NewZone()
	m := resolver.NewMemo(z, 80)
	for range 2 {
		for i := range 60 {
			_, err := m.Lookup(context.Background(), fmt.Sprintf("n%d.example.com", i), dns.TypeA)
			require.NoError(t, err)
		}
	}
	assert.Equal(t, 60, m.Queries())
	assert.Equal(t, 60, m.Spent())
	a, err := m.Lookup(context.Background(), "n7.example.com", dns.TypeA)
	require.NoError(t, err)
	b, err := m.Lookup(context.Background(), "N7.example.com.", dns.TypeA)
	require.NoError(t, err)
	assert.Same(t, a, b, "one answer, shared read-only")
	for i := 60; i < 100; i++ {
		_, err = m.Lookup(context.Background(), fmt.Sprintf("n%d.example.com", i), dns.TypeA)
	}
	assert.ErrorIs(t, err, resolver.ErrPermanent, "the budget still holds")
	assert.Equal(t, 80, m.Queries())
}
