package smtptrust

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	netsmtp "net/smtp"
	"net/textproto"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/mailtrust/mailtrust/inbound"
	"github.com/mailtrust/mailtrust/received"
	"github.com/mailtrust/mailtrust/resolver"
	"github.com/mailtrust/mailtrust/trust"
)

// The tests run a real go-smtp server on loopback and send with net/smtp.

const authServID = "mx.helpdesk.example"

var receipt = time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC)

// store is the wrapped backend: it keeps what its sessions were given.
type store struct {
	mu        sync.Mutex
	data      [][]byte         // through Data
	delivered []*trust.Verdict // through Deliver
	deliver   bool             // sessions implement Deliverer
	auth      bool             // sessions implement AuthSession
}

func (st *store) NewSession(*smtp.Conn) (smtp.Session, error) {
	s := &plain{st: st}
	switch {
	case st.auth:
		return &withAuth{s}, nil
	case st.deliver:
		return &withDeliver{s}, nil
	}
	return s, nil
}

func (st *store) msgs() [][]byte {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.data
}

func (st *store) verdicts() []*trust.Verdict {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.delivered
}

type plain struct{ st *store }

func (*plain) Reset()                               {}
func (*plain) Logout() error                        { return nil }
func (*plain) Mail(string, *smtp.MailOptions) error { return nil }
func (*plain) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (p *plain) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	p.st.mu.Lock()
	p.st.data = append(p.st.data, b)
	p.st.mu.Unlock()
	return err
}

type withDeliver struct{ *plain }

func (d *withDeliver) Deliver(v *trust.Verdict, r io.Reader) error {
	d.st.mu.Lock()
	d.st.delivered = append(d.st.delivered, v)
	d.st.mu.Unlock()
	return d.Data(r)
}

type withAuth struct{ *plain }

func (*withAuth) AuthMechanisms() []string { return []string{sasl.Plain} }
func (*withAuth) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, user, pass string) error {
		if user != "relay-user" || pass != "secret" {
			return errors.New("bad credentials")
		}
		return nil
	}), nil
}

func zone(t *testing.T) *resolver.Zone {
	t.Helper()
	z, err := resolver.LoadZone("../testdata/corpus/zone.txt")
	if err != nil {
		t.Fatal(err)
	}
	return z
}

func serve(t *testing.T, st *store, opts Options) string {
	t.Helper()
	if opts.Evaluator == nil {
		opts.Evaluator = trust.New(&trust.Options{Resolver: zone(t), AuthServID: authServID})
	}
	opts.Now = func() time.Time { return receipt }
	srv := smtp.NewServer(New(st, &opts))
	srv.Domain = "mx.helpdesk.example"
	srv.AllowInsecureAuth = true
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

func message(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("../testdata/corpus/msgs/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// send sends msg with EHLO helo, authenticating when auth is set.
func send(addr, helo, from string, msg []byte, auth netsmtp.Auth) error {
	c, err := netsmtp.Dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Hello(helo); err != nil {
		return err
	}
	if auth != nil {
		if err := c.Auth(auth); err != nil {
			return err
		}
	}
	if err := c.Mail(from); err != nil {
		return err
	}
	if err := c.Rcpt("support@helpdesk.example"); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(msg); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

func evaluate(t *testing.T, conn trust.Conn, msg []byte) *trust.Verdict {
	t.Helper()
	ev := trust.New(&trust.Options{Resolver: zone(t), AuthServID: authServID})
	v, err := ev.Evaluate(context.Background(), conn, bytes.NewReader(msg))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func loopbackConn(helo, from string) trust.Conn {
	return trust.Conn{IP: netip.MustParseAddr("127.0.0.1"), HELO: helo, MailFrom: from,
		RcptTo: []string{"support@helpdesk.example"}, Time: receipt}
}

func TestDataGetsPrependedMessage(t *testing.T) {
	for _, deliver := range []bool{false, true} {
		st := &store{deliver: deliver}
		addr := serve(t, st, Options{})
		msg := append([]byte("Authentication-Results: mx.helpdesk.example; dkim=pass header.d=bank.example\r\n"+
			"X-Mailtrust-Verdict: trusted\r\n"), message(t, "legit-rsa.eml")...)
		if err := send(addr, "mail.example.com", "bounce@example.com", msg, nil); err != nil {
			t.Fatal(err)
		}
		v := evaluate(t, loopbackConn("mail.example.com", "bounce@example.com"), msg)
		want, _ := io.ReadAll(inbound.Prepend(v, bytes.NewReader(msg)))
		if len(st.msgs()) != 1 || !bytes.Equal(st.msgs()[0], want) {
			t.Fatalf("deliver=%v: the session got\n%q\nwant\n%q", deliver, st.msgs(), want)
		}
		if bytes.Contains(st.msgs()[0], []byte("bank.example")) {
			t.Errorf("the forged Authentication-Results reached the session")
		}
		if deliver && (len(st.verdicts()) != 1 || st.verdicts()[0].AuthenticationResults != v.AuthenticationResults) {
			t.Errorf("Deliver got %v, want the verdict %q", st.verdicts(), v.AuthenticationResults)
		}
	}
}

func TestReplies(t *testing.T) {
	for _, c := range []struct {
		name   string
		policy inbound.Policy
		file   string
		helo   string
		from   string
		code   int
		prefix string
	}{
		{"untrusted refused", inbound.Policy{Reject: trust.Untrusted}, "spoof-no-spf.eml", "localhost", "ceo@nospf.example", 550, "5.7.1 message refused: untrusted sender ("},
		{"incomplete deferred", inbound.Policy{TempfailIncomplete: true}, "dkim-key-temperror.eml", "mail.temp.example", "ops@temp.example", 451, "4.7.0 "},
		{"untrusted accepted without a policy", inbound.Policy{}, "spoof-no-spf.eml", "localhost", "ceo@nospf.example", 0, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			st := &store{}
			addr := serve(t, st, Options{Policy: c.policy})
			msg := message(t, c.file)
			if v := evaluate(t, loopbackConn(c.helo, c.from), msg); c.code == 550 && v.Level != trust.Untrusted || c.code == 451 && !v.Incomplete {
				t.Fatalf("the case does not test what it says: %s, incomplete %v", v.Level, v.Incomplete)
			}
			err := send(addr, c.helo, c.from, msg, nil)
			if c.code == 0 {
				if err != nil || len(st.msgs()) != 1 {
					t.Fatalf("got %v, %d delivered; want delivery", err, len(st.msgs()))
				}
				return
			}
			var te *textproto.Error
			if !errors.As(err, &te) || te.Code != c.code || !strings.HasPrefix(te.Msg, c.prefix) {
				t.Fatalf("got %v, want %d %s...", err, c.code, c.prefix)
			}
			if len(st.msgs()) != 0 {
				t.Errorf("a refused message reached the session")
			}
		})
	}
}

func TestAuthenticated(t *testing.T) {
	st := &store{auth: true}
	addr := serve(t, st, Options{})
	msg := message(t, "authenticated-relay.eml")
	if err := send(addr, "[203.0.113.5]", "noreply@app.example", msg, netsmtp.PlainAuth("", "relay-user", "secret", "127.0.0.1")); err != nil {
		t.Fatal(err)
	}
	conn := loopbackConn("[203.0.113.5]", "noreply@app.example")
	conn.Authenticated = true
	v := evaluate(t, conn, msg)
	if !v.Has(trust.Authenticated) {
		t.Fatal("the reference verdict does not count the authentication")
	}
	want, _ := io.ReadAll(inbound.Prepend(v, bytes.NewReader(msg)))
	if len(st.msgs()) != 1 || !bytes.Equal(st.msgs()[0], want) {
		t.Fatalf("got\n%q\nwant\n%q", st.msgs(), want)
	}
	// A failed AUTH leaves the client unauthenticated.
	err := send(addr, "[203.0.113.5]", "noreply@app.example", msg, netsmtp.PlainAuth("", "relay-user", "wrong", "127.0.0.1"))
	if err == nil {
		t.Fatal("wrong credentials accepted")
	}
}

// A client among the receiver's own hosts is not judged as the sender:
// the Evaluator, given the same Receiver, reads the first outside hop from
// the Received field the receiver's relay wrote (RFC 5321 §4.4), and MAIL
// FROM, RCPT TO and the time stay the session's. A trace the receiver did
// not write leaves the client unknown.
func TestRelayClient(t *testing.T) {
	rcv, err := received.ParseReceiver("127.0.0.0/8,mx1.helpdesk.example")
	if err != nil {
		t.Fatal(err)
	}
	plain := message(t, "legit-rsa.eml")
	traced := append([]byte("Received: from mail.example.com (mail.example.com [192.0.2.10])\r\n"+
		"\tby mx1.helpdesk.example (Postfix) with ESMTPS id 4Q1; Thu, 15 Jan 2026 09:59:58 +0000\r\n"), plain...)
	outside := trust.Conn{IP: netip.MustParseAddr("192.0.2.10"), HELO: "mail.example.com", MailFrom: "bounce@example.com",
		RcptTo: []string{"support@helpdesk.example"}, Time: receipt}
	unknown := loopbackConn("", "bounce@example.com")
	unknown.IP = netip.Addr{}
	for _, tc := range []struct {
		name string
		msg  []byte
		conn trust.Conn // the facts the verdict must be the one of
		ar   []string   // in the Authentication-Results
	}{
		{"relay's trace: the outside hop judged", traced, outside,
			[]string{`spf=pass reason="192.0.2.10 `, "iprev=pass ", "policy.iprev=192.0.2.10"}},
		{"no trace of the receiver's: client unknown", plain, unknown, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := &store{deliver: true}
			ev := trust.New(&trust.Options{Resolver: zone(t), AuthServID: authServID, Receiver: rcv})
			addr := serve(t, st, Options{Evaluator: ev, Receiver: rcv})
			if err := send(addr, "mx1.helpdesk.example", "bounce@example.com", tc.msg, nil); err != nil {
				t.Fatal(err)
			}
			v := evaluate(t, tc.conn, tc.msg)
			want, _ := io.ReadAll(inbound.Prepend(v, bytes.NewReader(tc.msg)))
			if len(st.msgs()) != 1 || !bytes.Equal(st.msgs()[0], want) {
				t.Fatalf("got\n%q\nwant\n%q", st.msgs(), want)
			}
			for _, sub := range tc.ar {
				if !strings.Contains(v.AuthenticationResults, sub) {
					t.Errorf("%s lacks %q", v.AuthenticationResults, sub)
				}
			}
			got := st.verdicts()[0].Conn
			if got.IP != tc.conn.IP || got.HELO != tc.conn.HELO || got.MailFrom != "bounce@example.com" ||
				!slices.Equal(got.RcptTo, tc.conn.RcptTo) || !got.Time.Equal(receipt) {
				t.Errorf("judged by %+v, want the facts of %+v", got, tc.conn)
			}
		})
	}
	relay := loopbackConn("mx1.helpdesk.example", "bounce@example.com")
	for _, other := range []trust.Conn{relay, unknown} {
		if evaluate(t, other, traced).AuthenticationResults == evaluate(t, outside, traced).AuthenticationResults {
			t.Fatalf("%+v gives the same verdict as the outside hop: the test proves nothing", other)
		}
	}
}

func TestSMTPError(t *testing.T) {
	e := SMTPError(inbound.Reply{Code: 451, Enhanced: "4.7.0", Text: "later"})
	if e.Code != 451 || e.EnhancedCode != (smtp.EnhancedCode{4, 7, 0}) || e.Message != "later" {
		t.Errorf("got %+v", e)
	}
}

// A message beyond MaxMemory is spooled to a file, delivered whole, and
// the file removed once it is answered.
func TestSpool(t *testing.T) {
	dir := t.TempDir()
	st := &store{}
	addr := serve(t, st, Options{MaxMemory: 512, SpoolDir: dir})
	msg := append(message(t, "legit-rsa.eml"), bytes.Repeat([]byte("a longer body line\r\n"), 5000)...)
	if err := send(addr, "mail.example.com", "bounce@example.com", msg, nil); err != nil {
		t.Fatal(err)
	}
	v := evaluate(t, loopbackConn("mail.example.com", "bounce@example.com"), msg)
	if len(v.DKIM) != 1 || v.DKIM[0].Status != "fail" {
		t.Fatalf("the reference verdict has DKIM %+v, want the body hash to fail", v.DKIM)
	}
	want, _ := io.ReadAll(inbound.Prepend(v, bytes.NewReader(msg)))
	if len(st.msgs()) != 1 || !bytes.Equal(st.msgs()[0], want) {
		t.Fatalf("the spooled message was not delivered whole (%d octets, want %d)", len(st.msgs()[0]), len(want))
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("spool files left: %v", left)
	}
}

func TestSpoolParts(t *testing.T) {
	for _, c := range []struct {
		writes []int
		toFile bool
	}{
		{[]int{100, 412}, false}, // exactly max: memory only
		{[]int{100, 413}, true},
		{[]int{600}, true},
		{[]int{0, 0}, false},
	} {
		s := &spool{max: 512, dir: t.TempDir()}
		var all []byte
		for i, n := range c.writes {
			p := bytes.Repeat([]byte{byte('a' + i)}, n)
			all = append(all, p...)
			if _, err := s.Write(p); err != nil {
				t.Fatal(err)
			}
		}
		r, err := s.reader()
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(r)
		if (s.file != nil) != c.toFile || !bytes.Equal(got, all) {
			t.Errorf("writes %v: file %v, read back %d octets of %d", c.writes, s.file != nil, len(got), len(all))
		}
		s.close()
	}
}
