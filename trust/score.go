package trust

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/mailtrust/mailtrust/arc"
	"github.com/mailtrust/mailtrust/dkim"
	"github.com/mailtrust/mailtrust/dmarc"
	"github.com/mailtrust/mailtrust/helo"
	"github.com/mailtrust/mailtrust/internal/domain"
	"github.com/mailtrust/mailtrust/ptr"
	"github.com/mailtrust/mailtrust/sender"
	"github.com/mailtrust/mailtrust/spf"
)

// score turns the check results into reasons, a score and a level. Only
// this function knows about weights: the checks report facts.
func (ev *evaluation) score() {
	v := ev.v
	if ev.notMessage {
		ev.total()
		return
	}
	rescued := v.Original != nil && v.Original.DMARC == "pass"

	if rescued {
		// The current hop's failures are the trusted forwarder's doing:
		// report them at no weight, and count the original result.
		if v.DMARC.Status == dmarc.StatusFail || v.DMARC.Status == dmarc.StatusNone {
			ev.add(DMARCFailForwarded, fmt.Sprintf("DMARC %s at this hop; %s recorded pass for %s", v.DMARC.Status, v.Original.Forwarder, v.From.Domain))
		}
		if v.Original.Via == "arc" {
			ev.add(ARCTrusted, fmt.Sprintf("chain sealed by trusted %s (i=%d: spf=%s dkim=%s dmarc=%s)",
				v.Original.Forwarder, v.Original.Instance, v.Original.SPF, v.Original.DKIM, v.Original.DMARC))
		} else {
			ev.add(UpstreamTrusted, fmt.Sprintf("Authentication-Results by trusted %s: spf=%s dkim=%s dmarc=%s",
				v.Original.Forwarder, v.Original.SPF, v.Original.DKIM, v.Original.DMARC))
		}
		ev.add(DMARCPass, "original result carried by trusted forwarder "+v.Original.Forwarder)
	} else if !ev.conn.Authenticated {
		ev.scoreAuth()
	}
	ev.scoreDKIMSpoofing()
	if !ev.conn.Authenticated {
		// Trusted by configuration whatever PTR, HELO or SPF say: the
		// results stay in the verdict, unweighed.
		ev.scoreConnection()
	}
	ev.scoreForwarding(rescued)

	switch ev.fromExists.Status {
	case sender.StatusNXDomain:
		ev.add(FromNXDomain, "From domain "+v.From.Domain+" does not exist")
	case sender.StatusTemperror:
		ev.open() // it exists at best: nothing the score could lose
	}
	switch ev.mfExists.Status {
	case sender.StatusNXDomain:
		ev.add(MailFromNXDomain, "MAIL FROM domain "+ev.mailFromDom+" does not exist")
	case sender.StatusTemperror:
		ev.open()
	}
	var missing []string
	for _, r := range ev.rcptExists {
		switch r.Status {
		case sender.StatusNXDomain:
			missing = append(missing, r.Domain)
		case sender.StatusTemperror:
			ev.open()
		}
	}
	if len(missing) > 0 {
		ev.add(RcptNXDomain, "recipient domain does not exist: "+strings.Join(missing, ", "))
	}
	if s := ev.smuggling; s.Sequences > 0 {
		ev.add(Smuggling, fmt.Sprintf("%d end-of-data sequence(s) with bare CR or LF in the body, first at offset %d", s.Sequences, s.First))
	}
	// A temporary failure may hide a result that would turn the verdict:
	// unless DMARC passed (or configuration or a trusted forwarder
	// decided), an incomplete verdict is at most neutral.
	ev.capIncomplete = v.Incomplete && !ev.conn.Authenticated && !rescued && v.DMARC.Status != dmarc.StatusPass
	if ev.res.Exhausted() {
		ev.add(DNSBudget, fmt.Sprintf("more than %d DNS questions", ev.e.limits.MaxDNSQueries))
	}

	ev.total()
}

func (ev *evaluation) scoreAuth() {
	v := ev.v
	s := v.SPF
	// RFC 7960 §3.1: an alias relays the message unchanged from a host
	// the author never authorized, so SPF fails while the author's
	// aligned signature holds. DMARC already counts that signature; the
	// SPF result is the forwarder's path, reported and not counted.
	if (s.Status == spf.StatusFail || s.Status == spf.StatusSoftfail) && v.Forward.Forwarded &&
		v.DMARC.Status == dmarc.StatusPass && v.DMARC.DKIMAligned != "" {
		ev.add(SPFFailForwarded, spfDetail(s)+"; aligned DKIM d="+v.DMARC.DKIMAligned+" passes")
		s.Status = ""
	}
	switch s.Status {
	case spf.StatusPass:
		if s.Permissive {
			ev.add(SPFPermissive, fmt.Sprintf("%s passes with a permissive record %q", s.Domain, s.Record))
		} else {
			ev.add(SPFPass, spfDetail(s))
		}
	case spf.StatusFail:
		ev.add(SPFFail, spfDetail(s))
	case spf.StatusSoftfail:
		ev.add(SPFSoftfail, spfDetail(s))
	case spf.StatusNeutral:
		if s.Permissive {
			ev.add(SPFPermissive, fmt.Sprintf("%s has a permissive record %q", s.Domain, s.Record))
		} else {
			ev.add(SPFNeutral, spfDetail(s))
		}
	case spf.StatusNone:
		ev.add(SPFNone, spfDetail(s))
	case spf.StatusTemperror:
		ev.open(append([]Code{SPFPass}, ev.noPolicyAlignment()...)...)
		ev.add(SPFTempError, spfDetail(s))
	case spf.StatusPermerror:
		ev.add(SPFPermError, spfDetail(s))
	}

	dkimPass, dkimFail := false, false
	for _, d := range v.DKIM {
		detail := "d=" + d.Domain + " s=" + d.Selector + ": " + d.Reason
		switch d.Status {
		case dkim.StatusPass:
			if d.FromSigned {
				dkimPass = true
			}
			if v.DMARC.DKIMAligned != d.Domain {
				ev.add(DKIMPass, detail)
			}
		case dkim.StatusFail:
			dkimFail = true
			ev.add(DKIMFail, detail)
		case dkim.StatusPermerror:
			switch {
			case errors.Is(d.Err, dkim.ErrInvalidName):
				ev.add(DKIMBadName, detail)
			case d.IdentifierOutsideDomain:
				ev.add(DKIMIdentifier, detail)
			case !d.FromSigned:
				// Reported as dkim.from-unsigned below.
			default:
				ev.add(DKIMPermError, detail)
			}
		case dkim.StatusPolicy:
			ev.add(DKIMPolicy, detail)
		case dkim.StatusTemperror:
			ev.open(append([]Code{DKIMPass}, ev.noPolicyAlignment()...)...)
			ev.add(DKIMTempError, detail)
		case dkim.StatusNeutral:
			if errors.Is(d.Err, dkim.ErrNotVerified) {
				ev.add(TooManyDKIM, detail)
			}
		}
	}

	d := v.DMARC
	switch d.Status {
	case dmarc.StatusPass:
		ev.add(DMARCPass, dmarcDetail(d, v.SPF.Domain))
	case dmarc.StatusFail:
		if ev.spfUnknown && d.DKIMAligned == "" {
			ev.add(DMARCUndecided, fmt.Sprintf("%s (p=%s): no aligned DKIM pass, SPF not checked", d.Domain, d.Policy))
			break
		}
		if f := ev.pendingForwarder(); f != "" {
			// The trusted forwarder's chain could not be checked: it might
			// carry a pass, so the failure is undecided, not counted.
			ev.open(DMARCPass, ARCTrusted)
			ev.add(DMARCTempError, fmt.Sprintf("DMARC fail at this hop, but the ARC chain of trusted forwarder %s could not be checked: %s", f, v.ARC.Reason))
			break
		}
		ev.add(DMARCFail, fmt.Sprintf("%s (p=%s): %s", d.Domain, d.Policy, d.Reason))
	case dmarc.StatusNone:
		ev.add(DMARCNone, d.Reason)
		// dmarc reports relaxed alignment without a policy; an SPF pass
		// that anyone can get (+all) vouches for no one.
		if d.DKIMAligned != "" {
			ev.add(AlignedPass, "DKIM d="+d.DKIMAligned+" aligned with From "+v.From.Domain)
		} else if d.SPFAligned && !s.Permissive {
			ev.add(AlignedPass, "SPF "+s.Domain+" aligned with From "+v.From.Domain)
		} else if v.From.Domain != "" {
			ev.add(FromUnaligned, "nothing authenticates "+v.From.Domain)
		}
	case dmarc.StatusTemperror:
		ev.open(DMARCPass)
		ev.add(DMARCTempError, d.Reason)
	case dmarc.StatusPermerror:
		ev.add(DMARCPermError, d.Reason)
	}

	if s.Status == spf.StatusNone && !dkimPass && d.Status != dmarc.StatusPass {
		ev.add(NoAuthentication, "no SPF record for "+s.Domain+" and no valid DKIM signature")
	}
	if dkimFail && s.Status == spf.StatusFail {
		ev.add(DKIMFailSPFFail, "invalid DKIM signature and SPF fail")
	}
}

// pendingForwarder returns the sealer of the newest ARC set when it is a
// trusted forwarder whose chain failed only temporarily (RFC 8617 §5.2.1
// makes that a fail; the verdict treats it as undecided), else "".
func (ev *evaluation) pendingForwarder() string {
	a := ev.v.ARC
	if a.Status != arc.Fail || !a.Temporary || len(a.Sets) == 0 {
		return ""
	}
	sealer := a.Sets[len(a.Sets)-1].SealDomain
	for _, f := range ev.e.trust.Forwarders {
		if domain.IsSubdomain(sealer, f) {
			return sealer
		}
	}
	return ""
}

func (ev *evaluation) scoreDKIMSpoofing() {
	for _, d := range ev.v.DKIM {
		if d.Domain == "" && d.Status != dkim.StatusPass {
			continue
		}
		sig := "d=" + d.Domain + " s=" + d.Selector
		if !d.FromSigned && d.Status != dkim.StatusNeutral {
			ev.add(DKIMFromUnsigned, sig+" does not sign From")
		}
		if d.Status == dkim.StatusPass && len(d.NotSigned) > 0 {
			ev.add(DKIMNotSigned, sig+" does not sign "+strings.Join(d.NotSigned, ", "))
		}
		if d.Status == dkim.StatusPass && len(d.UnsignedAbove) > 0 {
			ev.add(DKIMUnsignedAbove, sig+": unsigned instance of "+strings.Join(d.UnsignedAbove, ", "))
		}
		if d.Status == dkim.StatusPass && d.UnsignedBodyBytes > 0 {
			ev.add(DKIMBodyLength, fmt.Sprintf("%s: l=%d leaves %d body octets unsigned", sig, d.BodyLength, d.UnsignedBodyBytes))
		}
	}
}

func (ev *evaluation) scoreConnection() {
	v := ev.v
	p := v.PTR
	switch p.Status {
	case ptr.StatusPass:
		ev.add(PTRPass, strings.Join(p.Confirmed, " "))
		if p.Related {
			ev.add(PTRRelated, "PTR in "+p.RelatedDomain)
		}
	case ptr.StatusFail:
		ev.add(PTRFail, p.Reason)
	case ptr.StatusNone:
		ev.add(PTRNone, p.Reason)
	case ptr.StatusTemperror:
		ev.open(PTRPass, PTRRelated)
		ev.add(PTRTempError, p.Reason)
	}
	if p.Generic {
		ev.add(PTRGeneric, p.GenericReason)
	}
	hl := v.HELO
	switch hl.Status {
	case helo.StatusPass:
		ev.add(HELOPass, hl.Name)
	case helo.StatusFail:
		ev.add(HELOFail, hl.Reason)
	case helo.StatusInvalid:
		ev.add(HELOInvalid, string(hl.Code)+": "+hl.Reason)
	case helo.StatusNone:
		ev.add(HELONone, hl.Reason)
	case helo.StatusTemperror:
		ev.open(HELOPass, HELOMX)
		ev.add(HELOTempError, hl.Reason)
	}
	if hl.OtherOrg {
		ev.add(HELOOtherOrg, hl.Name+" is not in "+ev.senderDomain)
	}
	if hl.IsMX && hl.Status == helo.StatusPass {
		ev.add(HELOMX, hl.Name+" is an MX of "+ev.senderDomain)
	}
	// A host name claimed in the sender's organization that does not lead
	// back to the connecting IP. An IP the organization itself vouches for
	// (its SPF record passes it, or its PTR is confirmed in the
	// organization) makes the claim true whatever the name resolves to:
	// behind NAT or a load balancer a HELO name often points elsewhere.
	vouched := p.Related || v.SPF.Status == spf.StatusPass && !v.SPF.Permissive && domain.SameOrg(v.SPF.Domain, ev.senderDomain)
	if ev.senderDomain != "" && !vouched {
		if hl.SameOrg && (hl.Status == helo.StatusFail || hl.Status == helo.StatusNone) {
			ev.add(HostClaimOther, "HELO "+hl.Name+" claims "+domain.Org(ev.senderDomain)+" without resolving to "+ev.conn.IP.String())
		} else if p.Status == ptr.StatusFail {
			for _, n := range p.Names {
				if domain.SameOrg(n, ev.senderDomain) {
					ev.add(HostClaimOther, "PTR "+n+" claims "+domain.Org(ev.senderDomain)+" without resolving to "+ev.conn.IP.String())
					break
				}
			}
		}
	}
}

func (ev *evaluation) scoreForwarding(rescued bool) {
	v := ev.v
	a := v.ARC
	switch a.Status {
	case arc.Pass:
		if !rescued {
			if n := len(a.Sets); n > 0 && len(ev.e.trust.Forwarders) > 0 {
				ev.add(ARCUntrusted, "chain passes, sealer "+a.Sets[n-1].SealDomain+" is not a trusted forwarder")
			} else {
				ev.add(ARCPass, fmt.Sprintf("%d set(s)", len(a.Sets)))
			}
		}
	case arc.Fail:
		if a.Temporary {
			ev.open(ARCTrusted)
			ev.add(ARCTempError, a.Reason)
		} else {
			ev.add(ARCFail, fmt.Sprintf("i=%d: %s", a.FailedInstance, a.Reason))
			if errors.Is(a.Err, arc.ErrTooManySets) {
				ev.add(TooManyARC, a.Reason)
			}
		}
	}
	for _, f := range ev.forged {
		ev.add(UpstreamForged, f)
	}
	if v.Forward.Forwarded {
		var codes []string
		for _, s := range v.Forward.Signals {
			codes = append(codes, string(s.Code))
		}
		ev.add(Forwarded, strings.Join(codes, ", "))
	}
	if v.Automated.Automated {
		var codes []string
		for _, s := range v.Automated.Signals {
			codes = append(codes, string(s.Code))
		}
		ev.add(Automated, strings.Join(codes, ", "))
	}
}

// total weighs the reasons: each code counts once (the first detail is
// kept, the others appended), group caps apply, and the level follows.
func (ev *evaluation) total() {
	v, e := ev.v, ev.e
	byCode := map[Code]int{}
	out := make([]Reason, 0, len(ev.reasons))
	for _, r := range ev.reasons {
		if i, ok := byCode[r.Code]; ok {
			if r.Detail != "" && !strings.Contains(out[i].Detail, r.Detail) {
				out[i].Detail += "; " + r.Detail
			}
			continue
		}
		w, ok := e.weights[r.Code]
		if !ok {
			w = 0 // a code from a check this table does not know yet
		}
		r.Weight = w
		byCode[r.Code] = len(out)
		out = append(out, r)
	}
	groupSum := map[Group]float64{}
	score := 0.0
	for _, r := range out {
		g := e.groups[r.Code]
		if c, ok := e.caps[g]; ok && r.Weight > 0 {
			add := min(r.Weight, c-groupSum[g])
			if add < 0 {
				add = 0
			}
			groupSum[g] += add
			score += add
			continue
		}
		score += r.Weight
	}
	sortReasons(out)
	v.Reasons = out
	v.Score = round2(score)
	v.Level = e.thresholds.level(v.Score)
	v.BestLevel = v.Level
	if v.Incomplete {
		v.BestLevel = e.thresholds.level(v.Score - ev.openWeight)
	}
	if ev.capIncomplete && v.Level == Trusted {
		v.Level = Neutral
		v.Reasons = append(v.Reasons, Reason{Code: IncompleteCapped, Detail: "a temporary DNS failure left a deciding result open"})
	}
}

func spfDetail(s spf.Result) string {
	var b strings.Builder // one allocation for the whole detail
	b.Grow(len(s.Identity) + len(s.Domain) + len(s.Mechanism) + len(s.Reason) + 12)
	b.WriteString(string(s.Identity))
	b.WriteByte(' ')
	b.WriteString(s.Domain)
	if s.Mechanism != "" {
		b.WriteString(" matched ")
		b.WriteString(s.Mechanism)
	}
	if s.Reason != "" {
		b.WriteString(": ")
		b.WriteString(s.Reason)
	}
	return b.String()
}

func dmarcDetail(d dmarc.Result, spfDomain string) string {
	switch {
	case d.DKIMAligned != "":
		return "aligned DKIM d=" + d.DKIMAligned
	case d.SPFAligned:
		return "aligned SPF " + spfDomain
	}
	return d.Reason
}

// open marks the verdict incomplete: a temporary failure left a weighed
// result open. best are the signals that result could still give, or
// take away, at its most favourable outcome; their weights are what the
// score could still lose, so that Verdict.BestLevel bounds the level a
// second evaluation could reach.
func (ev *evaluation) open(best ...Code) {
	ev.v.Incomplete = true
	for _, c := range best {
		ev.openWeight += math.Abs(ev.e.weights[c])
	}
}

// noPolicyAlignment is what an open SPF or DKIM result could still change
// when the From domain publishes no DMARC policy: an aligned pass
// (auth.aligned-pass) in place of auth.from-unaligned.
func (ev *evaluation) noPolicyAlignment() []Code {
	if ev.v.DMARC.Status != dmarc.StatusNone || ev.v.From.Domain == "" {
		return nil
	}
	return []Code{AlignedPass, FromUnaligned}
}

// level maps a score to a level.
func (t Thresholds) level(score float64) Level {
	switch {
	case score >= t.Untrusted:
		return Untrusted
	case score >= t.Suspicious:
		return Suspicious
	case score <= t.Trusted:
		return Trusted
	}
	return Neutral
}
