package forward

import (
	"net/netip"
	"strings"

	"github.com/mailtrust/mailtrust/internal/arfield"
	"github.com/mailtrust/mailtrust/message"
	"github.com/mailtrust/mailtrust/resolver"
)

// Bounds on the Received fields read: a message may carry hundreds, made
// up by its sender.
const (
	maxReceived      = 30
	maxReceivedBytes = 2048
)

// receivedHop is what one Received field (RFC 5321 §4.4) says.
type receivedHop struct {
	from string // the "from" domain as the client named it
	by   string // the host that wrote the field
	rcpt string // the "for" address, if any
}

// receivedHops parses the Received fields of h, top (newest) first,
// bounded by maxReceived fields of maxReceivedBytes each.
func receivedHops(h *message.Header) []receivedHop {
	var out []receivedHop
	for _, f := range h.Get("received") {
		if len(out) >= maxReceived {
			break
		}
		v := f.Unfolded()
		if len(v) > maxReceivedBytes {
			v = v[:maxReceivedBytes]
		}
		out = append(out, parseReceived(v))
	}
	return out
}

// parseReceived reads the clauses of a Received value:
//
//	Received: from a.example (a.example [192.0.2.1]) by b.example with ESMTP
//	  id X for <u@b.example>; date
//
// Comments are dropped, the date after the last ";" ignored, and each
// keyword's next word taken. It never fails: a missing clause stays empty.
func parseReceived(v string) receivedHop {
	if i := strings.LastIndexByte(v, ';'); i >= 0 {
		v = v[:i]
	}
	words := strings.Fields(arfield.StripComments(v))
	var hop receivedHop
	for i := 0; i+1 < len(words); i++ {
		next := words[i+1]
		switch strings.ToLower(words[i]) {
		case "from":
			if hop.from == "" {
				hop.from = hostName(next)
			}
		case "by":
			if hop.by == "" {
				hop.by = hostName(next)
			}
		case "for":
			if hop.rcpt == "" {
				hop.rcpt = strings.Trim(next, "<>;,")
			}
		}
	}
	return hop
}

// hostName returns w lower-cased when it is a usable host name: not an
// address literal or bare IP, with at least two labels.
func hostName(w string) string {
	w = strings.ToLower(strings.TrimSuffix(strings.Trim(w, "<>[];,"), "."))
	if w == "" || !strings.Contains(w, ".") {
		return ""
	}
	if _, err := netip.ParseAddr(w); err == nil {
		return ""
	}
	if resolver.CheckName(w) != nil {
		return ""
	}
	return w
}
