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
