package trust

import (
	"log/slog"
	"net/netip"
	"time"

	"github.com/mailtrust/mailtrust/arc"
	"github.com/mailtrust/mailtrust/dkim"
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
type Conn struct {
	// IP is the connecting client's address.
	IP netip.Addr
	// HELO is the name given in HELO/EHLO.
	HELO string
	// MailFrom is the reverse-path without angle brackets; "" (or "<>") is
	// the null reverse-path.
	MailFrom string
	// RcptTo are the envelope recipients.
	RcptTo []string
	// Time is the moment of receipt, against which signature timestamps
	// and expiry are judged. Zero means now.
	Time time.Time
	// Authenticated reports that the client authenticated (SMTP AUTH on a
	// submission or connector port): the receiver's own relays, trusted by
	// configuration.
	Authenticated bool
}

// Thresholds map a score to a level: score <= Trusted is trusted, score >=
// Untrusted is untrusted, score >= Suspicious is suspicious, anything else
// neutral.
type Thresholds struct {
	Trusted, Suspicious, Untrusted float64
}

// DefaultThresholds are used when Options.Thresholds is zero.
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
	// MaxDNSQueries bounds the distinct DNS questions (name and type) of
	// one evaluation; a question asked twice counts once. Default 100.
	// Further questions are not asked: they fail as permanent DNS errors,
	// which the checks report in their own words, and the verdict gives
	// dns.budget-exhausted.
	MaxDNSQueries int
	// Timeout bounds one evaluation when the caller's context has no
	// earlier deadline. Default 15 s. When either ends first, unanswered
	// questions are temperror, the verdict is partial and Incomplete, and
	// it gives eval.deadline.
	Timeout time.Duration
}

// Default limits, each the default of the package that enforces it.
const (
	DefaultMaxDKIMSignatures = dkim.DefaultMaxSignatures
	DefaultMaxARCSets        = arc.DefaultMaxSets
	DefaultMaxDNSQueries     = resolver.DefaultMaxQueries
	DefaultTimeout           = 15 * time.Second
)

func (l Limits) withDefaults() Limits {
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
	// Weights override default signal weights by code.
	Weights map[Code]float64
	// Thresholds map the score to a level. Zero means DefaultThresholds.
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
	// Limits bound the work per message.
	Limits Limits
	// Logger receives debug records of each evaluation. Nil discards.
	Logger *slog.Logger
	// ConnCache bounds the connection results kept across messages, in
	// entries: PTR, HELO, SPF and the existence of the From and MAIL FROM
	// domains, per (IP, HELO, MAIL FROM, From domain), each until the
	// smallest TTL of the answers of the evaluation that computed it (at
	// most five minutes), and never when a question of it failed. The
	// same sender sends many messages. Zero keeps none. Use it only when
	// Resolver is one view of DNS for every message (a cache over real
	// DNS), not one that changes per message (a replayed case's zone).
	ConnCache int
}
