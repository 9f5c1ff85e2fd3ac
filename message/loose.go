package message

import (
	"strings"
)

// Loose reading, for fields that only describe a message (Reply-To, Sender,
// Resent-*, X-Original-From, list headers): the address-list parser, and
// when it refuses a field, the text between the last "<" and ">" or the
// first word with an "@". The From identity a verdict relies on is
// ParseFrom's, never this; a mailbox without a domain is passed over.

// maxAddrs bounds the addresses read from one field.
const maxAddrs = 100

// DomainOf returns the lower-cased domain of an address (or of an "@domain"
// or a bare domain).
func DomainOf(addr string) string {
	addr = strings.Trim(strings.TrimSpace(addr), "<>")
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		addr = addr[i+1:]
	}
	return strings.ToLower(strings.TrimSuffix(addr, "."))
}

// LocalOf returns the local part of an address, as written.
func LocalOf(addr string) string {
	addr = strings.Trim(strings.TrimSpace(addr), "<>")
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return addr[:i]
	}
	return ""
}

// FoldAddress returns addr lower-cased, local part and domain: RFC 5321
// §2.4 lets only the domain be compared case-insensitively, but receivers
// compare local parts case-insensitively too in practice, so both are
// folded.
func FoldAddress(addr string) string {
	addr = strings.Trim(strings.TrimSpace(addr), "<>")
	return strings.ToLower(addr)
}

// LooseAddresses returns the addr-specs of every field named key, top to
// bottom, read loosely (above), at most maxAddrs.
func (h *Header) LooseAddresses(key string) []string {
	var out []string
	for i := range h.Fields {
		if !strings.EqualFold(h.Fields[i].Key, key) {
			continue
		}
		out = append(out, h.looseList(&h.Fields[i])...)
		if len(out) >= maxAddrs {
			return out[:maxAddrs]
		}
	}
	return out
}

// FirstLooseAddress returns the first addr-spec of the topmost field named
// key, read loosely (above).
func (h *Header) FirstLooseAddress(key string) string {
	f := h.First(key)
	if f == nil {
		return ""
	}
	if as := h.looseList(f); len(as) > 0 {
		return as[0]
	}
	return ""
}

// looseList returns the addr-specs of the address list in f, a field of
// h, parsed once for all the checks that read it.
func (h *Header) looseList(f *Field) []string {
	list, err := h.AddressList(f)
	if err == nil {
		return addrSpecs("", list, nil) // the text is needed only when the parse failed
	}
	v := f.Unfolded()
	if v == "" {
		return nil
	}
	return addrSpecs(v, list, err)
}

// addrSpecs returns the addresses of list, the parse of v, or when v did
// not parse what looks like an address in each of its parts.
func addrSpecs(v string, list List, err error) []string {
	if err == nil {
		out := make([]string, 0, len(list.Mailboxes))
		for _, m := range list.Mailboxes {
			if m.Domain != "" {
				out = append(out, m.Address)
			}
		}
		return out
	}
	// Fallback: split at commas outside quotes and angle brackets, and
	// take what looks like an address from each part.
	var out []string
	for _, part := range splitList(v) {
		if a := looseAddr(part); a != "" {
			out = append(out, a)
			if len(out) >= maxAddrs {
				break
			}
		}
	}
	return out
}

func splitList(v string) []string {
	var out []string
	quoted, angle := false, false
	start := 0
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '\\':
			i++
		case c == '"':
			quoted = !quoted
		case quoted:
		case c == '<':
			angle = true
		case c == '>':
			angle = false
		case c == ',' && !angle:
			out = append(out, v[start:i])
			start = i + 1
		}
	}
	return append(out, v[start:])
}

// looseAddr takes the address out of one mailbox the parser refused.
func looseAddr(s string) string {
	if i := strings.LastIndexByte(s, '<'); i >= 0 {
		if j := strings.IndexByte(s[i:], '>'); j > 0 {
			if a := strings.TrimSpace(s[i+1 : i+j]); strings.Contains(a, "@") {
				return a
			}
		}
	}
	for _, w := range strings.Fields(s) {
		w = strings.Trim(w, `<>"(),;`)
		if strings.Count(w, "@") == 1 && !strings.HasPrefix(w, "@") && !strings.HasSuffix(w, "@") {
			return w
		}
	}
	return ""
}
