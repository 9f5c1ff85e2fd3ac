package milter

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	gomilter "github.com/emersion/go-milter"
	msgdkim "github.com/emersion/go-msgauth/dkim"

	"github.com/mailtrust/mailtrust/inbound"
	"github.com/mailtrust/mailtrust/received"
	"github.com/mailtrust/mailtrust/resolver"
	"github.com/mailtrust/mailtrust/trust"
)

// The tests speak the milter protocol to a Server with go-milter's own
// client, the way an MTA does; DNS is the corpus zone.

const authServID = "mx.helpdesk.example"

var receipt = time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC)

func corpusZone(t testing.TB) *resolver.Zone {
	t.Helper()
	z, err := resolver.LoadZone("../testdata/corpus/zone.txt")
	if err != nil {
		t.Fatal(err)
	}
	return z
}

func corpusMessage(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("../testdata/corpus/msgs", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// start serves opts on loopback and returns a client for it; the server
// is shut down when the test ends.
func start(t testing.TB, opts Options) (*Server, *gomilter.Client) {
	t.Helper()
	if opts.Evaluator == nil {
		opts.Evaluator = trust.New(&trust.Options{Resolver: corpusZone(t), AuthServID: authServID})
	}
	if opts.Now == nil {
		opts.Now = func() time.Time { return receipt }
	}
	srv := NewServer(&opts)
	ln, err := Listen("inet:127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		if err := <-served; err != ErrServerClosed {
			t.Errorf("Serve: %v, want ErrServerClosed", err)
		}
	})
	// The actions this server asks for, as an MTA offers them.
	return srv, gomilter.NewClientWithOptions("tcp", ln.Addr().String(), gomilter.ClientOptions{
		ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second,
		ActionMask: gomilter.OptAddHeader | gomilter.OptChangeHeader,
	})
}

// facts are a session's facts as the MTA gives them.
type facts struct {
	ip, host, helo, from string
	rcpt                 []string
	auth                 string // {auth_authen}
}

var legit = facts{ip: "192.0.2.10", helo: "mail.example.com", from: "bounce@example.com", rcpt: []string{"support@helpdesk.example"}}

func (f facts) conn() trust.Conn {
	c := trust.Conn{HELO: f.helo, MailFrom: f.from, RcptTo: f.rcpt, Time: receipt, Authenticated: f.auth != ""}
	c.IP, _ = netip.ParseAddr(f.ip)
	return c
}

// fields splits a message into header fields as an MTA hands them to a
// milter: name, and value from the colon on with folded lines joined by
// LF alone (Postfix's form); and the body.
func fields(t testing.TB, msg []byte) (names, values []string, body []byte) {
	t.Helper()
	msg = bytes.ReplaceAll(msg, []byte("\r\n"), []byte("\n"))
	head, body, ok := bytes.Cut(msg, []byte("\n\n"))
	if !ok {
		t.Fatal("no header end")
	}
	for _, line := range strings.Split(string(head), "\n") {
		if line[0] == ' ' || line[0] == '\t' {
			values[len(values)-1] += "\n" + line
			continue
		}
		name, value, _ := strings.Cut(line, ":")
		names, values = append(names, name), append(values, value)
	}
	return names, values, bytes.ReplaceAll(body, []byte("\n"), []byte("\r\n"))
}

// send runs one message through an open session.
func send(t *testing.T, s *gomilter.ClientSession, f facts, msg []byte) ([]gomilter.ModifyAction, *gomilter.Action) {
	t.Helper()
	s.Macros(gomilter.CodeMail, "{auth_authen}", f.auth)
	must(t)(s.Mail("<"+f.from+">", nil))
	for _, r := range f.rcpt {
		must(t)(s.Rcpt("<"+r+">", nil))
	}
	names, values, body := fields(t, msg)
	for i := range names {
		must(t)(s.HeaderField(names[i], values[i]))
	}
	must(t)(s.HeaderEnd())
	for len(body) > 0 { // in chunks of at most 64 KiB, as MTAs send them
		n := min(len(body), 65535)
		must(t)(s.BodyChunk(body[:n]))
		body = body[n:]
	}
	s.Macros(gomilter.CodeEOB, "i", "4BZ1x2")
	mods, act, err := s.End()
	if err != nil {
		t.Fatal(err)
	}
	return mods, act
}

func open(t *testing.T, c *gomilter.Client, f facts) *gomilter.ClientSession {
	t.Helper()
	s, err := c.Session()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	family := gomilter.FamilyInet
	if strings.Contains(f.ip, ":") {
		family = gomilter.FamilyInet6
	}
	host := f.host
	if host == "" {
		host = "[" + f.ip + "]"
	}
	must(t)(s.Conn(host, family, 25, f.ip))
	must(t)(s.Helo(f.helo))
	return s
}

// must checks an answer before the end of a message: continue.
func must(t *testing.T) func(*gomilter.Action, error) {
	return func(act *gomilter.Action, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		if act.Code != gomilter.ActContinue {
			t.Fatalf("action %c before the end of the message", act.Code)
		}
	}
}

// want is the verdict trust.Evaluate gives for msg with conn, as the
// milter must reproduce it.
func want(t *testing.T, conn trust.Conn, msg []byte) *trust.Verdict {
	t.Helper()
	ev := trust.New(&trust.Options{Resolver: corpusZone(t), AuthServID: authServID})
	v, err := ev.Evaluate(context.Background(), conn, bytes.NewReader(msg))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// checkAdded asserts that mods insert the verdict's two fields on top.
func checkAdded(t *testing.T, mods []gomilter.ModifyAction, v *trust.Verdict) {
	t.Helper()
	var ins []gomilter.ModifyAction
	for _, m := range mods {
		if m.Code == gomilter.ActInsertHeader {
			ins = append(ins, m)
		}
	}
	if len(ins) != 2 {
		t.Fatalf("%d fields inserted, want 2: %+v", len(ins), mods)
	}
	last := ins[1] // inserted last at 0: the topmost
	if last.HeaderIndex != 0 || last.HeaderName != "Authentication-Results" || last.HeaderValue != " "+inbound.AuthResultsValue(v) {
		t.Errorf("top field %d %s:%q, want Authentication-Results:%q", last.HeaderIndex, last.HeaderName, last.HeaderValue, " "+inbound.AuthResultsValue(v))
	}
	if ins[0].HeaderName != "X-Mailtrust-Verdict" || ins[0].HeaderValue != " "+inbound.VerdictValue(v) {
		t.Errorf("second field %s:%q, want X-Mailtrust-Verdict:%q", ins[0].HeaderName, ins[0].HeaderValue, " "+inbound.VerdictValue(v))
	}
}

func TestVerdictAsEvaluate(t *testing.T) {
	_, c := start(t, Options{})
	for _, tc := range []struct {
		name string
		f    facts
		file string
	}{
		{"relaxed rsa", legit, "legit-rsa.eml"},
		{"ed25519", facts{ip: "192.0.2.20", helo: "mx.example.org", from: "news@example.org", rcpt: []string{"support@helpdesk.example"}}, "legit-ed25519.eml"},
		{"ipv6", facts{ip: "2001:db8::25", helo: "mail.example.com", from: "bounce@example.com", rcpt: []string{"support@helpdesk.example"}}, "legit-ipv6.eml"},
		{"null sender, two recipients", facts{ip: "192.0.2.10", helo: "mail.example.com", rcpt: []string{"support@helpdesk.example", "billing@helpdesk.example"}}, "dsn-null-sender.eml"},
		{"authenticated", facts{ip: "203.0.113.5", helo: "[203.0.113.5]", from: "noreply@app.example", rcpt: []string{"support@helpdesk.example"}, auth: "relay-user"}, "authenticated-relay.eml"},
		{"spoof", facts{ip: "203.0.113.66", helo: "localhost", from: "ceo@nospf.example", rcpt: []string{"support@helpdesk.example"}}, "spoof-no-spf.eml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msg := corpusMessage(t, tc.file)
			s := open(t, c, tc.f)
			mods, act := send(t, s, tc.f, msg)
			if act.Code != gomilter.ActContinue {
				t.Fatalf("action %c %d %s, want continue (accept)", act.Code, act.SMTPCode, act.SMTPText)
			}
			checkAdded(t, mods, want(t, tc.f.conn(), msg))
		})
	}
}

// A c=simple signature hashes the header as written: the space after each
// colon (or its absence) and the folding, restored to CRLF.
func TestHeaderAsReceived(t *testing.T) {
	_, c := start(t, Options{})
	b, err := os.ReadFile("../testdata/corpus/keys/example.com-sel1.pem")
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	key, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	var msg bytes.Buffer
	err = msgdkim.Sign(&msg, strings.NewReader("From:Alice Example <alice@example.com>\r\n"+
		"To:   support@helpdesk.example\r\nSubject: folded\r\n  twice,\r\n\tonce with a tab\r\n"+
		"Date: Thu, 15 Jan 2026 09:58:00 +0000\r\n\r\nbody  \r\n"), &msgdkim.SignOptions{
		Domain: "example.com", Selector: "sel1", Signer: key.(crypto.Signer),
		HeaderCanonicalization: msgdkim.CanonicalizationSimple, BodyCanonicalization: msgdkim.CanonicalizationSimple,
	})
	if err != nil {
		t.Fatal(err)
	}
	s := open(t, c, legit)
	mods, _ := send(t, s, legit, msg.Bytes())
	v := want(t, legit.conn(), msg.Bytes())
	if len(v.DKIM) != 1 || v.DKIM[0].Status != "pass" {
		t.Fatalf("the reference verdict has DKIM %+v, want a pass", v.DKIM)
	}
	checkAdded(t, mods, v)
}

func TestForgeriesRemoved(t *testing.T) {
	_, c := start(t, Options{})
	msg := append([]byte("Authentication-Results: relay.example.net; spf=pass\r\n"+
		"Authentication-Results: MX.helpdesk.example; dkim=pass header.d=bank.example\r\n"+
		"X-Mailtrust-Verdict: trusted score=-10\r\n"+
		"Authentication-Results: (c) mx.helpdesk.example 1;\r\n\tdmarc=pass\r\n"+
		"X-Mailtrust-Verdict: trusted\r\n"), corpusMessage(t, "spoof-no-spf.eml")...)
	f := facts{ip: "203.0.113.66", helo: "localhost", from: "ceo@nospf.example", rcpt: []string{"support@helpdesk.example"}}
	s := open(t, c, f)
	mods, _ := send(t, s, f, msg)
	var got []string
	for _, m := range mods {
		if m.Code == gomilter.ActChangeHeader {
			if m.HeaderValue != "" {
				t.Errorf("field changed, not removed: %+v", m)
			}
			got = append(got, m.HeaderName+"#"+string(rune('0'+m.HeaderIndex)))
		}
	}
	// From the last to the first, so that no removal moves another's index.
	if w := "X-Mailtrust-Verdict#2 Authentication-Results#3 X-Mailtrust-Verdict#1 Authentication-Results#2"; strings.Join(got, " ") != w {
		t.Errorf("removed %v, want %s", got, w)
	}
	checkAdded(t, mods, want(t, f.conn(), msg))
}

func TestReplies(t *testing.T) {
	for _, tc := range []struct {
		name   string
		policy inbound.Policy
		f      facts
		file   string
		code   int
		prefix string
	}{
		{"refuse untrusted", inbound.Policy{Reject: trust.Untrusted},
			facts{ip: "203.0.113.66", helo: "localhost", from: "ceo@nospf.example", rcpt: []string{"support@helpdesk.example"}},
			"spoof-no-spf.eml", 550, "5.7.1 message refused: untrusted sender ("},
		{"defer incomplete", inbound.Policy{Reject: trust.Untrusted, TempfailIncomplete: true},
			facts{ip: "192.0.2.50", helo: "mail.temp.example", from: "ops@temp.example", rcpt: []string{"support@helpdesk.example"}},
			"dkim-key-temperror.eml", 451, "4.7.0 "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, c := start(t, Options{Policy: tc.policy})
			s := open(t, c, tc.f)
			mods, act := send(t, s, tc.f, corpusMessage(t, tc.file))
			if act.Code != gomilter.ActReplyCode || act.SMTPCode != tc.code || !strings.HasPrefix(act.SMTPText, tc.prefix) {
				t.Fatalf("got %c %d %q, want %d %s...", act.Code, act.SMTPCode, act.SMTPText, tc.code, tc.prefix)
			}
			if len(mods) != 0 {
				t.Errorf("a refused message was changed: %+v", mods)
			}
			// The session goes on: the next message is accepted.
			if _, act := send(t, s, legit, corpusMessage(t, "legit-rsa.eml")); act.Code != gomilter.ActContinue {
				t.Errorf("the next message on the session: %c", act.Code)
			}
		})
	}
}

// Connection facts last for every message of the connection, and an
// aborted message leaves nothing behind.
func TestSessionFacts(t *testing.T) {
	srv, c := start(t, Options{})
	s := open(t, c, legit)
	msg := corpusMessage(t, "legit-rsa.eml")
	v := want(t, legit.conn(), msg)
	for i := range 2 {
		mods, _ := send(t, s, legit, msg)
		t.Logf("message %d", i+1)
		checkAdded(t, mods, v)
	}
	// An aborted transaction, then a message that completes.
	must(t)(s.Mail("<bounce@example.com>", nil))
	must(t)(s.HeaderField("From", " a@example.com"))
	if err := s.Abort(); err != nil {
		t.Fatal(err)
	}
	mods, _ := send(t, s, legit, msg)
	checkAdded(t, mods, v)
	// Nothing is in flight: Shutdown returns at once.
	s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
}

// A message in flight when Shutdown starts is still answered; a new
// connection is not accepted.
func TestShutdownFinishesInFlight(t *testing.T) {
	srv, c := start(t, Options{})
	idle := open(t, c, legit) // connected, no message yet
	s := open(t, c, legit)
	must(t)(s.Mail("<bounce@example.com>", nil))
	must(t)(s.Rcpt("<support@helpdesk.example>", nil))
	msg := corpusMessage(t, "legit-rsa.eml")
	names, values, body := fields(t, msg)
	for i := range names {
		must(t)(s.HeaderField(names[i], values[i]))
	}
	stopped := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		stopped <- srv.Shutdown(ctx)
	}()
	select {
	case err := <-stopped:
		t.Fatalf("Shutdown returned with a message in flight: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	if _, err := c.Session(); err == nil {
		t.Error("a new connection was accepted during Shutdown")
	}
	// A connection already open gets no new message in.
	if act, err := idle.Mail("<bounce@example.com>", nil); err != nil || act.Code != gomilter.ActReplyCode || act.SMTPCode != 451 {
		t.Errorf("a new message during Shutdown: %v %+v, want 451", err, act)
	}
	must(t)(s.HeaderEnd())
	must(t)(s.BodyChunk(body))
	mods, act, err := s.End()
	if err != nil || act.Code != gomilter.ActContinue {
		t.Fatalf("the message in flight: %v %+v", err, act)
	}
	checkAdded(t, mods, want(t, legit.conn(), msg))
	select {
	case err := <-stopped:
		if err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Shutdown did not return after the last message")
	}
}

// A message whose end never comes is given up after MessageTimeout.
func TestMessageTimeout(t *testing.T) {
	_, c := start(t, Options{MessageTimeout: 100 * time.Millisecond})
	s := open(t, c, legit)
	must(t)(s.Mail("<bounce@example.com>", nil))
	must(t)(s.HeaderField("From", " a@example.com"))
	time.Sleep(300 * time.Millisecond)
	must(t)(s.HeaderEnd())
	_, act, err := s.End()
	if err != nil || act.Code != gomilter.ActReplyCode || act.SMTPCode != 451 || !strings.HasPrefix(act.SMTPText, "4.3.0 ") {
		t.Fatalf("got %v %+v, want 451 4.3.0", err, act)
	}
}

// A client among the receiver's own hosts is not judged as the sender:
// the Evaluator, given the same Receiver, reads the first outside hop from
// the Received field that host wrote, and MAIL FROM, RCPT TO and the time
// stay the session's. A client outside is judged as itself, whatever its
// message's trace claims.
func TestRelays(t *testing.T) {
	rcv, err := received.ParseReceiver("198.51.100.0/24,mx1.helpdesk.example")
	if err != nil {
		t.Fatal(err)
	}
	// RFC 5321 §4.4: the relay records the client it accepted the
	// message from; the corpus zone gives 192.0.2.10 its PTR
	// (mail.example.com) and example.com's SPF record names it.
	hop := "Received: from mail.example.com (mail.example.com [192.0.2.10])\r\n\tby mx1.helpdesk.example (Postfix) with ESMTPS id 4Q1;\r\n\tThu, 15 Jan 2026 09:59:58 +0000\r\n"
	stranger := "Received: from mail.example.com (mail.example.com [192.0.2.10])\r\n\tby mx.elsewhere.example with ESMTPS id 9Z; Thu, 15 Jan 2026 09:59:58 +0000\r\n"
	plain := corpusMessage(t, "legit-rsa.eml")
	traced := append([]byte(hop), plain...)
	foreign := append([]byte(stranger), plain...)
	relay := facts{ip: "198.51.100.7", helo: "mx1.helpdesk.example", from: "bounce@example.com", rcpt: []string{"support@helpdesk.example"}}
	byName := relay
	byName.ip, byName.host = "203.0.113.9", "mx1.helpdesk.example"
	liar := facts{ip: "203.0.113.66", helo: "mail.example.com", from: "bounce@example.com", rcpt: []string{"support@helpdesk.example"}}
	unknown := relay.conn()
	unknown.IP, unknown.HELO = netip.Addr{}, ""
	outside := legit.conn()
	for _, tc := range []struct {
		name string
		f    facts
		msg  []byte
		conn trust.Conn // the facts the verdict must be the one of
		ip   string     // the client the verdict names, "" for none
		ar   []string   // in the Authentication-Results value
	}{
		{"relay by network: the outside hop judged", relay, traced, outside, "192.0.2.10",
			[]string{`spf=pass reason="192.0.2.10 `, "iprev=pass ", "policy.iprev=192.0.2.10"}},
		{"relay by name: the outside hop judged", byName, traced, outside, "192.0.2.10",
			[]string{`spf=pass reason="192.0.2.10 `, "iprev=pass ", "policy.iprev=192.0.2.10"}},
		{"relay, trace not the receiver's: client unknown", relay, foreign, unknown, "", nil},
		{"outside client judged itself", legit, traced, outside, "192.0.2.10", []string{"iprev=pass ", "policy.iprev=192.0.2.10"}},
		{"outside client's forged trace not read", liar, traced, liar.conn(), "203.0.113.66", []string{"policy.iprev=203.0.113.66"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			ev := trust.New(&trust.Options{Resolver: corpusZone(t), AuthServID: authServID, Receiver: rcv})
			_, c := start(t, Options{Evaluator: ev, Receiver: rcv, Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
			s := open(t, c, tc.f)
			mods, _ := send(t, s, tc.f, tc.msg)
			w := want(t, tc.conn, tc.msg)
			checkAdded(t, mods, w)
			ar := inbound.AuthResultsValue(w)
			for _, sub := range tc.ar {
				if !strings.Contains(ar, sub) {
					t.Errorf("Authentication-Results %q lacks %q", ar, sub)
				}
			}
			var rec struct{ Client, Mail_From string }
			if err := json.Unmarshal(logs.Bytes(), &rec); err != nil {
				t.Fatalf("log %q: %v", logs.String(), err)
			}
			if ip := tc.ip; ip == "" && rec.Client != "invalid IP" || ip != "" && rec.Client != ip {
				t.Errorf("logged client %q, want %q", rec.Client, tc.ip)
			}
			if rec.Mail_From != tc.f.from {
				t.Errorf("logged MAIL FROM %q, want the session's %q", rec.Mail_From, tc.f.from)
			}
		})
	}
	// The facts differ enough that the cases above could not pass by chance.
	for _, other := range []trust.Conn{relay.conn(), unknown, liar.conn()} {
		if want(t, other, traced).AuthenticationResults == want(t, outside, traced).AuthenticationResults {
			t.Fatalf("%s gives the same verdict as the outside hop", other.IP)
		}
	}
}

func TestListen(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "milter.sock")
	for _, addr := range []string{"inet:127.0.0.1:0", "127.0.0.1:0", "unix:" + sock, "local:" + sock} {
		ln, err := Listen(addr)
		if err != nil {
			t.Errorf("Listen(%q): %v", addr, err)
			continue
		}
		if _, err := net.Dial(ln.Addr().Network(), ln.Addr().String()); err != nil {
			t.Errorf("%s: %v", addr, err)
		}
		// A unix listener removes its socket on Close; a stale one (left by
		// a crash) is replaced by the next Listen.
		ln.Close()
	}
	if _, err := Listen("nonsense"); err == nil {
		t.Error("Listen(nonsense) succeeded")
	}
}

// The log record of a message names its queue id and the facts and
// verdict it was judged by, recipients included (they are all known only
// when the data begins).
func TestLogRecord(t *testing.T) {
	var buf syncBuffer
	_, c := start(t, Options{Logger: slog.New(slog.NewJSONHandler(&buf, nil))})
	f := facts{ip: "192.0.2.10", helo: "mail.example.com", rcpt: []string{"support@helpdesk.example", "billing@helpdesk.example"}}
	s := open(t, c, f)
	msg := corpusMessage(t, "dsn-null-sender.eml")
	send(t, s, f, msg)
	s.Close()
	v := want(t, f.conn(), msg)
	var rec struct {
		Msg, QueueID, Client, Level, Reasons, Action string `json:",omitempty"`
		Rcpt                                         int
		Score                                        float64
	}
	dec := json.NewDecoder(strings.NewReader(buf.String()))
	for dec.More() {
		var r map[string]any
		if err := dec.Decode(&r); err != nil {
			t.Fatal(err)
		}
		if r["msg"] == "verdict" {
			b, _ := json.Marshal(map[string]any{"Msg": r["msg"], "QueueID": r["queue_id"], "Client": r["client"],
				"Level": r["level"], "Reasons": r["reasons"], "Action": r["action"], "Rcpt": r["rcpt"], "Score": r["score"]})
			json.Unmarshal(b, &rec)
		}
	}
	if rec.QueueID != "4BZ1x2" || rec.Client != "192.0.2.10" || rec.Rcpt != 2 || rec.Level != string(v.Level) ||
		rec.Score != v.Score || rec.Action != "accept" || rec.Reasons != strings.Join(inbound.Codes(v, inbound.TopReasons, false), ",") {
		t.Errorf("log record %+v, verdict %s %v", rec, v.Level, v.Score)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// With MaxConcurrent 1, a second message waits for the first one's
// evaluation slot, and its MTA with it; it goes on when the first ends.
func TestConcurrencyBound(t *testing.T) {
	_, c := start(t, Options{MaxConcurrent: 1})
	msg := corpusMessage(t, "legit-rsa.eml")
	names, values, body := fields(t, msg)
	a := open(t, c, legit)
	must(t)(a.Mail("<bounce@example.com>", nil))
	must(t)(a.Rcpt("<support@helpdesk.example>", nil))
	must(t)(a.HeaderField(names[0], values[0])) // a holds the slot
	b := open(t, c, legit)
	must(t)(b.Mail("<bounce@example.com>", nil))
	must(t)(b.Rcpt("<support@helpdesk.example>", nil))
	second := make(chan error, 1)
	go func() {
		_, err := b.HeaderField(names[0], values[0])
		second <- err
	}()
	select {
	case err := <-second:
		t.Fatalf("the second message was read while the first held the only slot (%v)", err)
	case <-time.After(300 * time.Millisecond):
	}
	for i := 1; i < len(names); i++ {
		must(t)(a.HeaderField(names[i], values[i]))
	}
	must(t)(a.HeaderEnd())
	must(t)(a.BodyChunk(body))
	if _, act, err := a.End(); err != nil || act.Code != gomilter.ActContinue {
		t.Fatalf("first message: %v %+v", err, act)
	}
	select {
	case err := <-second:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the second message did not go on after the first")
	}
	for i := 1; i < len(names); i++ {
		must(t)(b.HeaderField(names[i], values[i]))
	}
	must(t)(b.HeaderEnd())
	must(t)(b.BodyChunk(body))
	mods, act, err := b.End()
	if err != nil || act.Code != gomilter.ActContinue {
		t.Fatalf("second message: %v %+v", err, act)
	}
	checkAdded(t, mods, want(t, legit.conn(), msg))
}

// A header past trust's limits is judged as Evaluate judges it, and the
// rest of the message, which Evaluate no longer reads, does not block the
// MTA.
func TestHeaderPastLimits(t *testing.T) {
	_, c := start(t, Options{})
	var big bytes.Buffer
	for i := range 1200 {
		fmt.Fprintf(&big, "X-Filler-%d: %s\r\n", i, strings.Repeat("x", 900))
	}
	msg := append(big.Bytes(), corpusMessage(t, "legit-rsa.eml")...)
	msg = append(msg, bytes.Repeat([]byte("body line\r\n"), 20000)...)
	s := open(t, c, legit)
	mods, act := send(t, s, legit, msg)
	if act.Code != gomilter.ActContinue {
		t.Fatalf("action %c", act.Code)
	}
	v := want(t, legit.conn(), msg)
	if !v.Has(trust.HeaderLimit) {
		t.Fatalf("the reference verdict has no %s: the case tests nothing", trust.HeaderLimit)
	}
	checkAdded(t, mods, v)
}
