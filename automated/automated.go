// Package automated recognizes mail that a machine sent: Auto-Submitted
// (RFC 3834 §5), Precedence (RFC 3834 §3.1.8), Microsoft's
// X-Auto-Response-Suppress, the null reverse-path (RFC 5321 §4.5.5),
// bounce and no-reply senders, delivery and disposition reports
// (RFC 6522), loop guards, ticketing systems and configured partners. It
// matters to anyone who answers mail automatically: RFC 3834 §2 asks
// responders not to answer such mail, lest two machines loop.
//
// What this package does not do: it does not judge whether the mail is
// authentic (automated mail may well be) and it sends nothing.
package automated

import (
	"mime"
	"strings"

	"github.com/mailtrust/mailtrust/internal/arfield"
	"github.com/mailtrust/mailtrust/internal/domain"
	"github.com/mailtrust/mailtrust/message"
)

// Code is a stable automated-mail signal code.
type Code string

// Signal is one observation, with its code and a human-readable detail.
type Signal struct {
	Code   Code
	Detail string
}

// Automated-mail signal codes. Any one of them makes a message Automated.
const (
	AutoSubmitted    Code = "auto-submitted"           // Auto-Submitted other than "no" (RFC 3834 §5)
	AutoResponseSupp Code = "x-auto-response-suppress" // Microsoft's suppression request: All, OOF or AutoReply
	AutoPrecedence   Code = "precedence"               // Precedence: bulk, junk, list or auto_reply (RFC 3834 §3.1.8)
	AutoNullSender   Code = "null-sender"              // MAIL FROM <> (RFC 5321 §4.5.5: notifications)
	AutoMailerDaemon Code = "from.mailer-daemon"       // From MAILER-DAEMON@ or postmaster@
	AutoNoReply      Code = "from.noreply"             // From noreply@, no-reply@, donotreply@, do-not-reply@
	AutoReport       Code = "report"                   // Content-Type multipart/report (RFC 6522: DSN, MDN, ARF)
	AutoReplyHeader  Code = "x-autoreply"              // X-Autoreply, X-Autorespond
	AutoLoop         Code = "x-loop"                   // X-Loop, X-No-Loop, X-OTRS-Loop: a loop guard was set
	AutoHelpdesk     Code = "helpdesk"                 // headers of a ticketing system
	AutoPartner      Code = "partner"                  // a configured automated partner address or domain
)

// Automated is what Detect found: mail a machine sent, which an
// automatic reply must not answer (RFC 3834 §2) lest two machines loop.
type Result struct {
	Automated bool
	Signals   []Signal
}

// Options refine Detect.
type Options struct {
	// Partners are senders known to be machines: "addr@example.com"
	// (that address) or "@example.com" (that domain and its subdomains),
	// matched against From and MAIL FROM.
	Partners []string
}

// helpdeskSign is a header by which a ticketing system can be recognized.
type helpdeskSign struct {
	product string
	header  string // field name (lower case)
	value   string // substring of the value (lower case); "" = present
}

// helpdeskSigns lists ticketing systems by headers seen on their outgoing
// mail. Each entry was checked against the product's own code or
// documentation, or real messages in public repositories; products whose
// mail carries no distinctive header that could be confirmed (Help Scout,
// Zoho Desk, Front, Intercom, Kayako, Salesforce Service Cloud, Genesys,
// Gorgias) are left out — most of them set Auto-Submitted, caught above.
func helpdeskSigns() []helpdeskSign {
	return []helpdeskSign{
		{"Zendesk", "x-zendesk-from-account-id", ""},
		{"Zendesk", "x-mailer", "zendesk"},
		{"Freshdesk", "x-fd-email-category", ""},
		{"Jira", "x-jira-fingerprint", ""},
		{"ServiceNow", "x-servicenow-generated", ""},
		{"OTRS/Znuny", "x-powered-by", "otrs"},
		{"OTRS/Znuny", "x-mailer", "otrs"},
		{"osTicket", "x-mailer", "osticket"},
	}
}

// Detect looks for signs that a machine sent the message:
// Auto-Submitted (RFC 3834 §5), Precedence, Microsoft's
// X-Auto-Response-Suppress, a null reverse-path, bounce and no-reply
// senders, delivery and disposition reports (RFC 6522), loop guards,
// ticketing systems, and configured partners. It is independent of trust:
// automated mail may be perfectly authentic. from is the author identity
// the caller holds (message.ParseFrom); opts may be nil.
func Detect(h *message.Header, from message.From, mailFrom string, opts *Options) Result {
	var a Result
	add := func(code Code, detail string) { a.Signals = append(a.Signals, Signal{code, detail}) }
	if h == nil {
		h = &message.Header{}
	}

	// RFC 3834 §5: "auto-generated", "auto-replied" and extensions, with
	// optional parameters ("auto-replied; owner-email=..."); "no" is a
	// person.
	if f := h.First("auto-submitted"); f != nil {
		v := strings.TrimSpace(arfield.StripComments(f.Unfolded()))
		kw, _, _ := strings.Cut(v, ";")
		if kw = strings.ToLower(strings.TrimSpace(kw)); kw != "" && kw != "no" {
			add(AutoSubmitted, v)
		}
	}
	// Microsoft's X-Auto-Response-Suppress lists what the sender does not
	// want answered automatically (values None, All, DR, NDR, RN, NRN, OOF,
	// AutoReply). Automated senders ask for All, OOF or AutoReply; read
	// receipt suppression alone (RN, NRN) is set on ordinary mail too.
	if f := h.First("x-auto-response-suppress"); f != nil {
		for _, tok := range strings.FieldsFunc(strings.ToLower(f.Unfolded()), func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
			if tok == "all" || tok == "oof" || tok == "autoreply" {
				add(AutoResponseSupp, f.Unfolded())
				break
			}
		}
	}
	if f := h.First("precedence"); f != nil {
		switch v := strings.ToLower(strings.TrimSpace(f.Unfolded())); v {
		case "bulk", "junk", "list", "auto_reply":
			add(AutoPrecedence, v)
		}
	}
	if mf := strings.TrimSpace(mailFrom); mf == "" || mf == "<>" {
		add(AutoNullSender, "MAIL FROM <>")
	}
	switch local := strings.ToLower(from.Local); local {
	case "mailer-daemon", "postmaster":
		add(AutoMailerDaemon, from.Address)
	case "noreply", "no-reply", "no_reply", "donotreply", "do-not-reply", "do_not_reply":
		add(AutoNoReply, from.Address)
	}
	if f := h.First("content-type"); f != nil {
		mt, params, err := mime.ParseMediaType(f.Unfolded())
		if err != nil {
			mt, _, _ = strings.Cut(strings.ToLower(f.Unfolded()), ";")
			mt = strings.TrimSpace(mt)
		}
		if mt == "multipart/report" {
			add(AutoReport, "report-type="+params["report-type"])
		}
	}
	for _, k := range []string{"x-autoreply", "x-autorespond"} {
		if f := h.First(k); f != nil {
			add(AutoReplyHeader, f.Name+": "+f.Unfolded())
			break
		}
	}
	for _, k := range []string{"x-loop", "x-no-loop", "x-otrs-loop"} {
		if f := h.First(k); f != nil {
			v := strings.ToLower(strings.TrimSpace(f.Unfolded()))
			if k == "x-otrs-loop" && (v == "no" || v == "false") {
				continue // OTRS writes "no" on mail that may be answered
			}
			add(AutoLoop, f.Name+": "+f.Unfolded())
			break
		}
	}
	for _, s := range helpdeskSigns() {
		if f := h.First(s.header); f != nil && (s.value == "" || strings.Contains(strings.ToLower(f.Unfolded()), s.value)) {
			add(AutoHelpdesk, s.product+" ("+f.Name+")")
			break
		}
	}
	if opts != nil {
		if p, ok := matchPartner(opts.Partners, from.Address, mailFrom); ok {
			add(AutoPartner, p)
		}
	}
	a.Automated = len(a.Signals) > 0
	return a
}

// matchPartner matches the From and MAIL FROM addresses against configured
// partners: "addr@domain" exactly (case-insensitively), "@domain" for the
// domain and its subdomains.
func matchPartner(partners []string, addrs ...string) (string, bool) {
	for _, p := range partners {
		p = strings.ToLower(strings.TrimSpace(p))
		if p == "" {
			continue
		}
		for _, a := range addrs {
			a = message.FoldAddress(a)
			if a == "" || !strings.Contains(a, "@") {
				continue
			}
			if strings.HasPrefix(p, "@") {
				if domain.IsSubdomain(message.DomainOf(a), p[1:]) {
					return p + " matches " + a, true
				}
			} else if a == p {
				return p, true
			}
		}
	}
	return "", false
}
