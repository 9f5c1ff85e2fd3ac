package forward

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/emersion/go-msgauth/authres"
	"github.com/mailtrust/mailtrust/arc"
	"github.com/mailtrust/mailtrust/internal/arfield"
	"github.com/mailtrust/mailtrust/internal/domain"
	"github.com/mailtrust/mailtrust/message"
)

// Trust is the receiver's configuration of forwarders it trusts.
type Trust struct {
	// Forwarders are domains. An ARC-Seal d= equal to one of them or
	// below it is a trusted sealer; an Authentication-Results authserv-id
	// equal to one or below it is a trusted upstream assessor.
	Forwarders []string
}

// match returns the configured forwarder that name equals or lies below.
func (t Trust) match(name string) (string, bool) {
	name = domain.Normalize(name)
	if name == "" {
		return "", false
	}
	for _, f := range t.Forwarders {
		f = domain.Normalize(strings.TrimSpace(f))
		if f != "" && domain.IsSubdomain(name, f) {
			return f, true
		}
	}
	return "", false
}

// Conn is what the receiver knows of the connection that delivered the
// message.
type Conn struct {
	// IP is the connecting client's address.
	IP netip.Addr
	// PTRConfirmed are the client's forward-confirmed PTR names (FCrDNS).
	PTRConfirmed []string
	// HELO is the name the client gave; HELOPass reports that it
	// resolves to IP.
	HELO     string
	HELOPass bool
}

// Via says how an Original was carried.
type Via string

// How an Original was carried.
const (
	ViaARC         Via = "arc"
	ViaAuthResults Via = "authentication-results"
)

// Original is the authentication a trusted forwarder recorded before
// forwarding broke it.
type Original struct {
	// Via is ViaARC or ViaAuthResults.
	Via Via
	// Forwarder is the trusted sealer's d= (ARC) or the trusted
	// authserv-id (Authentication-Results).
	Forwarder string
	// Instance is the ARC set whose results these are; 0 for
	// Authentication-Results.
	Instance int
	// SPF, DKIM and DMARC are the RFC 8601 result words recorded ("pass",
	// "fail", ...), empty when not recorded.
	SPF, DKIM, DMARC authres.ResultValue
	// DKIMDomain, SPFDomain and FromDomain are the domains the results are
	// about, when recorded.
	DKIMDomain, SPFDomain, FromDomain string
	// Detail says in one line what was carried and by whom.
	Detail string
}

// Rescue returns the original authentication carried across trusted
// forwarding, or nil, and the upstream Authentication-Results fields that
// claim a trusted forwarder's authserv-id although that forwarder did not
// hand the message over (forgeries, one line each).
//
// ARC: the chain must pass (not merely fail temporarily) and the newest
// sealer — the one that handed the message over (RFC 8617 §7.2) — must be
// trusted. The results used are those of the oldest set of the run of
// trusted sealers that ends at the newest: i=1 when every sealer is
// trusted, otherwise what the first trusted sealer saw on arrival, since an
// untrusted earlier sealer's testimony proves nothing. The newest
// ARC-Message-Signature must sign From, and a dmarc result must be about
// the message's From domain: otherwise a sealed message could be replayed
// under another From. from is the identity the caller holds
// (message.ParseFrom); a message without a single usable From domain (no
// From, several fields or mailboxes) is never rescued, through ARC or
// Authentication-Results: what was authenticated upstream cannot be tied
// to the one author a reader sees.
//
// Authentication-Results (RFC 8601 §5: such fields are trusted only from
// within the receiver's trust boundary): the topmost field whose
// authserv-id is trusted counts when the connection came from that
// forwarder, shown by a forward-confirmed PTR name or a passing HELO within
// the forwarder's domain. Any trusted-looking field from another connection
// is reported as forged and never used.
func Rescue(h *message.Header, from message.From, chain arc.Result, conn Conn, t Trust) (orig *Original, forged []string) {
	if h == nil || len(t.Forwarders) == 0 {
		return nil, nil
	}
	fromDomain := from.Domain
	if fromDomain != "" {
		orig = rescueARC(chain, t, fromDomain)
	}
	seen := map[string]bool{}
	for _, f := range h.Get("authentication-results") {
		id, results := arfield.Parse(f.Value())
		fwd, ok := t.match(id)
		if !ok {
			continue
		}
		if !handedOver(conn, fwd) {
			if !seen[id] {
				seen[id] = true
				forged = append(forged, fmt.Sprintf("Authentication-Results with the trusted authserv-id %s, but the message came from %s, not from %s",
					id, describeConn(conn), fwd))
			}
			continue
		}
		if orig != nil || fromDomain == "" {
			continue
		}
		w := summarize(results, domain.SameOrg, fromDomain)
		if w.fromDom != "" && w.fromDom != fromDomain {
			continue // about another From: it does not describe this message
		}
		orig = &Original{
			Via: ViaAuthResults, Forwarder: id,
			SPF: w.spf, DKIM: w.dkim, DMARC: w.dmarc,
			SPFDomain: w.spfDomain, DKIMDomain: w.dkimDomain, FromDomain: firstNonEmpty(w.fromDom, fromDomain),
		}
		orig.Detail = fmt.Sprintf("Authentication-Results by %s, delivered by it (%s): %s", id, describeConn(conn), w.words())
	}
	return orig, forged
}

func rescueARC(chain arc.Result, t Trust, fromDomain string) *Original {
	n := len(chain.Sets)
	if chain.Status != arc.Pass || chain.Temporary || n == 0 {
		return nil
	}
	newest := chain.Sets[n-1]
	if _, ok := t.match(newest.SealDomain); !ok {
		return nil
	}
	if !slices.Contains(newest.AMSHeaders, "from") || fromDomain == "" {
		return nil
	}
	k := n
	for k > 1 {
		if _, ok := t.match(chain.Sets[k-2].SealDomain); !ok {
			break
		}
		k--
	}
	set := chain.Sets[k-1]
	w := summarize(set.Results, domain.SameOrg, fromDomain)
	if w.fromDom != "" && w.fromDom != fromDomain {
		return nil
	}
	o := &Original{
		Via: ViaARC, Forwarder: newest.SealDomain, Instance: k,
		SPF: w.spf, DKIM: w.dkim, DMARC: w.dmarc,
		SPFDomain: w.spfDomain, DKIMDomain: w.dkimDomain, FromDomain: firstNonEmpty(w.fromDom, fromDomain),
	}
	o.Detail = fmt.Sprintf("ARC chain of %d set(s) passes, sealed last by trusted %s; i=%d (%s, sealed by %s) recorded %s",
		n, newest.SealDomain, k, set.AuthServID, set.SealDomain, w.words())
	return o
}

// handedOver reports whether the connection came from the forwarder: a
// forward-confirmed PTR name or a passing HELO within its domain.
func handedOver(c Conn, fwd string) bool {
	for _, n := range c.PTRConfirmed {
		if domain.IsSubdomain(n, fwd) {
			return true
		}
	}
	return c.HELOPass && domain.IsSubdomain(c.HELO, fwd)
}

func describeConn(c Conn) string {
	s := "an unknown client"
	if c.IP.IsValid() {
		s = c.IP.String()
	}
	if len(c.PTRConfirmed) > 0 {
		s += " (" + strings.TrimSuffix(c.PTRConfirmed[0], ".") + ")"
	}
	if c.HELO != "" {
		s += ", HELO " + c.HELO
		if !c.HELOPass {
			s += " (not confirmed)"
		}
	}
	return s
}

func (w resultWords) words() string {
	part := func(name string, v authres.ResultValue, d string) string {
		if v == "" {
			v = "(none)"
		}
		if d != "" {
			return fmt.Sprintf("%s=%s (%s)", name, v, d)
		}
		return name + "=" + string(v)
	}
	return strings.Join([]string{part("spf", w.spf, w.spfDomain), part("dkim", w.dkim, w.dkimDomain), part("dmarc", w.dmarc, w.fromDom)}, " ")
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

// resultWords summarizes authentication results the way RFC 8601 words
// them: the SPF, DKIM and DMARC result, and the domains they are about.
// Of several DKIM results, a pass for fromDomain (or its organization) is
// preferred, then any pass, then the first.
type resultWords struct {
	spf, dkim, dmarc               authres.ResultValue
	spfDomain, dkimDomain, fromDom string
}

func summarize(results []authres.Result, sameOrg func(a, b string) bool, fromDomain string) resultWords {
	var w resultWords
	dkimRank := -1
	for _, r := range results {
		switch r := r.(type) {
		case *authres.SPFResult:
			if w.spf == "" {
				w.spf = r.Value
				if r.From != "" {
					w.spfDomain = message.DomainOf(r.From)
				} else {
					w.spfDomain = domain.Normalize(r.Helo)
				}
			}
		case *authres.DKIMResult:
			d := domain.Normalize(r.Domain)
			if d == "" && r.Identifier != "" {
				d = message.DomainOf(r.Identifier)
			}
			rank := 0
			if r.Value == authres.ResultPass {
				rank = 1
				if fromDomain != "" && d != "" && sameOrg(d, fromDomain) {
					rank = 2
				}
			}
			if rank > dkimRank {
				dkimRank = rank
				w.dkim, w.dkimDomain = r.Value, d
			}
		case *authres.DMARCResult:
			if w.dmarc == "" {
				w.dmarc = r.Value
				w.fromDom = message.DomainOf(r.From)
			}
		}
	}
	return w
}
