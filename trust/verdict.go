package trust

import (
	"encoding/json"
	"time"

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

type jsonSPF struct {
	Result    string `json:"result"`
	Domain    string `json:"domain,omitempty"`
	Identity  string `json:"identity,omitempty"`
	Mechanism string `json:"mechanism,omitempty"`
	Reason    string `json:"reason,omitempty"`
}

type jsonDKIM struct {
	Result    string `json:"result"`
	Domain    string `json:"domain"`
	Selector  string `json:"selector"`
	Algorithm string `json:"algorithm,omitempty"`
	KeyBits   int    `json:"key_bits,omitempty"`
	Reason    string `json:"reason,omitempty"`
}

type jsonDMARC struct {
	Result      string `json:"result"`
	Domain      string `json:"domain,omitempty"`
	Policy      string `json:"policy,omitempty"`
	Disposition string `json:"disposition,omitempty"`
	Aligned     string `json:"aligned,omitempty"`
	Reason      string `json:"reason,omitempty"`
}

type jsonARC struct {
	Result   string        `json:"result"`
	Sets     int           `json:"sets,omitempty"`
	Sealer   string        `json:"sealer,omitempty"`
	Failed   int           `json:"failed_instance,omitempty"`
	Reason   string        `json:"reason,omitempty"`
	Original *jsonOriginal `json:"original,omitempty"`
}

type jsonOriginal struct {
	Via       string `json:"via"`
	Forwarder string `json:"forwarder"`
	SPF       string `json:"spf,omitempty"`
	DKIM      string `json:"dkim,omitempty"`
	DMARC     string `json:"dmarc,omitempty"`
}

type jsonPTR struct {
	Result  string   `json:"result"`
	Names   []string `json:"names"`
	Generic bool     `json:"generic"`
	Reason  string   `json:"reason,omitempty"`
}

type jsonHELO struct {
	Result string `json:"result"`
	Name   string `json:"name,omitempty"`
	Code   string `json:"code,omitempty"`
	Reason string `json:"reason,omitempty"`
}

type jsonSignal struct {
	Code   string `json:"code"`
	Detail string `json:"detail,omitempty"`
}

type jsonForward struct {
	Forwarded      bool         `json:"forwarded"`
	OriginalSender string       `json:"original_sender,omitempty"`
	Requester      string       `json:"requester,omitempty"`
	Signals        []jsonSignal `json:"signals,omitempty"`
}

type jsonAutomated struct {
	Automated bool         `json:"automated"`
	Signals   []jsonSignal `json:"signals,omitempty"`
}

// jsonConn is the verdict line's conn: unknown facts are absent, while
// mail_from "" is the null reverse-path.
type jsonConn struct {
	IP       string   `json:"ip,omitempty"`
	HELO     string   `json:"helo,omitempty"`
	MailFrom *string  `json:"mail_from,omitempty"`
	RcptTo   []string `json:"rcpt_to,omitempty"`
	Time     string   `json:"time,omitempty"`
	From     string   `json:"from"`
}

type jsonRecorded struct {
	AuthServID string `json:"authserv_id"`
	SPF        string `json:"spf,omitempty"`
	DKIM       string `json:"dkim,omitempty"`
	DMARC      string `json:"dmarc,omitempty"`
	ARC        string `json:"arc,omitempty"`
	IPRev      string `json:"iprev,omitempty"`
}

type jsonVerdict struct {
	ID                    string        `json:"id,omitempty"`
	MessageID             string        `json:"message_id"`
	Conn                  jsonConn      `json:"conn"`
	Recorded              *jsonRecorded `json:"recorded,omitempty"`
	Verdict               Level         `json:"verdict"`
	Score                 float64       `json:"score"`
	Incomplete            bool          `json:"incomplete"`
	From                  string        `json:"from,omitempty"`
	SPF                   jsonSPF       `json:"spf"`
	DKIM                  []jsonDKIM    `json:"dkim"`
	DMARC                 jsonDMARC     `json:"dmarc"`
	ARC                   jsonARC       `json:"arc"`
	PTR                   jsonPTR       `json:"ptr"`
	HELO                  jsonHELO      `json:"helo"`
	Forward               jsonForward   `json:"forward"`
	Automated             jsonAutomated `json:"automated"`
	Disposition           string        `json:"disposition,omitempty"`
	Reasons               []Reason      `json:"reasons"`
	AuthenticationResults string        `json:"authentication_results,omitempty"`
}

// MarshalJSON encodes the verdict line of the corpus format (docs/CORPUS.md).
func (v *Verdict) MarshalJSON() ([]byte, error) { return json.Marshal(v.view("")) }

// JSONLine encodes the verdict line with the case id first.
func (v *Verdict) JSONLine(id string) ([]byte, error) { return json.Marshal(v.view(id)) }

func signals[C ~string](codes []C, details []string) []jsonSignal {
	out := make([]jsonSignal, 0, len(codes))
	for i, c := range codes {
		out = append(out, jsonSignal{string(c), details[i]})
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func (v *Verdict) view(id string) jsonVerdict {
	j := jsonVerdict{
		ID:         id,
		MessageID:  v.MessageID,
		Conn:       connView(v.Conn),
		Verdict:    v.Level,
		Score:      round2(v.Score),
		Incomplete: v.Incomplete,
		From:       v.From.Address,
		SPF: jsonSPF{
			Result: string(v.SPF.Status), Domain: v.SPF.Domain, Identity: string(v.SPF.Identity),
			Mechanism: v.SPF.Mechanism, Reason: v.SPF.Reason,
		},
		DKIM: make([]jsonDKIM, 0, len(v.DKIM)),
		DMARC: jsonDMARC{
			Result: string(v.DMARC.Status), Domain: v.DMARC.Domain, Policy: string(v.DMARC.Policy),
			Disposition: string(v.DMARC.Disposition), Reason: v.DMARC.Reason,
		},
		ARC:  jsonARC{Result: string(v.ARC.Status), Sets: len(v.ARC.Sets), Failed: v.ARC.FailedInstance, Reason: v.ARC.Reason},
		PTR:  jsonPTR{Result: string(v.PTR.Status), Names: v.PTR.Names, Generic: v.PTR.Generic, Reason: v.PTR.Reason},
		HELO: jsonHELO{Result: string(v.HELO.Status), Name: v.HELO.Name, Code: string(v.HELO.Code), Reason: v.HELO.Reason},
		Forward: jsonForward{
			Forwarded: v.Forward.Forwarded, OriginalSender: v.Forward.OriginalSender,
			Requester: v.Forward.Requester, Signals: forwardSignals(v.Forward.Signals),
		},
		Automated:             jsonAutomated{Automated: v.Automated.Automated, Signals: automatedSignals(v.Automated.Signals)},
		Disposition:           string(v.Disposition),
		Reasons:               v.Reasons,
		AuthenticationResults: v.AuthenticationResults,
	}
	if j.PTR.Names == nil {
		j.PTR.Names = []string{}
	}
	if j.Reasons == nil {
		j.Reasons = []Reason{}
	}
	switch {
	case v.DMARC.DKIMAligned != "":
		j.DMARC.Aligned = "dkim:" + v.DMARC.DKIMAligned
	case v.DMARC.SPFAligned:
		j.DMARC.Aligned = "spf:" + v.SPF.Domain
	}
	if n := len(v.ARC.Sets); n > 0 {
		j.ARC.Sealer = v.ARC.Sets[n-1].SealDomain
	}
	if r := v.Recorded; r != nil {
		j.Recorded = &jsonRecorded{AuthServID: r.AuthServID, SPF: string(r.SPF), DKIM: string(r.DKIM), DMARC: string(r.DMARC), ARC: string(r.ARC), IPRev: string(r.IPRev)}
	}
	if o := v.Original; o != nil {
		j.ARC.Original = &jsonOriginal{Via: string(o.Via), Forwarder: o.Forwarder, SPF: string(o.SPF), DKIM: string(o.DKIM), DMARC: string(o.DMARC)}
	}
	for _, d := range v.DKIM {
		j.DKIM = append(j.DKIM, jsonDKIM{
			Result: string(d.Status), Domain: d.Domain, Selector: d.Selector,
			Algorithm: d.Algorithm, KeyBits: d.KeyBits, Reason: d.Reason,
		})
	}
	return j
}

func connView(c Conn) jsonConn {
	m := c.Missing()
	j := jsonConn{HELO: c.HELO, From: c.Source}
	if j.From == "" {
		j.From = SourceCase
	}
	if c.IP.IsValid() {
		j.IP = c.IP.String()
	}
	if !m.Has(FactMailFrom) {
		mf := c.MailFrom
		j.MailFrom = &mf
	}
	j.RcptTo = c.RcptTo
	if !c.Time.IsZero() && !m.Has(FactTime) {
		j.Time = c.Time.UTC().Format(time.RFC3339)
	}
	return j
}

func round2(f float64) float64 {
	if f < 0 {
		return -float64(int64(-f*100+0.5)) / 100
	}
	return float64(int64(f*100+0.5)) / 100
}

func forwardSignals(s []forward.Signal) []jsonSignal {
	codes, details := make([]forward.Code, len(s)), make([]string, len(s))
	for i, x := range s {
		codes[i], details[i] = x.Code, x.Detail
	}
	return signals(codes, details)
}

func automatedSignals(s []automated.Signal) []jsonSignal {
	codes, details := make([]automated.Code, len(s)), make([]string, len(s))
	for i, x := range s {
		codes[i], details[i] = x.Code, x.Detail
	}
	return signals(codes, details)
}
