package dmarc

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/miekg/dns"

	"github.com/mailtrust/mailtrust/internal/domain"
	"github.com/mailtrust/mailtrust/resolver"
)

// Discovery is the outcome of policy discovery (RFC 7489 §6.6.3).
type Discovery struct {
	// FromDomain is the From domain, normalized: lower case, without a
	// trailing dot ("Example.COM." is "example.com": same domain, same
	// policy). Internationalized names must be given as A-labels.
	FromDomain string
	// OrgDomain is the organizational domain of FromDomain (RFC 7489 §3.2).
	OrgDomain string
	// Record is the policy record, nil when none applies.
	Record *Record
	// RecordDomain is where the record was found, FromDomain or OrgDomain;
	// also set when the records found there were several or unusable.
	RecordDomain string
	// Status is "" when a record was found; otherwise StatusNone,
	// StatusTemperror or StatusPermerror.
	Status Status
	// Reason explains Status in a few words.
	Reason string
	// Err wraps one of the package's errors and the DNS cause, if any.
	Err error
	// FromNXDomain and OrgNXDomain report that _dmarc.<FromDomain> and
	// _dmarc.<OrgDomain> (when asked) answered NXDOMAIN. They say nothing
	// about whether the domains themselves exist: deciding that takes a
	// query at the domain, which is the caller's.
	FromNXDomain, OrgNXDomain bool
}

// Lookup performs policy discovery for the From domain (RFC 7489 §6.6.3):
// the TXT records at _dmarc.<from domain>, keeping those that start with
// v=DMARC1; if none is left, those at _dmarc.<organizational domain>.
//
// When the two domains differ both questions are asked at once, and the
// organizational answer is used only when the From domain's is empty;
// once the From domain's answer decides, the other question is abandoned.
//
// Outcomes: one record, parsed (Status ""); no record, or several at one
// name (step 5), StatusNone; a temporary DNS failure of a question whose
// answer matters, StatusTemperror; an unusable From domain, a permanent
// DNS failure, or a record without a usable policy, StatusPermerror
// (RFC 7489 §11.2: "a syntactically incorrect DMARC record").
func Lookup(ctx context.Context, r resolver.Resolver, fromDomain string) Discovery {
	from := domain.Normalize(strings.TrimSpace(fromDomain))
	d := Discovery{FromDomain: from}
	if err := checkDomain(from); err != nil {
		d.Status = StatusPermerror
		d.Reason = "no usable From domain: " + err.Error()
		d.Err = fmt.Errorf("%w: %q: %w", ErrNoFromDomain, fromDomain, err)
		return d
	}
	org := domain.Org(from)
	d.OrgDomain = org

	var oset txtSet
	var orgDone <-chan struct{}
	if org != from {
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(ctx)
		defer cancel() // abandons the organizational question when not needed
		// At once when the answer is at hand, else on a goroutine; oset
		// is read only once orgDone is closed.
		orgDone = resolver.Go(r, func(r resolver.Resolver) { oset = fetch(ctx, r, org) })
	}
	fs := fetch(ctx, r, from)
	d.FromNXDomain = fs.nxdomain
	// RFC 7489 §6.6.3 step 3: the organizational domain is asked only when
	// the From domain's set is empty. A failure, one record or several at
	// the From domain decide.
	if fs.err != nil || len(fs.records) > 0 || orgDone == nil {
		return d.conclude(fs, "_dmarc."+from)
	}
	<-orgDone
	d.OrgNXDomain = oset.nxdomain
	return d.conclude(oset, "_dmarc."+from+" or _dmarc."+org)
}

// Questions returns the questions Lookup asks for fromDomain, the From
// domain's first: a TXT question at _dmarc.<from domain> and, when the
// organizational domain differs, at _dmarc.<organizational domain> (RFC
// 7489 §6.6.3); none for a domain Lookup refuses before DNS. A caller that
// bounds an evaluation's DNS reserves them (resolver.Memo.Reserve): the
// policy decides what a failing message becomes.
func Questions(fromDomain string) []resolver.Question {
	return AppendQuestions(nil, fromDomain)
}

// AppendQuestions is Questions appending to qs, so that a caller can keep
// them in a buffer of its own.
func AppendQuestions(qs []resolver.Question, fromDomain string) []resolver.Question {
	from := domain.Normalize(strings.TrimSpace(fromDomain))
	if checkDomain(from) != nil {
		return qs
	}
	add := func(d string) {
		if name := dmarcName(d); resolver.CheckName(name) == nil {
			qs = append(qs, resolver.Question{Name: name, Type: dns.TypeTXT})
		}
	}
	add(from)
	if org := domain.Org(from); org != from {
		add(org)
	}
	return qs
}

// dmarcName is the name that holds the policy of dom.
func dmarcName(dom string) string { return "_dmarc." + dom + "." }

// txtSet is the DMARC records at one _dmarc name.
type txtSet struct {
	domain   string
	records  []string // only those starting with v=DMARC1
	nxdomain bool
	err      error
}

func fetch(ctx context.Context, r resolver.Resolver, dom string) txtSet {
	s := txtSet{domain: dom}
	name := dmarcName(dom)
	if resolver.CheckName(name) != nil {
		// RFC 1035 §2.3.4: a valid domain too long to take the _dmarc
		// label cannot hold a record there.
		return s
	}
	txts, ans, err := resolver.TXT(ctx, r, name)
	if err != nil {
		s.err = err
		return s
	}
	s.nxdomain = ans != nil && ans.NXDomain()
	for _, t := range txts {
		// RFC 7489 §6.6.3 steps 2 and 4: other TXT records are discarded.
		if isDMARC(t) {
			s.records = append(s.records, t)
		}
	}
	return s
}

// conclude fills d from the set that decides discovery; asked names the
// questions asked, for the reason.
func (d Discovery) conclude(s txtSet, asked string) Discovery {
	if s.err != nil {
		d.Err = fmt.Errorf("%w: _dmarc.%s: %w", ErrDNS, s.domain, s.err)
		if resolver.IsTemporary(s.err) {
			d.Status = StatusTemperror
			d.Reason = "temporary DNS failure at _dmarc." + s.domain
		} else {
			d.Status = StatusPermerror
			d.Reason = "DNS failure at _dmarc." + s.domain
		}
		return d
	}
	switch len(s.records) {
	case 0:
		d.Status = StatusNone
		d.Reason = "no DMARC record at " + asked
		d.Err = ErrNoRecord
	case 1:
		d.RecordDomain = s.domain
		rec, err := ParseRecord(s.records[0])
		if err != nil {
			d.Status = StatusPermerror
			d.Reason = fmt.Sprintf("unusable DMARC record at _dmarc.%s: %s", s.domain, strings.TrimPrefix(err.Error(), "dmarc: "))
			d.Err = err
			return d
		}
		d.Record = rec
	default:
		// RFC 7489 §6.6.3 step 5: several records end discovery, no policy.
		d.RecordDomain = s.domain
		d.Status = StatusNone
		d.Reason = fmt.Sprintf("%d DMARC records at _dmarc.%s", len(s.records), s.domain)
		d.Err = fmt.Errorf("%w: %d at _dmarc.%s", ErrMultipleRecords, len(s.records), s.domain)
	}
	return d
}

// checkDomain refuses what cannot be a From domain for DMARC: empty or
// malformed names (RFC 1035 §2.3.4), and address literals, which name no
// domain to hold a policy (RFC 5322 §3.4.1 domain-literal).
func checkDomain(name string) error {
	if name == "" {
		return errors.New("empty domain")
	}
	if strings.HasSuffix(name, ".") {
		return errors.New("empty label")
	}
	if strings.ContainsAny(name, "[]") {
		return errors.New("address literal")
	}
	if domain.MayBeIP(name) {
		if _, err := netip.ParseAddr(name); err == nil {
			return errors.New("IP address")
		}
	}
	return resolver.CheckName(name)
}
