package trust

import (
	"github.com/mailtrust/mailtrust/arc"
	"github.com/mailtrust/mailtrust/automated"
	"github.com/mailtrust/mailtrust/dkim"
	"github.com/mailtrust/mailtrust/dmarc"
	"github.com/mailtrust/mailtrust/forward"
	"github.com/mailtrust/mailtrust/helo"
	"github.com/mailtrust/mailtrust/message"
	"github.com/mailtrust/mailtrust/ptr"
	"github.com/mailtrust/mailtrust/spf"
)

// Reason is one signal that contributed to a verdict.
type Reason struct {
	Code   Code    `json:"code"`
	Weight float64 `json:"weight"`
	Detail string  `json:"detail,omitempty"`
}

// Verdict is the outcome of evaluating one message: a level, the score it
// comes from, the reasons behind it, and every check's typed result.
// Its JSON form is the verdict line of the replay corpus format.
type Verdict struct {
	Level Level
	Score float64
	// Incomplete reports that a temporary DNS failure or the deadline left
	// open a result the verdict weighs: defer the message rather than
	// reject it. For an authenticated client, SPF, DKIM, DMARC, PTR and
	// HELO are not weighed, so their temporary failures do not count.
	Incomplete bool
	// BestLevel is the level the verdict would still have if every result
	// left open came out at its most favourable: Level for a complete
	// verdict, Trusted when the deadline cut checks short. A receiver may
	// refuse an incomplete verdict whose BestLevel it would refuse: no
	// answer of the failed lookups could save it (a sender cannot escape
	// refusal by failing its own DNS, say for a Cc domain).
	BestLevel Level
	// Reasons are sorted by descending absolute weight.
	Reasons []Reason

	SPF   spf.Result
	DKIM  []dkim.Result // one per DKIM-Signature, top to bottom
	DMARC dmarc.Result
	ARC   arc.Result
	PTR   ptr.Result
	HELO  helo.Result
	// Forward reports forwarding detected without ARC.
	Forward forward.Forwarding
	// Original is the authentication carried across trusted forwarding,
	// nil when none was accepted.
	Original *forward.Original
	// Automated flags mail that must not be auto-answered.
	Automated automated.Result
	// From is the From identity as the reader sees it.
	From message.From
	// Disposition is what the From domain's owner asks for this message
	// (RFC 7489 §6.6.4): none, quarantine or reject; "" without a policy.
	Disposition dmarc.Policy
	// AuthenticationResults is an RFC 8601 header field, name included,
	// without the final CRLF.
	AuthenticationResults string
	// MessageID is the Message-ID's msg-id without angle brackets, ""
	// when there is none: the same message in any source.
	MessageID string
	// Conn is the session facts the verdict used: the caller's, or those
	// read from the receiver's trace (Conn.Source), with the time of
	// receipt filled in.
	Conn Conn
	// Recorded is what the receiver wrote at receipt, when
	// Options.ReceiverAuthServID found it above the trace boundary.
	Recorded *Recorded
}

// Has reports whether the verdict gave reason code c.
func (v *Verdict) Has(c Code) bool {
	for _, r := range v.Reasons {
		if r.Code == c {
			return true
		}
	}
	return false
}
