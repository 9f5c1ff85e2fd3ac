package automated

import (
	"testing"

	"github.com/mailtrust/mailtrust/internal/testmail"
	"github.com/mailtrust/mailtrust/message"
	"github.com/stretchr/testify/assert"
)

func TestDetectAutomated(t *testing.T) {
	partners := &Options{Partners: []string{"alerts@monitor.example", "@billing.example", " "}}
	tests := []struct {
		name     string
		extra    string // fields put on top of testmail.PersonMessage
		from     string // replaces Alice's From
		mailFrom string
		codes    []Code
	}{
		{name: "a person's mail", codes: []Code{}},
		{name: "Auto-Submitted: no is a person", extra: "Auto-Submitted: no", codes: []Code{}},
		{name: "Auto-Submitted: NO (comment) is a person", extra: "Auto-Submitted: NO (sent by hand)", codes: []Code{}},
		{name: "auto-replied with parameters", extra: "Auto-Submitted: auto-replied; owner-email=\"bob@receiver.example\"", codes: []Code{AutoSubmitted}},
		{name: "auto-generated", extra: "Auto-Submitted: auto-generated", codes: []Code{AutoSubmitted}},
		{name: "extension value", extra: "Auto-Submitted: auto-notified", codes: []Code{AutoSubmitted}},
		{name: "X-Auto-Response-Suppress: All", extra: "X-Auto-Response-Suppress: All", codes: []Code{AutoResponseSupp}},
		{name: "X-Auto-Response-Suppress: DR, RN, OOF, AutoReply", extra: "X-Auto-Response-Suppress: DR, RN, OOF, AutoReply", codes: []Code{AutoResponseSupp}},
		{name: "X-Auto-Response-Suppress: RN, NRN (read receipts only)", extra: "X-Auto-Response-Suppress: RN, NRN", codes: []Code{}},
		{name: "X-Auto-Response-Suppress: None", extra: "X-Auto-Response-Suppress: None", codes: []Code{}},
		{name: "Precedence: bulk", extra: "Precedence: bulk", codes: []Code{AutoPrecedence}},
		{name: "Precedence: List", extra: "Precedence: List", codes: []Code{AutoPrecedence}},
		{name: "Precedence: auto_reply (osTicket)", extra: "Precedence: auto_reply", codes: []Code{AutoPrecedence}},
		{name: "Precedence: first-class is a person", extra: "Precedence: first-class", codes: []Code{}},
		{name: "null reverse-path", mailFrom: "<>", codes: []Code{AutoNullSender}},
		{name: "empty reverse-path", mailFrom: " ", codes: []Code{AutoNullSender}},
		{name: "MAILER-DAEMON", from: "Mail Delivery System <MAILER-DAEMON@mx.origin.example>", codes: []Code{AutoMailerDaemon}},
		{name: "postmaster", from: "postmaster@origin.example", codes: []Code{AutoMailerDaemon}},
		{name: "no-reply", from: "Shop <no-reply@shop.example>", codes: []Code{AutoNoReply}},
		{name: "a person called Norbert Reply", from: "Norbert Reply <norbert.reply@origin.example>", codes: []Code{}},
		{name: "delivery report", extra: "Content-Type: multipart/report; report-type=delivery-status;\n boundary=\"b1\"", codes: []Code{AutoReport}},
		{name: "malformed report content type", extra: "Content-Type: Multipart/Report; report-type=disposition-notification; boundary=", codes: []Code{AutoReport}},
		{name: "ordinary multipart", extra: "Content-Type: multipart/mixed; boundary=\"b1\"", codes: []Code{}},
		{name: "X-Autoreply", extra: "X-Autoreply: yes", codes: []Code{AutoReplyHeader}},
		{name: "X-Loop", extra: "X-Loop: support@helpdesk.example", codes: []Code{AutoLoop}},
		{name: "X-OTRS-Loop: no is not a loop guard", extra: "X-OTRS-Loop: no", codes: []Code{}},
		{name: "Zendesk", extra: "X-Mailer: Zendesk Mailer\nX-Zendesk-From-Account-Id: 4ca1477", codes: []Code{AutoHelpdesk}},
		{name: "Freshdesk (empty category)", extra: "X-FD-Email-Category: ", codes: []Code{AutoHelpdesk}},
		{name: "Jira", extra: "X-JIRA-FingerPrint: 0123abcd", codes: []Code{AutoHelpdesk}},
		{name: "ServiceNow", extra: "X-ServiceNow-Generated: true", codes: []Code{AutoHelpdesk}},
		{name: "OTRS", extra: "X-Powered-By: OTRS - Open Ticket Request System", codes: []Code{AutoHelpdesk}},
		{name: "osTicket", extra: "X-Mailer: osTicket Mailer", codes: []Code{AutoHelpdesk}},
		{name: "an ordinary mail client", extra: "X-Mailer: Apple Mail (2.3731)", codes: []Code{}},
		{name: "partner address", from: "Alerts <ALERTS@monitor.example>", codes: []Code{AutoPartner}},
		{name: "partner domain via MAIL FROM", mailFrom: "bounce-77@mail.billing.example", codes: []Code{AutoPartner}},
		{name: "partner domain look-alike", mailFrom: "x@notbilling.example", codes: []Code{}},
		{name: "Zendesk ticket notification, everything at once",
			extra: "Auto-Submitted: auto-generated\nX-Auto-Response-Suppress: All\nX-Mailer: Zendesk Mailer\nX-Zendesk-From-Account-Id: 68b8aed",
			from:  "Support <support@help.example>", codes: []Code{AutoSubmitted, AutoResponseSupp, AutoHelpdesk}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := testmail.PersonMessage
			if tt.from != "" {
				raw = replaceLine(raw, "From: ", "From: "+tt.from)
			}
			if tt.extra != "" {
				raw = tt.extra + "\n" + raw
			}
			h, _ := testmail.Split(t, testmail.CRLF(raw))
			mf := tt.mailFrom
			if mf == "" {
				mf = "alice@origin.example"
			}
			a := Detect(h, message.ParseFrom(h), mf, partners)
			assert.Equal(t, tt.codes, codes(a.Signals))
			assert.Equal(t, len(tt.codes) > 0, a.Automated)
		})
	}
	t.Run("nil header and options", func(t *testing.T) {
		a := Detect(nil, message.From{}, "alice@origin.example", nil)
		assert.False(t, a.Automated)
		a = Detect(nil, message.From{}, "", nil)
		assert.Equal(t, []Code{AutoNullSender}, codes(a.Signals))
	})
}

// replaceLine replaces the line starting with prefix.
func replaceLine(s, prefix, line string) string {
	out := ""
	for _, l := range splitLines(s) {
		if len(l) >= len(prefix) && l[:len(prefix)] == prefix {
			l = line
		}
		out += l + "\n"
	}
	return out
}

func splitLines(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return out
}
