// Package spf checks whether a client IP may send mail for a domain with
// the Sender Policy Framework (RFC 7208).
//
// Check evaluates the MAIL FROM identity (RFC 7208 §2.4), falling back to
// the HELO identity for the null reverse-path; CheckHELO evaluates the HELO
// identity alone (§2.3). Both validate the identity first, then run this
// package's own check_host() (RFC 7208 §4) over DNS asked through a
// resolver.Resolver: every record is checked whole against the RFC 7208
// grammar before any of it is evaluated (§4.6), then its mechanisms,
// macros (§7), include and redirect are evaluated within the DNS lookup
// limits of §4.6.4. The outcome is a Result: an RFC 8601 result word, the
// term that decided and the way to it through include and redirect, the
// record and the cause of an error. A RecordCache (Options.Records) keeps
// parsed records across checks.
//
// What it does not do: it does not say whether the domain checked is the
// author's (that is DMARC's alignment, RFC 7489), does not expand exp=
// explanation strings (RFC 7208 §6.2; exp= is checked and otherwise
// ignored), does not look at type SPF (99) records (RFC 7208 §3.1 retired
// them), and does not score: a pass is a fact, not trust.
//
// Choices where RFC 7208 leaves room: the %{p} macro is the validated
// name of §7.3 (the <domain> itself, else a name below it, else any,
// else "unknown"); an expanded name that is no valid DNS name (spaces,
// empty labels), which resolver.CheckName refuses, is treated as
// non-existent (§4.8 leaves it open); the ptr mechanism validates only the
// PTR names at or below its target, which gives §5.5's result with fewer
// questions; and, as §5.5 prescribes, a DNS error during ptr only makes
// ptr not match.
package spf

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/emersion/go-msgauth/authres"

	"github.com/mailtrust/mailtrust/internal/arfield"
	"github.com/mailtrust/mailtrust/internal/domain"
	"github.com/mailtrust/mailtrust/resolver"
)

// Status is an SPF result, spelled as in RFC 7208 §2.6 and RFC 8601 §2.7.2.
type Status string

// SPF results (RFC 7208 §2.6).
const (
	StatusNone      Status = "none"      // no record, or no usable domain to check (§2.6.1)
	StatusNeutral   Status = "neutral"   // the domain asserts nothing about the IP (§2.6.2)
	StatusPass      Status = "pass"      // the IP is authorized (§2.6.3)
	StatusFail      Status = "fail"      // the IP is not authorized (§2.6.4)
	StatusSoftfail  Status = "softfail"  // probably not authorized (§2.6.5)
	StatusTemperror Status = "temperror" // a transient DNS failure; try later (§2.6.6)
	StatusPermerror Status = "permerror" // the records could not be interpreted (§2.6.7)
)

// Identity is the identity an SPF check authorized (RFC 7208 §2.3, §2.4).
type Identity string

// Identities.
const (
	IdentityMailFrom Identity = "mailfrom" // the SMTP MAIL FROM reverse-path
	IdentityHelo     Identity = "helo"     // the SMTP HELO/EHLO name
)

// Errors. Result.Err wraps one of them, and for DNS failures also the
// resolver's error (errors.Is(err, resolver.ErrTemporary) holds for a
// temperror caused by DNS).
var (
	// ErrTemporary: a DNS question failed temporarily (RFC 7208 §2.6.6).
	ErrTemporary = errors.New("spf: temporary DNS failure")
	// ErrPermanentDNS: a DNS question failed for good (a CNAME loop, a
	// rcode such as FORMERR, a question the DNS budget refused). Alone it
	// is a permerror; beside ErrTemporary it is a temperror, as RFC 7208
	// §4.4 and §5 make any rcode but 0 and 3.
	ErrPermanentDNS = errors.New("spf: permanent DNS failure")
	// ErrSyntax: a record does not follow the grammar (RFC 7208 §4.6, §12).
	ErrSyntax = errors.New("spf: invalid record")
	// ErrMultipleRecords: a domain publishes more than one SPF record
	// (RFC 7208 §4.5).
	ErrMultipleRecords = errors.New("spf: more than one SPF record")
	// ErrNoRecord: an include or redirect target has no SPF record
	// (RFC 7208 §5.2, §6.1).
	ErrNoRecord = errors.New("spf: include or redirect target has no SPF record")
	// ErrLookupLimit: more DNS-querying terms than allowed (RFC 7208 §4.6.4).
	ErrLookupLimit = errors.New("spf: too many DNS lookups")
	// ErrVoidLookupLimit: more lookups with empty answers than allowed
	// (RFC 7208 §4.6.4).
	ErrVoidLookupLimit = errors.New("spf: too many void DNS lookups")
	// ErrTooManyMX: an mx mechanism found more than 10 MX records (RFC 7208
	// §4.6.4).
	ErrTooManyMX = errors.New("spf: too many MX records")
	// ErrMacro: a macro does not follow the grammar (RFC 7208 §7.1). It is
	// found when the record is parsed, so the error wraps ErrSyntax too.
	ErrMacro = errors.New("spf: invalid macro")
	// ErrInvalidIP: the client IP given to Check is not an address.
	ErrInvalidIP = errors.New("spf: invalid client IP")
)

// RFC 7208 §4.6.4 defaults.
const (
	defaultMaxLookups     = 10
	defaultMaxVoidLookups = 2
)

// Options refine a check. A nil *Options means the defaults.
type Options struct {
	// MaxLookups bounds the terms that cause DNS lookups (include, a, mx,
	// ptr, exists, redirect). Zero or less means 10, the limit RFC 7208
	// §4.6.4 makes a MUST.
	MaxLookups int
	// MaxVoidLookups bounds the lookups that find nothing (NXDOMAIN or
	// NODATA). Zero or less means 2, RFC 7208 §4.6.4's suggested default.
	MaxVoidLookups int
	// Records keeps parsed records across checks; nil parses every record
	// met. Share one RecordCache between all checks of a process.
	Records *RecordCache
}

// Step is one term on the way to the match: the record of Domain held Term.
type Step struct {
	Domain string
	Term   string
}

// Result is the outcome of one SPF check.
type Result struct {
	Status   Status
	Identity Identity
	// Domain is the domain checked: the MAIL FROM domain or the HELO name,
	// lower case, without a trailing dot.
	Domain string
	// Sender is the <sender> given to check_host(): the reverse-path, or
	// postmaster@Domain when it has no local-part or is null (RFC 7208
	// §4.3, §2.4).
	Sender string
	// Mechanism is the term of the top-level record that decided the
	// result, as written ("ip4:192.0.2.0/24", "include:amazonses.com",
	// "-all", "redirect=_spf.example.com"); "" when none matched (the
	// default neutral of RFC 7208 §4.7) or the result is none, temperror
	// or permerror.
	Mechanism string
	// Path leads from Mechanism through include and redirect targets down
	// to the term that matched; nil when Mechanism is "". Its first step is
	// Mechanism in Domain's record.
	Path []Step
	// Record is the top-level SPF record, if one was found.
	Record string
	// Permissive reports a policy that authorizes the whole Internet or
	// does not mind: the record (or, without "all", the record its
	// redirect= leads to) ends in "+all" or "?all". This is a sender
	// misconfiguration; a pass under it proves little.
	Permissive bool
	// Reason is a short human explanation.
	Reason string
	// Err is the cause of a temperror or permerror; nil otherwise.
	Err error
}

// Check evaluates the MAIL FROM identity (RFC 7208 §2.4) of a message
// received from ip, which said helo and gave mailFrom as the reverse-path
// (with or without angle brackets). With a null reverse-path (mailFrom ""
// or "<>") the HELO identity decides, with the sender postmaster@helo
// (RFC 7208 §2.4, §4.3), and the Result's Identity is IdentityHelo.
//
// A MAIL FROM domain that is malformed or not a multi-label domain name
// gives none before any DNS question (RFC 7208 §4.3).
func Check(ctx context.Context, r resolver.Resolver, ip netip.Addr, helo, mailFrom string, opts *Options) Result {
	mailFrom = strings.TrimSpace(mailFrom)
	if mailFrom == "" || mailFrom == "<>" {
		return CheckHELO(ctx, r, ip, helo, opts)
	}
	local, dom := splitReversePath(mailFrom)
	res := Result{Identity: IdentityMailFrom}
	if err := checkDomain(dom); err != nil {
		res.Status = StatusNone
		res.Domain = dom
		res.Sender = mailFrom
		res.Reason = fmt.Sprintf("MAIL FROM domain %q is not usable: %v (RFC 7208 §4.3)", dom, err)
		return res
	}
	res.Domain = domain.Normalize(dom)
	// RFC 7208 §4.3: a sender without local-part is postmaster@domain.
	if local == "" {
		local = "postmaster"
	}
	res.Sender = local + "@" + res.Domain
	return evaluate(ctx, r, ip, strings.TrimSpace(helo), local, res, opts)
}

// CheckHELO evaluates the HELO identity alone (RFC 7208 §2.3), with the
// sender postmaster@helo. An address literal, a bare IP address or a name
// that is not a multi-label domain name gives none (§2.3, §4.3).
func CheckHELO(ctx context.Context, r resolver.Resolver, ip netip.Addr, helo string, opts *Options) Result {
	helo = strings.TrimSpace(helo)
	res := Result{Identity: IdentityHelo}
	if err := checkDomain(helo); err != nil {
		res.Status = StatusNone
		res.Domain = helo
		res.Sender = "postmaster@" + helo
		res.Reason = fmt.Sprintf("HELO name %q is not usable: %v (RFC 7208 §2.3, §4.3)", helo, err)
		return res
	}
	res.Domain = domain.Normalize(helo)
	res.Sender = "postmaster@" + res.Domain
	return evaluate(ctx, r, ip, helo, "postmaster", res, opts)
}

// splitReversePath returns the local-part and domain of a reverse-path:
// angle brackets and an obsolete source route (RFC 5321 §4.1.2, "@a,@b:")
// are removed, and the domain follows the last "@" since a quoted
// local-part may hold one. Without "@" the whole is taken as the domain.
func splitReversePath(s string) (local, dom string) {
	if strings.HasPrefix(s, "<") && strings.HasSuffix(s, ">") {
		s = s[1 : len(s)-1]
	}
	if strings.HasPrefix(s, "@") {
		if i := strings.IndexByte(s, ':'); i >= 0 {
			s = s[i+1:]
		}
	}
	i := strings.LastIndexByte(s, '@')
	if i < 0 {
		return "", s
	}
	return s[:i], s[i+1:]
}

// checkDomain decides whether a MAIL FROM domain or HELO name can be
// checked. RFC 7208 §4.3: "If the <domain> is malformed (e.g., label longer
// than 63 characters, zero-length label not at the end, etc.) or is not a
// multi-label domain name, [...] check_host() immediately returns the
// result "none"". The octets are judged as received, before lower-casing,
// and never cut at a NUL.
func checkDomain(d string) error {
	if strings.HasPrefix(d, "[") {
		return errors.New("an address literal")
	}
	// Only a name ending in a digit or holding ":" can be an address;
	// asking the others would only make an error value.
	if d != "" && (isDigit(d[len(d)-1]) || strings.IndexByte(d, ':') >= 0) {
		if _, err := netip.ParseAddr(d); err == nil {
			return errors.New("an IP address")
		}
	}
	if err := resolver.CheckName(d); err != nil {
		return err
	}
	if !strings.Contains(strings.TrimSuffix(d, "."), ".") {
		return errors.New("not a multi-label domain name")
	}
	return nil
}

// evaluate runs check_host() (RFC 7208 §4) for res.Domain with the
// <sender> local@res.Domain.
func evaluate(ctx context.Context, r resolver.Resolver, ip netip.Addr, helo, local string, res Result, opts *Options) Result {
	if !ip.IsValid() {
		res.Status = StatusPermerror
		res.Err = ErrInvalidIP
		res.Reason = "no valid client IP"
		return res
	}
	if err := ctx.Err(); err != nil {
		res.Status = StatusTemperror
		res.Err = fmt.Errorf("%w: %w", ErrTemporary, err)
		res.Reason = "check not started: " + err.Error()
		return res
	}
	e := &evaluator{
		ctx: ctx,
		r:   r,
		// RFC 7208 §5: an IPv4-mapped IPv6 client is an IPv4 client.
		ip:           ip.Unmap().WithZone(""),
		local:        local,
		senderDomain: res.Domain,
		helo:         helo,
		maxLookups:   defaultMaxLookups,
		maxVoid:      defaultMaxVoidLookups,
	}
	if opts != nil {
		if opts.MaxLookups > 0 {
			e.maxLookups = opts.MaxLookups
		}
		if opts.MaxVoidLookups > 0 {
			e.maxVoid = opts.MaxVoidLookups
		}
		e.records = opts.Records
	}
	q, valid := queryName(res.Domain)
	o, _ := e.nested(q, valid)
	res.Status = o.status
	res.Record = o.record
	res.Permissive = o.permissive
	switch o.status {
	case StatusPass, StatusFail, StatusSoftfail, StatusNeutral:
		if len(o.path) > 0 {
			// checkHost builds the path from the matching term up.
			slices.Reverse(o.path)
			res.Path = o.path
			res.Mechanism = o.path[0].Term
		}
		res.Reason = matchReason(e.ip, res)
	case StatusNone:
		if o.nxdomain {
			res.Reason = res.Domain + " does not exist"
		} else {
			res.Reason = "no SPF record at " + res.Domain
		}
	default:
		res.Err = o.err
		res.Reason = errReason(o.err)
	}
	return res
}

// errReason explains a temperror or permerror: the DNS question that
// failed when there is one, the error otherwise.
func errReason(err error) string {
	var re *resolver.Error
	if errors.As(err, &re) {
		// The word follows the result, not the resolver: RFC 7208 makes
		// some permanent resolver failures temperror (§4.4, §5).
		what := "temporary"
		if !errors.Is(err, ErrTemporary) {
			what = "permanent"
		}
		return fmt.Sprintf("%s DNS failure: %s %s: %s", what, strings.TrimSuffix(re.Name, "."), resolver.TypeString(re.Type), re.Reason)
	}
	return err.Error()
}

// matchReason explains a pass, fail, softfail or neutral.
func matchReason(ip netip.Addr, r Result) string {
	var b strings.Builder
	b.Grow(128)
	if r.Mechanism == "" || len(r.Path) == 0 {
		if r.Status == StatusNeutral {
			b.WriteString("no term of ")
			b.WriteString(r.Domain)
			b.WriteString("'s record matched ")
			b.WriteString(ip.String())
			b.WriteString(" (default neutral, RFC 7208 §4.7)")
			return b.String()
		}
		return fmt.Sprintf("%s's record gives %s for %s", r.Domain, r.Status, ip)
	}
	last := r.Path[len(r.Path)-1]
	var buf [64]byte
	b.Write(ip.AppendTo(buf[:0]))
	b.WriteString(" matched ")
	b.WriteString(last.Term)
	b.WriteString(" in ")
	b.WriteString(last.Domain)
	b.WriteString("'s record")
	if len(r.Path) > 1 {
		b.WriteString(", reached through ")
		b.WriteString(r.Mechanism)
	}
	return b.String()
}

// AuthResult renders r as an RFC 8601 spf method result, with
// smtp.mailfrom or smtp.helo as the property checked (RFC 8601 §2.7.2).
// Nothing taken from the SMTP session can break the header field: the
// property is left out when it is not a plain address or name (the reason
// then says why), and the reason is reduced to printable ASCII without
// quotes, backslashes or semicolons.
// A temperror's reason is "temporary DNS failure" whatever r.Reason
// says: the resolver's detail is for logs and the verdict, not the header.
func (r Result) AuthResult() authres.Result {
	out := &authres.SPFResult{
		Value:  authres.ResultValue(r.Status),
		Reason: arfield.ResultReason(string(r.Status), r.Reason),
	}
	if r.Identity == IdentityHelo {
		out.Helo = arfield.Token(r.Domain)
	} else {
		out.From = arfield.Token(r.Sender)
	}
	return out
}
