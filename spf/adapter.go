package spf

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"

	blitiri "blitiri.com.ar/go/spf"
	"github.com/miekg/dns"

	"github.com/mailtrust/mailtrust/resolver"
)

// adapter lets blitiri/spf ask its questions through a resolver.Resolver.
// It implements blitiri's DNSResolver and speaks its dialect of errors,
// which blitiri tells apart by type assertion on *net.DNSError:
//
//   - NXDOMAIN: *net.DNSError with IsNotFound;
//   - NODATA: an empty answer and a nil error, which blitiri counts as a
//     void lookup (RFC 7208 §4.6.4);
//   - a temporary failure: *net.DNSError with IsTemporary (and IsTimeout
//     when it was one), wrapping the resolver's error;
//   - a permanent failure: an error of another type.
//
// It also owns record selection: it hands blitiri at most one SPF record,
// already checked against the grammar, and remembers what it saw so that
// the result can name the record. One adapter serves one check; blitiri
// asks sequentially.
type adapter struct {
	r  resolver.Resolver
	ip netip.Addr // the client, unmapped

	// txt holds, per queried name (lower case, no trailing dot), what the
	// SPF record lookup found, in the order asked.
	txt map[string]txtOutcome
}

type txtOutcome struct {
	record   string // the SPF record handed to blitiri, "" if none
	nxdomain bool
	err      error // the error handed to blitiri, if any
}

var _ blitiri.DNSResolver = (*adapter)(nil)

func newAdapter(r resolver.Resolver, ip netip.Addr) *adapter {
	return &adapter{r: r, ip: ip, txt: map[string]txtOutcome{}}
}

// queryName turns a name blitiri wants to ask into one the resolver
// accepts, or reports that it cannot be asked.
//
// RFC 7208 §7.3: an expanded name longer than 253 octets loses labels on
// the left until it fits. A name that is still no valid DNS name (an empty
// label, a label over 63 octets, a space or a NUL from a macro expansion)
// is treated as non-existent: RFC 7208 §4.8 leaves the case undefined, and
// the test suite accepts a no-match, which never turns a sender's typo into
// a temperror.
func queryName(name string) (string, bool) {
	n := strings.TrimSuffix(name, ".")
	for len(n) > 253 {
		i := strings.IndexByte(n, '.')
		if i < 0 {
			return "", false
		}
		n = n[i+1:]
	}
	if err := resolver.CheckName(n); err != nil {
		return "", false
	}
	return resolver.Fqdn(n), true
}

func notFound(name string) *net.DNSError {
	return &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
}

// dnsError converts a resolver failure into blitiri's terms.
func dnsError(name string, err error) error {
	if resolver.IsTemporary(err) {
		var ne net.Error
		timeout := errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
		var re *resolver.Error
		if errors.As(err, &re) && re.Rcode == -1 && re.Reason == "timeout" {
			timeout = true
		}
		return &net.DNSError{Err: err.Error(), Name: name, IsTemporary: true, IsTimeout: timeout, UnwrapErr: err}
	}
	return fmt.Errorf("%w: %w", ErrPermanentDNS, err)
}

// LookupTXT returns the SPF record at name: none, or exactly one that
// parses. RFC 7208 §4.5: other TXT records are discarded; more than one SPF
// record is a permerror; a record with a syntax error anywhere is a
// permerror (§4.6). Both are reported as errors of a type blitiri treats
// as permanent.
func (a *adapter) LookupTXT(ctx context.Context, name string) ([]string, error) {
	key := strings.ToLower(strings.TrimSuffix(name, "."))
	q, ok := queryName(name)
	if !ok {
		a.txt[key] = txtOutcome{nxdomain: true}
		return nil, notFound(name)
	}
	txts, ans, err := resolver.TXT(ctx, a.r, q)
	if err != nil {
		derr := dnsError(name, err)
		a.txt[key] = txtOutcome{err: derr}
		return nil, derr
	}
	if ans.NXDomain() {
		a.txt[key] = txtOutcome{nxdomain: true}
		return nil, notFound(name)
	}
	var spf []string
	for _, t := range txts {
		if isSPF(t) {
			spf = append(spf, t)
		}
	}
	switch len(spf) {
	case 0:
		a.txt[key] = txtOutcome{}
		return nil, nil
	case 1:
		if _, err := parseRecord(spf[0]); err != nil {
			err = fmt.Errorf("%w at %s: %w", ErrSyntax, key, err)
			a.txt[key] = txtOutcome{record: spf[0], err: err}
			return nil, err
		}
		a.txt[key] = txtOutcome{record: spf[0]}
		return spf, nil
	default:
		err := fmt.Errorf("%w at %s (RFC 7208 §4.5)", ErrMultipleRecords, key)
		a.txt[key] = txtOutcome{err: err}
		return nil, err
	}
}

// LookupMX returns the MX targets at name, fully qualified.
func (a *adapter) LookupMX(ctx context.Context, name string) ([]*net.MX, error) {
	q, ok := queryName(name)
	if !ok {
		return nil, notFound(name)
	}
	mxs, ans, err := resolver.MX(ctx, a.r, q)
	if err != nil {
		return nil, dnsError(name, err)
	}
	if ans.NXDomain() {
		return nil, notFound(name)
	}
	out := make([]*net.MX, 0, len(mxs))
	for _, mx := range mxs {
		out = append(out, &net.MX{Host: resolver.Fqdn(mx.Mx), Pref: mx.Preference})
	}
	return out, nil
}

// LookupIPAddr returns the addresses of host that matter for the client.
//
// RFC 7208 §5.3, §5.4, §5.5: an IPv4 client is compared with A records
// only, so for it only A is asked, and only the A answer decides a void
// lookup or a temperror. For an IPv6 client AAAA matters to a, mx and ptr,
// but exists always asks A (§5.7), and blitiri asks both through this one
// method, so both are asked: a temporary failure of AAAA is a temperror
// whatever A found (A records cannot match an IPv6 client, so taking them
// alone would turn the failure into a no-match, and ~all into softfail:
// RFC 7208 §5 makes it temperror), while a failure of A counts only when
// AAAA found nothing.
func (a *adapter) LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error) {
	q, ok := queryName(host)
	if !ok {
		return nil, notFound(host)
	}
	var ips []netip.Addr
	if a.ip.Is4() {
		v4, ans, err := resolver.Addrs(ctx, a.r, q, dns.TypeA)
		if err != nil {
			return nil, dnsError(host, err)
		}
		if ans.NXDomain() {
			return nil, notFound(host)
		}
		ips = v4
	} else {
		var v6 []netip.Addr
		var a6 *resolver.Answer
		var err6 error
		done := resolver.Go(a.r, func(r resolver.Resolver) { v6, a6, err6 = resolver.Addrs(ctx, r, q, dns.TypeAAAA) })
		v4, a4, err4 := resolver.Addrs(ctx, a.r, q, dns.TypeA)
		<-done
		ips = append(v4, v6...)
		switch {
		case err6 != nil:
			return nil, dnsError(host, err6)
		case len(ips) > 0:
		case err4 != nil:
			return nil, dnsError(host, err4)
		case a4.NXDomain() || a6.NXDomain():
			return nil, notFound(host)
		}
	}
	out := make([]net.IPAddr, 0, len(ips))
	for _, ip := range ips {
		// An IPv4-mapped AAAA record is no IPv4 address: net.IP would
		// compare it equal to one, and exists would count it as an A.
		if ip.Is4In6() {
			continue
		}
		out = append(out, net.IPAddr{IP: net.IP(ip.AsSlice())})
	}
	return out, nil
}

// LookupAddr returns the PTR names of addr, fully qualified.
func (a *adapter) LookupAddr(ctx context.Context, addr string) ([]string, error) {
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return nil, notFound(addr)
	}
	names, ans, err := resolver.PTR(ctx, a.r, ip.Unmap())
	if err != nil {
		return nil, dnsError(addr, err)
	}
	if ans.NXDomain() {
		return nil, notFound(addr)
	}
	return names, nil
}
