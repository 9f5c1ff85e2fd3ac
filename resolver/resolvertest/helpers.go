package resolvertest

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailtrust/mailtrust/resolver"
)

// Questions is a resolver.Resolver that passes every question to the
// Resolver it wraps and notes it, for tests that assert which questions a
// check asks (and which it must not). It is safe for concurrent use.
type Questions struct {
	resolver.Resolver

	mu    sync.Mutex
	asked []string
}

// Lookup notes the question as "TYPE name." and asks the wrapped Resolver.
func (q *Questions) Lookup(ctx context.Context, name string, qtype uint16) (*resolver.Answer, error) {
	q.mu.Lock()
	q.asked = append(q.asked, resolver.TypeString(qtype)+" "+resolver.Fqdn(name))
	q.mu.Unlock()
	return q.Resolver.Lookup(ctx, name, qtype)
}

// Asked returns the questions noted so far, sorted: checks ask some of
// them concurrently, so the order carries no meaning and they compare as
// sets. A question asked twice appears twice.
func (q *Questions) Asked() []string {
	q.mu.Lock()
	defer q.mu.Unlock()
	a := slices.Clone(q.asked)
	slices.Sort(a)
	return a
}

// Zone returns a resolver.Zone read from master-file text (docs/CORPUS.md: RFC
// 1035 §5 with fault comments), failing t if it does not load. A
// "; timeout:" fault waits at most timeout, so that tests of timeouts stay
// fast.
func Zone(t testing.TB, text string, timeout time.Duration) *resolver.Zone {
	t.Helper()
	z := resolver.NewZone()
	if err := z.ReadMasterFile(strings.NewReader(text), ".", t.Name()); err != nil {
		t.Fatal(err)
	}
	z.Timeout = timeout
	return z
}
