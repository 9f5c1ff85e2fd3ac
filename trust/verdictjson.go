package trust

import (
	"encoding/json"
	"time"

	"github.com/mailtrust/mailtrust/automated"
	"github.com/mailtrust/mailtrust/forward"
)

// The verdict line (docs/CORPUS.md): the JSON mirror of Verdict.

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
	BestLevel             Level         `json:"best_level,omitempty"` // incomplete verdicts only
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
	if v.Incomplete {
		j.BestLevel = v.BestLevel
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
