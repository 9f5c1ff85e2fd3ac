package forward

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestDetectAutomated(t *testing.T) {
	partners := &AutomatedOptions{Partners: []string{"alerts@monitor.example", "@billing.example", " "}}
	tests := []struct {
		name     string
		extra    string // fields put on top of personMsg
		from     string // replaces Alice's From
		mailFrom string
		codes    []string
	}{
		{name: "a person's mail", codes: []string{}},
		{name: "Auto-Submitted: no is a person", extra: "Auto-Submitted: no", codes: []string{}},
		{name: "Auto-Submitted: NO (comment) is a person", extra: "Auto-Submitted: NO (sent by hand)", codes: []string{}},
		{name: "auto-replied with parameters", extra: "Auto-Submitted: auto-replied; owner-email=\"bob@receiver.example\"", codes: []string{AutoSubmitted}},
		{name: "auto-generated", extra: "Auto-Submitted: auto-generated", codes: []string{AutoSubmitted}},
		{name: "extension value", extra: "Auto-Submitted: auto-notified", codes: []string{AutoSubmitted}},
		{name: "X-Auto-Response-Suppress: All", extra: "X-Auto-Response-Suppress: All", codes: []string{AutoResponseSupp}},
		{name: "X-Auto-Response-Suppress: DR, RN, OOF, AutoReply", extra: "X-Auto-Response-Suppress: DR, RN, OOF, AutoReply", codes: []string{AutoResponseSupp}},
		{name: "X-Auto-Response-Suppress: RN, NRN (read receipts only)", extra: "X-Auto-Response-Suppress: RN, NRN", codes: []string{}},
		{name: "X-Auto-Response-Suppress: None", extra: "X-Auto-Response-Suppress: None", codes: []string{}},
		{name: "Precedence: bulk", extra: "Precedence: bulk", codes: []string{AutoPrecedence}},
		{name: "Precedence: List", extra: "Precedence: List", codes: []string{AutoPrecedence}},
		{name: "Precedence: auto_reply (osTicket)", extra: "Precedence: auto_reply", codes: []string{AutoPrecedence}},
		{name: "Precedence: first-class is a person", extra: "Precedence: first-class", codes: []string{}},
		{name: "null reverse-path", mailFrom: "<>", codes: []string{AutoNullSender}},
		{name: "empty reverse-path", mailFrom: " ", codes: []string{AutoNullSender}},
		{name: "MAILER-DAEMON", from: "Mail Delivery System <MAILER-DAEMON@mx.origin.example>", codes: []string{AutoMailerDaemon}},
		{name: "postmaster", from: "postmaster@origin.example", codes: []string{AutoMailerDaemon}},
		{name: "no-reply", from: "Shop <no-reply@shop.example>", codes: []string{AutoNoReply}},
		{name: "a person called Norbert Reply", from: "Norbert Reply <norbert.reply@origin.example>", codes: []string{}},
		{name: "delivery report", extra: "Content-Type: multipart/report; report-type=delivery-status;\n boundary=\"b1\"", codes: []string{AutoReport}},
		{name: "malformed report content type", extra: "Content-Type: Multipart/Report; report-type=disposition-notification; boundary=", codes: []string{AutoReport}},
		{name: "ordinary multipart", extra: "Content-Type: multipart/mixed; boundary=\"b1\"", codes: []string{}},
		{name: "X-Autoreply", extra: "X-Autoreply: yes", codes: []string{AutoReplyHeader}},
		{name: "X-Loop", extra: "X-Loop: support@helpdesk.example", codes: []string{AutoLoop}},
		{name: "X-OTRS-Loop: no is not a loop guard", extra: "X-OTRS-Loop: no", codes: []string{}},
		{name: "Zendesk", extra: "X-Mailer: Zendesk Mailer\nX-Zendesk-From-Account-Id: 4ca1477", codes: []string{AutoHelpdesk}},
		{name: "Freshdesk (empty category)", extra: "X-FD-Email-Category: ", codes: []string{AutoHelpdesk}},
		{name: "Jira", extra: "X-JIRA-FingerPrint: 0123abcd", codes: []string{AutoHelpdesk}},
		{name: "ServiceNow", extra: "X-ServiceNow-Generated: true", codes: []string{AutoHelpdesk}},
		{name: "OTRS", extra: "X-Powered-By: OTRS - Open Ticket Request System", codes: []string{AutoHelpdesk}},
		{name: "osTicket", extra: "X-Mailer: osTicket Mailer", codes: []string{AutoHelpdesk}},
		{name: "an ordinary mail client", extra: "X-Mailer: Apple Mail (2.3731)", codes: []string{}},
		{name: "partner address", from: "Alerts <ALERTS@monitor.example>", codes: []string{AutoPartner}},
		{name: "partner domain via MAIL FROM", mailFrom: "bounce-77@mail.billing.example", codes: []string{AutoPartner}},
		{name: "partner domain look-alike", mailFrom: "x@notbilling.example", codes: []string{}},
		{name: "Zendesk ticket notification, everything at once",
			extra: "Auto-Submitted: auto-generated\nX-Auto-Response-Suppress: All\nX-Mailer: Zendesk Mailer\nX-Zendesk-From-Account-Id: 68b8aed",
			from:  "Support <support@help.example>", codes: []string{AutoSubmitted, AutoResponseSupp, AutoHelpdesk}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := personMsg
			if tt.from != "" {
				raw = replaceLine(raw, "From: ", "From: "+tt.from)
			}
			if tt.extra != "" {
				raw = tt.extra + "\n" + raw
			}
			h, _ := split(t, crlf(raw))
			mf := tt.mailFrom
			if mf == "" {
				mf = "alice@origin.example"
			}
			a := DetectAutomated(h, mf, partners)
			assert.Equal(t, tt.codes, codes(a.Signals))
			assert.Equal(t, len(tt.codes) > 0, a.Automated)
		})
	}
	t.Run("nil header and options", func(t *testing.T) {
		a := DetectAutomated(nil, "alice@origin.example", nil)
		assert.False(t, a.Automated)
		a = DetectAutomated(nil, "", nil)
		assert.Equal(t, []string{AutoNullSender}, codes(a.Signals))
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
