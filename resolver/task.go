package resolver

import (
	"context"
)

// Go runs f, a piece of work that asks its DNS questions of the Resolver
// it is given, concurrently with the caller, and returns a channel closed
// once f has finished.
//
// When r is a Memo, f first runs at once on the caller's goroutine against
// a view of the Memo that never waits: questions the Memo has answered, or
// its upstream Cache holds, are answered; any other is sent upstream and
// fails at once with an error wrapping ErrTemporary. If no question failed
// so, f is done and no goroutine is started: with a warm cache the many
// concurrent questions of an evaluation cost no scheduling. Otherwise f
// runs again, on a goroutine of its own, against the Memo itself, its
// questions already on their way. Inside f, Go with the view it was given
// runs at once against the same view.
//
// f may therefore run twice: it must have no effect but the result it
// stores, which the second run overwrites, and that result must not be read
// before the channel is closed. For any other r, f runs once, on a
// goroutine of its own.
func Go(r Resolver, f func(Resolver)) <-chan struct{} {
	switch v := r.(type) {
	case noWait:
		f(v)
		return v.m.closedChan()
	case *Memo:
		// A miss of any inline run of this Memo meanwhile, even one on
		// another goroutine, sends f to a goroutine: at worst f runs a
		// second time, which it must allow anyway; a miss of f's own is
		// never overlooked.
		before := v.misses.Load()
		f(noWait{m: v})
		if v.misses.Load() == before {
			return v.closedChan()
		}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(r)
	}()
	return done
}

// noWait is the view of a Memo that Go gives f for its first run. It is
// one pointer: as a Resolver it costs no allocation.
type noWait struct {
	m *Memo
}

// Lookup implements Resolver.
func (v noWait) Lookup(ctx context.Context, name string, qtype uint16) (*Answer, error) {
	ans, err, ok := v.m.lookup(ctx, name, qtype, false)
	if !ok {
		v.m.misses.Add(1)
		return nil, &Error{Name: Fqdn(name), Type: qtype, Rcode: -1, Reason: "answer not at hand yet", Kind: ErrTemporary}
	}
	return ans, err
}

// Tasks is a set of work started with Go, waited for together, as with a
// sync.WaitGroup. The zero value is ready; a Tasks must not be copied
// after first use.
type Tasks struct {
	done []<-chan struct{}
	buf  [8]<-chan struct{} // done's first array: a check starts a few
}

// Go starts f with Go(r, f).
func (t *Tasks) Go(r Resolver, f func(Resolver)) {
	if t.done == nil {
		t.done = t.buf[:0]
	}
	t.done = append(t.done, Go(r, f))
}

// Wait waits for all the work started so far.
func (t *Tasks) Wait() {
	for _, d := range t.done {
		<-d
	}
	t.done = t.done[:0]
}
