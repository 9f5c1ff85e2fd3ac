// Package sender checks that the domains a message names exist: the From
// domain, the MAIL FROM domain and the domains of the To and Cc
// recipients. Receivers' documentation treats mail from, or addressed to,
// a domain that does not exist as untrusted: nobody can own such a domain,
// and no reply can reach it.
//
// A domain does not exist when DNS answers NXDOMAIN (RFC 8020: nothing
// exists below it either; RFC 2308 §2.1). The question asked is MX, the one
// the HELO check's MX comparison asks too, so an evaluation's memo answers
// it once.
//
// What this package does not do: it does not check that a mailbox exists
// (only SMTP can tell, and asking leaks), nor that a domain accepts mail (a
// domain without MX still exists, RFC 5321 §5.1 falls back to its address).
package sender

import (
	"context"
	"fmt"
	"slices"

	"github.com/miekg/dns"

	"github.com/mailtrust/mailtrust/message"
	"github.com/mailtrust/mailtrust/resolver"
)

// Status says whether a domain exists.
type Status string

// Statuses.
const (
	// StatusExists: DNS knows the name (an answer or NODATA).
	StatusExists Status = "exists"
	// StatusNXDomain: DNS says the name does not exist.
	StatusNXDomain Status = "nxdomain"
	// StatusTemperror: the question failed temporarily; ask again later.
	StatusTemperror Status = "temperror"
	// StatusUnknown: the name cannot be asked (not a valid DNS name) or
	// the answer was broken for good: existence is unknown, not denied.
	StatusUnknown Status = "unknown"
)

// Result is the existence of one domain.
type Result struct {
	Domain string
	Status Status
	// Err is the DNS error behind StatusTemperror or StatusUnknown.
	Err error
}

// Question returns the question Check asks for name, and ok false when
// Check asks none (name is no valid DNS name). A caller that bounds an
// evaluation's DNS may reserve it (resolver.Memo.Reserve).
func Question(name string) (q resolver.Question, ok bool) {
	if resolver.CheckName(name) != nil {
		return q, false
	}
	return resolver.Question{Name: resolver.Fqdn(name), Type: dns.TypeMX}, true
}

// Check asks whether name exists.
func Check(ctx context.Context, r resolver.Resolver, name string) Result {
	res := Result{Domain: name}
	if err := resolver.CheckName(name); err != nil {
		res.Status, res.Err = StatusUnknown, err
		return res
	}
	_, a, err := resolver.MX(ctx, r, name)
	switch {
	case err != nil && resolver.IsTemporary(err):
		res.Status, res.Err = StatusTemperror, err
	case err != nil:
		res.Status, res.Err = StatusUnknown, err
	case a.NXDomain():
		res.Status = StatusNXDomain
	default:
		res.Status = StatusExists
	}
	return res
}

// DefaultMaxRecipientDomains bounds the recipient domains Recipients asks
// about: a header may name thousands, chosen by the sender.
const DefaultMaxRecipientDomains = 5

// RecipientDomains returns the distinct domains of the To and Cc mailboxes
// of h, in order, at most max (DefaultMaxRecipientDomains when max <= 0).
func RecipientDomains(h *message.Header, max int) []string {
	return recipientDomains(h, max, nil)
}

func recipientDomains(h *message.Header, max int, own []string) []string {
	if h == nil {
		return nil
	}
	if max <= 0 {
		max = DefaultMaxRecipientDomains
	}
	var doms []string
	for _, key := range [...]string{"to", "cc"} {
		boxes, _ := message.Addresses(h, key)
		for _, b := range boxes {
			if len(doms) == max {
				return doms
			}
			if b.Domain != "" && !slices.Contains(doms, b.Domain) && !ownDomain(own, b.Domain) {
				doms = append(doms, b.Domain)
			}
		}
	}
	return doms
}

// ownDomain reports whether d is the domain of one of the envelope
// recipients rcpt.
func ownDomain(rcpt []string, d string) bool {
	for _, r := range rcpt {
		if message.DomainOf(r) == d {
			return true
		}
	}
	return false
}

// Recipients checks the recipient domains of h (RecipientDomains)
// concurrently and returns one Result each, in the same order.
func Recipients(ctx context.Context, r resolver.Resolver, h *message.Header, max int) []Result {
	return RecipientsExcept(ctx, r, h, max, nil)
}

// RecipientsExcept is Recipients without the domains of the envelope
// recipients rcpt (RCPT TO addresses): the receiver accepted mail for
// them, so it knows they exist, and asking DNS about them would only cost
// a question (usually the MX of the receiver's own domain).
func RecipientsExcept(ctx context.Context, r resolver.Resolver, h *message.Header, max int, rcpt []string) []Result {
	doms := recipientDomains(h, max, rcpt)
	if len(doms) == 0 {
		return nil
	}
	out := make([]Result, len(doms))
	var tasks resolver.Tasks
	for i, d := range doms {
		tasks.Go(r, func(r resolver.Resolver) { out[i] = Check(ctx, r, d) })
	}
	tasks.Wait()
	return out
}

// String describes r in a few words.
func (r Result) String() string {
	if r.Err != nil {
		return fmt.Sprintf("%s: %s (%v)", r.Domain, r.Status, r.Err)
	}
	return r.Domain + ": " + string(r.Status)
}
