package dmarc

import (
	"fmt"
	"hash/fnv"
	"strings"

	"github.com/emersion/go-msgauth/authres"

	"github.com/mailtrust/mailtrust/internal/arfield"
	"github.com/mailtrust/mailtrust/internal/domain"
)

// Identifiers are the authenticated identifiers to align with the From
// domain, as SPF and DKIM found them.
type Identifiers struct {
	// SPFDomain is the domain SPF checked: the MAIL FROM domain, or the
	// HELO name when the reverse-path was null (RFC 7489 §3.1.2, RFC 7208
	// §2.4).
	SPFDomain string
	// SPFPass reports that SPF returned pass for SPFDomain.
	SPFPass bool
	// SPFTempError reports that SPF returned temperror for SPFDomain.
	SPFTempError bool
	// DKIMPassDomains are the d= of every DKIM signature that verified and
	// whose h= covers From.
	DKIMPassDomains []string
	// DKIMTempErrorDomains are the d= of signatures covering From whose
	// verification failed temporarily (key lookup temperror).
	DKIMTempErrorDomains []string
}

// Options refine Evaluate. A nil *Options means the defaults.
type Options struct {
	// SampleKey makes pct= sampling (RFC 7489 §6.6.4) deterministic, so
	// that replaying a message reproduces its disposition. Give a value
	// stable for one message, such as its Message-ID or a hash of it.
	//
	// The message is selected for the full policy when the FNV-1a 64-bit
	// hash of SampleKey, modulo 100, is below pct. pct=100 selects every
	// message and pct=0 none. An empty SampleKey selects no message when
	// pct is below 100: without a key the receiver cannot keep the share
	// at pct, and §6.6.4 forbids enacting the policy on more than pct
	// percent. Default "".
	SampleKey string
}

// Result is the outcome of DMARC evaluation for one message.
type Result struct {
	// Status is the DMARC result.
	Status Status
	// Domain is the From domain, normalized.
	Domain string
	// RecordDomain is where the policy record was found: Domain or its
	// organizational domain.
	RecordDomain string
	// Policy is the policy that applies to Domain: sp= when the record came
	// from the organizational domain of a subdomain and has sp=, otherwise
	// p= (RFC 7489 §6.6.3, §6.3). "" when no record applies.
	Policy Policy
	// Disposition is what the Domain Owner asks for this message: Policy
	// when Status is fail and pct= sampling selected it (Sampled), else
	// the next less severe policy (RFC 7489 §6.6.4: reject becomes
	// quarantine, quarantine becomes none); PolicyNone for any other
	// Status.
	Disposition Policy
	// Sampled reports that pct= sampling selected this message for the
	// full Policy (always at pct=100). Set only when Status is fail.
	Sampled bool
	// SPFAligned reports that SPF passed for an aligned domain.
	SPFAligned bool
	// DKIMAligned is the d= of a passing signature that aligns ("" if
	// none); an exact match with Domain is preferred.
	//
	// With no record (Status none) both report alignment under the
	// defaults of RFC 7489 §3.1 (relaxed), which a receiver's local policy
	// may use; the Status stays none.
	DKIMAligned string
	// Record is the policy record, nil when none applies.
	Record *Record
	// Reason explains Status in a few words.
	Reason string
	// Err wraps one of the package's errors when Status is not pass or
	// fail.
	Err error
}

// NoFromDomain is the result for a message without a From domain DMARC can
// use (no From field, several, or an unparsable address): permerror, so
// that such messages are reported like every other DMARC outcome.
func NoFromDomain(reason string) Result {
	return Result{
		Status:      StatusPermerror,
		Disposition: PolicyNone,
		Reason:      "no usable From domain: " + reason,
		Err:         fmt.Errorf("%w: %s", ErrNoFromDomain, reason),
	}
}

// Evaluate decides the DMARC result of a message from the policy discovery
// for its From domain and the identifiers SPF and DKIM authenticated
// (RFC 7489 §6.6.2): pass when either aligns under the record's adkim= or
// aspf= mode (§3.1), fail when neither does. When neither aligns but a
// check that would have aligned failed temporarily, the result is
// temperror: a temporary failure is never a fail. A discovery without a
// record passes its status through.
func Evaluate(d Discovery, ids Identifiers, opts *Options) Result {
	if opts == nil {
		opts = &Options{}
	}
	res := Result{Domain: d.FromDomain, RecordDomain: d.RecordDomain, Disposition: PolicyNone}
	if d.Status == "" && d.FromDomain == "" {
		return NoFromDomain("no From domain was looked up")
	}
	if d.Status != "" || d.Record == nil {
		res.Status, res.Reason, res.Err = d.Status, d.Reason, d.Err
		if res.Status == "" {
			res.Status, res.Reason, res.Err = StatusNone, "no DMARC record", ErrNoRecord
		}
		if res.Status == StatusNone && d.FromDomain != "" {
			// No policy: alignment under the §3.1 defaults (relaxed), for
			// the receiver's local policy. The status stays none.
			al := align(d.FromDomain, ids, AlignmentRelaxed, AlignmentRelaxed)
			res.SPFAligned, res.DKIMAligned = al.spf, al.dkim
		}
		return res
	}
	rec := d.Record
	res.Record = rec
	res.Policy = rec.Policy
	// RFC 7489 §6.3, §6.6.3: sp= governs subdomains when the record was
	// found at the organizational domain, not at the From domain itself.
	if d.RecordDomain != d.FromDomain && rec.SubdomainPolicy != "" {
		res.Policy = rec.SubdomainPolicy
	}

	al := align(d.FromDomain, ids, rec.SPFAlignment, rec.DKIMAlignment)
	res.SPFAligned, res.DKIMAligned = al.spf, al.dkim
	notes, temp := al.notes, al.temp

	switch {
	case res.DKIMAligned != "":
		res.Status = StatusPass
		res.Reason = "aligned DKIM d=" + res.DKIMAligned
	case res.SPFAligned:
		res.Status = StatusPass
		res.Reason = "aligned SPF " + normalize(ids.SPFDomain)
	case len(temp) > 0:
		res.Status = StatusTemperror
		res.Reason = "no aligned pass; temporary failure of " + strings.Join(temp, ", ")
		res.Err = fmt.Errorf("%w: %s", ErrAuthTemporary, strings.Join(temp, ", "))
	default:
		res.Status = StatusFail
		res.Reason = "no aligned SPF or DKIM pass"
		if len(notes) > 0 {
			res.Reason += ": " + strings.Join(notes, "; ")
		}
		// RFC 7489 §6.6.4: enact the policy on at most pct percent.
		res.Sampled = sampled(opts.SampleKey, rec.Percent)
		res.Disposition = res.Policy
		if !res.Sampled {
			res.Disposition = lessSevere(res.Policy)
		}
	}
	return res
}

// AuthResult renders r as an RFC 8601 Authentication-Results entry:
// dmarc=<status> with reason and header.from (RFC 7489 §11.2).
// A temperror's reason is "temporary DNS failure" whatever r.Reason
// says: the resolver's detail is for logs and the verdict, not the header.
func (r Result) AuthResult() authres.Result {
	st := r.Status
	if st == "" {
		st = StatusNone
	}
	return &authres.DMARCResult{
		Value:  authres.ResultValue(st),
		Reason: arfield.ResultReason(string(st), r.Reason),
		From:   r.Domain,
	}
}

// alignment is what align found.
type alignment struct {
	spf   bool     // SPF passed for an aligned domain
	dkim  string   // d= of an aligned passing signature, the From domain itself preferred
	notes []string // unaligned or undecided identifiers, for the reason
	temp  []string // temporarily failed checks that would have aligned
}

// align compares the authenticated identifiers with the From domain under
// the given modes (RFC 7489 §3.1.1, §3.1.2).
func align(from string, ids Identifiers, spfMode, dkimMode Alignment) alignment {
	var al alignment
	// RFC 7489 §3.1.2: SPF-authenticated identifier.
	if spf := normalize(ids.SPFDomain); spf != "" {
		switch ok := aligned(from, spf, spfMode); {
		case ok && ids.SPFPass:
			al.spf = true
		case ok && ids.SPFTempError:
			al.temp = append(al.temp, "SPF "+spf)
		case ok:
			al.notes = append(al.notes, "SPF "+spf+" did not pass")
		case ids.SPFPass:
			al.notes = append(al.notes, fmt.Sprintf("SPF %s not aligned (%s)", spf, mode(spfMode)))
		}
	}
	// RFC 7489 §3.1.1: DKIM-authenticated identifiers.
	for _, dd := range ids.DKIMPassDomains {
		n := normalize(dd)
		if n == "" {
			continue
		}
		if !aligned(from, n, dkimMode) {
			al.notes = append(al.notes, fmt.Sprintf("DKIM d=%s not aligned (%s)", n, mode(dkimMode)))
			continue
		}
		if al.dkim == "" || n == from {
			al.dkim = n
		}
	}
	for _, dd := range ids.DKIMTempErrorDomains {
		if n := normalize(dd); n != "" && aligned(from, n, dkimMode) {
			al.temp = append(al.temp, "DKIM d="+n)
		}
	}
	return al
}

// aligned compares an authenticated identifier with the From domain, both
// normalized (RFC 7489 §3.1: case-insensitive). Strict: equal; relaxed:
// the same organizational domain (§3.1.1, §3.1.2).
func aligned(from, id string, m Alignment) bool {
	if from == id {
		return true
	}
	return m != AlignmentStrict && domain.SameOrg(from, id)
}

func mode(m Alignment) string {
	if m == AlignmentStrict {
		return "strict"
	}
	return "relaxed"
}

func normalize(name string) string {
	return domain.Normalize(strings.TrimSpace(name))
}

// sampled reports whether pct= sampling selects the message with key for
// the full policy; see Options.SampleKey.
func sampled(key string, pct int) bool {
	if pct >= 100 {
		return true
	}
	if pct <= 0 || key == "" {
		return false
	}
	h := fnv.New64a()
	h.Write([]byte(key))
	return h.Sum64()%100 < uint64(pct)
}

// lessSevere is the policy applied to a message sampled out by pct=
// (RFC 7489 §6.6.4).
func lessSevere(p Policy) Policy {
	if p == PolicyReject {
		return PolicyQuarantine
	}
	return PolicyNone
}
