package dmarc

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/emersion/go-msgauth/authres"
)

func TestEvaluate(t *testing.T) {
	z := testZone(t)
	spfPass := func(d string) Identifiers { return Identifiers{SPFDomain: d, SPFPass: true} }
	dkim := func(d ...string) Identifiers { return Identifiers{DKIMPassDomains: d} }

	tests := []struct {
		name   string
		from   string
		ids    Identifiers
		opts   *Options
		status Status
		policy Policy
		disp   Policy
		spf    bool   // SPFAligned
		dkim   string // DKIMAligned
		err    error
	}{
		// p=reject / quarantine / none.
		{"dkim exact pass", "example.com", dkim("example.com"), nil, StatusPass, PolicyReject, PolicyNone, false, "example.com", nil},
		{"reject fail", "example.com", dkim("other.example"), nil, StatusFail, PolicyReject, PolicyReject, false, "", nil},
		{"quarantine fail", "quarantine.example", Identifiers{}, nil, StatusFail, PolicyQuarantine, PolicyQuarantine, false, "", nil},
		{"none fail", "none.example", spfPass("other.example"), nil, StatusFail, PolicyNone, PolicyNone, false, "", nil},
		{"rua-only record is p=none", "rua-only.example", Identifiers{}, nil, StatusFail, PolicyNone, PolicyNone, false, "", nil},

		// Relaxed alignment (RFC 7489 §3.1.1, §3.1.2).
		{"dkim subdomain d= relaxed", "example.com", dkim("mail.example.com"), nil, StatusPass, PolicyReject, PolicyNone, false, "mail.example.com", nil},
		{"dkim parent d= for subdomain From", "news.example.com", dkim("example.com"), nil, StatusPass, PolicyReject, PolicyNone, false, "example.com", nil},
		{"SES custom MAIL FROM relaxed", "example.com", spfPass("bounce.example.com"), nil, StatusPass, PolicyReject, PolicyNone, true, "", nil},
		{"spf identifiers any case", "example.com", spfPass("BOUNCE.Example.COM."), nil, StatusPass, PolicyReject, PolicyNone, true, "", nil},
		{"spf other org", "example.com", spfPass("example.net"), nil, StatusFail, PolicyReject, PolicyReject, false, "", nil},
		{"spf aligned but not pass", "example.com", Identifiers{SPFDomain: "example.com"}, nil, StatusFail, PolicyReject, PolicyReject, false, "", nil},
		{"dkim lookalike org", "example.com", dkim("example.com.example.net", "notexample.com"), nil, StatusFail, PolicyReject, PolicyReject, false, "", nil},
		{"exact d= preferred", "example.com", dkim("other.example", "mail.example.com", "EXAMPLE.com"), nil, StatusPass, PolicyReject, PolicyNone, false, "example.com", nil},
		{"first relaxed d= when no exact", "example.com", dkim("a.example.com", "b.example.com"), nil, StatusPass, PolicyReject, PolicyNone, false, "a.example.com", nil},
		{"both aligned", "example.com", Identifiers{SPFDomain: "example.com", SPFPass: true, DKIMPassDomains: []string{"example.com"}}, nil, StatusPass, PolicyReject, PolicyNone, true, "example.com", nil},

		// Strict alignment.
		{"strict dkim exact", "strict.example", dkim("Strict.Example."), nil, StatusPass, PolicyReject, PolicyNone, false, "strict.example", nil},
		{"strict dkim subdomain fails", "strict.example", dkim("mail.strict.example"), nil, StatusFail, PolicyReject, PolicyReject, false, "", nil},
		{"strict spf exact", "strict.example", spfPass("strict.example"), nil, StatusPass, PolicyReject, PolicyNone, true, "", nil},
		{"strict spf subdomain fails", "strict.example", spfPass("bounce.strict.example"), nil, StatusFail, PolicyReject, PolicyReject, false, "", nil},
		{"strict From subdomain, d= org fails", "sub.strict.example", dkim("strict.example"), nil, StatusFail, PolicyReject, PolicyReject, false, "", nil},

		// sp= from the organizational domain (RFC 7489 §6.6.3).
		{"sp applies to subdomain", "mail.example.org", Identifiers{}, nil, StatusFail, PolicyQuarantine, PolicyQuarantine, false, "", nil},
		{"p applies at org itself", "example.org", Identifiers{}, nil, StatusFail, PolicyReject, PolicyReject, false, "", nil},
		{"own record wins over org sp", "own.example.org", Identifiers{}, nil, StatusFail, PolicyNone, PolicyNone, false, "", nil},
		{"no sp: p for subdomain", "news.example.com", Identifiers{}, nil, StatusFail, PolicyReject, PolicyReject, false, "", nil},
		{"sp subdomain relaxed pass", "mail.example.org", dkim("example.org"), nil, StatusPass, PolicyQuarantine, PolicyNone, false, "example.org", nil},

		// pct= (RFC 7489 §6.6.4).
		{"pct 0 reject becomes quarantine", "pct0.example", Identifiers{}, &Options{SampleKey: "k"}, StatusFail, PolicyReject, PolicyQuarantine, false, "", nil},
		{"pct 0 quarantine becomes none", "qpct0.example", Identifiers{}, &Options{SampleKey: "k"}, StatusFail, PolicyQuarantine, PolicyNone, false, "", nil},
		{"pct 100 without key", "example.com", Identifiers{}, nil, StatusFail, PolicyReject, PolicyReject, false, "", nil},
		{"pct 50 without key not enacted", "pct50.example", Identifiers{}, nil, StatusFail, PolicyReject, PolicyQuarantine, false, "", nil},
		{"pct 0 pass is none", "pct0.example", dkim("pct0.example"), nil, StatusPass, PolicyReject, PolicyNone, false, "pct0.example", nil},

		// Temporary failures are never fail.
		{"aligned spf temperror", "example.com", Identifiers{SPFDomain: "bounce.example.com", SPFTempError: true}, nil, StatusTemperror, PolicyReject, PolicyNone, false, "", ErrAuthTemporary},
		{"aligned dkim temperror", "example.com", Identifiers{DKIMTempErrorDomains: []string{"example.com"}}, nil, StatusTemperror, PolicyReject, PolicyNone, false, "", ErrAuthTemporary},
		{"unaligned spf temperror", "example.com", Identifiers{SPFDomain: "example.net", SPFTempError: true}, nil, StatusFail, PolicyReject, PolicyReject, false, "", nil},
		{"unaligned dkim temperror", "strict.example", Identifiers{DKIMTempErrorDomains: []string{"mail.strict.example"}}, nil, StatusFail, PolicyReject, PolicyReject, false, "", nil},
		{"temperror but other pass", "example.com", Identifiers{SPFDomain: "example.com", SPFTempError: true, DKIMPassDomains: []string{"example.com"}}, nil, StatusPass, PolicyReject, PolicyNone, false, "example.com", nil},

		// Discovery outcomes pass through.
		// No policy: alignment is reported under the relaxed defaults, the
		// status stays none.
		{"no record", "example.net", spfPass("example.net"), nil, StatusNone, "", PolicyNone, true, "", ErrNoRecord},
		{"no record, relaxed DKIM", "example.net", dkim("mail.example.net", "other.example"), nil, StatusNone, "", PolicyNone, false, "mail.example.net", ErrNoRecord},
		{"no record, other organization", "example.net", spfPass("other.example"), nil, StatusNone, "", PolicyNone, false, "", ErrNoRecord},
		{"two records", "two.example.org", dkim("two.example.org"), nil, StatusNone, "", PolicyNone, false, "two.example.org", ErrMultipleRecords},
		{"discovery temperror", "sf.example", dkim("sf.example"), nil, StatusTemperror, "", PolicyNone, false, "", ErrDNS},
		{"unusable record", "broken.example", dkim("broken.example"), nil, StatusPermerror, "", PolicyNone, false, "", ErrNoPolicy},
		{"no From domain", "", dkim("example.com"), nil, StatusPermerror, "", PolicyNone, false, "", ErrNoFromDomain},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Lookup(context.Background(), z, tt.from)
			r := Evaluate(d, tt.ids, tt.opts)
			if r.Status != tt.status {
				t.Errorf("Status = %q, want %q (reason %q, err %v)", r.Status, tt.status, r.Reason, r.Err)
			}
			if r.Policy != tt.policy {
				t.Errorf("Policy = %q, want %q", r.Policy, tt.policy)
			}
			if r.Disposition != tt.disp {
				t.Errorf("Disposition = %q, want %q", r.Disposition, tt.disp)
			}
			if r.SPFAligned != tt.spf || r.DKIMAligned != tt.dkim {
				t.Errorf("aligned SPF %v DKIM %q, want %v %q", r.SPFAligned, r.DKIMAligned, tt.spf, tt.dkim)
			}
			if r.Domain != d.FromDomain || r.RecordDomain != d.RecordDomain {
				t.Errorf("domains %q/%q, discovery %q/%q", r.Domain, r.RecordDomain, d.FromDomain, d.RecordDomain)
			}
			if (r.Record != nil) != (tt.policy != "") {
				t.Errorf("Record %v with policy %q", r.Record, tt.policy)
			}
			if tt.err != nil && !errors.Is(r.Err, tt.err) {
				t.Errorf("Err = %v, want %v", r.Err, tt.err)
			}
			if (r.Status == StatusPass || r.Status == StatusFail) && r.Err != nil {
				t.Errorf("Err = %v with status %q", r.Err, r.Status)
			}
			if r.Reason == "" {
				t.Error("no reason")
			}
		})
	}
}

func TestEvaluateReasons(t *testing.T) {
	z := testZone(t)
	tests := []struct {
		from string
		ids  Identifiers
		want string
	}{
		{"example.com", Identifiers{DKIMPassDomains: []string{"example.com"}}, "aligned DKIM d=example.com"},
		{"example.com", Identifiers{SPFDomain: "Bounce.Example.com", SPFPass: true}, "aligned SPF bounce.example.com"},
		{"strict.example", Identifiers{SPFDomain: "bounce.strict.example", SPFPass: true, DKIMPassDomains: []string{"other.example"}},
			"no aligned SPF or DKIM pass: SPF bounce.strict.example not aligned (strict); DKIM d=other.example not aligned (strict)"},
		{"example.com", Identifiers{SPFDomain: "example.com"}, "no aligned SPF or DKIM pass: SPF example.com did not pass"},
		{"example.com", Identifiers{SPFDomain: "example.com", SPFTempError: true}, "no aligned pass; temporary failure of SPF example.com"},
		{"two.example.org", Identifiers{}, "2 DMARC records at _dmarc.two.example.org"},
	}
	for _, tt := range tests {
		r := Evaluate(Lookup(context.Background(), z, tt.from), tt.ids, nil)
		if r.Reason != tt.want {
			t.Errorf("%s %+v: reason %q, want %q", tt.from, tt.ids, r.Reason, tt.want)
		}
	}
}

// TestEvaluateSampling checks pct= sampling: deterministic for a key, and
// close to pct over many keys (RFC 7489 §6.6.4).
func TestEvaluateSampling(t *testing.T) {
	z := testZone(t)
	tests := []struct {
		from     string
		min, max int // of 1000 messages enacting the full policy
	}{
		{"pct0.example", 0, 0},
		{"pct50.example", 430, 570},
		{"example.com", 1000, 1000},
	}
	for _, tt := range tests {
		d := Lookup(context.Background(), z, tt.from)
		if d.Record == nil {
			t.Fatalf("%s: no record: %s", tt.from, d.Reason)
		}
		enacted := 0
		for i := range 1000 {
			opts := &Options{SampleKey: fmt.Sprintf("<%d.msg@example.net>", i)}
			r := Evaluate(d, Identifiers{}, opts)
			again := Evaluate(d, Identifiers{}, opts)
			if r.Disposition != again.Disposition || r.Sampled != again.Sampled {
				t.Fatalf("%s key %q: %q then %q", tt.from, opts.SampleKey, r.Disposition, again.Disposition)
			}
			switch {
			case r.Sampled && r.Disposition == PolicyReject:
				enacted++
			case !r.Sampled && r.Disposition == PolicyQuarantine:
			default:
				t.Fatalf("%s key %q: sampled %v disposition %q", tt.from, opts.SampleKey, r.Sampled, r.Disposition)
			}
		}
		if enacted < tt.min || enacted > tt.max {
			t.Errorf("%s: %d of 1000 enacted, want %d to %d", tt.from, enacted, tt.min, tt.max)
		}
	}
}

func TestNoFromDomain(t *testing.T) {
	r := NoFromDomain("two From fields")
	if r.Status != StatusPermerror || !errors.Is(r.Err, ErrNoFromDomain) || r.Disposition != PolicyNone {
		t.Errorf("got %+v", r)
	}
	if !strings.Contains(r.Reason, "two From fields") {
		t.Errorf("reason %q", r.Reason)
	}
}

func TestAuthResult(t *testing.T) {
	z := testZone(t)
	pass := Evaluate(Lookup(context.Background(), z, "Example.COM."), Identifiers{DKIMPassDomains: []string{"example.com"}}, nil)
	tests := []struct {
		r    Result
		want string
	}{
		{pass, `mx.example.net; dmarc=pass reason="aligned DKIM d=example.com" header.from=example.com`},
		{NoFromDomain("no From field"), `mx.example.net; dmarc=permerror reason="no usable From domain: no From field"`},
		{Result{Status: StatusFail, Domain: "example.com", Reason: "a \"quoted\\\" \r\nreason"}, `mx.example.net; dmarc=fail reason="a 'quoted/' ??reason" header.from=example.com`},
		{Result{}, `mx.example.net; dmarc=none `},
	}
	for _, tt := range tests {
		if got := authres.Format("mx.example.net", []authres.Result{tt.r.AuthResult()}); got != tt.want {
			t.Errorf("got  %s\nwant %s", got, tt.want)
		}
	}
}
