package milter

import (
	"context"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"

	gomilter "github.com/emersion/go-milter"

	"github.com/mailtrust/mailtrust/trust"
)

// dialer keeps the connections it opens, so that a test can drop one the
// way an MTA that dies does: no Abort, no Quit.
type dialer struct {
	mu    sync.Mutex
	conns []net.Conn
}

func (d *dialer) Dial(network, addr string) (net.Conn, error) {
	c, err := net.Dial(network, addr)
	if err == nil {
		d.mu.Lock()
		d.conns = append(d.conns, c)
		d.mu.Unlock()
	}
	return c, err
}

func (d *dialer) last() net.Conn {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.conns[len(d.conns)-1]
}

// waitFor polls cond for up to 5 s.
func waitFor(cond func() bool) bool {
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return cond()
}

// A connection that closes in the middle of a message gives the message
// up at once: its evaluation slot is free for the next message long before
// MessageTimeout, Shutdown has nothing in flight to wait for, and nothing
// of it keeps running.
func TestConnectionDropped(t *testing.T) {
	msg := corpusMessage(t, "legit-rsa.eml")
	names, values, body := fields(t, msg)
	for _, tc := range []struct {
		name  string
		stage int // 0 after RCPT TO, 1 in the header, 2 in the body
	}{
		{"after RCPT TO", 0},
		{"in the header", 1},
		{"in the body", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev := trust.New(&trust.Options{Resolver: corpusZone(t), AuthServID: authServID})
			before := runtime.NumGoroutine()
			srv := NewServer(&Options{Evaluator: ev, MaxConcurrent: 1, MessageTimeout: time.Hour,
				Now: func() time.Time { return receipt }})
			ln, err := Listen("inet:127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			served := make(chan error, 1)
			go func() { served <- srv.Serve(ln) }()
			d := &dialer{}
			c := gomilter.NewClientWithOptions("tcp", ln.Addr().String(), gomilter.ClientOptions{
				Dialer: d, ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second,
				ActionMask: gomilter.OptAddHeader | gomilter.OptChangeHeader,
			})

			s := open(t, c, legit)
			must(t)(s.Mail("<bounce@example.com>", nil))
			must(t)(s.Rcpt("<support@helpdesk.example>", nil))
			if tc.stage >= 1 {
				for i := range names[:len(names)/2] {
					must(t)(s.HeaderField(names[i], values[i]))
				}
			}
			if tc.stage >= 2 {
				for i := len(names) / 2; i < len(names); i++ {
					must(t)(s.HeaderField(names[i], values[i]))
				}
				must(t)(s.HeaderEnd())
				must(t)(s.BodyChunk(body[:len(body)/2]))
			}
			if held := len(srv.sem); held != min(tc.stage, 1) {
				t.Fatalf("%d slots held before the drop, want %d: the case tests nothing", held, min(tc.stage, 1))
			}
			d.last().Close()
			if !waitFor(func() bool { return len(srv.sem) == 0 }) {
				t.Fatal("the dropped message still holds its evaluation slot")
			}

			// The only slot is free: a message on a new connection is
			// judged, well before MessageTimeout.
			s2 := open(t, c, legit)
			start := time.Now()
			mods, act := send(t, s2, legit, msg)
			if act.Code != gomilter.ActContinue {
				t.Fatalf("next message: action %c %d %s, want continue", act.Code, act.SMTPCode, act.SMTPText)
			}
			checkAdded(t, mods, want(t, legit.conn(), msg))
			if took := time.Since(start); took > 5*time.Second {
				t.Errorf("next message took %v", took)
			}
			s2.Close()

			// Nothing is in flight: Shutdown returns at once, with nil.
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			start = time.Now()
			if err := srv.Shutdown(ctx); err != nil {
				t.Errorf("Shutdown: %v, want nil", err)
			}
			if took := time.Since(start); took > time.Second {
				t.Errorf("Shutdown took %v", took)
			}
			if err := <-served; err != ErrServerClosed {
				t.Errorf("Serve: %v, want ErrServerClosed", err)
			}
			if !waitFor(func() bool { return runtime.NumGoroutine() <= before }) {
				buf := make([]byte, 1<<20)
				t.Errorf("%d goroutines after Shutdown, %d before:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
			}
		})
	}
}
