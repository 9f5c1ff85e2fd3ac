package resolver

import (
	"context"
	"net/netip"
	"strings"

	"github.com/miekg/dns"
)

// TXT returns the TXT records at name, each record's strings joined
// (RFC 7208 §3.3, RFC 6376 §3.6.2.2: a record split into several strings is
// one value). An empty slice with a nil error is NXDOMAIN or NODATA; the
// Answer tells which.
func TXT(ctx context.Context, r Resolver, name string) ([]string, *Answer, error) {
	a, err := r.Lookup(ctx, name, dns.TypeTXT)
	if err != nil {
		return nil, a, err
	}
	out := make([]string, 0, len(a.Records))
	for _, rr := range a.Records {
		if t, ok := rr.(*dns.TXT); ok {
			out = append(out, strings.Join(t.Txt, ""))
		}
	}
	return out, a, nil
}

// Addrs returns the A records (qtype dns.TypeA) or AAAA records
// (dns.TypeAAAA) at name.
func Addrs(ctx context.Context, r Resolver, name string, qtype uint16) ([]netip.Addr, *Answer, error) {
	a, err := r.Lookup(ctx, name, qtype)
	if err != nil {
		return nil, a, err
	}
	out := make([]netip.Addr, 0, len(a.Records))
	for _, rr := range a.Records {
		switch v := rr.(type) {
		case *dns.A:
			if ip, ok := netip.AddrFromSlice(v.A.To4()); ok {
				out = append(out, ip)
			}
		case *dns.AAAA:
			if ip, ok := netip.AddrFromSlice(v.AAAA.To16()); ok {
				out = append(out, ip)
			}
		}
	}
	return out, a, nil
}

// IPs returns the A and AAAA records at name, asked concurrently. A
// temporary failure of either question is reported as an error only when
// the other found nothing; NXDOMAIN is reported by exists == false.
func IPs(ctx context.Context, r Resolver, name string) (ips []netip.Addr, exists bool, err error) {
	var v6 []netip.Addr
	var a6 *Answer
	var err6 error
	done := Go(r, func(r Resolver) { v6, a6, err6 = Addrs(ctx, r, name, dns.TypeAAAA) })
	v4, a4, err4 := Addrs(ctx, r, name, dns.TypeA)
	<-done
	ips = append(v4, v6...)
	if len(ips) > 0 {
		return ips, true, nil
	}
	if err4 != nil {
		return nil, false, err4
	}
	if err6 != nil {
		return nil, false, err6
	}
	return nil, !(a4.NXDomain() || a6.NXDomain()), nil
}

// MX returns the MX records at name, in the order received.
func MX(ctx context.Context, r Resolver, name string) ([]*dns.MX, *Answer, error) {
	a, err := r.Lookup(ctx, name, dns.TypeMX)
	if err != nil {
		return nil, a, err
	}
	out := make([]*dns.MX, 0, len(a.Records))
	for _, rr := range a.Records {
		if mx, ok := rr.(*dns.MX); ok {
			out = append(out, mx)
		}
	}
	return out, a, nil
}

// PTR returns the PTR names of ip (RFC 1035 §3.5, RFC 3596 §2.5), fully
// qualified and lower case.
func PTR(ctx context.Context, r Resolver, ip netip.Addr) ([]string, *Answer, error) {
	a, err := r.Lookup(ctx, ReverseName(ip), dns.TypePTR)
	if err != nil {
		return nil, a, err
	}
	out := make([]string, 0, len(a.Records))
	for _, rr := range a.Records {
		if p, ok := rr.(*dns.PTR); ok {
			out = append(out, Fqdn(p.Ptr))
		}
	}
	return out, a, nil
}

// ReverseName is the in-addr.arpa (RFC 1035 §3.5) or nibble-form ip6.arpa
// (RFC 3596 §2.5) name of ip.
func ReverseName(ip netip.Addr) string {
	ip = ip.Unmap()
	var b strings.Builder
	if ip.Is4() {
		a := ip.As4()
		for i := 3; i >= 0; i-- {
			b.WriteString(itoa(int(a[i])))
			b.WriteByte('.')
		}
		b.WriteString("in-addr.arpa.")
		return b.String()
	}
	const hex = "0123456789abcdef"
	a := ip.As16()
	for i := 15; i >= 0; i-- {
		b.WriteByte(hex[a[i]&0xf])
		b.WriteByte('.')
		b.WriteByte(hex[a[i]>>4])
		b.WriteByte('.')
	}
	b.WriteString("ip6.arpa.")
	return b.String()
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	var buf [3]byte
	i := len(buf)
	for n > 0 {
		i--
		buf[i] = byte('0' + n%10)
		n /= 10
	}
	return string(buf[i:])
}
