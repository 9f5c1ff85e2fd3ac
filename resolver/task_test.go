package resolver_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mailtrust/mailtrust/resolver"
	"github.com/mailtrust/mailtrust/resolver/resolvertest"
)

// lookupTask returns work for Go that looks up the addresses of
// mail.example.org and counts its runs and the temporary failures it saw;
// any other failure is counted as a run that found nothing.
func lookupTask(runs, temp *atomic.Int32, got *[]string) func(resolver.Resolver) {
	return func(r resolver.Resolver) {
		runs.Add(1)
		*got = nil
		ips, _, err := resolver.IPs(context.Background(), r, "mail.example.org.")
		if err != nil {
			if resolver.IsTemporary(err) {
				temp.Add(1)
			}
			return
		}
		for _, ip := range ips {
			*got = append(*got, ip.String())
		}
	}
}

// TestGoWarm: with every answer in the cache behind the memo, the work
// runs once, at once, on the caller's goroutine.
func TestGoWarm(t *testing.T) {
	srv := resolvertest.Start(t, testZone(t))
	cache := resolver.NewCache(resolvertest.Client(t, srv))
	_, _, err := resolver.IPs(context.Background(), cache, "mail.example.org.")
	require.NoError(t, err)
	asked := srv.Total()

	m := resolver.NewMemo(cache, 0)
	var runs, temp atomic.Int32
	var got []string
	done := resolver.Go(m, lookupTask(&runs, &temp, &got))
	select {
	case <-done:
	default:
		t.Fatal("the work did not finish at once")
	}
	assert.Equal(t, int32(1), runs.Load())
	assert.Equal(t, int32(0), temp.Load())
	assert.ElementsMatch(t, []string{"192.0.2.10", "2001:db8::10"}, got)
	assert.Equal(t, asked, srv.Total(), "nothing asked upstream")
	assert.Equal(t, 2, m.Queries(), "the memo counts both questions")
}

// TestGoCold: with nothing cached, the first run sends every question it
// can and sees temporary errors; the second, on a goroutine, gets the
// answers; no question reaches the server twice.
func TestGoCold(t *testing.T) {
	srv := resolvertest.Start(t, testZone(t))
	srv.SetDelay(20 * time.Millisecond)
	m := resolver.NewMemo(resolver.NewCache(resolvertest.Client(t, srv)), 0)
	var runs, temp atomic.Int32
	var got []string
	start := time.Now()
	done := resolver.Go(m, lookupTask(&runs, &temp, &got))
	assert.Less(t, time.Since(start), 15*time.Millisecond, "Go does not wait for DNS")
	<-done
	assert.Equal(t, int32(2), runs.Load())
	assert.Equal(t, int32(1), temp.Load(), "the first run saw the answers missing")
	assert.ElementsMatch(t, []string{"192.0.2.10", "2001:db8::10"}, got, "the second run's result stands")
	assert.Equal(t, 1, srv.Queries("mail.example.org.", dns.TypeA))
	assert.Equal(t, 1, srv.Queries("mail.example.org.", dns.TypeAAAA))
	assert.Equal(t, 2, srv.Total())
	assert.Less(t, time.Since(start), 200*time.Millisecond, "A and AAAA asked together")
}

// TestGoOtherResolver: without a memo the work runs once, on a goroutine.
func TestGoOtherResolver(t *testing.T) {
	z := testZone(t)
	var runs, temp atomic.Int32
	var got []string
	<-resolver.Go(z, lookupTask(&runs, &temp, &got))
	assert.Equal(t, int32(1), runs.Load())
	assert.Equal(t, int32(0), temp.Load())
	assert.Len(t, got, 2)
}

// TestGoBudget: a question the first run could not have answered still
// counts once in the memo's budget.
func TestGoBudget(t *testing.T) {
	srv := resolvertest.Start(t, testZone(t))
	m := resolver.NewMemo(resolvertest.Client(t, srv), 1)
	var errs []error
	<-resolver.Go(m, func(r resolver.Resolver) {
		errs = errs[:0]
		for _, name := range []string{"example.org.", "mail.example.org."} {
			_, err := r.Lookup(context.Background(), name, dns.TypeTXT)
			errs = append(errs, err)
		}
	})
	require.Len(t, errs, 2)
	assert.NoError(t, errs[0])
	assert.True(t, errs[1] != nil && !resolver.IsTemporary(errs[1]), "beyond the budget: permanent, %v", errs[1])
	assert.True(t, m.Exhausted())
	assert.Equal(t, 1, srv.Total())
}
