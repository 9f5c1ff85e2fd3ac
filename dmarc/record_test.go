package dmarc

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// rec returns a record with the defaults of RFC 7489 §6.3 and p=policy,
// changed by the edits.
func rec(policy Policy, edits ...func(*Record)) *Record {
	r := &Record{
		Policy:         policy,
		Percent:        100,
		DKIMAlignment:  AlignmentRelaxed,
		SPFAlignment:   AlignmentRelaxed,
		FailureOptions: "0",
		ReportFormats:  []string{"afrf"},
		ReportInterval: 86400 * time.Second,
	}
	for _, e := range edits {
		e(r)
	}
	return r
}

func sp(p Policy) func(*Record)        { return func(r *Record) { r.SubdomainPolicy = p } }
func pct(n int) func(*Record)          { return func(r *Record) { r.Percent = n } }
func adkim(a Alignment) func(*Record)  { return func(r *Record) { r.DKIMAlignment = a } }
func aspf(a Alignment) func(*Record)   { return func(r *Record) { r.SPFAlignment = a } }
func fo(s string) func(*Record)        { return func(r *Record) { r.FailureOptions = s } }
func rua(u ...string) func(*Record)    { return func(r *Record) { r.ReportURIs = u } }
func ruf(u ...string) func(*Record)    { return func(r *Record) { r.FailureReportURIs = u } }
func rf(f ...string) func(*Record)     { return func(r *Record) { r.ReportFormats = f } }
func ri(d time.Duration) func(*Record) { return func(r *Record) { r.ReportInterval = d } }
func np(p Policy) func(*Record)        { return func(r *Record) { r.NonExistentPolicy = p } }

func TestParseRecord(t *testing.T) {
	const a, b = "mailto:a@example.com", "mailto:b@example.org"
	tests := []struct {
		name string
		txt  string
		want *Record // nil: error
		err  error
		warn bool // Warnings must be non-empty (else empty)
	}{
		{"minimal reject", "v=DMARC1; p=reject", rec(PolicyReject), nil, false},
		{"quarantine trailing sep", "v=DMARC1; p=quarantine;", rec(PolicyQuarantine), nil, false},
		{"none no spaces", "v=DMARC1;p=none", rec(PolicyNone), nil, false},
		{"all tags", "v=DMARC1; p=reject; sp=quarantine; np=reject; adkim=s; aspf=s; pct=25; fo=1:d; rf=afrf; ri=3600; rua=" + a + "," + b + "!10m; ruf=" + a,
			rec(PolicyReject, sp(PolicyQuarantine), np(PolicyReject), adkim(AlignmentStrict), aspf(AlignmentStrict), pct(25), fo("1:d"), ri(time.Hour), rua(a, b+"!10m"), ruf(a)), nil, false},
		{"tag names and values any case", "V=DMARC1; P=Reject; SP=NONE; ADKIM=S; Aspf=s; PCT=50; FO=D:S; RF=AFRF",
			rec(PolicyReject, sp(PolicyNone), adkim(AlignmentStrict), aspf(AlignmentStrict), pct(50), fo("d:s")), nil, false},
		{"whitespace everywhere", " v = DMARC1 ;\tp = quarantine ; pct= 20 ;  rua = " + a + " , " + b + " ; fo = 0 : 1 ",
			rec(PolicyQuarantine, pct(20), rua(a, b), fo("0:1")), nil, false},
		{"unknown tags ignored", "v=DMARC1; p=none; foo=bar; t=y; psd=n", rec(PolicyNone), nil, false},
		{"pct 0", "v=DMARC1; p=reject; pct=0", rec(PolicyReject, pct(0)), nil, false},
		{"pct 100", "v=DMARC1; p=reject; pct=100", rec(PolicyReject), nil, false},
		{"pct leading zero", "v=DMARC1; p=reject; pct=050", rec(PolicyReject, pct(50)), nil, false},
		{"pct over 100 defaults", "v=DMARC1; p=reject; pct=101", rec(PolicyReject), nil, true},
		{"pct negative defaults", "v=DMARC1; p=reject; pct=-1", rec(PolicyReject), nil, true},
		{"pct plus sign defaults", "v=DMARC1; p=reject; pct=+5", rec(PolicyReject), nil, true},
		{"pct four digits defaults", "v=DMARC1; p=reject; pct=0050", rec(PolicyReject), nil, true},
		{"pct text defaults", "v=DMARC1; p=reject; pct=half", rec(PolicyReject), nil, true},
		{"pct empty defaults", "v=DMARC1; p=reject; pct=", rec(PolicyReject), nil, true},
		{"adkim invalid defaults", "v=DMARC1; p=reject; adkim=strict", rec(PolicyReject), nil, true},
		{"aspf invalid defaults", "v=DMARC1; p=reject; aspf=x; adkim=s", rec(PolicyReject, adkim(AlignmentStrict)), nil, true},
		{"fo invalid defaults", "v=DMARC1; p=reject; fo=0:x", rec(PolicyReject), nil, true},
		{"rf invalid defaults", "v=DMARC1; p=reject; rf=a f", rec(PolicyReject), nil, true},
		{"rf other keyword kept", "v=DMARC1; p=reject; rf=AFRF:iodef", rec(PolicyReject, rf("afrf", "iodef")), nil, false},
		{"ri invalid defaults", "v=DMARC1; p=reject; ri=1h", rec(PolicyReject), nil, true},
		{"ri overflow defaults", "v=DMARC1; p=reject; ri=99999999999", rec(PolicyReject), nil, true},
		{"np invalid ignored", "v=DMARC1; p=reject; np=drop", rec(PolicyReject), nil, true},
		{"rua invalid entries dropped", "v=DMARC1; p=none; rua=example.com, " + a + ", mailto:x y", rec(PolicyNone, rua(a)), nil, true},
		{"rua size suffix", "v=DMARC1; p=none; rua=" + a + "!5k", rec(PolicyNone, rua(a+"!5k")), nil, false},
		{"p after other tags", "v=DMARC1; pct=50; p=reject", rec(PolicyReject, pct(50)), nil, true},
		{"junk segment ignored", "v=DMARC1; p=reject; garbage", rec(PolicyReject), nil, true},

		// RFC 7489 §6.6.3 step 6.
		{"no p with rua is none", "v=DMARC1; rua=" + a, rec(PolicyNone, rua(a)), nil, true},
		{"bad p with rua is none", "v=DMARC1; p=bogus; rua=" + a, rec(PolicyNone, rua(a)), nil, true},
		{"bad sp with rua is none", "v=DMARC1; p=reject; sp=bogus; rua=" + a, rec(PolicyNone, rua(a)), nil, true},
		{"no p no rua", "v=DMARC1; adkim=s", nil, ErrNoPolicy, false},
		{"version only", "v=DMARC1", nil, ErrNoPolicy, false},
		{"version and sep", "v=DMARC1;", nil, ErrNoPolicy, false},
		{"bad p no rua", "v=DMARC1; p=bogus", nil, ErrNoPolicy, false},
		{"bad sp no rua", "v=DMARC1; p=reject; sp=bogus", nil, ErrNoPolicy, false},
		{"bad p invalid rua", "v=DMARC1; p=bogus; rua=example.com", nil, ErrNoPolicy, false},

		// Not DMARC records at all (§6.6.3 steps 2 and 4).
		{"empty", "", nil, ErrNotDMARC, false},
		{"v not first", "p=reject; v=DMARC1", nil, ErrNotDMARC, false},
		{"version lower case", "v=dmarc1; p=reject", nil, ErrNotDMARC, false},
		{"version 2", "v=DMARC2; p=reject", nil, ErrNotDMARC, false},
		{"version prefix only", "v=DMARC10; p=reject", nil, ErrNotDMARC, false},
		{"version glued to tag", "v=DMARC1p=reject", nil, ErrNotDMARC, false},
		{"spf record", "v=spf1 -all", nil, ErrNotDMARC, false},
		{"no equals", "DMARC1; p=reject", nil, ErrNotDMARC, false},

		// RFC 6376 §3.2: duplicate tags invalidate the tag-list.
		{"duplicate p", "v=DMARC1; p=none; p=reject", nil, ErrSyntax, false},
		{"duplicate v", "v=DMARC1; p=none; v=DMARC1", nil, ErrSyntax, false},
		{"duplicate any case", "v=DMARC1; p=none; pct=5; PCT=6", nil, ErrSyntax, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseRecord(tt.txt)
			if tt.want == nil {
				if !errors.Is(err, tt.err) || got != nil {
					t.Fatalf("ParseRecord(%q) = %+v, %v; want nil, %v", tt.txt, got, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseRecord(%q): %v", tt.txt, err)
			}
			if got.Raw != tt.txt {
				t.Errorf("Raw = %q, want %q", got.Raw, tt.txt)
			}
			if (len(got.Warnings) > 0) != tt.warn {
				t.Errorf("warnings %q, want some: %v", got.Warnings, tt.warn)
			}
			got.Raw, got.Warnings = "", nil
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseRecord(%q)\n got %+v\nwant %+v", tt.txt, got, tt.want)
			}
		})
	}
}

func TestRecordString(t *testing.T) {
	tests := []struct{ in, want string }{
		{"v=DMARC1; p=reject", "v=DMARC1; p=reject"},
		{"V=DMARC1;P=Quarantine;ADKIM=s;pct=10;rua=mailto:a@example.com", "v=DMARC1; p=quarantine; adkim=s; pct=10; rua=mailto:a@example.com"},
		{"v=DMARC1; p=none; sp=reject; np=quarantine; aspf=s; fo=1; rf=iodef; ri=60; ruf=mailto:f@example.com", "v=DMARC1; p=none; sp=reject; np=quarantine; aspf=s; fo=1; rf=iodef; ri=60; ruf=mailto:f@example.com"},
	}
	for _, tt := range tests {
		r, err := ParseRecord(tt.in)
		if err != nil {
			t.Fatalf("ParseRecord(%q): %v", tt.in, err)
		}
		if got := r.String(); got != tt.want {
			t.Errorf("String of %q = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzParseRecord(f *testing.F) {
	for _, s := range []string{
		"v=DMARC1; p=reject",
		"v=DMARC1; p=none; sp=quarantine; adkim=s; aspf=r; pct=5; fo=0:1:d:s; rf=afrf; ri=1; rua=mailto:a@example.com!1m,https://example.org/r; ruf=mailto:f@example.com",
		"v=DMARC1; rua=mailto:a@example.com",
		"v = DMARC1 ; P = REJECT ; ; x=y",
		"v=DMARC1; p=reject; p=none",
		"v=DMARC1; p=\x00; rua=\xff",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRecord(s)
		if err != nil {
			if r != nil {
				t.Fatalf("record and error both returned for %q", s)
			}
			return
		}
		switch r.Policy {
		case PolicyNone, PolicyQuarantine, PolicyReject:
		default:
			t.Fatalf("policy %q from %q", r.Policy, s)
		}
		if r.Percent < 0 || r.Percent > 100 {
			t.Fatalf("pct %d from %q", r.Percent, s)
		}
		if r.DKIMAlignment != AlignmentRelaxed && r.DKIMAlignment != AlignmentStrict ||
			r.SPFAlignment != AlignmentRelaxed && r.SPFAlignment != AlignmentStrict {
			t.Fatalf("alignment %q/%q from %q", r.DKIMAlignment, r.SPFAlignment, s)
		}
		// Round trip: the canonical form parses to the same record.
		out := r.String()
		r2, err := ParseRecord(out)
		if err != nil {
			t.Fatalf("reparse of %q (from %q): %v", out, s, err)
		}
		r.Raw, r.Warnings, r2.Raw, r2.Warnings = "", nil, "", nil
		if !reflect.DeepEqual(r, r2) {
			t.Fatalf("round trip of %q:\n%+v\n%+v", s, r, r2)
		}
		if !strings.HasPrefix(out, "v=DMARC1; p=") {
			t.Fatalf("canonical form %q", out)
		}
	})
}
