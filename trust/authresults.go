package trust

import (
	"github.com/emersion/go-msgauth/authres"

	"github.com/mailtrust/mailtrust/dkim"
	"github.com/mailtrust/mailtrust/internal/arfield"
)

// authResults writes the verdict's Authentication-Results field
// (RFC 8601 §2.2): one result per check that ran, in the order SPF, DKIM
// (one per signature), DMARC, ARC, iprev, under this receiver's
// authserv-id.
func (ev *evaluation) authResults() string {
	v := ev.v
	rs := make([]authres.Result, 0, 4+len(v.DKIM))
	if v.SPF.Status != "" {
		rs = append(rs, v.SPF.AuthResult())
	}
	rs = append(rs, dkim.AuthResults(v.DKIM)...)
	if v.From.Domain != "" {
		rs = append(rs, v.DMARC.AuthResult())
	}
	if v.ARC.Status != "" {
		rs = append(rs, v.ARC.AuthResult())
	}
	if v.PTR.Status != "" {
		rs = append(rs, v.PTR.AuthResult())
	}
	return "Authentication-Results: " + arfield.Format(ev.e.authServID, rs)
}
