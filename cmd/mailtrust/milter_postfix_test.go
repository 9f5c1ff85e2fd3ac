package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/mail"
	"net/netip"
	"net/smtp"
	"net/textproto"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	msgdkim "github.com/emersion/go-msgauth/dkim"

	"github.com/mailtrust/mailtrust/inbound"
	"github.com/mailtrust/mailtrust/internal/corpus"
	"github.com/mailtrust/mailtrust/resolver"
	"github.com/mailtrust/mailtrust/trust"
)

// The end-to-end test of `mailtrust milter` behind a real Postfix: the
// shipped corpus goes through SMTP, with XCLIENT giving each case's
// session facts, and every delivered message must carry what
// trust.Evaluate (what `check` runs) gives for that message, those facts
// and that time, byte for byte.

const (
	testAuthServID = "mx.helpdesk.example"
	milterCorpus   = "../../testdata/corpus"
)

// milterCase is one case of the corpus (internal/corpus reads it) with
// its message.
type milterCase struct {
	corpus.Case
	raw []byte
}

// config is what one milter instance is started with; cases that differ
// in it go to different instances (and smtpd listeners).
func (c milterCase) config() string {
	return c.Time + "|" + strings.Join(c.TrustedForwarders, ",")
}

func (c milterCase) conn(t *testing.T) trust.Conn {
	t.Helper()
	at, err := time.Parse(time.RFC3339, c.Time)
	if err != nil {
		t.Fatalf("%s: time: %v", c.ID, err)
	}
	ip, _ := netip.ParseAddr(c.IP) // "": no client known
	return trust.Conn{IP: ip, HELO: c.HELO, MailFrom: c.MailFrom,
		RcptTo: c.RcptTo, Time: at, Authenticated: c.Authenticated}
}

// postfixOrSkip returns the postfix command, or skips the test where it
// cannot run: Postfix not installed, or not root (postfix start needs
// root). In CI (CI=true) both are failures: .ci/run installs Postfix and
// runs as root.
func postfixOrSkip(t *testing.T) string {
	t.Helper()
	why := ""
	pf, err := exec.LookPath("postfix")
	if err != nil {
		if _, serr := os.Stat("/usr/sbin/postfix"); serr == nil {
			pf, err = "/usr/sbin/postfix", nil
		}
	}
	switch {
	case err != nil:
		why = "Postfix is not installed (apt-get install postfix)"
	case os.Geteuid() != 0:
		why = "postfix start needs root"
	default:
		return pf
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s, and CI must run this test", why)
	}
	t.Skipf("%s: the Postfix end-to-end test cannot run here", why)
	return ""
}

func TestMilterBehindPostfix(t *testing.T) {
	pf := postfixOrSkip(t)
	if testing.Short() {
		t.Skip("-short: the Postfix end-to-end test takes several seconds")
	}
	zone, err := resolver.LoadZone(filepath.Join(milterCorpus, "zone.txt"))
	if err != nil {
		t.Fatal(err)
	}
	cases := readMilterCases(t)
	simple := simpleSignedCase(t)
	forged := forgedCase(t, cases)
	all := append(slices.Clone(cases), simple, forged)

	// One milter per configuration the cases ask for, and one that
	// refuses untrusted mail and defers incomplete verdicts.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var logs syncBuffer
	listeners := map[string]string{} // smtpd listener name → milter address
	var stopped []chan int
	startMilter := func(name string, args ...string) {
		ready := make(chan net.Addr, 1)
		exit := make(chan int, 1)
		args = append([]string{"-listen", "inet:127.0.0.1:0", "-zone", filepath.Join(milterCorpus, "zone.txt"),
			"-authserv-id", testAuthServID}, args...)
		go func() { exit <- serveMilter(ctx, args, io.Discard, &logs, ready) }()
		select {
		case a := <-ready:
			listeners[name] = a.String()
		case code := <-exit:
			t.Fatalf("milter %s exited with %d before listening:\n%s", name, code, logs.String())
		case <-time.After(10 * time.Second):
			t.Fatalf("milter %s did not listen", name)
		}
		stopped = append(stopped, exit)
	}
	configs := map[string]string{} // config → listener name
	for _, c := range all {
		if _, ok := configs[c.config()]; ok {
			continue
		}
		name := fmt.Sprintf("accept%d", len(configs))
		configs[c.config()] = name
		args := []string{"-time", c.Time}
		if len(c.TrustedForwarders) > 0 {
			args = append(args, "-trusted", strings.Join(c.TrustedForwarders, ","))
		}
		startMilter(name, args...)
	}
	startMilter("refuse", "-time", cases[0].Time, "-reject", "untrusted", "-tempfail-incomplete")
	startMilter("relay", "-time", cases[0].Time, "-receiver", "127.0.0.0/8,mx1.helpdesk.example")

	px := startPostfix(t, pf, listeners)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("milter log:\n%s", logs.String())
			b, _ := os.ReadFile(px.maillog)
			t.Logf("postfix log:\n%s", b)
		}
	})

	for _, c := range all {
		t.Run(c.ID, func(t *testing.T) {
			// What SMTP carries: lines end in CRLF (RFC 5321 §2.3.8), as
			// net/smtp writes them; the corpus keeps one message with bare
			// LFs (smtp-smuggling), which Postfix, like the client, reads
			// as line ends.
			sent := crlf(c.raw)
			ev := trust.New(&trust.Options{Resolver: zone, TrustedForwarders: c.TrustedForwarders, AuthServID: testAuthServID})
			want, err := ev.Evaluate(context.Background(), c.conn(t), bytes.NewReader(sent))
			if err != nil {
				t.Fatal(err)
			}
			if err := sendSMTP(px.addr(configs[c.config()]), c, sent); err != nil {
				if log, _ := os.ReadFile(px.maillog); strings.Contains(c.IP, ":") && bytes.Contains(log, []byte("disabling IPv6")) {
					t.Skipf("this host has no IPv6, so Postfix refuses an IPv6 client in XCLIENT: %v", err)
				}
				t.Fatalf("sending: %v", err)
			}
			got := px.next(t)
			checkDelivered(t, got, sent, want)
		})
	}

	t.Run("simple/simple signature verifies when delivered", func(t *testing.T) {
		delivered := px.last(t, simple.ID)
		m, err := mail.ReadMessage(bytes.NewReader(delivered))
		if err != nil {
			t.Fatal(err)
		}
		if ar := m.Header.Get("Authentication-Results"); !strings.Contains(ar, "; dkim=pass ") {
			t.Errorf("the milter did not verify the signature: %s", ar)
		}
		res := verifyDKIM(t, zone, delivered)
		if len(res) != 1 || res[0] != nil {
			t.Fatalf("delivered message: DKIM %v, want one pass", res)
		}
	})

	t.Run("forged fields are gone", func(t *testing.T) {
		delivered := px.last(t, forged.ID)
		if n := bytes.Count(delivered, []byte("header.d=bank.example")); n != 0 {
			t.Errorf("the forged Authentication-Results is still there")
		}
		if n := bytes.Count(delivered, []byte("score=-10 reasons=forged")); n != 0 {
			t.Errorf("the forged X-Mailtrust-Verdict is still there")
		}
	})

	t.Run("refused with 550", func(t *testing.T) {
		spoof := findCase(t, cases, "spoof-no-spf")
		if v := evaluate(t, zone, spoof); v.Level != trust.Untrusted {
			t.Fatalf("spoof-no-spf is %s, the test needs an untrusted case", v.Level)
		}
		before := px.count(t)
		err := sendSMTP(px.addr("refuse"), spoof, crlf(spoof.raw))
		var te *textproto.Error
		if !errors.As(err, &te) || te.Code != 550 || !strings.HasPrefix(te.Msg, "5.7.1 message refused: untrusted sender (") {
			t.Fatalf("got %v, want 550 5.7.1 message refused: untrusted sender (...)", err)
		}
		// And a trusted message passes the same milter.
		legit := findCase(t, cases, "legit-rsa")
		if err := sendSMTP(px.addr("refuse"), legit, crlf(legit.raw)); err != nil {
			t.Fatalf("legit-rsa through the refusing milter: %v", err)
		}
		px.next(t)
		if n := px.count(t); n != before+1 {
			t.Errorf("%d messages delivered, want %d: the refused one was delivered", n, before+1)
		}
	})

	// Postfix gives milters the client of the connection, not the one
	// XFORWARD names (unlike XCLIENT): a content filter on loopback that
	// hands mail back is the client. Listed among the receiver's hosts, it
	// is not judged as the sender: the client is the one the Received
	// field of the receiver's relay names, or unknown without one.
	t.Run("XFORWARD from a filter among the receiver's hosts", func(t *testing.T) {
		c := findCase(t, cases, "legit-rsa")
		sent := crlf(c.raw)
		unknown := c
		unknown.IP, unknown.HELO = "", ""
		want := evaluate(t, zone, unknown)
		if err := sendVia(px.addr("relay"), c, sent, "XFORWARD"); err != nil {
			t.Fatal(err)
		}
		checkDelivered(t, px.next(t), sent, want)
		loopback := c
		loopback.IP, loopback.HELO = "127.0.0.1", "proxy.helpdesk.example"
		if evaluate(t, zone, loopback).AuthenticationResults == want.AuthenticationResults {
			t.Fatal("the filter's own facts give the same verdict: the case proves nothing")
		}

		// The receiver's relay mx1 wrote the field naming the outside
		// client (RFC 5321 §4.4); Postfix passes it to the milter, which
		// judges that client with the session's envelope.
		traced := c
		traced.raw = append([]byte("Received: from "+c.HELO+" ("+c.HELO+" ["+c.IP+"])\r\n"+
			"\tby mx1.helpdesk.example (Postfix) with ESMTPS id 4Q1;\r\n\tThu, 15 Jan 2026 09:59:58 +0000\r\n"), c.raw...)
		sent = crlf(traced.raw)
		want = evaluate(t, zone, traced)
		if !strings.Contains(want.AuthenticationResults, "iprev=pass ") || !strings.Contains(want.AuthenticationResults, "policy.iprev="+c.IP) {
			t.Fatalf("%s: the outside client's verdict has no iprev pass for %s: %s", c.ID, c.IP, want.AuthenticationResults)
		}
		if err := sendVia(px.addr("relay"), traced, sent, "XFORWARD"); err != nil {
			t.Fatal(err)
		}
		checkDelivered(t, px.next(t), sent, want)
	})

	t.Run("incomplete deferred with 451", func(t *testing.T) {
		temp := findCase(t, cases, "dkim-key-temperror")
		if v := evaluate(t, zone, temp); !v.Incomplete {
			t.Fatalf("dkim-key-temperror is complete, the test needs an incomplete case")
		}
		err := sendSMTP(px.addr("refuse"), temp, crlf(temp.raw))
		var te *textproto.Error
		if !errors.As(err, &te) || te.Code != 451 || !strings.HasPrefix(te.Msg, "4.7.0 ") {
			t.Fatalf("got %v, want 451 4.7.0", err)
		}
	})

	// SIGTERM's path: every milter stops cleanly.
	cancel()
	for _, exit := range stopped {
		select {
		case code := <-exit:
			if code != exitOK {
				t.Errorf("milter exited with %d", code)
			}
		case <-time.After(40 * time.Second):
			t.Fatal("milter did not stop")
		}
	}
	if !strings.Contains(logs.String(), "msg=verdict queue_id=") {
		t.Errorf("no verdict log record with a queue id")
	}
}

// checkDelivered compares a delivered message with the message sent and
// the verdict expected: our two fields on top with the expected values,
// then Postfix's own Received field, then the sent message, without the
// fields the milter must remove and otherwise octet for octet.
func checkDelivered(t *testing.T, delivered, sent []byte, want *trust.Verdict) {
	t.Helper()
	lines := bytes.SplitAfter(crlf(delivered), []byte("\r\n"))
	// The delivery agent's fields (virtual(8)), then ours.
	for len(lines) > 0 && (bytes.HasPrefix(lines[0], []byte("Return-Path:")) ||
		bytes.HasPrefix(lines[0], []byte("X-Original-To:")) || bytes.HasPrefix(lines[0], []byte("Delivered-To:"))) {
		lines = lines[1:]
	}
	wantAR := inbound.AuthResultsField + ": " + inbound.AuthResultsValue(want) + "\r\n"
	wantV := inbound.VerdictField + ": " + inbound.VerdictValue(want) + "\r\n"
	if len(lines) < 3 || string(lines[0]) != wantAR || string(lines[1]) != wantV {
		t.Fatalf("delivered message starts\n%q\nwant\n%q", bytes.Join(lines[:min(3, len(lines))], nil), wantAR+wantV)
	}
	lines = lines[2:]
	// Postfix's Received field and its continuation lines.
	received := lines[0]
	lines = lines[1:]
	for len(lines) > 0 && len(lines[0]) > 0 && (lines[0][0] == ' ' || lines[0][0] == '\t') {
		received = append(slices.Clone(received), lines[0]...)
		lines = lines[1:]
	}
	if !bytes.HasPrefix(received, []byte("Received: ")) || !bytes.Contains(received, []byte("by mx.helpdesk.example (Postfix)")) {
		t.Fatalf("no Received field of Postfix under ours: %q", received)
	}
	rest := bytes.Join(lines, nil)
	body, err := io.ReadAll(inboundStrip(sent, inbound.AuthServID(want)))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(rest, body) {
		t.Errorf("delivered message differs from the one sent:\n got %q\nwant %q", rest, body)
	}
	if got := fieldCount(delivered, inbound.AuthResultsField, testAuthServID); got != 1 {
		t.Errorf("%d Authentication-Results fields with our authserv-id, want 1", got)
	}
}

// inboundStrip is the sent message without the fields inbound.Remove
// names: inbound.Prepend's output after its two new fields.
func inboundStrip(sent []byte, id string) io.Reader {
	r := bufio.NewReader(inbound.Prepend(&trust.Verdict{AuthenticationResults: "Authentication-Results: " + id + "; none"}, bytes.NewReader(sent)))
	r.ReadString('\n')
	r.ReadString('\n')
	return r
}

func fieldCount(msg []byte, name, id string) int {
	m, err := mail.ReadMessage(bytes.NewReader(msg))
	if err != nil {
		return -1
	}
	n := 0
	for _, v := range m.Header[textproto.CanonicalMIMEHeaderKey(name)] {
		if inbound.Remove(name, v, id) {
			n++
		}
	}
	return n
}

func evaluate(t *testing.T, zone resolver.Resolver, c milterCase) *trust.Verdict {
	t.Helper()
	ev := trust.New(&trust.Options{Resolver: zone, TrustedForwarders: c.TrustedForwarders, AuthServID: testAuthServID})
	v, err := ev.Evaluate(context.Background(), c.conn(t), bytes.NewReader(crlf(c.raw)))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func readMilterCases(t *testing.T) []milterCase {
	t.Helper()
	cases, errs, err := corpus.ReadFile(filepath.Join(milterCorpus, "cases.jsonl"))
	if err != nil || len(errs) > 0 {
		t.Fatal(err, errs)
	}
	var out []milterCase
	for _, cc := range cases {
		c := milterCase{Case: cc}
		if c.raw, err = os.ReadFile(filepath.Join(milterCorpus, c.Message)); err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		t.Fatal("no cases")
	}
	return out
}

func findCase(t *testing.T, cases []milterCase, id string) milterCase {
	t.Helper()
	for _, c := range cases {
		if c.ID == id {
			return c
		}
	}
	t.Fatalf("no case %s in the corpus", id)
	return milterCase{}
}

// simpleSignedCase signs a message with c=simple/simple, the
// canonicalization that breaks when a milter rebuilds header fields: odd
// spacing after colons, folded lines, trailing blanks in the body.
func simpleSignedCase(t *testing.T) milterCase {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(milterCorpus, "keys", "example.com-sel1.pem"))
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		t.Fatal("example.com-sel1.pem: no PEM block")
	}
	key, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	msg := "From:Alice Example <alice@example.com>\r\n" +
		"To:   support@helpdesk.example\r\n" +
		"Subject: a subject\r\n  folded  twice,\r\n\twith a tab\r\n" +
		"Date: Thu, 15 Jan 2026 09:58:00 +0000\r\n" +
		"Message-ID: <simple.1@example.com>\r\n" +
		"\r\n" +
		"Hello,  \r\n\r\nthe body keeps its trailing blanks.\t\r\n\r\n"
	var out bytes.Buffer
	err = msgdkim.Sign(&out, strings.NewReader(msg), &msgdkim.SignOptions{
		Domain: "example.com", Selector: "sel1", Signer: key.(crypto.Signer),
		HeaderCanonicalization: msgdkim.CanonicalizationSimple, BodyCanonicalization: msgdkim.CanonicalizationSimple,
		HeaderKeys: []string{"From", "To", "Subject", "Date", "Message-ID"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return milterCase{Case: corpus.Case{ID: "simple-simple-signed", IP: "192.0.2.10", HELO: "mail.example.com",
		MailFrom: "bounce@example.com", RcptTo: []string{"support@helpdesk.example"},
		Time: "2026-01-15T10:00:00Z"}, raw: out.Bytes()}
}

// forgedCase is a corpus message carrying an Authentication-Results with
// our authserv-id and an X-Mailtrust-Verdict, as a spoofer would add them.
func forgedCase(t *testing.T, cases []milterCase) milterCase {
	t.Helper()
	c := findCase(t, cases, "spoof-dmarc-fail")
	c.ID = "forged-fields"
	c.raw = append([]byte("Authentication-Results: "+strings.ToUpper(testAuthServID)+";\r\n\tdkim=pass header.d=bank.example\r\n"+
		"X-Mailtrust-Verdict: trusted score=-10 reasons=forged\r\n"+
		"Authentication-Results: relay.example.net; spf=pass smtp.mailfrom=example.net\r\n"), c.raw...)
	return c
}

// crlf turns bare LF line ends into CRLF.
func crlf(b []byte) []byte {
	var out bytes.Buffer
	for i, c := range b {
		if c == '\n' && (i == 0 || b[i-1] != '\r') {
			out.WriteByte('\r')
		}
		out.WriteByte(c)
	}
	return out.Bytes()
}

// sendSMTP sends one case through Postfix: XCLIENT gives the case's
// client (address, HELO, and a login when it authenticated) as a proxy
// in front of Postfix would.
func sendSMTP(addr string, c milterCase, msg []byte) error { return sendVia(addr, c, msg, "XCLIENT") }

// sendVia sends one case with the client's facts given by XCLIENT (a
// proxy in front of Postfix) or by XFORWARD (a content filter handing
// mail back to Postfix).
func sendVia(addr string, c milterCase, msg []byte, how string) error {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return err
	}
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	cl, err := smtp.NewClient(conn, "127.0.0.1")
	if err != nil {
		conn.Close()
		return err
	}
	defer cl.Close()
	if err := cl.Hello("proxy.helpdesk.example"); err != nil {
		return err
	}
	ip := netip.MustParseAddr(c.IP)
	xaddr := ip.String()
	if ip.Is6() {
		xaddr = "IPV6:" + xaddr
	}
	x := how + " ADDR=" + xaddr + " NAME=[UNAVAILABLE] HELO=" + xtext(c.HELO)
	switch how {
	case "XCLIENT":
		if c.Authenticated {
			x += " LOGIN=relay-user"
		}
		if err := command(cl, 220, "%s", x); err != nil {
			return fmt.Errorf("XCLIENT: %w", err)
		}
		if err := command(cl, 250, "EHLO %s", c.HELO); err != nil {
			return fmt.Errorf("EHLO after XCLIENT: %w", err)
		}
	case "XFORWARD":
		if err := command(cl, 250, "%s", x); err != nil {
			return fmt.Errorf("XFORWARD: %w", err)
		}
	}
	if err := cl.Mail(c.MailFrom); err != nil {
		return err
	}
	for _, r := range c.RcptTo {
		if err := cl.Rcpt(r); err != nil {
			return err
		}
	}
	w, err := cl.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(msg); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return cl.Quit()
}

func command(cl *smtp.Client, code int, format string, args ...any) error {
	id, err := cl.Text.Cmd(format, args...)
	if err != nil {
		return err
	}
	cl.Text.StartResponse(id)
	defer cl.Text.EndResponse(id)
	_, _, err = cl.Text.ReadResponse(code)
	return err
}

// xtext encodes an XCLIENT attribute value (RFC 3461 §4).
func xtext(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '!' || c > '~' || c == '+' || c == '=' {
			fmt.Fprintf(&b, "+%02X", c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// verifyDKIM verifies a delivered message (LF line ends, as Maildir keeps
// it) with go-msgauth, keys from the zone.
func verifyDKIM(t *testing.T, zone resolver.Resolver, msg []byte) []error {
	t.Helper()
	vs, err := msgdkim.VerifyWithOptions(bytes.NewReader(crlf(msg)), &msgdkim.VerifyOptions{
		LookupTXT: func(name string) ([]string, error) {
			txt, _, err := resolver.TXT(context.Background(), zone, name)
			return txt, err
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	var out []error
	for _, v := range vs {
		out = append(out, v.Err)
	}
	return out
}

// postfix is a Postfix instance of the test's own: configuration, queue
// and mail under one temporary folder, listening on loopback only.
type postfix struct {
	pf, dir, conf, maildir, maillog string
	ports                           map[string]int
	seen                            map[string]bool // delivered files already read
	byID                            map[string][]byte
}

func startPostfix(t *testing.T, pf string, milters map[string]string) *postfix {
	t.Helper()
	dir := t.TempDir()
	// The Postfix daemons run as mail_owner and must reach the queue.
	for d := dir; d != "/" && d != os.TempDir(); d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	owner, err := user.Lookup("postfix")
	if err != nil {
		t.Fatalf("the postfix package made no postfix user: %v", err)
	}
	ouid, _ := strconv.Atoi(owner.Uid)
	ogid, _ := strconv.Atoi(owner.Gid)
	if _, err := user.LookupGroup("postdrop"); err != nil {
		t.Fatalf("the postfix package made no postdrop group: %v", err)
	}
	px := &postfix{pf: pf, dir: dir, conf: filepath.Join(dir, "conf"), maildir: filepath.Join(dir, "mail"),
		maillog: filepath.Join(dir, "maillog"), ports: map[string]int{}, seen: map[string]bool{}, byID: map[string][]byte{}}
	for _, d := range []string{px.conf, filepath.Join(dir, "queue"), filepath.Join(dir, "data"), px.maildir} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chown(filepath.Join(dir, "data"), ouid, ogid); err != nil {
		t.Fatal(err)
	}
	// virtual(8) delivers as this user; it refuses root (virtual_minimum_uid).
	if err := os.Chown(px.maildir, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	mainCF := fmt.Sprintf(`compatibility_level = 3.6
queue_directory = %[1]s/queue
data_directory = %[1]s/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.helpdesk.example
mydomain = helpdesk.example
myorigin = helpdesk.example
mydestination =
inet_interfaces = 127.0.0.1
# IPv6 too, or XCLIENT refuses the IPv6 clients of the corpus; smtpd
# listens on 127.0.0.1 alone all the same.
inet_protocols = all
mynetworks = 127.0.0.0/8
maillog_file = %[1]s/maillog
maillog_file_prefixes = %[1]s
smtpd_authorized_xclient_hosts = 127.0.0.0/8
smtpd_authorized_xforward_hosts = 127.0.0.0/8
smtpd_peername_lookup = no
smtp_dns_support_level = disabled
local_header_rewrite_clients =
alias_maps =
alias_database =
biff = no
virtual_mailbox_domains = helpdesk.example
virtual_mailbox_base = %[1]s/mail
virtual_mailbox_maps = static:inbox/
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
milter_default_action = tempfail
milter_protocol = 6
`, dir)
	var master strings.Builder
	names := make([]string, 0, len(milters))
	for name := range milters {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		px.ports[name] = freePort(t)
		fmt.Fprintf(&master, "127.0.0.1:%d inet n - n - - smtpd -o smtpd_milters=inet:%s -o syslog_name=postfix/%s\n",
			px.ports[name], milters[name], name)
	}
	master.WriteString(`pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000    0       flush
proxymap  unix  -       -       n       -       -       proxymap
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
virtual   unix  -       n       n       -       -       virtual
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
`)
	for name, text := range map[string]string{"main.cf": mainCF, "master.cf": master.String()} {
		if err := os.WriteFile(filepath.Join(px.conf, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	run := func(args ...string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, pf, append([]string{"-c", px.conf}, args...)...).CombinedOutput()
		if err != nil {
			log, _ := os.ReadFile(px.maillog)
			return fmt.Errorf("postfix %s: %v\n%s\n%s", strings.Join(args, " "), err, out, log)
		}
		return nil
	}
	if err := run("start"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { px.stop(t, run) })
	for _, name := range names {
		waitPort(t, px.addr(name))
	}
	return px
}

// stop stops Postfix and waits for its master process to end.
func (px *postfix) stop(t *testing.T, run func(...string) error) {
	pidFile := filepath.Join(px.dir, "queue", "pid", "master.pid")
	b, _ := os.ReadFile(pidFile)
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	if err := run("stop"); err != nil {
		t.Log(err)
	}
	for deadline := time.Now().Add(15 * time.Second); pid > 0 && time.Now().Before(deadline); {
		if syscall.Kill(pid, 0) != nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	if pid > 0 {
		t.Logf("postfix master %d did not stop; killed", pid)
		syscall.Kill(pid, syscall.SIGKILL)
	}
}

func (px *postfix) addr(name string) string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(px.ports[name]))
}

func (px *postfix) files(t *testing.T) []string {
	t.Helper()
	fs, err := filepath.Glob(filepath.Join(px.maildir, "inbox", "new", "*"))
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

func (px *postfix) count(t *testing.T) int { return len(px.files(t)) }

// next waits for the one message delivered since the last call and
// returns it.
func (px *postfix) next(t *testing.T) []byte {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		var fresh []string
		for _, f := range px.files(t) {
			if !px.seen[f] {
				fresh = append(fresh, f)
			}
		}
		switch len(fresh) {
		case 0:
			continue
		case 1:
			px.seen[fresh[0]] = true
			b, err := os.ReadFile(fresh[0])
			if err != nil {
				t.Fatal(err)
			}
			if m, err := mail.ReadMessage(bytes.NewReader(b)); err == nil {
				px.byID[m.Header.Get("Message-Id")] = b
			}
			return b
		default:
			t.Fatalf("%d messages delivered at once, want 1", len(fresh))
		}
	}
	t.Fatal("no message delivered within 30 s")
	return nil
}

// last returns the delivered message of a case by its Message-ID.
func (px *postfix) last(t *testing.T, id string) []byte {
	t.Helper()
	mid := map[string]string{"simple-simple-signed": "<simple.1@example.com>", "forged-fields": "<x2@example.com>"}[id]
	b, ok := px.byID[mid]
	if !ok {
		t.Fatalf("%s (%s) was not delivered", id, mid)
	}
	return b
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func waitPort(t *testing.T, addr string) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return
		}
	}
	t.Fatalf("Postfix does not listen on %s", addr)
}

// syncBuffer is a bytes.Buffer safe for the milters' concurrent logs.
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
