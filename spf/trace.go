package spf

import (
	"strings"
)

// tracer follows an evaluation through blitiri/spf's trace calls to learn
// which term decided it, and through which include or redirect.
//
// blitiri reports a match only as an ErrMatchedX sentinel, which says what
// kind of mechanism matched but not which one, nor whether it sat behind an
// include. Its trace calls do say, and are recognized here by their format
// strings, never by formatted text. Those strings belong to blitiri v1.6.0,
// the version go.mod pins; the tests of this package check mechanism
// reporting, so an upgrade that changes them is caught there. Should the
// trace ever not add up (an unknown shape), the tracer says so and the
// caller falls back to what the record and the sentinel tell (see path).
//
// Every check_host() frame starts with "check %q %d %d" and ends with
// exactly one of the events handled in event below; the parent's
// include or redirect event follows its child's end immediately.
type tracer struct {
	stack  []*frame
	root   *frame // the outermost frame, once it ended
	popped *frame // the frame that ended at the previous event, if any
	broken bool
}

// frame is one check_host() call.
type frame struct {
	domain string
	record string // the record blitiri evaluated, "" if none
	end    string // the term that ended evaluation, as blitiri names it (qualifier removed)
	via    *frame // for an include or redirect end: the frame it evaluated
}

// event is the TraceFunc given to blitiri.
func (t *tracer) event(format string, args ...any) {
	popped := t.popped
	t.popped = nil
	switch format {
	case "check %q %d %d":
		if d, ok := arg(args, 0); ok {
			t.stack = append(t.stack, &frame{domain: d})
		} else {
			t.broken = true
		}
	case "dns record %q":
		f := t.top()
		rec, ok := arg(args, 0)
		if f == nil || !ok {
			t.broken = true
			return
		}
		f.record = rec
		if rec == "" {
			t.pop() // no record: none
		}
	case "dns domain not found: %v", "dns temp error: %v", "multiple dns records",
		"dns perm error: %v", "too many redirects", "unknown field, permerror",
		"fallback to neutral":
		t.pop()
	case "all: %v":
		if f := t.top(); f != nil {
			f.end = "all"
		}
		t.pop()
	case "%q %v, %v", "%q: %v, %v":
		// A mechanism decided (matched, or failed with an error), or a
		// redirect returned its target's result.
		f := t.top()
		field, ok := arg(args, 0)
		if f == nil || !ok {
			t.broken = true
			return
		}
		f.end = field
		l := strings.ToLower(field)
		if strings.HasPrefix(l, "include:") || strings.HasPrefix(l, "redirect=") {
			f.via = popped
		}
		t.pop()
	}
}

func (t *tracer) top() *frame {
	if len(t.stack) == 0 {
		return nil
	}
	return t.stack[len(t.stack)-1]
}

func (t *tracer) pop() {
	n := len(t.stack)
	if n == 0 {
		t.broken = true
		return
	}
	f := t.stack[n-1]
	t.stack = t.stack[:n-1]
	t.popped = f
	if n == 1 {
		if t.root != nil {
			t.broken = true
		}
		t.root = f
	}
}

// done returns the outermost frame, or nil if the trace did not add up.
func (t *tracer) done() *frame {
	if t.broken || len(t.stack) != 0 {
		return nil
	}
	return t.root
}

func arg(args []any, i int) (string, bool) {
	if i >= len(args) {
		return "", false
	}
	s, ok := args[i].(string)
	return s, ok
}
