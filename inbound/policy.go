package inbound

import (
	"fmt"
	"strings"

	"github.com/mailtrust/mailtrust/trust"
)

// Action is what the receiver does with a message.
type Action int

// Actions.
const (
	Accept   Action = iota // deliver, with the verdict's fields added
	Reject                 // refuse for good (5xx)
	Tempfail               // ask the client to try again later (4xx)
)

// String names a in the log: accept, reject or tempfail.
func (a Action) String() string {
	switch a {
	case Reject:
		return "reject"
	case Tempfail:
		return "tempfail"
	}
	return "accept"
}

// Reply is the SMTP answer to the end of a message's data.
type Reply struct {
	Action Action
	// Code is the RFC 5321 §4.2 reply code: 250, 550 or 451.
	Code int
	// Enhanced is the RFC 3463 status code, "2.0.0", "5.7.1" or "4.7.0".
	Enhanced string
	// Text is one line of US-ASCII, free of '%' (which milter
	// implementations read as a format directive).
	Text string
}

// String is the reply as an SMTP server writes it, without CRLF.
func (r Reply) String() string { return fmt.Sprintf("%d %s %s", r.Code, r.Enhanced, r.Text) }

// Policy maps a verdict to a Reply. The zero value accepts every message.
type Policy struct {
	// Reject names the level from which messages are refused: Untrusted
	// refuses untrusted mail, Suspicious refuses suspicious and untrusted
	// mail; "" (or Trusted, Neutral, which would refuse good mail) never
	// refuses.
	Reject trust.Level
	// TempfailIncomplete answers 451 when a temporary DNS failure or the
	// deadline left the verdict incomplete, so that the client retries
	// and the message is judged in full then. Without it such a message is
	// accepted.
	TempfailIncomplete bool
}

// TopReasons is how many reason codes a refusal names.
const TopReasons = 3

// Decide returns the reply for v. An incomplete verdict is refused only
// when its BestLevel is refused: whatever the failed lookups would have
// said, it could not have been accepted, so a sender cannot escape refusal
// by making its own DNS fail. Otherwise what they would have said is
// unknown, and the message is deferred (TempfailIncomplete) or accepted, as
// RFC 7489 §6.6.3 and RFC 7208 §2.6.6 ask of a temporary error.
func (p Policy) Decide(v *trust.Verdict) Reply {
	if v.Incomplete && p.refuses(v.BestLevel) {
		return Reply{Reject, 550, "5.7.1", fmt.Sprintf("message refused: %s sender (%s)", v.BestLevel, strings.Join(Codes(v, TopReasons, true), ", "))}
	}
	if v.Incomplete {
		if p.TempfailIncomplete {
			// RFC 3463 X.7.0: other security status; RFC 7372 has no code
			// for a temporary failure of every method at once.
			return Reply{Tempfail, 451, "4.7.0", "temporary DNS failure while authenticating the sender, try again later"}
		}
		return accepted
	}
	if p.refuses(v.Level) {
		return Reply{Reject, 550, "5.7.1", fmt.Sprintf("message refused: %s sender (%s)", v.Level, strings.Join(Codes(v, TopReasons, true), ", "))}
	}
	return accepted
}

var accepted = Reply{Accept, 250, "2.0.0", "ok"}

func (p Policy) refuses(l trust.Level) bool {
	switch p.Reject {
	case trust.Untrusted:
		return l == trust.Untrusted
	case trust.Suspicious:
		return l == trust.Suspicious || l == trust.Untrusted
	}
	return false
}

// ParseLevel reads a -reject flag: "", "none", "untrusted" or "suspicious".
func ParseLevel(s string) (trust.Level, error) {
	switch l := trust.Level(strings.ToLower(strings.TrimSpace(s))); l {
	case "", "none":
		return "", nil
	case trust.Untrusted, trust.Suspicious:
		return l, nil
	}
	return "", fmt.Errorf("inbound: reject level %q: want untrusted or suspicious", s)
}

// Codes returns up to n reason codes of v in its order (by weight), all of
// them when n <= 0; with against, only those that count against the
// sender (positive weight), the ones that explain a refusal.
func Codes(v *trust.Verdict, n int, against bool) []string {
	var out []string
	for _, r := range v.Reasons {
		if n > 0 && len(out) == n {
			break
		}
		if against && r.Weight <= 0 {
			continue
		}
		out = append(out, string(r.Code))
	}
	return out
}
