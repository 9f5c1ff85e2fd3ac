package forward

import (
	"strings"
	"testing"

	"github.com/mailtrust/mailtrust/internal/testmail"
	"github.com/mailtrust/mailtrust/message"
	"github.com/mailtrust/mailtrust/received"
	"github.com/stretchr/testify/assert"
)

// aliasHop is the Received field an alias host writes: it got the message
// from the author's server and relays it unchanged.
const aliasHop = "Received: from mail.origin.example (mail.origin.example [192.0.2.10])\n by mx.alias.example with ESMTPS id q; Thu, 15 Jan 2026 09:00:06 +0000"

func codes(s []Signal) []Code {
	out := []Code{}
	for _, x := range s {
		out = append(out, x.Code)
	}
	return out
}

func TestDetect(t *testing.T) {
	person := DetectInput{MailFrom: "alice@origin.example", Rcpt: []string{"bob@receiver.example"},
		SPFStatus: "pass", SPFDomain: "origin.example",
		DKIM: []DKIMOutcome{{Domain: "origin.example", Status: "pass"}}}
	tests := []struct {
		name      string
		extra     string // fields put on top of testmail.PersonMessage
		edit      func(in *DetectInput)
		forwarded bool
		codes     []Code
	}{
		{name: "a person's mail", forwarded: false, codes: []Code{}},
		{name: "mailing list", extra: "List-Id: Team talk <team.lists.example>\nList-Post: <mailto:team@lists.example>\nList-Unsubscribe: <mailto:leave-team@lists.example>\nSender: team-bounces@lists.example",
			forwarded: true, codes: []Code{SignalListID, SignalListPost, SignalListUnsubscribe, SignalSenderDiffers}},
		{name: "List-Unsubscribe alone is a newsletter, not a list", extra: "List-Unsubscribe: <https://news.example/u>",
			forwarded: false, codes: []Code{}},
		{name: "list subject tag and footer", extra: "List-Id: <team.lists.example>\nSubject: Re: [team] Lunch?",
			edit: func(in *DetectInput) {
				in.DKIM = []DKIMOutcome{{Domain: "origin.example", Status: "fail", BodyHashMismatch: true}}
			},
			forwarded: true, codes: []Code{SignalListID, SignalSubjectTag, SignalListFooter}},
		{name: "subject tag of another name is not the list's", extra: "List-Id: <team.lists.example>\nSubject: [EXTERNAL] Lunch?",
			forwarded: true, codes: []Code{SignalListID}},
		{name: "ezmlm Mailing-List", extra: "Mailing-List: contact team-help@lists.example; run by ezmlm",
			forwarded: true, codes: []Code{SignalMailingList}},
		{name: "SRS0", edit: func(in *DetectInput) {
			in.MailFrom = "SRS0=HHH=TT=origin.example=alice@forwarder.example"
		}, forwarded: true, codes: []Code{SignalSRS}},
		{name: "SRS1", edit: func(in *DetectInput) {
			in.MailFrom = "srs1=HHH=first.example==HHH=TT=origin.example=alice@second.example"
		}, forwarded: true, codes: []Code{SignalSRS}},
		{name: "a local part merely starting with srs", edit: func(in *DetectInput) {
			in.MailFrom = "srs0team@origin.example"
		}, forwarded: false, codes: []Code{}},
		{name: "Resent-*", extra: "Resent-From: Carol <carol@helpdesk.example>\nResent-Date: Thu, 15 Jan 2026 09:10:00 +0000",
			forwarded: true, codes: []Code{SignalResent}},
		{name: "Gmail forwarding header", extra: "X-Forwarded-To: bob@receiver.example\nX-Forwarded-For: bob@old.example bob@receiver.example",
			forwarded: true, codes: []Code{SignalForwardHeader}},
		{name: "Exchange inbox rule", extra: "X-MS-Exchange-Inbox-Rules-Loop: bob@corp.example",
			forwarded: true, codes: []Code{SignalForwardHeader}},
		{name: "received for another organization's mailbox", extra: "Received: from mx.forwarder.example by mx.receiver.example; Thu, 15 Jan 2026 09:00:07 +0000\nReceived: from mail.origin.example (mail.origin.example [192.0.2.10])\n by mx.forwarder.example (Postfix) with ESMTPS id ghi\n for <bob@forwarder.example>; Thu, 15 Jan 2026 09:00:06 +0000",
			edit: func(in *DetectInput) {
				in.SPFStatus = "softfail"
			},
			// To names bob@receiver.example, so rcpt.not-in-to-cc does not fire;
			// dkim-pass-spf-fail does (weak).
			forwarded: true, codes: []Code{SignalReceivedOtherOrg, SignalDKIMPassSPFFail}},
		{name: "relay through the sender's outbound provider is not forwarding", extra: "Received: from o1.esp.example by mx.receiver.example; Thu, 15 Jan 2026 09:00:07 +0000\nReceived: from mail.origin.example by o1.esp.example with ESMTPS id x; Thu, 15 Jan 2026 09:00:06 +0000",
			forwarded: false, codes: []Code{}},
		{name: "plain alias: the connecting relay got it from another organization", extra: aliasHop,
			edit: func(in *DetectInput) {
				in.SPFStatus = "softfail"
				in.ClientNames = []string{"mx.alias.example"}
			},
			forwarded: true, codes: []Code{SignalRelayOtherOrg, SignalDKIMPassSPFFail}},
		{name: "an outbound service sending with its own envelope is not forwarding", extra: aliasHop,
			edit: func(in *DetectInput) {
				in.MailFrom, in.SPFDomain = "bounce@alias.example", "alias.example"
				in.ClientNames = []string{"mx.alias.example"}
			},
			forwarded: false, codes: []Code{}},
		{name: "a relay's claim alone is weak", extra: aliasHop,
			edit:      func(in *DetectInput) { in.ClientNames = []string{"mx.alias.example"} },
			forwarded: false, codes: []Code{SignalRelayOtherOrg}},
		{name: "the author's own outbound relay is not forwarding", edit: func(in *DetectInput) {
			in.SPFStatus = "softfail"
			in.ClientNames = []string{"mail.origin.example"}
		}, forwarded: false, codes: []Code{SignalDKIMPassSPFFail}},
		{name: "a relay naming a host of its own organization", extra: "Received: from smtp-in.alias.example by mx.alias.example; Thu, 15 Jan 2026 09:00:06 +0000",
			edit: func(in *DetectInput) {
				in.SPFStatus = "softfail"
				in.ClientNames = []string{"mx.alias.example"}
			},
			forwarded: false, codes: []Code{SignalDKIMPassSPFFail}},
		{name: "a Received field no confirmed client name wrote", extra: aliasHop,
			edit: func(in *DetectInput) {
				in.SPFStatus = "softfail"
				in.ClientNames = []string{"mx.other.example"}
			},
			forwarded: false, codes: []Code{SignalDKIMPassSPFFail}},
		{name: "Bcc recipient alone is weak", edit: func(in *DetectInput) {
			in.Rcpt = []string{"carol@receiver.example"}
		}, forwarded: false, codes: []Code{SignalRcptNotInToCc}},
		{name: "misconfigured SPF alone is weak", edit: func(in *DetectInput) {
			in.SPFStatus = "fail"
		}, forwarded: false, codes: []Code{SignalDKIMPassSPFFail}},
		{name: "plain .forward: SPF fails, aligned DKIM passes, recipient not in To", edit: func(in *DetectInput) {
			in.SPFStatus = "fail"
			in.Rcpt = []string{"robert@new.example"}
		}, forwarded: true, codes: []Code{SignalRcptNotInToCc, SignalDKIMPassSPFFail}},
		{name: "recipient compared without case", edit: func(in *DetectInput) {
			in.Rcpt = []string{"<BOB@Receiver.Example>"}
		}, forwarded: false, codes: []Code{}},
		{name: "DKIM of another domain does not show a changed path", edit: func(in *DetectInput) {
			in.SPFStatus = "fail"
			in.DKIM = []DKIMOutcome{{Domain: "esp.example", Status: "pass"}}
		}, forwarded: false, codes: []Code{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := testmail.PersonMessage
			if tt.extra != "" {
				raw = tt.extra + "\n" + testmail.PersonMessage
			}
			h, _ := testmail.Split(t, testmail.CRLF(raw))
			in := person
			in.Header, in.From = h, message.ParseFrom(h)
			if tt.edit != nil {
				tt.edit(&in)
			}
			fw := Detect(in)
			assert.Equal(t, tt.forwarded, fw.Forwarded, "signals: %v", fw.Signals)
			assert.Equal(t, tt.codes, codes(fw.Signals))
			for _, s := range fw.Signals {
				assert.NotEmpty(t, s.Detail, s.Code)
			}
		})
	}
}

func TestDetectPeople(t *testing.T) {
	tests := []struct {
		name                                    string
		extra                                   string
		in                                      DetectInput
		originalSender, requester, forwarderWas string
	}{
		{name: "plain", originalSender: "alice@origin.example", requester: "alice@origin.example"},
		{name: "Reply-To", extra: "Reply-To: Support <help@origin.example>, other@origin.example",
			originalSender: "alice@origin.example", requester: "help@origin.example"},
		{name: "list rewrote From", extra: "X-Original-From: Dana <dana@author.example>\nReply-To: dana@author.example",
			originalSender: "dana@author.example", requester: "dana@author.example"},
		{name: "resent by a colleague", extra: "Resent-From: carol@helpdesk.example\nResent-Sender: robot@helpdesk.example",
			originalSender: "alice@origin.example", requester: "alice@origin.example", forwarderWas: "robot@helpdesk.example"},
		{name: "SRS names the forwarding domain", in: DetectInput{MailFrom: "SRS0=h=tt=origin.example=alice@fwd.example"},
			originalSender: "alice@origin.example", requester: "alice@origin.example", forwarderWas: "fwd.example"},
		// The From identity is the caller's (message.ParseFrom): a From it
		// cannot read is no sender here either, however loosely it reads.
		{name: "unparseable From is no sender", extra: "From: Alice <alice@origin.example> (the \"boss\"",
			originalSender: "", requester: ""},
		{name: "two mailboxes are no sender", extra: "From: alice@origin.example, eve@evil.test",
			originalSender: "", requester: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := testmail.PersonMessage
			if tt.extra != "" {
				raw = tt.extra + "\n" + testmail.PersonMessage
			}
			if strings.HasPrefix(tt.extra, "From: ") {
				raw = strings.Replace(raw, "From: Alice <alice@origin.example>\n", "", 1)
			}
			h, _ := testmail.Split(t, testmail.CRLF(raw))
			in := tt.in
			in.Header, in.From = h, message.ParseFrom(h)
			fw := Detect(in)
			assert.Equal(t, tt.originalSender, fw.OriginalSender)
			assert.Equal(t, tt.requester, fw.Requester)
			assert.Equal(t, tt.forwarderWas, fw.Forwarder)
		})
	}
	assert.Equal(t, Forwarding{}, Detect(DetectInput{}), "no header, nothing detected")
}

func TestSRSOriginal(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"SRS0=HHH=TT=origin.example=alice@fwd.example", "alice@origin.example", true},
		{"SRS0+HHH=TT=origin.example=a=b@fwd.example", "a=b@origin.example", true},
		{"SRS1=HHH=first.example==HHH=TT=origin.example=alice@second.example", "alice@origin.example", true},
		{"SRS0=broken@fwd.example", "", true},
		{"SRS1=no-double@fwd.example", "", true},
		{"alice@origin.example", "", false},
		{"SRS2=x=y=z=w@fwd.example", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		got, ok := srsOriginal(tt.in)
		assert.Equal(t, tt.ok, ok, tt.in)
		assert.Equal(t, tt.want, got, tt.in)
	}
}

func TestParseReceived(t *testing.T) {
	tests := []struct {
		in   string
		want receivedHop
	}{
		{"from mail.origin.example (mail.origin.example [192.0.2.10]) by mx.receiver.example with ESMTPS id abc for <bob@receiver.example>; Thu, 15 Jan 2026 09:00:05 +0000",
			receivedHop{"mail.origin.example", "mx.receiver.example", "bob@receiver.example"}},
		{"from [192.0.2.1] by 10.0.0.1 with SMTP; date", receivedHop{}},
		{"by mx.Example.ORG. (Postfix, from userid 0) id 1; date", receivedHop{by: "mx.example.org"}},
		{"(from a comment) by host.example; date", receivedHop{by: "host.example"}},
		{"from localhost by localhost; x", receivedHop{}},
		{"garbage", receivedHop{}},
		{"", receivedHop{}},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, parseReceived(tt.in), tt.in)
	}
}

// TestReceivedHopsBounds: the hops are read within the trace parser's
// bounds (received.MaxFields fields of received.MaxFieldBytes each), the
// same as the boundary search reads.
func TestReceivedHopsBounds(t *testing.T) {
	relay := "Received: from a.relay.example by b.relay.example with ESMTP; Thu, 15 Jan 2026 09:00:00 +0000\n"
	// The for-clause after a long TLS comment, past 2048 bytes but within MaxFieldBytes.
	long := "Received: from mail.origin.example (mail.origin.example [192.0.2.10]) (" + strings.Repeat("x", 2100) +
		") by mx.receiver.example with ESMTPS id abc for <bob@receiver.example>; Thu, 15 Jan 2026 09:00:05 +0000\n"
	huge := "Received: by h" + strings.Repeat("x", 3000) + ".example; date\n"
	tests := []struct {
		name     string
		fields   string
		hops     int
		lastRcpt string
	}{
		{"40 fields all read", strings.Repeat(relay, 39) + long, 40, "bob@receiver.example"},
		{"long field read to MaxFieldBytes", long, 1, "bob@receiver.example"},
		{"hundreds of huge fields bounded", strings.Repeat(huge, 200), received.MaxFields, ""},
		{"no fields", "", 0, ""},
	}
	for _, tt := range tests {
		h, _ := testmail.Split(t, testmail.CRLF(tt.fields+"From: alice@origin.example\nTo: bob@receiver.example\nSubject: x\n\nbody\n"))
		hops := receivedHops(h)
		if assert.Len(t, hops, tt.hops, tt.name) && tt.hops > 0 {
			assert.Equal(t, tt.lastRcpt, hops[len(hops)-1].rcpt, tt.name)
		}
	}
}
