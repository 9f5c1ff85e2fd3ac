package inbound

import (
	"io"
	"strings"
	"testing"

	"github.com/mailtrust/mailtrust/trust"
)

func verdict(l trust.Level, incomplete bool) *trust.Verdict {
	return &trust.Verdict{
		Level: l, Score: 7.25, Incomplete: incomplete,
		Reasons: []trust.Reason{
			{Code: "dmarc.fail", Weight: 6.5},
			{Code: "from.display-name-domain", Weight: -1},
			{Code: "spf.softfail", Weight: 1},
			{Code: "ptr.none", Weight: 1},
			{Code: "helo.invalid", Weight: 0.5},
		},
		AuthenticationResults: "Authentication-Results: mx.helpdesk.example; spf=softfail smtp.mailfrom=example.com",
	}
}

func TestDecide(t *testing.T) {
	for _, c := range []struct {
		name   string
		p      Policy
		v      *trust.Verdict
		want   string
		action Action
	}{
		{"zero policy accepts untrusted", Policy{}, verdict(trust.Untrusted, false), "250 2.0.0 ok", Accept},
		{"reject untrusted", Policy{Reject: trust.Untrusted}, verdict(trust.Untrusted, false), "550 5.7.1 message refused: untrusted sender (dmarc.fail, spf.softfail, ptr.none)", Reject},
		{"reject untrusted keeps suspicious", Policy{Reject: trust.Untrusted}, verdict(trust.Suspicious, false), "250 2.0.0 ok", Accept},
		{"reject suspicious", Policy{Reject: trust.Suspicious}, verdict(trust.Suspicious, false), "550 5.7.1 message refused: suspicious sender (dmarc.fail, spf.softfail, ptr.none)", Reject},
		{"reject suspicious refuses untrusted", Policy{Reject: trust.Suspicious}, verdict(trust.Untrusted, false), "550 5.7.1 message refused: untrusted sender (dmarc.fail, spf.softfail, ptr.none)", Reject},
		{"reject suspicious keeps neutral", Policy{Reject: trust.Suspicious}, verdict(trust.Neutral, false), "250 2.0.0 ok", Accept},
		{"a level that would refuse good mail is ignored", Policy{Reject: trust.Trusted}, verdict(trust.Trusted, false), "250 2.0.0 ok", Accept},
		{"incomplete is never refused", Policy{Reject: trust.Untrusted}, verdict(trust.Untrusted, true), "250 2.0.0 ok", Accept},
		{"incomplete tempfails when asked", Policy{Reject: trust.Untrusted, TempfailIncomplete: true}, verdict(trust.Untrusted, true), "451 4.7.0 temporary DNS failure while authenticating the sender, try again later", Tempfail},
		{"complete is not tempfailed", Policy{TempfailIncomplete: true}, verdict(trust.Neutral, false), "250 2.0.0 ok", Accept},
	} {
		r := c.p.Decide(c.v)
		if r.String() != c.want || r.Action != c.action {
			t.Errorf("%s: %q %v, want %q %v", c.name, r, r.Action, c.want, c.action)
		}
	}
}

func TestParseLevel(t *testing.T) {
	for _, c := range []struct {
		in   string
		want trust.Level
		err  bool
	}{
		{"", "", false}, {"none", "", false}, {"untrusted", trust.Untrusted, false},
		{" Suspicious ", trust.Suspicious, false}, {"neutral", "", true}, {"trusted", "", true}, {"x", "", true},
	} {
		got, err := ParseLevel(c.in)
		if got != c.want || (err != nil) != c.err {
			t.Errorf("ParseLevel(%q) = %q, %v", c.in, got, err)
		}
	}
}

func TestVerdictValue(t *testing.T) {
	v := verdict(trust.Untrusted, false)
	if got, want := VerdictValue(v), "untrusted score=7.25 reasons=dmarc.fail,from.display-name-domain,spf.softfail,ptr.none,helo.invalid"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	v = verdict(trust.Neutral, true)
	v.Reasons = nil
	if got, want := VerdictValue(v), "neutral score=7.25 incomplete=yes reasons="; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	v.Reasons = make([]trust.Reason, 200)
	for i := range v.Reasons {
		v.Reasons[i].Code = "some.long-reason-code"
	}
	if n := len(VerdictValue(v)); n > maxVerdictLine {
		t.Errorf("value of %d octets, more than %d", n, maxVerdictLine)
	}
}

func TestRemove(t *testing.T) {
	const id = "mx.helpdesk.example"
	for _, c := range []struct {
		name, value string
		want        bool
	}{
		{"Authentication-Results", " mx.helpdesk.example; spf=pass", true},
		{"authentication-results", " MX.Helpdesk.Example 1; dkim=pass", true},
		{"Authentication-Results ", "\r\n\t(forged) mx.helpdesk.example; dmarc=pass", true},
		{"Authentication-Results", " mx.upstream.example; spf=pass", false},
		{"Authentication-Results", " helpdesk.example; spf=pass", false},
		{"Authentication-Results", " mx.helpdesk.example.evil.example; spf=pass", false},
		{"X-Mailtrust-Verdict", " trusted score=-9", true},
		{"x-mailtrust-verdict", "", true},
		{"ARC-Authentication-Results", " i=1; mx.helpdesk.example; spf=pass", false},
		{"Subject", " mx.helpdesk.example; spf=pass", false},
	} {
		if got := Remove(c.name, c.value, id); got != c.want {
			t.Errorf("Remove(%q, %q) = %v", c.name, c.value, got)
		}
	}
	if Remove("Authentication-Results", " ; spf=pass", "") {
		t.Error("an empty authserv-id removed a field that names none")
	}
}

func TestPrepend(t *testing.T) {
	v := verdict(trust.Suspicious, false)
	top := "Authentication-Results: mx.helpdesk.example; spf=softfail smtp.mailfrom=example.com\r\n" +
		"X-Mailtrust-Verdict: suspicious score=7.25 reasons=dmarc.fail,from.display-name-domain,spf.softfail,ptr.none,helo.invalid\r\n"
	for _, c := range []struct{ name, in, want string }{
		{"nothing to remove",
			"From: a@example.com\r\nSubject: hi\r\n\r\nbody\r\n",
			top + "From: a@example.com\r\nSubject: hi\r\n\r\nbody\r\n"},
		{"forgeries removed, folding and others kept",
			"Authentication-Results: mx.helpdesk.example;\r\n\tdkim=pass header.d=bank.example\r\nX-Mailtrust-Verdict: trusted\r\n" +
				"Authentication-Results: relay.example.net; spf=pass\r\nSubject: a\r\n b\r\n\r\nAuthentication-Results: mx.helpdesk.example; body\r\n",
			top + "Authentication-Results: relay.example.net; spf=pass\r\nSubject: a\r\n b\r\n\r\nAuthentication-Results: mx.helpdesk.example; body\r\n"},
		{"LF message gets LF fields",
			"From: a@example.com\nX-Mailtrust-Verdict: trusted\n\nbody\n",
			strings.ReplaceAll(top, "\r\n", "\n") + "From: a@example.com\n\nbody\n"},
		{"header without body, removal at the end",
			"From: a@example.com\r\nX-Mailtrust-Verdict: trusted",
			top + "From: a@example.com\r\n"},
		{"a line that is no field ends the header",
			"From: a@example.com\r\nnot a field\r\nX-Mailtrust-Verdict: trusted\r\n",
			top + "From: a@example.com\r\nnot a field\r\nX-Mailtrust-Verdict: trusted\r\n"},
		{"empty message", "", top},
	} {
		b, err := io.ReadAll(Prepend(v, strings.NewReader(c.in)))
		if err != nil || string(b) != c.want {
			t.Errorf("%s:\n got %q\nwant %q (%v)", c.name, b, c.want, err)
		}
	}
}

// TestDecideBestLevel: an incomplete verdict is refused only when even its
// best outcome is a refused level.
func TestDecideBestLevel(t *testing.T) {
	for _, c := range []struct {
		best   trust.Level
		policy Policy
		code   int
	}{
		{trust.Untrusted, Policy{Reject: trust.Untrusted}, 550},
		{trust.Untrusted, Policy{Reject: trust.Untrusted, TempfailIncomplete: true}, 550},
		{trust.Suspicious, Policy{Reject: trust.Untrusted}, 250},
		{trust.Suspicious, Policy{Reject: trust.Untrusted, TempfailIncomplete: true}, 451},
		{trust.Suspicious, Policy{Reject: trust.Suspicious}, 550},
		{trust.Trusted, Policy{Reject: trust.Suspicious}, 250},
		{"", Policy{Reject: trust.Untrusted, TempfailIncomplete: true}, 451},
	} {
		v := verdict(trust.Untrusted, true)
		v.BestLevel = c.best
		if got := c.policy.Decide(v); got.Code != c.code {
			t.Errorf("best %q, policy %+v: reply %v, want %d", c.best, c.policy, got, c.code)
		}
	}
}
