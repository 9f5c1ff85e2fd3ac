// Package ptr checks the reverse DNS of a connecting IP address:
// forward-confirmed reverse DNS, the "iprev" method of RFC 8601 §3.
//
// Check asks the PTR names of the address and confirms each by asking the
// names' A (IPv4) or AAAA (IPv6) records: a name confirms when its
// addresses include the connecting one. It also reports two facts receivers
// weigh: whether the names look like a residential or dynamic address pool
// (IsGeneric), and whether a confirmed name belongs to the organizational
// domain of one of the sender's domains.
//
// What it does not do: decide trust. A confirmed name says only that whoever
// controls the address's reverse zone and that name agree; it is neither an
// authentication of the sender's domain (that is SPF's, DKIM's and DMARC's
// job) nor proof of good intent. Package trust weighs the facts.
package ptr

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/emersion/go-msgauth/authres"
	"github.com/miekg/dns"

	"github.com/mailtrust/mailtrust/internal/arfield"
	"github.com/mailtrust/mailtrust/internal/domain"
	"github.com/mailtrust/mailtrust/resolver"
)

// Status is the outcome of a check, spelled as the result words of
// ptr.result in the replay corpus and of RFC 8601 §2.7.3.
type Status string

// Statuses.
const (
	// Pass: some PTR name resolves back to the address.
	StatusPass Status = "pass"
	// Fail: PTR names exist but none resolves back to the address.
	StatusFail Status = "fail"
	// None: the address has no PTR record (NXDOMAIN or NODATA). RFC 8601
	// §2.7.3 calls this iprev "permerror"; AuthResult says so.
	StatusNone Status = "none"
	// TempError: a DNS lookup failed temporarily and left the result open.
	StatusTemperror Status = "temperror"
	// PermError: the check cannot be done: the address is invalid, or the
	// reverse name's answer is broken for good (a CNAME loop).
	StatusPermerror Status = "permerror"
)

// DefaultMaxNames is the number of PTR names confirmed when
// Options.MaxNames is zero.
const DefaultMaxNames = 10

// Errors, wrapped in Result.Err together with the resolver's error.
var (
	// ErrInvalidIP: the address given is not a valid IP address.
	ErrInvalidIP = errors.New("ptr: invalid IP address")
	// ErrDNS: a DNS lookup failed; the resolver's error is wrapped too, so
	// errors.Is(err, resolver.ErrTemporary) tells a temporary failure.
	ErrDNS = errors.New("ptr: DNS lookup failed")
)

// Result is the outcome of Check.
type Result struct {
	// Status is the iprev result.
	Status Status
	// IP is the address checked, IPv4-mapped IPv6 addresses unmapped.
	IP netip.Addr
	// Names are the PTR names of IP, fully qualified and lower case
	// ("mail.example.org."), without duplicates, in the order received.
	Names []string
	// Confirmed are the names whose A or AAAA records include IP, in the
	// order of Names.
	Confirmed []string
	// Generic reports that the names look like those of a residential or
	// dynamic address pool (IsGeneric): every confirmed name, or, when
	// none confirms, every name.
	Generic bool
	// GenericReason is the rule that matched the first generic name
	// ("embeds-ip", "pool-word:dyn", ...).
	GenericReason string
	// Related reports that a confirmed name shares the organizational
	// domain of one of Options.SenderDomains.
	Related bool
	// RelatedDomain is that shared organizational domain.
	RelatedDomain string
	// Reason explains the status in a few words.
	Reason string
	// Err is set for StatusTemperror and PermError: it wraps ErrInvalidIP or
	// ErrDNS and the resolver's error.
	Err error
}

// Options refine Check. A nil *Options means the defaults.
type Options struct {
	// MaxNames bounds how many PTR names are confirmed, in the order
	// received; zero means DefaultMaxNames. RFC 8601 §3 leaves the bound
	// to the implementation; RFC 7208 §4.6.4 uses 10 for the same work.
	MaxNames int
	// SenderDomains are the domains a confirmed name is compared with for
	// Related: the MAIL FROM domain and the From domain. Empty entries
	// (the null reverse-path) are ignored.
	SenderDomains []string
}

// Check finds the PTR names of ip and confirms them (RFC 8601 §3). It never
// returns StatusFail because of a temporary DNS failure: that is StatusTemperror.
func Check(ctx context.Context, r resolver.Resolver, ip netip.Addr, opts *Options) Result {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.MaxNames <= 0 {
		o.MaxNames = DefaultMaxNames
	}

	ip = ip.Unmap().WithZone("")
	res := Result{IP: ip}
	if !ip.IsValid() {
		res.Status = StatusPermerror
		res.Reason = "no valid IP address"
		res.Err = ErrInvalidIP
		return res
	}

	names, ans, err := resolver.PTR(ctx, r, ip)
	if err != nil {
		res.Err = fmt.Errorf("%w: %w", ErrDNS, err)
		if resolver.IsTemporary(err) {
			res.Status = StatusTemperror
			res.Reason = "PTR lookup failed temporarily"
		} else {
			res.Status = StatusPermerror
			res.Reason = "PTR lookup failed"
		}
		return res
	}
	res.Names = dedupe(names)
	if len(res.Names) == 0 {
		res.Status = StatusNone
		if ans != nil && ans.NXDomain() {
			res.Reason = "no PTR record (NXDOMAIN)"
		} else {
			res.Reason = "no PTR record (NODATA)"
		}
		return res
	}

	checked := res.Names
	if len(checked) > o.MaxNames {
		checked = checked[:o.MaxNames]
	}
	confirmed, tempErr := confirm(ctx, r, ip, checked)
	res.Confirmed = confirmed

	switch {
	case len(res.Confirmed) > 0:
		res.Status = StatusPass
		res.Reason = res.Confirmed[0] + " resolves to " + ip.String()
	case tempErr != nil:
		// RFC 8601 §2.7.3: an evaluation a transient error left incomplete is
		// temperror; the unanswered name might have confirmed.
		res.Status = StatusTemperror
		res.Reason = "forward lookup failed temporarily"
		res.Err = fmt.Errorf("%w: %w", ErrDNS, tempErr)
	default:
		res.Status = StatusFail
		res.Reason = fmt.Sprintf("no PTR name resolves to %s (%d of %d checked)", ip, len(checked), len(res.Names))
	}

	res.Generic, res.GenericReason = generic(res.Confirmed, res.Names, ip)
	res.Related, res.RelatedDomain = related(res.Confirmed, o.SenderDomains)
	return res
}

// confirm asks the forward records of every name concurrently. It returns
// the names whose addresses include ip, in order, and the first temporary
// error.
// Permanent errors (a CNAME loop, a name that cannot be asked) only mean
// that name does not confirm.
func confirm(ctx context.Context, r resolver.Resolver, ip netip.Addr, names []string) ([]string, error) {
	// Only the family of the connecting address can confirm it: asking the
	// other would be wasted work.
	qtype := addrType(ip) // assigned once: the closures copy it
	type outcome struct {
		ok  bool
		err error
	}
	out := make([]outcome, len(names))
	var tasks resolver.Tasks // at once when the answers are at hand
	for i, name := range names {
		if resolver.CheckName(name) != nil {
			continue
		}
		tasks.Go(r, func(r resolver.Resolver) {
			out[i] = outcome{} // the work may run twice
			addrs, _, err := resolver.Addrs(ctx, r, name, qtype)
			for _, a := range addrs {
				if a.Unmap() == ip {
					out[i].ok = true
					return
				}
			}
			if err != nil && resolver.IsTemporary(err) {
				out[i].err = err
			}
		})
	}
	tasks.Wait()
	var confirmed []string
	var tempErr error
	for i, o := range out {
		if o.ok {
			confirmed = append(confirmed, names[i])
		}
		if tempErr == nil {
			tempErr = o.err
		}
	}
	return confirmed, tempErr
}

// addrType is the address question of ip's family.
func addrType(ip netip.Addr) uint16 {
	if ip.Is4() {
		return dns.TypeA
	}
	return dns.TypeAAAA
}

// generic judges the confirmed names, or all names when none confirms. All
// of them must look generic: a host with one forward-confirmed,
// non-generic name was configured as a server by its operator, even if the
// provider's default pool name stays alongside.
func generic(confirmed, names []string, ip netip.Addr) (bool, string) {
	set := confirmed
	if len(set) == 0 {
		set = names
	}
	reason := ""
	for _, n := range set {
		g, why := IsGeneric(n, ip)
		if !g {
			return false, ""
		}
		if reason == "" {
			reason = why
		}
	}
	return reason != "", reason
}

// related reports the first confirmed name that shares an organizational
// domain (RFC 7489 §3.2) with a sender domain. Unconfirmed names do not
// count: anyone controlling a reverse zone can write any name into it.
func related(confirmed, senders []string) (bool, string) {
	if len(confirmed) == 0 {
		return false, ""
	}
	// domain.SameOrg of every pair, each organizational domain found once.
	var orgs [4]string
	so := orgs[:0]
	for _, s := range senders {
		if domain.Normalize(s) != "" {
			so = append(so, domain.Org(s))
		}
	}
	for _, n := range confirmed {
		on := domain.Org(n)
		for _, o := range so {
			if on != "" && on == o {
				return true, o
			}
		}
	}
	return false, ""
}

func dedupe(names []string) []string {
	if len(names) == 0 {
		return nil
	}
	out := make([]string, 0, len(names))
	seen := make(map[string]bool, len(names))
	for _, n := range names {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}

// AuthResult is the iprev result for an Authentication-Results header
// (RFC 8601 §2.7.3, §3), with policy.iprev set to the address. A missing
// PTR record (StatusNone) is written "permerror", as §2.7.3 defines it.
// A temperror's reason is "temporary DNS failure" whatever r.Reason
// says: the resolver's detail is for logs and the verdict, not the header.
func (r Result) AuthResult() authres.Result {
	var v authres.ResultValue
	switch r.Status {
	case StatusPass, StatusFail, StatusTemperror:
		v = authres.ResultValue(r.Status)
	default: // StatusNone, StatusPermerror, and the zero Result
		v = authres.ResultPermError
	}
	res := &authres.IPRevResult{Value: v, Reason: arfield.ResultReason(string(r.Status), r.Reason)}
	if r.IP.IsValid() {
		res.IP = r.IP.String()
	}
	return res
}

// String describes the result in one line, for logs.
func (r Result) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "iprev=%s ip=%s", r.Status, r.IP)
	if len(r.Confirmed) > 0 {
		fmt.Fprintf(&b, " confirmed=%s", strings.Join(r.Confirmed, ","))
	} else if len(r.Names) > 0 {
		fmt.Fprintf(&b, " names=%s", strings.Join(r.Names, ","))
	}
	if r.Generic {
		fmt.Fprintf(&b, " generic=%s", r.GenericReason)
	}
	if r.Related {
		fmt.Fprintf(&b, " related=%s", r.RelatedDomain)
	}
	if r.Reason != "" {
		fmt.Fprintf(&b, " (%s)", r.Reason)
	}
	return b.String()
}
