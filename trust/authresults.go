package trust

import (
	"github.com/mailtrust/mailtrust/dmarc"
	"github.com/mailtrust/mailtrust/internal/arfield"
	"github.com/mailtrust/mailtrust/ptr"
	"github.com/mailtrust/mailtrust/spf"
)

// authResults writes the verdict's Authentication-Results field
// (RFC 8601 §2.2): one result per check that ran, in the order SPF, DKIM
// (one per signature), DMARC, ARC, iprev, under this receiver's
// authserv-id.
//
// It writes what arfield.Format writes for the checks' AuthResult values
// (TestAuthResultsAsAuthres holds the two to the same text), from the
// results themselves: no authres value, map or sort per result.
func (ev *evaluation) authResults() string {
	v := ev.v
	var w arfield.Writer
	w.StartField(ev.e.authServID, 4+len(v.DKIM))
	if r := v.SPF; r.Status != "" {
		// spf.Result.AuthResult: the identity checked as its property.
		var helo, from string
		if r.Identity == spf.IdentityHelo {
			helo = arfield.Token(r.Domain)
		} else {
			from = arfield.Token(r.Sender)
		}
		w.Result("spf", string(r.Status), arfield.Param{Key: "reason", Value: arfield.ResultReason(string(r.Status), r.Reason)},
			arfield.Param{Key: "smtp.helo", Value: helo}, arfield.Param{Key: "smtp.mailfrom", Value: from})
	}
	// dkim.AuthResults: properties by name after the reason.
	if len(v.DKIM) == 0 {
		w.Result("dkim", "none")
	}
	for _, r := range v.DKIM {
		w.Result("dkim", string(r.Status),
			arfield.Param{Key: "reason", Value: arfield.ResultReason(string(r.Status), r.Reason)},
			arfield.Param{Key: "header.a", Value: arfield.Value(r.Algorithm)},
			arfield.Param{Key: "header.b", Value: arfield.Value(r.SignaturePrefix)},
			arfield.Param{Key: "header.d", Value: arfield.Value(r.Domain)},
			arfield.Param{Key: "header.i", Value: arfield.Value(r.Identifier)},
			arfield.Param{Key: "header.s", Value: arfield.Value(r.Selector)})
	}
	if v.From.Domain != "" {
		st := v.DMARC.Status
		if st == "" {
			st = dmarc.StatusNone
		}
		w.Result("dmarc", string(st), arfield.Param{Key: "reason", Value: arfield.ResultReason(string(st), v.DMARC.Reason)},
			arfield.Param{Key: "header.from", Value: v.DMARC.Domain})
	}
	if v.ARC.Status != "" {
		w.Result("arc", string(v.ARC.Status))
	}
	if r := v.PTR; r.Status != "" {
		// RFC 8601 §2.7.3: a missing PTR record is permerror.
		value := string(ptr.StatusPermerror)
		switch r.Status {
		case ptr.StatusPass, ptr.StatusFail, ptr.StatusTemperror:
			value = string(r.Status)
		}
		var ip string
		if r.IP.IsValid() {
			ip = r.IP.String()
		}
		w.Result("iprev", value, arfield.Param{Key: "reason", Value: arfield.ResultReason(string(r.Status), r.Reason)},
			arfield.Param{Key: "policy.iprev", Value: ip})
	}
	return w.String()
}
