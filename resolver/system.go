package resolver

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"github.com/miekg/dns"
)

// SystemTTL is the TTL, in seconds, System gives its answers when its TTL
// field is zero: *net.Resolver does not report the real ones.
const SystemTTL = 60

// System is the host's resolver as a Resolver, through *net.Resolver: it
// follows the host's configuration (resolv.conf, nsswitch, /etc/hosts, a
// local caching daemon). It is the zero-configuration default; Client is
// the better choice when a recursive server can be named, because
// *net.Resolver hides part of the answer:
//
//   - TTLs are not reported: every answer, negative ones included, gets
//     the fixed TTL (SystemTTL unless set).
//   - CNAME chains are followed but not reported: Answer.CNAMEs is empty
//     and the records are given the question's name.
//   - NXDOMAIN and NODATA look alike. When a question finds nothing,
//     System asks for the name's addresses (AAAA for an A question, A for
//     AAAA, both otherwise): a name with addresses exists and the answer is
//     NODATA; any other is reported as NXDOMAIN, including a name that
//     holds only records of other types or an empty non-terminal.
//   - Only A, AAAA, TXT, MX, NS, CNAME and PTR (of in-addr.arpa and
//     ip6.arpa names) can be asked; other types fail with ErrPermanent.
//     A CNAME question answers with the canonical name at the end of the
//     chain, not the first alias.
//
// Errors: a *net.DNSError that timed out or is temporary (SERVFAIL, a
// network error) fails with ErrTemporary, as does "server misbehaving",
// the only way the Go resolver reports REFUSED (along with the rarer
// FORMERR and NOTIMP); any other with ErrPermanent.
//
// The zero value uses net.DefaultResolver and is ready to use.
type System struct {
	// Resolver is the resolver used. Nil means net.DefaultResolver.
	Resolver *net.Resolver
	// TTL is the TTL of every answer, in seconds. Zero means SystemTTL.
	TTL uint32
}

// NewSystem returns a System over net.DefaultResolver.
func NewSystem() *System { return &System{} }

func (s *System) resolver() *net.Resolver {
	if s.Resolver != nil {
		return s.Resolver
	}
	return net.DefaultResolver
}

func (s *System) ttl() uint32 {
	if s.TTL > 0 {
		return s.TTL
	}
	return SystemTTL
}

// Lookup implements Resolver.
func (s *System) Lookup(ctx context.Context, name string, qtype uint16) (*Answer, error) {
	q := question(name, qtype)
	if err := CheckName(q.Name); err != nil {
		return nil, &Error{Name: q.Name, Type: qtype, Rcode: -1, Reason: "invalid name", Kind: ErrPermanent, Err: err}
	}
	if err := ctx.Err(); err != nil {
		return nil, contextError(q, err)
	}
	r := s.resolver()
	hdr := dns.RR_Header{Name: q.Name, Rrtype: qtype, Class: dns.ClassINET, Ttl: s.ttl()}
	var rrs []dns.RR
	var err error
	// Names are asked fully qualified so that no search list applies.
	switch qtype {
	case dns.TypeA, dns.TypeAAAA:
		network := "ip4"
		if qtype == dns.TypeAAAA {
			network = "ip6"
		}
		var ips []netip.Addr
		ips, err = r.LookupNetIP(ctx, network, q.Name)
		for _, ip := range ips {
			ip = ip.Unmap()
			if qtype == dns.TypeA && ip.Is4() {
				rrs = append(rrs, &dns.A{Hdr: hdr, A: ip.AsSlice()})
			} else if qtype == dns.TypeAAAA && ip.Is6() {
				rrs = append(rrs, &dns.AAAA{Hdr: hdr, AAAA: ip.AsSlice()})
			}
		}
	case dns.TypeTXT:
		var txts []string
		txts, err = r.LookupTXT(ctx, q.Name)
		for _, t := range txts {
			rrs = append(rrs, &dns.TXT{Hdr: hdr, Txt: splitTXT(t)})
		}
	case dns.TypeMX:
		var mxs []*net.MX
		mxs, err = r.LookupMX(ctx, q.Name)
		for _, mx := range mxs {
			rrs = append(rrs, &dns.MX{Hdr: hdr, Preference: mx.Pref, Mx: Fqdn(mx.Host)})
		}
	case dns.TypeNS:
		var nss []*net.NS
		nss, err = r.LookupNS(ctx, q.Name)
		for _, ns := range nss {
			rrs = append(rrs, &dns.NS{Hdr: hdr, Ns: Fqdn(ns.Host)})
		}
	case dns.TypeCNAME:
		var cname string
		cname, err = r.LookupCNAME(ctx, q.Name)
		if err == nil && Fqdn(cname) != q.Name {
			rrs = append(rrs, &dns.CNAME{Hdr: hdr, Target: Fqdn(cname)})
		}
	case dns.TypePTR:
		ip, ok := parseReverseName(q.Name)
		if !ok {
			return nil, &Error{Name: q.Name, Type: qtype, Rcode: -1, Reason: "System asks PTR of reverse names only", Kind: ErrPermanent}
		}
		var names []string
		names, err = r.LookupAddr(ctx, ip.String())
		for _, n := range names {
			rrs = append(rrs, &dns.PTR{Hdr: hdr, Ptr: Fqdn(n)})
		}
	default:
		return nil, &Error{Name: q.Name, Type: qtype, Rcode: -1, Reason: "type not supported by System", Kind: ErrPermanent}
	}
	ans := &Answer{Name: q.Name, Type: qtype, Rcode: dns.RcodeSuccess, TTL: s.ttl()}
	if err != nil && len(rrs) == 0 {
		// (With records, the error only says that some were dropped for
		// invalid names, as LookupMX, LookupNS and LookupAddr do.)
		if err = s.mapError(ctx, q, err); err != nil {
			return nil, err
		}
		ans.Rcode = dns.RcodeNameError
		if s.exists(ctx, q) {
			ans.Rcode = dns.RcodeSuccess
		}
		return ans, nil
	}
	ans.Records = rrs
	return ans, nil
}

// mapError classifies an error of *net.Resolver: nil when it means the
// name or the data was not found, else an *Error.
func (s *System) mapError(ctx context.Context, q Question, err error) error {
	var de *net.DNSError
	isDNS := errors.As(err, &de)
	switch {
	case isDNS && de.IsNotFound:
		return nil
	case ctx.Err() != nil:
		return contextError(q, ctx.Err())
	case isDNS && (de.IsTimeout || de.IsTemporary):
		return &Error{Name: q.Name, Type: q.Type, Rcode: -1, Reason: de.Err, Kind: ErrTemporary, Err: err}
	case isDNS && de.Err == "server misbehaving":
		// The Go resolver reports REFUSED (and FORMERR, NOTIMP) this way,
		// without IsTemporary; REFUSED is a temporary failure to us.
		return &Error{Name: q.Name, Type: q.Type, Rcode: -1, Reason: de.Err, Kind: ErrTemporary, Err: err}
	case isDNS:
		return &Error{Name: q.Name, Type: q.Type, Rcode: -1, Reason: de.Err, Kind: ErrPermanent, Err: err}
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled):
		return &Error{Name: q.Name, Type: q.Type, Rcode: -1, Reason: "timeout", Kind: ErrTemporary, Err: err}
	default:
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return &Error{Name: q.Name, Type: q.Type, Rcode: -1, Reason: "timeout", Kind: ErrTemporary, Err: err}
		}
		return &Error{Name: q.Name, Type: q.Type, Rcode: -1, Reason: "lookup failed", Kind: ErrPermanent, Err: err}
	}
}

// exists tells NODATA from NXDOMAIN as well as *net.Resolver allows: a
// name with addresses exists.
func (s *System) exists(ctx context.Context, q Question) bool {
	network := "ip"
	switch q.Type {
	case dns.TypeA:
		network = "ip6"
	case dns.TypeAAAA:
		network = "ip4"
	}
	ips, err := s.resolver().LookupNetIP(ctx, network, q.Name)
	return err == nil && len(ips) > 0
}

// splitTXT cuts a TXT value into character-strings of at most 255 octets
// (RFC 1035 §3.3.14), as it was before the Go resolver joined them.
func splitTXT(s string) []string {
	if len(s) <= 255 {
		return []string{s}
	}
	var out []string
	for len(s) > 255 {
		out = append(out, s[:255])
		s = s[255:]
	}
	return append(out, s)
}

// parseReverseName is the inverse of ReverseName.
func parseReverseName(name string) (netip.Addr, bool) {
	name = strings.ToLower(strings.TrimSuffix(name, "."))
	if rest, ok := strings.CutSuffix(name, ".in-addr.arpa"); ok {
		labels := strings.Split(rest, ".")
		if len(labels) != 4 {
			return netip.Addr{}, false
		}
		var a [4]byte
		for i, l := range labels {
			if l == "" || len(l) > 3 || (len(l) > 1 && l[0] == '0') {
				return netip.Addr{}, false
			}
			n, err := strconv.Atoi(l)
			if err != nil || n > 255 {
				return netip.Addr{}, false
			}
			a[3-i] = byte(n)
		}
		return netip.AddrFrom4(a), true
	}
	if rest, ok := strings.CutSuffix(name, ".ip6.arpa"); ok {
		labels := strings.Split(rest, ".")
		if len(labels) != 32 {
			return netip.Addr{}, false
		}
		var a [16]byte
		for i, l := range labels {
			if len(l) != 1 {
				return netip.Addr{}, false
			}
			v := strings.IndexByte("0123456789abcdef", l[0])
			if v < 0 {
				return netip.Addr{}, false
			}
			// labels run from the last nibble to the first
			pos := 31 - i
			if pos%2 == 0 {
				a[pos/2] |= byte(v) << 4
			} else {
				a[pos/2] |= byte(v)
			}
		}
		return netip.AddrFrom16(a), true
	}
	return netip.Addr{}, false
}
