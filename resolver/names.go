package resolver

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/miekg/dns"
)

// Names from the wire may hold any octet (RFC 2181 §11): a sender's alias
// target or PTR name can hold "'", "(", ";", a space or a NUL. miekg/dns
// keeps a name in presentation form, escaping such octets as it unpacks
// them ("\'", "\(", "\000"; RFC 1035 §5.1). A name read from a master file
// may spell the same octets otherwise ("'" unescaped, "\039"), so that a
// Zone first brings every name to the form the wire would give: packed,
// then unpacked.

// canonicalName returns name as miekg/dns would unpack it from the wire,
// lower-cased and fully qualified, or an error when it is no valid domain
// name (a label over 63 octets, a name over 255, an empty label).
func canonicalName(name string) (string, error) {
	name = dns.Fqdn(name)
	if plainName(name) {
		if _, ok := dns.IsDomainName(name); !ok {
			return "", fmt.Errorf("resolver: name %q: not a domain name", name)
		}
		return lowerASCII(name), nil
	}
	buf := make([]byte, 256)
	n, err := dns.PackDomainName(name, buf, 0, nil, false)
	if err != nil {
		return "", fmt.Errorf("resolver: name %q: %w", name, err)
	}
	out, _, err := dns.UnpackDomainName(buf[:n], 0)
	if err != nil {
		return "", fmt.Errorf("resolver: name %q: %w", name, err)
	}
	return lowerASCII(out), nil
}

// plainName reports whether name holds only letters, digits, "-", "_", "*"
// and dots between non-empty labels: the names that need no canonical form.
func plainName(name string) bool {
	if name == "." {
		return true
	}
	prev := byte('.')
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '.':
			if prev == '.' {
				return false
			}
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_', c == '*':
		default:
			return false
		}
		prev = c
	}
	return len(name) <= 254
}

// escapedName spells a name for a master-file comment (the fault
// comments): every octet but letters, digits, "-", "_" and "*" as \DDD
// (RFC 1035 §5.1), so that the text holds no space, quote, parenthesis or
// semicolon for a reader to misread, and reads back, through
// canonicalName, as the same name.
func escapedName(name string) (string, error) {
	if plainName(name) {
		return name, nil
	}
	buf := make([]byte, 256)
	n, err := dns.PackDomainName(dns.Fqdn(name), buf, 0, nil, false)
	if err != nil {
		return "", fmt.Errorf("resolver: name %q: %w", name, err)
	}
	var b strings.Builder
	for off := 0; off < n; {
		l := int(buf[off])
		off++
		if l == 0 {
			break
		}
		for _, c := range buf[off : off+l] {
			switch {
			case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_', c == '*':
				b.WriteByte(c)
			default:
				b.WriteByte('\\')
				s := strconv.Itoa(int(c))
				b.WriteString(strings.Repeat("0", 3-len(s)) + s)
			}
		}
		b.WriteByte('.')
		off += l
	}
	if b.Len() == 0 {
		return ".", nil
	}
	return b.String(), nil
}

// wireCopy returns rr as it would arrive from the wire: packed, then
// unpacked, so that every name and string in it has the one presentation
// form miekg/dns gives.
func wireCopy(rr dns.RR) (dns.RR, error) {
	buf := make([]byte, min(2*dns.Len(rr)+512, dns.MaxMsgSize))
	n, err := dns.PackRR(rr, buf, 0, nil, false)
	if err != nil {
		return nil, err
	}
	out, _, err := dns.UnpackRR(buf[:n], 0)
	if err != nil {
		return nil, err
	}
	return out, nil
}
