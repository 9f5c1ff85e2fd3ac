package trust_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mailtrust/mailtrust/internal/corpus"
	"github.com/mailtrust/mailtrust/received"
	"github.com/mailtrust/mailtrust/resolver"
	"github.com/mailtrust/mailtrust/trust"
)

func sampleCases(t *testing.T) (resolver.Resolver, string, []corpus.Case) {
	t.Helper()
	zone, err := resolver.LoadZone(filepath.Join(corpusDir, "zone.txt"))
	require.NoError(t, err)
	casesPath := filepath.Join(corpusDir, "cases.jsonl")
	cases, errs, err := corpus.ReadFile(casesPath)
	require.NoError(t, err)
	require.Empty(t, errs)
	return zone, casesPath, cases
}

// TestFactsFromTrace judges every sample message twice: with the session
// facts its case spells out, and with none but the trace fields its
// receiver wrote on top of it. The verdicts are the same.
func TestFactsFromTrace(t *testing.T) {
	zone, casesPath, cases := sampleCases(t)
	rcv, err := received.ParseReceiver(corpus.TraceReceiver)
	require.NoError(t, err)
	for _, c := range cases {
		if len(c.TrustedForwarders) > 0 {
			continue // configuration the trace cannot carry
		}
		msg, err := os.ReadFile(corpus.MessagePath(casesPath, &c))
		require.NoError(t, err)
		trace, err := corpus.Trace(c, "")
		require.NoError(t, err)
		traced := append([]byte(trace), msg...)
		ip, at, _ := c.Parsed()
		given := trust.Conn{IP: ip, HELO: c.HELO, MailFrom: c.MailFrom, RcptTo: c.RcptTo, Time: at, Authenticated: c.Authenticated}

		ev := trust.New(&trust.Options{Resolver: zone, Receiver: rcv})
		want, err := ev.Evaluate(context.Background(), given, bytes.NewReader(traced))
		require.NoError(t, err)
		got, err := ev.Evaluate(context.Background(), trust.Conn{}, bytes.NewReader(traced))
		require.NoError(t, err)
		assert.Equal(t, trust.SourceCase, want.Conn.Source, c.ID)
		assert.Equal(t, trust.SourceHeaders, got.Conn.Source, c.ID)
		assert.Equal(t, ip, got.Conn.IP, c.ID)
		assert.Equal(t, c.HELO, got.Conn.HELO, c.ID)
		assert.Equal(t, c.MailFrom, got.Conn.MailFrom, c.ID)
		assert.Equal(t, c.RcptTo, got.Conn.RcptTo, c.ID)
		assert.True(t, at.Equal(got.Conn.Time), c.ID)
		assert.Equal(t, c.Authenticated, got.Conn.Authenticated, c.ID)
		assert.Zero(t, got.Conn.Missing()&(trust.FactIP|trust.FactHELO|trust.FactMailFrom), c.ID)
		assert.Equal(t, want.Level, got.Level, c.ID)
		assert.Equal(t, want.Score, got.Score, c.ID)
		assert.Equal(t, want.Reasons, got.Reasons, c.ID)
		assert.NotEmpty(t, got.MessageID, c.ID)
		assert.Equal(t, want.MessageID, got.MessageID, c.ID)

		// The trace on top changes nothing the case's facts decide.
		plain := evalCase(t, zone, casesPath, c)
		assert.Equal(t, plain.Level, got.Level, c.ID)
		assert.Equal(t, plain.Score, got.Score, c.ID)

		// An mbox separator line in front is not part of the message.
		mboxed := append([]byte("From "+c.MailFrom+" Thu Jan 15 10:00:00 2026\n"), traced...)
		sep, err := ev.Evaluate(context.Background(), trust.Conn{}, bytes.NewReader(mboxed))
		require.NoError(t, err)
		assert.Equal(t, got.Reasons, sep.Reasons, c.ID)
		assert.Equal(t, got.Score, sep.Score, c.ID)
		assert.Equal(t, got.Conn, sep.Conn, c.ID)
	}
}

// TestUnknownFacts: a fact that neither the caller nor the trace gives is
// not scored as a fact.
func TestUnknownFacts(t *testing.T) {
	zone, casesPath, cases := sampleCases(t)
	var legit corpus.Case
	for _, c := range cases {
		if c.ID == "legit-rsa" {
			legit = c
		}
	}
	require.Equal(t, "legit-rsa", legit.ID)
	msg, err := os.ReadFile(corpus.MessagePath(casesPath, &legit))
	require.NoError(t, err)
	ip, at, _ := legit.Parsed()
	ev := trust.New(&trust.Options{Resolver: zone})
	eval := func(c trust.Conn) *trust.Verdict {
		v, err := ev.Evaluate(context.Background(), c, bytes.NewReader(msg))
		require.NoError(t, err)
		return v
	}
	full := eval(trust.Conn{IP: ip, HELO: legit.HELO, MailFrom: legit.MailFrom, Time: at})
	require.Equal(t, trust.Trusted, full.Level)

	tests := []struct {
		name             string
		conn             trust.Conn
		codes            []trust.Code
		ptr, helo, spf   bool // run?
		dmarc            string
		absent           []trust.Code
		nullSenderReason bool
	}{
		{"no IP", trust.Conn{HELO: legit.HELO, MailFrom: legit.MailFrom, Time: at},
			[]trust.Code{trust.ConnIPUnknown}, false, false, false, "pass", []trust.Code{trust.ConnHELOUnknown, trust.ConnMailFromUnknown}, false},
		{"no HELO", trust.Conn{IP: ip, MailFrom: legit.MailFrom, Time: at},
			[]trust.Code{trust.ConnHELOUnknown}, true, false, true, "pass", []trust.Code{trust.ConnIPUnknown, trust.HELOInvalid}, false},
		{"MAIL FROM unknown is not the null sender", trust.Conn{IP: ip, HELO: legit.HELO, Unknown: trust.FactMailFrom, Time: at},
			[]trust.Code{trust.ConnMailFromUnknown}, true, true, false, "pass", []trust.Code{trust.NullReversePathID}, false},
		{"null sender is a fact", trust.Conn{IP: ip, HELO: legit.HELO, Time: at},
			nil, true, true, true, "pass", []trust.Code{trust.ConnMailFromUnknown}, true},
		{"nothing known", trust.Conn{Unknown: trust.FactMailFrom, Time: at},
			[]trust.Code{trust.ConnIPUnknown, trust.ConnHELOUnknown, trust.ConnMailFromUnknown}, false, false, false, "pass", []trust.Code{trust.PTRNone, trust.SPFNone}, false},
	}
	for _, tt := range tests {
		v := eval(tt.conn)
		for _, c := range tt.codes {
			assert.True(t, v.Has(c), "%s: %s missing in %v", tt.name, c, v.Reasons)
		}
		for _, c := range tt.absent {
			assert.False(t, v.Has(c), "%s: %s given", tt.name, c)
		}
		assert.Equal(t, tt.ptr, v.PTR.Status != "", tt.name)
		assert.Equal(t, tt.helo, v.HELO.Status != "", tt.name)
		assert.Equal(t, tt.spf, v.SPF.Status != "", tt.name)
		assert.Equal(t, tt.dmarc, string(v.DMARC.Status), tt.name)
		assert.Equal(t, tt.nullSenderReason, v.Has(trust.NullReversePathID), tt.name)
		if len(tt.codes) > 0 {
			assert.NotEqual(t, trust.Trusted, v.Level, tt.name)
		}
		for _, r := range v.Reasons {
			if r.Code == trust.ConnIPUnknown || r.Code == trust.ConnHELOUnknown || r.Code == trust.ConnMailFromUnknown {
				assert.Zero(t, r.Weight, tt.name)
			}
		}
	}

	// DMARC cannot fail on SPF's account when SPF could not run: a spoof
	// with no valid signature is undecided, not failed, without the IP.
	for _, c := range cases {
		if c.ID != "spoof-dmarc-fail" {
			continue
		}
		m, err := os.ReadFile(corpus.MessagePath(casesPath, &c))
		require.NoError(t, err)
		v, err := ev.Evaluate(context.Background(), trust.Conn{HELO: c.HELO, MailFrom: c.MailFrom, Time: at}, bytes.NewReader(m))
		require.NoError(t, err)
		assert.True(t, v.Has(trust.DMARCUndecided), "%v", v.Reasons)
		assert.False(t, v.Has(trust.DMARCFail))
		assert.Empty(t, v.Disposition)
		withIP := evalCase(t, zone, casesPath, c)
		assert.True(t, withIP.Has(trust.DMARCFail))
	}
}

// TestReceiverAuthResults: the receiver's own Authentication-Results above
// its boundary are what it said at the time; below it, a forgery.
func TestReceiverAuthResults(t *testing.T) {
	zone, casesPath, cases := sampleCases(t)
	rcv, err := received.ParseReceiver(corpus.TraceReceiver)
	require.NoError(t, err)
	var c corpus.Case
	for _, x := range cases {
		if x.ID == "legit-rsa" {
			c = x
		}
	}
	msg, err := os.ReadFile(corpus.MessagePath(casesPath, &c))
	require.NoError(t, err)
	trace, err := corpus.Trace(c, "")
	require.NoError(t, err)
	own := "Authentication-Results: mx.helpdesk.example; spf=pass smtp.mailfrom=bounce@example.com; dkim=pass header.d=example.com; dmarc=pass header.from=example.com; iprev=pass\r\n"
	above := []byte(own + trace + string(msg))
	below := []byte(trace + own + string(msg))
	tests := []struct {
		name     string
		msg      []byte
		opts     trust.Options
		conn     trust.Conn
		recorded bool
		forged   bool
	}{
		{"above the boundary", above, trust.Options{Receiver: rcv, ReceiverAuthServID: "MX.helpdesk.example"}, trust.Conn{}, true, false},
		{"above, also named trusted", above, trust.Options{Receiver: rcv, ReceiverAuthServID: "mx.helpdesk.example", TrustedForwarders: []string{"mx.helpdesk.example"}}, trust.Conn{}, true, false},
		{"below the boundary", below, trust.Options{Receiver: rcv, ReceiverAuthServID: "mx.helpdesk.example"}, trust.Conn{}, false, true},
		{"at the door", []byte(own + string(msg)), trust.Options{ReceiverAuthServID: "mx.helpdesk.example"},
			trust.Conn{IP: netip.MustParseAddr(c.IP), HELO: c.HELO, MailFrom: c.MailFrom}, false, true},
		{"no authserv-id configured", above, trust.Options{Receiver: rcv}, trust.Conn{}, false, false},
	}
	for _, tt := range tests {
		tt.opts.Resolver = zone
		v, err := trust.New(&tt.opts).Evaluate(context.Background(), tt.conn, bytes.NewReader(tt.msg))
		require.NoError(t, err)
		assert.Equal(t, tt.recorded, v.Recorded != nil, tt.name)
		assert.Equal(t, tt.forged, v.Has(trust.UpstreamForged), "%s: %v", tt.name, v.Reasons)
		if tt.recorded {
			assert.Equal(t, trust.Recorded{AuthServID: "mx.helpdesk.example", SPF: "pass", DKIM: "pass", DMARC: "pass", IPRev: "pass"}, *v.Recorded, tt.name)
			assert.Equal(t, trust.Trusted, v.Level, tt.name)
		}
	}
}

// TestTraceWithoutDate: a boundary field without a readable date gives no
// time of receipt; the verdict line does not make one up.
func TestTraceWithoutDate(t *testing.T) {
	zone, casesPath, cases := sampleCases(t)
	rcv, err := received.ParseReceiver(corpus.TraceReceiver)
	require.NoError(t, err)
	msg, err := os.ReadFile(corpus.MessagePath(casesPath, &cases[0]))
	require.NoError(t, err)
	trace := "Received: from mail.example.com (mail.example.com [192.0.2.10]) by mx.helpdesk.example with ESMTPS; sometime\r\n"
	ev := trust.New(&trust.Options{Resolver: zone, Receiver: rcv})
	v, err := ev.Evaluate(context.Background(), trust.Conn{}, bytes.NewReader(append([]byte(trace), msg...)))
	require.NoError(t, err)
	assert.Equal(t, netip.MustParseAddr("192.0.2.10"), v.Conn.IP)
	assert.True(t, v.Conn.Missing().Has(trust.FactTime))
	assert.True(t, v.Conn.Missing().Has(trust.FactMailFrom), "no Return-Path")
	line, err := v.JSONLine("x")
	require.NoError(t, err)
	var j struct {
		Conn map[string]any `json:"conn"`
	}
	require.NoError(t, json.Unmarshal(line, &j))
	assert.Equal(t, map[string]any{"ip": "192.0.2.10", "helo": "mail.example.com", "from": "headers"}, j.Conn)
	assert.True(t, v.Has(trust.ConnMailFromUnknown))
	assert.NotEqual(t, trust.Trusted, v.Level)
}

// TestTraceFillsOnlyMissingFacts: with no IP, the trace gives only the
// facts the caller did not give; a fact the caller gave is kept, as a
// milter behind the receiver's relay gives MAIL FROM, RCPT TO and the time
// and leaves the relay's IP and HELO out.
func TestTraceFillsOnlyMissingFacts(t *testing.T) {
	zone, casesPath, cases := sampleCases(t)
	rcv, err := received.ParseReceiver(corpus.TraceReceiver)
	require.NoError(t, err)
	c := cases[0]
	msg, err := os.ReadFile(corpus.MessagePath(casesPath, &c))
	require.NoError(t, err)
	trace, err := corpus.Trace(c, "")
	require.NoError(t, err)
	traced := append([]byte(trace), msg...)
	ip, at, _ := c.Parsed()
	require.NotEmpty(t, c.MailFrom, c.ID)
	later := at.Add(time.Hour)
	session := []string{"other@helpdesk.example"}
	for _, tt := range []struct {
		name     string
		conn     trust.Conn
		helo     string
		mailFrom string
		rcpt     []string
		time     time.Time
	}{
		{"nothing given: all from the trace", trust.Conn{}, c.HELO, c.MailFrom, c.RcptTo, at},
		{"MAIL FROM unknown: from the trace", trust.Conn{Unknown: trust.FactMailFrom}, c.HELO, c.MailFrom, c.RcptTo, at},
		{"the session's envelope and time kept", trust.Conn{MailFrom: "x@other.example", RcptTo: session, Time: later}, c.HELO, "x@other.example", session, later},
		{"null reverse-path beside another fact kept", trust.Conn{RcptTo: session, Time: later}, c.HELO, "", session, later},
		{"HELO given kept", trust.Conn{HELO: "relay.helpdesk.example", Unknown: trust.FactMailFrom}, "relay.helpdesk.example", c.MailFrom, c.RcptTo, at},
		{"time listed unknown: from the trace", trust.Conn{Time: later, Unknown: trust.FactTime | trust.FactMailFrom}, c.HELO, c.MailFrom, c.RcptTo, at},
	} {
		ev := trust.New(&trust.Options{Resolver: zone, Receiver: rcv})
		v, err := ev.Evaluate(context.Background(), tt.conn, bytes.NewReader(traced))
		require.NoError(t, err, tt.name)
		assert.Equal(t, ip, v.Conn.IP, tt.name)
		assert.Equal(t, tt.helo, v.Conn.HELO, tt.name)
		assert.Equal(t, tt.mailFrom, v.Conn.MailFrom, tt.name)
		assert.False(t, v.Conn.Missing().Has(trust.FactMailFrom), tt.name)
		assert.Equal(t, tt.rcpt, v.Conn.RcptTo, tt.name)
		assert.True(t, tt.time.Equal(v.Conn.Time), "%s: time %v, want %v", tt.name, v.Conn.Time, tt.time)
		assert.False(t, v.Conn.Missing().Has(trust.FactTime), tt.name)
		assert.Equal(t, trust.SourceHeaders, v.Conn.Source, tt.name)
	}
}
