package forward

import (
	"github.com/emersion/go-msgauth/authres"

	"github.com/mailtrust/mailtrust/internal/arfield"
	"github.com/mailtrust/mailtrust/internal/domain"
)

// Recorded is what one Authentication-Results field says, in RFC 8601
// result words; a method it does not mention is "".
type Recorded struct {
	// AuthServID is the field's authserv-id, lower-cased.
	AuthServID string
	// SPF, DKIM, DMARC, ARC and IPRev are the result words. Of several
	// DKIM results, a pass for the From domain's organization is taken,
	// then any pass, then the first.
	SPF, DKIM, DMARC, ARC, IPRev authres.ResultValue
}

// ReadAuthResults reads an Authentication-Results field value (RFC 8601
// §2.2) the way Rescue does; fromDomain ranks the DKIM results.
func ReadAuthResults(value, fromDomain string) Recorded {
	id, results := arfield.Parse(value)
	w := summarize(results, domain.SameOrg, fromDomain)
	r := Recorded{AuthServID: id, SPF: w.spf, DKIM: w.dkim, DMARC: w.dmarc}
	for _, x := range results {
		switch x := x.(type) {
		case *authres.ARCResult:
			if r.ARC == "" {
				r.ARC = x.Value
			}
		case *authres.IPRevResult:
			if r.IPRev == "" {
				r.IPRev = x.Value
			}
		}
	}
	return r
}
