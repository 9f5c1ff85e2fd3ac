package forward

import (
	"github.com/mailtrust/mailtrust/message"
	"github.com/mailtrust/mailtrust/received"
	"github.com/mailtrust/mailtrust/resolver"
)

// receivedHop is what one Received field (RFC 5321 §4.4) says.
type receivedHop struct {
	from string // the "from" domain as the client named it
	by   string // the host that wrote the field
	rcpt string // the "for" address, if any
}

// receivedHops parses the Received fields of h, top (newest) first, within
// the trace parser's bounds: received.MaxFields fields, each read up to
// received.MaxFieldBytes (a message may carry hundreds, made up by its
// sender).
func receivedHops(h *message.Header) []receivedHop {
	var out []receivedHop
	for _, f := range h.Get("received") {
		if len(out) >= received.MaxFields {
			break
		}
		out = append(out, parseReceived(f.Unfolded()))
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

// hostName is received.HostName, kept only when it is a name the DNS can
// be asked about: the organization of a hop is read from it.
func hostName(w string) string {
	n := received.HostName(w)
	if n == "" || resolver.CheckName(n) != nil {
		return ""
	}
	return n
}
