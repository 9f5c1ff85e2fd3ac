package forward

import (
	"net/netip"
	"strings"

	"github.com/mailtrust/mailtrust/message"
	"github.com/mailtrust/mailtrust/received"
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

// parseReceived reads the clauses of a Received value with the trace
// parser (received.Parse), keeping the host names that are names: an
// address or literal in the from- or by-clause stays empty.
func parseReceived(v string) receivedHop {
	f := received.Parse(v)
	return receivedHop{from: hostName(f.From.HELO), by: hostName(f.By), rcpt: f.For}
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
