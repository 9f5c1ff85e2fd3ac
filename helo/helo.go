// Package helo checks the name an SMTP client gives in EHLO or HELO
// (RFC 5321 §4.1.1.1): whether it is a usable fully qualified domain name
// or address literal (§2.3.5, §4.1.2, §4.1.3), whether it resolves to the
// connecting address (§4.1.4), and how it relates to the sender's domain.
//
// RFC 5321 §4.1.4 lets a server verify that the name corresponds to the
// client's address but forbids refusing mail because it does not. This
// package only reports facts; package trust weighs them. It does not check
// SPF for the HELO identity (RFC 7208 §2.3): that is package spf's job.
// RFC 8601 defines no method for it, so a Result has no AuthResult.
package helo

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

// Status is the outcome of a check, spelled as the helo.result words of
// the replay corpus.
type Status string

// Statuses.
const (
	// Pass: the name resolves to the connecting address, or is an address
	// literal of it.
	StatusPass Status = "pass"
	// Fail: the name resolves, but not to the connecting address; or an
	// address literal names another address.
	StatusFail Status = "fail"
	// Invalid: not a usable name: empty, localhost, a bare IP, a single
	// label, bad syntax, a reserved or non-existent TLD.
	StatusInvalid Status = "invalid"
	// None: the name does not resolve (NXDOMAIN, or no A and no AAAA).
	StatusNone Status = "none"
	// TempError: a DNS lookup failed temporarily and left the result open.
	StatusTemperror Status = "temperror"
)

// Errors, wrapped in Result.Err.
var (
	// ErrNoIP: Check was given no valid connecting address.
	ErrNoIP = errors.New("helo: no valid connecting IP address")
	// ErrDNS: a DNS lookup failed; the resolver's error is wrapped too, so
	// errors.Is(err, resolver.ErrTemporary) tells a temporary failure.
	ErrDNS = errors.New("helo: DNS lookup failed")
)

// Result is the outcome of Check.
type Result struct {
	// Status is the result.
	Status Status
	// Name is the EHLO/HELO argument as given.
	Name string
	// Code is the stable machine reason for Status (the Code* constants).
	Code Code
	// Literal reports an address literal ("[192.0.2.1]", "[IPv6:2001:db8::1]").
	Literal bool
	// Addrs are the literal's address, or the addresses of the name in
	// the connecting address's family; those of the other family (A
	// first) only when it has none in that one.
	Addrs []netip.Addr
	// OrgDomain is the organizational domain of the name (RFC 7489 §3.2),
	// empty for literals and invalid names.
	OrgDomain string
	// SameOrg reports that the name shares the organizational domain of
	// Options.SenderDomain.
	SameOrg bool
	// IsMX reports that the name is one of the MX hosts of
	// Options.SenderDomain. False when the MX lookup failed.
	IsMX bool
	// OtherOrg reports that the name resolves but lies in another
	// organization than Options.SenderDomain. Large senders and their
	// providers (a HELO of the provider for a customer's domain) show it
	// routinely: it is a fact to weigh, not a fault.
	OtherOrg bool
	// Reason explains the status in a few words.
	Reason string
	// Err is set for StatusTemperror, and for StatusNone when the cause was an error:
	// it wraps ErrDNS or ErrNoIP and the resolver's error.
	Err error
}

// Options refine Check. A nil *Options means the defaults.
type Options struct {
	// SenderDomain is the domain the name is related to: the MAIL FROM
	// domain, else the From domain. Empty means none: SameOrg, IsMX and
	// OtherOrg stay false and no MX question is asked.
	SenderDomain string
}

// Check evaluates the EHLO/HELO argument name given by a client
// connecting from ip. StatusInvalid names are decided without DNS. For a name,
// the address question of ip's family (A or AAAA; the other only if that
// one finds no address), the existence of a TLD the public suffix list
// does not know, and the MX of the sender domain are asked concurrently.
// A temporary DNS failure is StatusTemperror, never StatusFail.
func Check(ctx context.Context, r resolver.Resolver, name string, ip netip.Addr, opts *Options) Result {
	var o Options
	if opts != nil {
		o = *opts
	}
	res := Result{Name: name}
	if code, ok := Syntax(name); !ok {
		res.Status, res.Code = StatusInvalid, code
		res.Reason = invalidReason(code)
		return res
	}
	ip = ip.Unmap().WithZone("")

	if lit, ok := parseLiteral(name); ok {
		lit = lit.Unmap()
		res.Literal = true
		res.Addrs = []netip.Addr{lit}
		switch {
		case !ip.IsValid():
			res.Status, res.Code, res.Err = StatusNone, CodeNoIP, ErrNoIP
			res.Reason = "no connecting address to compare with"
		case lit == ip:
			res.Status, res.Code = StatusPass, CodeLiteralMatch
			res.Reason = "address literal of the connecting address"
		default:
			// A well-formed literal is a usable identity (RFC 5321
			// §4.1.3), so not invalid; it claims an address the client
			// does not connect from, as a name resolving elsewhere does:
			// fail (§4.1.4: verification failed).
			res.Status, res.Code = StatusFail, CodeLiteralMismatch
			res.Reason = fmt.Sprintf("address literal %s is not the connecting address %s", lit, ip)
		}
		return res
	}

	n := domain.Normalize(name)
	res.OrgDomain = domain.Org(n)
	if !ip.IsValid() {
		res.Status, res.Code, res.Err = StatusNone, CodeNoIP, ErrNoIP
		res.Reason = "no connecting address to compare with"
		return res
	}
	sender := domain.Normalize(o.SenderDomain)
	if sender != "" && resolver.CheckName(sender) != nil {
		sender = ""
	}

	// The answers, written by the tasks: one struct, so that the closures
	// share one allocation instead of one per variable.
	var q struct {
		v4, v6     []netip.Addr
		ans4, ans6 *resolver.Answer
		err4, err6 error
		tldMissing bool
		mxs        []*dns.MX
		mxErr      error
	}
	var tasks resolver.Tasks
	tld := domain.TLD(n)
	// RFC 5321 §4.1.4 asks whether the name corresponds to the client's
	// address: only the question of the client's family can say so. The
	// other family is asked only when that one found no address, to tell
	// a name that resolves elsewhere (fail) from one that does not
	// resolve (none); a name with addresses of both families costs one
	// question. After NXDOMAIN nothing else exists at the name (RFC 8020).
	// resolver.Tasks runs the work at once when the answers are at hand.
	qp := &q
	tasks.Go(r, func(r resolver.Resolver) {
		if ip.Is4() {
			qp.v4, qp.ans4, qp.err4 = resolver.Addrs(ctx, r, n, dns.TypeA)
			if len(qp.v4) == 0 && qp.err4 == nil && !qp.ans4.NXDomain() {
				qp.v6, qp.ans6, qp.err6 = resolver.Addrs(ctx, r, n, dns.TypeAAAA)
			}
		} else {
			qp.v6, qp.ans6, qp.err6 = resolver.Addrs(ctx, r, n, dns.TypeAAAA)
			if len(qp.v6) == 0 && qp.err6 == nil && !qp.ans6.NXDomain() {
				qp.v4, qp.ans4, qp.err4 = resolver.Addrs(ctx, r, n, dns.TypeA)
			}
		}
	})
	if !domain.ListedTLD(n) {
		// In a replay the zone is the whole DNS: a TLD exists when DNS
		// says so (NODATA at an empty non-terminal), and NXDOMAIN at the
		// TLD makes every name under it unusable.
		tasks.Go(r, func(r resolver.Resolver) {
			a, err := r.Lookup(ctx, tld+".", dns.TypeSOA)
			qp.tldMissing = err == nil && a.NXDomain()
		})
	}
	if sender != "" {
		tasks.Go(r, func(r resolver.Resolver) { qp.mxs, _, qp.mxErr = resolver.MX(ctx, r, sender) })
	}
	tasks.Wait()
	v4, v6, ans4, ans6, err4, err6 := q.v4, q.v6, q.ans4, q.ans6, q.err4, q.err6
	tldMissing, mxs, mxErr := q.tldMissing, q.mxs, q.mxErr

	switch {
	case len(v6) == 0:
		res.Addrs = v4
	case len(v4) == 0:
		res.Addrs = v6
	default:
		res.Addrs = append(append(make([]netip.Addr, 0, len(v4)+len(v6)), v4...), v6...)
	}
	matched := false
	for _, a := range res.Addrs {
		if a.Unmap() == ip {
			matched = true
			break
		}
	}
	tempErr := firstTemporary(err4, err6)
	switch {
	case matched:
		res.Status, res.Code = StatusPass, CodeMatch
		res.Reason = n + " resolves to " + ip.String()
	case len(res.Addrs) == 0 && tldMissing:
		res.Status, res.Code = StatusInvalid, CodeUnknownTLD
		res.Reason = fmt.Sprintf("top-level domain %q does not exist", tld)
	case tempErr != nil:
		res.Status, res.Code = StatusTemperror, CodeDNSTemporary
		res.Reason = "address lookup failed temporarily"
		res.Err = fmt.Errorf("%w: %w", ErrDNS, tempErr)
	case len(res.Addrs) > 0:
		res.Status, res.Code = StatusFail, CodeOtherIP
		res.Reason = n + " does not resolve to " + ip.String()
	case err4 != nil || err6 != nil:
		res.Status, res.Code = StatusNone, CodeDNSPermanent
		res.Reason = "address lookup failed"
		res.Err = fmt.Errorf("%w: %w", ErrDNS, errors.Join(err4, err6))
	case (ans4 != nil && ans4.NXDomain()) || (ans6 != nil && ans6.NXDomain()):
		res.Status, res.Code = StatusNone, CodeNXDomain
		res.Reason = fmt.Sprintf("%s does not exist", n)
	default:
		res.Status, res.Code = StatusNone, CodeNoAddress
		res.Reason = fmt.Sprintf("%s has no address", n)
	}

	if sender != "" {
		res.SameOrg = res.OrgDomain != "" && res.OrgDomain == domain.Org(sender) // domain.SameOrg, Org(n) known
		if mxErr == nil {
			for _, mx := range mxs {
				if domain.Normalize(mx.Mx) == n {
					res.IsMX = true
					break
				}
			}
		}
		res.OtherOrg = len(res.Addrs) > 0 && !res.SameOrg
	}
	return res
}

func firstTemporary(errs ...error) error {
	for _, err := range errs {
		if err != nil && resolver.IsTemporary(err) {
			return err
		}
	}
	return nil
}

func invalidReason(code Code) string {
	switch code {
	case CodeEmpty:
		return "no name given"
	case CodeLocalhost:
		return "localhost is the receiver's own name (RFC 6761 §6.3)"
	case CodeBareIP:
		return "an address must be given as a literal in brackets (RFC 5321 §4.1.3)"
	case CodeSingleLabel:
		return "not a fully qualified domain name (RFC 5321 §2.3.5)"
	case CodeReservedTLD:
		return "special-use top-level domain that never names a public host"
	case CodeBadLiteral:
		return "malformed address literal (RFC 5321 §4.1.3)"
	default:
		return "not a domain name (RFC 5321 §4.1.2)"
	}
}

// String describes the result in one line, for logs. The name is quoted:
// it comes from the client.
func (r Result) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "helo=%s name=%q", r.Status, r.Name)
	if r.Code != "" {
		fmt.Fprintf(&b, " code=%s", r.Code)
	}
	if r.SameOrg {
		b.WriteString(" same-org")
	}
	if r.IsMX {
		b.WriteString(" mx")
	}
	if r.OtherOrg {
		fmt.Fprintf(&b, " other-org=%s", r.OrgDomain)
	}
	if r.Reason != "" {
		fmt.Fprintf(&b, " (%s)", r.Reason)
	}
	return b.String()
}
