package resolver

import (
	"context"
	"sync"
)

// flight is one upstream question shared by every concurrent asker of the
// same (name, type): Cache and Memo ask upstream once, however many
// checks want the answer at the same moment.
type flight struct {
	done   chan struct{} // closed when ans and err are set
	ans    *Answer
	err    error
	refs   int                // askers still waiting
	cancel context.CancelFunc // ends the question once every asker left
}

// flights holds the questions in progress. Its owner's mutex guards it and
// must be held when calling start or when adding a reference to a flight;
// holding one lock for the cache (or memo) and the flights means a question
// is either answered, in flight, or not asked: never asked twice at once.
type flights map[Question]*flight

// start asks q of r in a goroutine of its own and returns the flight with
// one reference, the caller's. The question runs under a context that keeps
// ctx's values but not its deadline or cancellation, so that the first
// asker leaving does not fail the others; it is cancelled when the last
// asker leaves. finish is called with mu held when the answer comes, unless
// every asker left before: it stores the result where the owner wants it.
func (fs flights) start(mu *sync.Mutex, ctx context.Context, q Question, r Resolver, finish func(*Answer, error)) *flight {
	fctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	f := &flight{done: make(chan struct{}), refs: 1, cancel: cancel}
	fs[q] = f
	go func() {
		ans, err := r.Lookup(fctx, q.Name, q.Type)
		if ans == nil && err == nil { // a broken upstream must not reach callers as success
			err = &Error{Name: q.Name, Type: q.Type, Rcode: -1, Reason: "no answer from upstream resolver", Kind: ErrPermanent}
		}
		mu.Lock()
		if fs[q] == f {
			delete(fs, q)
			finish(ans, err)
		}
		f.ans, f.err = ans, err
		close(f.done)
		mu.Unlock()
		cancel()
	}()
	return f
}

// wait returns the answer of f (shared: the owner copies it if its
// callers may change it), or an error wrapping ErrTemporary as soon
// as ctx ends, dropping the caller's reference. Call without mu held.
func (fs flights) wait(mu *sync.Mutex, ctx context.Context, q Question, f *flight) (*Answer, error) {
	select {
	case <-f.done:
		return f.ans, f.err
	case <-ctx.Done():
	}
	mu.Lock()
	defer mu.Unlock()
	select {
	case <-f.done: // the answer came at the same moment: use it
		return f.ans, f.err
	default:
	}
	f.refs--
	if f.refs == 0 {
		if fs[q] == f {
			delete(fs, q)
		}
		f.cancel()
	}
	return nil, contextError(q, ctx.Err())
}
