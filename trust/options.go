package trust

import (
	"log/slog"
	"net/netip"
	"time"

	"github.com/mailtrust/mailtrust/arc"
	"github.com/mailtrust/mailtrust/dkim"
	"github.com/mailtrust/mailtrust/received"
	"github.com/mailtrust/mailtrust/resolver"
)

// Level is a verdict's trust level.
type Level string

// Levels, from most to least trusted.
const (
	Trusted    Level = "trusted"
	Neutral    Level = "neutral"
	Suspicious Level = "suspicious"
	Untrusted  Level = "untrusted"
)

// Conn holds what the SMTP session said about a message.
//
// A fact the caller does not know is unknown, not empty: a zero IP, an
// empty HELO, and MailFrom when Unknown lists FactMailFrom (since "" is
// the null reverse-path, a fact). The checks that need an unknown fact are
// not run and not weighed: no PTR, HELO or SPF check without the IP, no
// HELO check without the name, no SPF without MAIL FROM, and DMARC cannot
// fail on SPF's account. The verdict gives one reason per unknown fact
// (conn.ip-unknown, conn.helo-unknown, conn.mail-from-unknown) and is at
// most neutral (conn.unknown-capped).
//
// With Options.Receiver set, a Conn without an IP takes the facts it does
// not give from the receiver's trace fields; the facts it gives are kept.
// It gives a HELO name when HELO is not empty, recipients when RcptTo is
// not empty, a time when Time is not zero and Unknown does not list
// FactTime, and MAIL FROM unless Unknown lists FactMailFrom; but the null
// reverse-path only alongside another fact, since the zero Conn describes
// no session and takes every fact from the trace. So a stored message
// judged with no facts is judged by its trace, and a milter behind one of
// the receiver's relays gives MAIL FROM, RCPT TO and the time from the
// session and leaves the IP and HELO, the relay's own, to the trace.
type Conn struct {
	// IP is the connecting client's address; the zero Addr is unknown.
	IP netip.Addr
	// HELO is the name given in HELO/EHLO; "" is unknown.
	HELO string
	// MailFrom is the reverse-path without angle brackets; "" (or "<>") is
	// the null reverse-path, unless Unknown lists FactMailFrom.
	MailFrom string
	// RcptTo are the envelope recipients; none given is unknown, which
	// no check depends on.
	RcptTo []string
	// Time is the moment of receipt, against which signature timestamps
	// and expiry are judged. Zero means now.
	Time time.Time
	// Authenticated reports that the client authenticated (SMTP AUTH on a
	// submission or connector port): the receiver's own relays, trusted by
	// configuration.
	Authenticated bool
	// Unknown lists facts the caller does not know, for those whose zero
	// value is a fact (FactMailFrom). FactTime here means Time is only the
	// clock the message is judged against, not its time of receipt: the
	// verdict line then gives no conn.time. See Missing.
	Unknown Facts
	// Source says where the facts came from, as the verdict line's
	// conn.from reports it: SourceCase (the default: the caller saw the
	// session) or SourceHeaders (read back from the receiver's trace
	// fields; Evaluate sets it when it does so, see Options.Receiver).
	Source string
}

// Thresholds map a score to a level: score <= Trusted is trusted, score >=
// Untrusted is untrusted, score >= Suspicious is suspicious, anything else
// neutral.
type Thresholds struct {
	Trusted, Suspicious, Untrusted float64
}

// DefaultThresholds are used when Options.Thresholds is zero: trusted at
// a score of -2.5 or less, suspicious from 2.5, untrusted from 6.0, neutral
// between. Fully authenticated mail scores about -6; one DMARC fail
// (6.5) alone makes a message untrusted.
func DefaultThresholds() Thresholds {
	return Thresholds{Trusted: -2.5, Suspicious: 2.5, Untrusted: 6.0}
}

// Limits bound the work spent on one message, so that hostile input costs
// no more than they allow. Zero fields take the defaults; every limit is
// inclusive: a message at the limit is evaluated in full, one unit more is
// refused as below, and the verdict still comes with the reason code named.
type Limits struct {
	// MaxHeaderBytes bounds the header block, in octets, line endings and
	// the empty line that ends it included. Default 1 MiB. Beyond it the
	// checks run on the fields read so far, no signature is verified,
	// and the verdict gives message.header-limit.
	MaxHeaderBytes int
	// MaxHeaderFields bounds the number of header fields (a folded field
	// counts once). Default 1000. Beyond it: as for MaxHeaderBytes.
	MaxHeaderFields int
	// MaxLineLength bounds one physical header line, in octets, without
	// its CRLF or LF, as RFC 5322 §2.1.1 counts its 998. Default 64 KiB,
	// since real mail exceeds the RFC. Beyond it: as for MaxHeaderBytes.
	MaxLineLength int
	// MaxBodyBytes bounds the body octets read, as they come (before
	// canonicalization). Default 64 MiB. The rest is not read nor hashed:
	// a DKIM signature whose body hash covers more is neutral, not
	// verified, and so fails an ARC-Message-Signature that does (RFC 6376
	// §6.1 lets verifiers limit their work; RFC 8617 §5.2 has no neutral);
	// the verdict gives message.body-limit.
	MaxBodyBytes int64
	// MaxDKIMSignatures bounds the DKIM signatures verified, top to
	// bottom (RFC 6376 §6.1 lets verifiers limit them). Default 8. The
	// others are reported neutral, unverified, and the verdict gives
	// dkim.too-many-signatures.
	MaxDKIMSignatures int
	// MaxARCSets bounds the ARC sets accepted. Default and maximum 50
	// (RFC 8617 §4.2.1: instances 1 to 50); a larger value means 50. A
	// longer chain fails before any key is asked (RFC 8617 §5.2 step 1)
	// and the verdict gives arc.too-many-sets.
	MaxARCSets int
	// MaxDNSQueries bounds the DNS traffic of one evaluation: each
	// distinct question (name and type) costs one, a question asked twice
	// counting once, and each further round trip a resolver.Client makes
	// for it (a CNAME hop it follows, a retry, a TCP retry) one more.
	// Default 100. Beyond it nothing more is sent: questions fail as
	// permanent DNS errors, which the checks report in their own words
	// (permerror, never temperror: the same message spends the budget the
	// same way when asked again, and a temperror would turn DMARC fail
	// into temperror, RFC 7489 §6.6.2), and the verdict gives
	// dns.budget-exhausted.
	//
	// The questions that decide what a spoof becomes never starve: the
	// TXT questions of DMARC policy discovery for the From domain (RFC
	// 7489 §6.6.3) and the From domain's existence hold one unit each of
	// the budget from the start, which no other question may spend, and
	// each may make resolver.ReservedRoundTrips further round trips
	// beyond the budget (resolver.Memo.Reserve). A message that spends
	// the budget on Cc domains, signatures or SPF includes still meets
	// its From domain's p=reject.
	MaxDNSQueries int
	// Timeout bounds one evaluation when the caller's context has no
	// earlier deadline, reading the body included (checked per chunk).
	// Default 15 s. When either ends first, unanswered questions are
	// temperror, and so are signatures whose body was not hashed to the
	// end; the verdict is partial and Incomplete, and it gives
	// eval.deadline.
	Timeout time.Duration
}

// Default limits, each the default of the package that enforces it.
const (
	DefaultMaxBodyBytes      = 64 << 20
	DefaultMaxDKIMSignatures = dkim.DefaultMaxSignatures
	DefaultMaxARCSets        = arc.DefaultMaxSets
	DefaultMaxDNSQueries     = resolver.DefaultMaxQueries
	DefaultTimeout           = 15 * time.Second
)

func (l Limits) withDefaults() Limits {
	if l.MaxBodyBytes <= 0 {
		l.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if l.MaxDKIMSignatures <= 0 {
		l.MaxDKIMSignatures = DefaultMaxDKIMSignatures
	}
	if l.MaxARCSets <= 0 || l.MaxARCSets > DefaultMaxARCSets {
		l.MaxARCSets = DefaultMaxARCSets
	}
	if l.MaxDNSQueries <= 0 {
		l.MaxDNSQueries = DefaultMaxDNSQueries
	}
	if l.Timeout <= 0 {
		l.Timeout = DefaultTimeout
	}
	return l
}

// Options configure an Evaluator. The zero value works.
type Options struct {
	// Resolver answers every DNS question. Nil means a cache over the
	// system resolver (resolver.Default). Share one cached resolver across
	// all messages of a pipeline.
	Resolver resolver.Resolver
	// Weights override default signal weights by code. The defaults, each
	// with what it means and why it weighs what it does, are Signals()
	// (docs/WEIGHTS.md).
	Weights map[Code]float64
	// Thresholds map the score to a level. Zero means DefaultThresholds:
	// trusted <= -2.5, suspicious >= 2.5, untrusted >= 6.0.
	Thresholds Thresholds
	// GroupCaps override the cap on a group's total positive weight
	// (default: connection signals at most 4.0). A cap <= 0 removes it.
	GroupCaps map[Group]float64
	// TrustedForwarders are domains whose forwarding is trusted: ARC
	// sealers (ARC-Seal d= equal to or below one) and authserv-ids of
	// upstream Authentication-Results headers.
	TrustedForwarders []string
	// Partners are addresses ("ops@partner.example") or domains
	// ("@partner.example") of known automated senders, flagged as
	// automated mail.
	Partners []string
	// AuthServID names this receiver in the Authentication-Results header
	// (RFC 8601 §2.5). Default "mailtrust".
	AuthServID string
	// Receiver names the receiver's own hosts, for messages judged after
	// delivery (an archive, a mailbox) or handed on by one of them (a
	// milter or smtptrust behind the receiver's relays: give the same
	// Receiver to both). When a Conn has no IP, the session facts the Conn
	// does not give (see Conn) are read from the Received field that the
	// outermost receiver host wrote on accepting the message from outside
	// (RFC 5321 §4.4: its from-clause records the client's address and
	// HELO), with Return-Path, X-Original-To and Delivered-To
	// (received.FromHeader); the facts the Conn gives are kept, and
	// Conn.Source becomes SourceHeaders. The zero value names none: a Conn
	// without an IP then stays without one.
	Receiver received.Receiver
	// ReceiverAuthServID is the authserv-id the receiver wrote into its
	// Authentication-Results at receipt (RFC 8601 §2.5), compared without
	// case. Such fields above the trace boundary are the receiver's own
	// results: not read as upstream results, not forgeries, and the first
	// is reported as Verdict.Recorded. Below the boundary, or in a message
	// judged on arrival (Conn facts given, no Receiver), they are forged
	// (upstream.forged-results). Empty: no field is treated so.
	ReceiverAuthServID string
	// Limits bound the work per message.
	Limits Limits
	// Logger receives debug records of each evaluation. Nil discards.
	Logger *slog.Logger
	// ConnCache bounds the connection results kept across messages, in
	// entries: PTR, HELO, SPF and the existence of the From and MAIL FROM
	// domains, per (IP, HELO, MAIL FROM, From domain), each until the
	// smallest TTL of the answers of the evaluation that computed it (at
	// most five minutes), and never when a question of it failed. The
	// same sender sends many messages. Zero means DefaultConnCache; a
	// negative value keeps none. Reuse is right whenever Resolver answers
	// the same question the same way within its TTL, as any DNS cache
	// assumes (real DNS, one zone for a whole replay); keep none when it
	// is made to answer differently from one message to the next.
	ConnCache int
}
