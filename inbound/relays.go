package inbound

import (
	"fmt"
	"net/netip"
	"strings"
)

// Relays are the receiver's own hosts: the MTAs and relays that hand mail
// on inside its domain. A message they pass on is judged by the hop
// before them, never by them. The zero value has no hosts.
type Relays struct {
	names map[string]bool
	nets  []netip.Prefix
}

// ParseRelays reads a -receiver list: host names ("mx1.example.com"),
// addresses ("192.0.2.1", "2001:db8::25") and CIDR networks
// ("192.0.2.0/24"), as separate items or comma-separated.
func ParseRelays(items ...string) (*Relays, error) {
	r := &Relays{names: map[string]bool{}}
	for _, item := range items {
		for _, s := range strings.Split(item, ",") {
			s = strings.TrimSpace(s)
			switch {
			case s == "":
			case strings.Contains(s, "/"):
				p, err := netip.ParsePrefix(s)
				if err != nil {
					return nil, fmt.Errorf("inbound: receiver %q: %w", s, err)
				}
				r.nets = append(r.nets, p.Masked())
			default:
				if a, err := netip.ParseAddr(s); err == nil {
					a = a.Unmap()
					r.nets = append(r.nets, netip.PrefixFrom(a, a.BitLen()))
					continue
				}
				r.names[normName(s)] = true
			}
		}
	}
	return r, nil
}

// Own reports whether a client is one of the receiver's hosts: its
// address is in a listed network, or name (the client's host name as the
// MTA verified it) is a listed name. A nil Relays owns nothing.
func (r *Relays) Own(ip netip.Addr, name string) bool {
	if r == nil {
		return false
	}
	ip = ip.Unmap()
	for _, p := range r.nets {
		if ip.IsValid() && p.Contains(ip) {
			return true
		}
	}
	return name != "" && r.names[normName(name)]
}

// Empty reports whether no host is listed.
func (r *Relays) Empty() bool { return r == nil || len(r.names) == 0 && len(r.nets) == 0 }

func normName(s string) string { return strings.ToLower(strings.TrimSuffix(s, ".")) }

// Hop is what the trace fields say of the first hop from outside the
// receiver: the client that handed the message to the receiver's first
// host, and the name it gave.
type Hop struct {
	IP   netip.Addr
	HELO string
}

// Trace finds the first outside hop in the header of a message that one
// of the receiver's own relays handed on: the Received field (RFC 5321
// §4.4) written by the outermost of relays' hosts, naming a client that
// is not one of them. header is the header block as received, CRLF line
// endings. ok is false when no such field is found.
type Trace func(header []byte, relays *Relays) (hop Hop, ok bool)
