// Package resolver is the DNS layer every mailtrust check shares.
//
// DNS is mailtrust's database: PTR, HELO, SPF, DKIM keys, DMARC policies and
// ARC keys are all DNS questions. This package asks them and keeps apart the
// three outcomes the mail RFCs treat differently:
//
//   - an answer, possibly empty: NXDOMAIN and NODATA (RFC 2308 §1) are normal
//     answers, reported in [Answer], never as errors;
//   - a temporary failure (SERVFAIL, REFUSED, timeout, network error), which
//     the checks turn into "temperror" (RFC 7208 §2.6.6, RFC 6376 §6.1.2,
//     RFC 7489 §6.6.3): wrapped [ErrTemporary];
//   - a permanent failure (a CNAME loop, an invalid name), wrapped
//     [ErrPermanent].
//
// Implementations: [System] (the host's resolver through *net.Resolver),
// [Client] (a stub resolver on github.com/miekg/dns that talks to
// recursive servers), [Zone] (RFC 1035 master files, for offline replay).
// Wrappers: [Cache] (TTL and negative caching after RFC 2308, shared by
// many messages; [Default] is a Cache over System), [Memo] (one consistent
// view of DNS and a query budget for the evaluation of one message) and
// [Recorder] (writes what it saw as a master file a Zone can replay).
// [Go] and [Tasks] run the DNS-bound work of a check concurrently, or at
// once on the caller's goroutine when a Memo has every answer it needs at
// hand.
// Package resolvertest runs a Zone as a DNS server on the loopback
// interface, for tests that need the wire.
//
// What it does not do: recursion from the root (Client needs a recursive
// server), DNSSEC validation, anything about mail.
package resolver

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/miekg/dns"
)

// Resolver answers one DNS question. It follows CNAME chains as a recursive
// resolver does (RFC 1034 §3.6.2) and reports the chain in the Answer.
//
// NXDOMAIN and NODATA are successful answers with no records. A non-nil
// error wraps ErrTemporary or ErrPermanent. Implementations must honour ctx
// and be safe for concurrent use.
type Resolver interface {
	Lookup(ctx context.Context, name string, qtype uint16) (*Answer, error)
}

// Answer is the result of one DNS question. An Answer from a Memo is
// shared by every check of the message: read it, never change it.
type Answer struct {
	// Name is the question name, fully qualified and lower case.
	Name string
	// Type is the question type (dns.TypeTXT, ...).
	Type uint16
	// Rcode is dns.RcodeSuccess or dns.RcodeNameError (NXDOMAIN).
	Rcode int
	// CNAMEs is the alias chain followed from Name, in order.
	CNAMEs []*dns.CNAME
	// Records holds the answer records of Type, owned by the end of the
	// CNAME chain. Callers must not modify them: answers may be shared.
	Records []dns.RR
	// TTL is the time the answer may be cached, in seconds: the smallest
	// TTL of the records and aliases, or for a negative answer the SOA
	// minimum (RFC 2308 §5).
	TTL uint32
	// SOA is, for a negative answer (NXDOMAIN or NODATA), the SOA record
	// of the zone that gave it (RFC 2308 §3), when known; nil otherwise.
	SOA *dns.SOA
}

// clone returns a copy of a that callers may change without touching a
// shared answer; the records themselves are shared.
func (a *Answer) clone() *Answer {
	if a == nil {
		return nil
	}
	c := *a
	return &c
}

// Question is a DNS question of class IN: a fully qualified, lower-case
// name and a type.
type Question struct {
	Name string
	Type uint16
}

// String is "name TYPE".
func (q Question) String() string { return q.Name + " " + TypeString(q.Type) }

// question normalizes name and qtype into a Question.
func question(name string, qtype uint16) Question {
	return Question{Name: Fqdn(name), Type: qtype}
}

// NXDomain reports whether the name does not exist (RFC 2308 §2.1).
func (a *Answer) NXDomain() bool { return a.Rcode == dns.RcodeNameError }

// Empty reports whether the answer holds no record of the asked type:
// NXDOMAIN or NODATA (RFC 2308 §2.2).
func (a *Answer) Empty() bool { return len(a.Records) == 0 }

// Target is the owner name of the records: the end of the CNAME chain.
func (a *Answer) Target() string {
	if n := len(a.CNAMEs); n > 0 {
		return lowerASCII(a.CNAMEs[n-1].Target)
	}
	return a.Name
}

// Errors. Every error a Resolver returns wraps exactly one of them.
var (
	// ErrTemporary: SERVFAIL, REFUSED, timeout or a network failure. Asking
	// again later may succeed; checks report temperror.
	ErrTemporary = errors.New("resolver: temporary failure")
	// ErrPermanent: a CNAME loop, an invalid name, a spent query budget.
	// Asking again will not help; checks report permerror.
	ErrPermanent = errors.New("resolver: permanent failure")
)

// Error describes a failed question.
type Error struct {
	// Name and Type are the question asked (not the alias being followed
	// when the failure happened).
	Name   string
	Type   uint16
	Rcode  int    // the server's rcode, or -1 when no answer came
	Reason string // short, human-readable
	Kind   error  // ErrTemporary or ErrPermanent
	Err    error  // underlying cause, may be nil
	// CNAMEs are the aliases followed before the failure, when known: it
	// happened at the target of the last one. A recursive server that
	// fails along a chain usually hides it, so this is often empty.
	CNAMEs []*dns.CNAME
	// Server is the server that failed to answer, when known. It is not
	// part of Error(), which must read the same live and replayed.
	Server string
}

// contextError is the error of a question abandoned because ctx ended.
func contextError(q Question, err error) error {
	return &Error{Name: q.Name, Type: q.Type, Rcode: -1, Reason: "context ended", Kind: ErrTemporary, Err: err}
}

// Error formats the question, the kind of failure and its reason.
func (e *Error) Error() string {
	s := fmt.Sprintf("%s: %s %s: %s", e.Kind, strings.TrimSuffix(e.Name, "."), TypeString(e.Type), e.Reason)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap allows errors.Is(err, ErrTemporary) and reaching the cause.
func (e *Error) Unwrap() []error {
	if e.Err != nil {
		return []error{e.Kind, e.Err}
	}
	return []error{e.Kind}
}

// IsTemporary reports whether err is a temporary DNS failure, including a
// context that ended (the question was not answered in time).
func IsTemporary(err error) bool {
	return errors.Is(err, ErrTemporary) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)
}

// TypeString is the mnemonic of a record type ("TXT").
func TypeString(t uint16) string {
	if s, ok := dns.TypeToString[t]; ok {
		return s
	}
	return fmt.Sprintf("TYPE%d", t)
}

// Fqdn returns name lower-cased and fully qualified. It does not validate.
func Fqdn(name string) string {
	return dns.Fqdn(lowerASCII(name))
}

// lowerASCII lower-cases the ASCII letters of a DNS name and leaves every
// other octet alone: names are octet strings compared case-insensitively
// in ASCII only (RFC 4343 §3). strings.ToLower would replace an octet that
// is not UTF-8 with U+FFFD and so name another node.
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if c := b[j]; 'A' <= c && c <= 'Z' {
					b[j] = c + 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// CheckName validates a name before it is asked (RFC 1035 §2.3.4: labels of
// 1 to 63 octets, 255 in all). Names built from message content (a DKIM
// d= and s=, a HELO) pass through here so that empty labels, NUL bytes or
// spaces are refused rather than sent or silently cut. The octets that are
// special in master files (RFC 1035 §5.1) are refused too, so that every
// name asked can be written to and read back from a zone file unchanged.
func CheckName(name string) error {
	n := strings.TrimSuffix(name, ".")
	if n == "" {
		return errors.New("empty name")
	}
	if len(n) > 253 {
		return errors.New("name longer than 253 octets")
	}
	for label := range strings.SplitSeq(n, ".") { // no slice: names from every check pass here
		if label == "" {
			return errors.New("empty label")
		}
		if len(label) > 63 {
			return errors.New("label longer than 63 octets")
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if c <= ' ' || c >= 0x7f || c == '\\' || c == '"' || c == '\'' || c == '(' || c == ')' || c == ';' || c == '@' || c == '$' {
				return fmt.Errorf("invalid octet %q in label", c)
			}
		}
	}
	return nil
}
