package dmarc

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailtrust/mailtrust/resolver"
	"github.com/mailtrust/mailtrust/resolver/resolvertest"
)

// testZoneData is the DNS of the discovery and evaluation tests.
const testZoneData = `
$ORIGIN example.com.
@                 A    192.0.2.1
_dmarc            TXT  "v=DMARC1; p=reject"
$ORIGIN example.org.
_dmarc            TXT  "v=DMARC1; p=reject; sp=quarantine; rua=mailto:agg@example.org"
_dmarc.own        TXT  "v=DMARC1; p=none"
_dmarc.spf        TXT  "v=spf1 -all"
_dmarc.two        TXT  "v=DMARC1; p=none"
_dmarc.two        TXT  "v=DMARC1; p=reject"
_dmarc.split      TXT  "v=DMARC1; " "p=quarantine"
_dmarc.broken     TXT  "v=DMARC1; adkim=s"
; servfail: _dmarc.sf
; timeout: _dmarc.to
$ORIGIN example.net.
@                 A    192.0.2.2
$ORIGIN strict.example.
_dmarc            TXT  "v=DMARC1; p=reject; adkim=s; aspf=s"
$ORIGIN none.example.
_dmarc            TXT  "v=DMARC1; p=none"
$ORIGIN quarantine.example.
_dmarc            TXT  "v=DMARC1; p=quarantine"
$ORIGIN pct0.example.
_dmarc            TXT  "v=DMARC1; p=reject; pct=0"
$ORIGIN qpct0.example.
_dmarc            TXT  "v=DMARC1; p=quarantine; pct=0"
$ORIGIN pct50.example.
_dmarc            TXT  "v=DMARC1; p=reject; pct=50"
$ORIGIN two.example.
_dmarc            TXT  "v=DMARC1; p=none"
_dmarc            TXT  "v=DMARC1; p=reject"
$ORIGIN rua-only.example.
_dmarc            TXT  "v=DMARC1; rua=mailto:r@rua-only.example"
$ORIGIN broken.example.
_dmarc            TXT  "v=DMARC1; p=bogus"
$ORIGIN vfirst.example.
_dmarc            TXT  "p=reject; v=DMARC1"
$ORIGIN sf.example.
; servfail: _dmarc
$ORIGIN cname.example.
_dmarc            CNAME _dmarc.example.com.
$ORIGIN loop.example.
_dmarc            CNAME _dmarc.loop.example.
$ORIGIN slow.example.
; timeout: _dmarc
_dmarc.fast       TXT  "v=DMARC1; p=reject"
`

func testZone(t *testing.T) *resolver.Zone {
	return resolvertest.Zone(t, testZoneData, 5*time.Second)
}

func TestLookup(t *testing.T) {
	z := testZone(t)
	// A valid name too long to take the _dmarc label (RFC 1035 §2.3.4).
	long := strings.Repeat("a", 63) + "." + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 45) + ".example.org"

	tests := []struct {
		name       string
		from       string
		wantFrom   string
		status     Status // "" when a record is found
		recDomain  string
		policy     Policy // p= of the record found
		err        error  // errors.Is, when set
		fromNX     bool
		orgNX      bool
		reasonPart string
	}{
		{"record at from", "example.com", "example.com", "", "example.com", PolicyReject, nil, false, false, ""},
		{"upper case and trailing dot", "Example.COM.", "example.com", "", "example.com", PolicyReject, nil, false, false, ""},
		{"org fallback", "mail.example.com", "mail.example.com", "", "example.com", PolicyReject, nil, true, false, ""},
		{"org fallback deep", "a.b.example.org", "a.b.example.org", "", "example.org", PolicyReject, nil, true, false, ""},
		{"subdomain own record", "own.example.org", "own.example.org", "", "own.example.org", PolicyNone, nil, false, false, ""},
		{"non-DMARC TXT discarded", "spf.example.org", "spf.example.org", "", "example.org", PolicyReject, nil, false, false, ""},
		{"split strings joined", "split.example.org", "split.example.org", "", "split.example.org", PolicyQuarantine, nil, false, false, ""},
		{"CNAME followed", "cname.example", "cname.example", "", "cname.example", PolicyReject, nil, false, false, ""},
		{"rua only is none", "rua-only.example", "rua-only.example", "", "rua-only.example", PolicyNone, nil, false, false, ""},
		{"too long for _dmarc", long, long, "", "example.org", PolicyReject, nil, false, false, ""},

		{"no record", "example.net", "example.net", StatusNone, "", "", ErrNoRecord, true, false, "no DMARC record at _dmarc.example.net"},
		{"no record sub", "sub.example.net", "sub.example.net", StatusNone, "", "", ErrNoRecord, true, true, "_dmarc.sub.example.net or _dmarc.example.net"},
		{"v not first is no record", "vfirst.example", "vfirst.example", StatusNone, "", "", ErrNoRecord, false, false, ""},
		{"two at from, none", "two.example.org", "two.example.org", StatusNone, "two.example.org", "", ErrMultipleRecords, false, false, "2 DMARC records at _dmarc.two.example.org"},
		{"two at org, none", "sub.two.example", "sub.two.example", StatusNone, "two.example", "", ErrMultipleRecords, true, false, "2 DMARC records"},

		{"no policy no rua", "broken.example.org", "broken.example.org", StatusPermerror, "broken.example.org", "", ErrNoPolicy, false, false, "unusable DMARC record"},
		{"bad p no rua", "broken.example", "broken.example", StatusPermerror, "broken.example", "", ErrNoPolicy, false, false, ""},
		{"CNAME loop", "loop.example", "loop.example", StatusPermerror, "", "", resolver.ErrPermanent, false, false, ""},

		{"servfail at from", "sf.example", "sf.example", StatusTemperror, "", "", resolver.ErrTemporary, false, false, "temporary DNS failure at _dmarc.sf.example"},
		{"servfail at org", "x.sf.example", "x.sf.example", StatusTemperror, "", "", resolver.ErrTemporary, true, false, "_dmarc.sf.example"},
		{"servfail at from, org has record", "sf.example.org", "sf.example.org", StatusTemperror, "", "", ErrDNS, false, false, ""},
		{"timeout at from", "to.example.org", "to.example.org", StatusTemperror, "", "", resolver.ErrTemporary, false, false, ""},

		{"empty", "", "", StatusPermerror, "", "", ErrNoFromDomain, false, false, "no usable From domain"},
		{"dot only", ".", "", StatusPermerror, "", "", ErrNoFromDomain, false, false, ""},
		{"address literal", "[192.0.2.1]", "[192.0.2.1]", StatusPermerror, "", "", ErrNoFromDomain, false, false, ""},
		{"bare IP", "192.0.2.1", "192.0.2.1", StatusPermerror, "", "", ErrNoFromDomain, false, false, ""},
		{"space", "exa mple.com", "exa mple.com", StatusPermerror, "", "", ErrNoFromDomain, false, false, ""},
		{"empty label", "example..com", "example..com", StatusPermerror, "", "", ErrNoFromDomain, false, false, ""},
		{"two trailing dots", "example.com..", "example.com.", StatusPermerror, "", "", ErrNoFromDomain, false, false, ""},
		{"non-ASCII", "exämple.com", "exämple.com", StatusPermerror, "", "", ErrNoFromDomain, false, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if tt.name == "timeout at from" {
				ctx, cancel = context.WithTimeout(ctx, 50*time.Millisecond)
				defer cancel()
			}
			d := Lookup(ctx, z, tt.from)
			if d.FromDomain != tt.wantFrom {
				t.Errorf("FromDomain = %q, want %q", d.FromDomain, tt.wantFrom)
			}
			if d.Status != tt.status {
				t.Errorf("Status = %q, want %q (reason %q, err %v)", d.Status, tt.status, d.Reason, d.Err)
			}
			if d.RecordDomain != tt.recDomain {
				t.Errorf("RecordDomain = %q, want %q", d.RecordDomain, tt.recDomain)
			}
			if tt.status == "" {
				if d.Record == nil {
					t.Fatalf("no record: %q %v", d.Reason, d.Err)
				}
				if d.Record.Policy != tt.policy {
					t.Errorf("Policy = %q, want %q", d.Record.Policy, tt.policy)
				}
				if d.Err != nil || d.Reason != "" {
					t.Errorf("record found with reason %q, err %v", d.Reason, d.Err)
				}
			} else {
				if d.Record != nil {
					t.Errorf("Record = %+v with status %q", d.Record, d.Status)
				}
				if d.Reason == "" {
					t.Error("no reason")
				}
			}
			if tt.err != nil && !errors.Is(d.Err, tt.err) {
				t.Errorf("Err = %v, want %v", d.Err, tt.err)
			}
			if d.FromNXDomain != tt.fromNX || d.OrgNXDomain != tt.orgNX {
				t.Errorf("NXDOMAIN from %v org %v, want %v %v", d.FromNXDomain, d.OrgNXDomain, tt.fromNX, tt.orgNX)
			}
			if !strings.Contains(d.Reason, tt.reasonPart) {
				t.Errorf("Reason %q lacks %q", d.Reason, tt.reasonPart)
			}
		})
	}
}

// TestLookupConcurrent shows the two questions of discovery run at once:
// when the From domain has a record, a hanging organizational question
// does not delay the answer, and it is abandoned.
func TestLookupConcurrent(t *testing.T) {
	z := testZone(t) // _dmarc.slow.example never answers; Timeout is 5s

	start := time.Now()
	d := Lookup(context.Background(), z, "fast.slow.example")
	if el := time.Since(start); el > time.Second {
		t.Errorf("Lookup took %v: it waited for the organizational domain", el)
	}
	if d.Status != "" || d.Record == nil || d.RecordDomain != "fast.slow.example" {
		t.Fatalf("got status %q record %v at %q (%s)", d.Status, d.Record, d.RecordDomain, d.Reason)
	}

	// With the From domain empty, the organizational answer matters: a
	// hanging question is a temporary failure, bounded by the context.
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start = time.Now()
	d = Lookup(ctx, z, "other.slow.example")
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("Lookup took %v, beyond its context", el)
	}
	if d.Status != StatusTemperror || !resolver.IsTemporary(d.Err) {
		t.Errorf("got status %q err %v, want temperror", d.Status, d.Err)
	}
}

// TestQuestions: Questions names exactly the questions Lookup asks, the
// From domain's first, so that a caller can reserve them.
func TestQuestions(t *testing.T) {
	cases := []struct {
		from string
		want []string
	}{
		{"example.com", []string{"TXT _dmarc.example.com."}},
		{"Mail.Example.COM.", []string{"TXT _dmarc.mail.example.com.", "TXT _dmarc.example.com."}},
		{"a.b.example.org", []string{"TXT _dmarc.a.b.example.org.", "TXT _dmarc.example.org."}},
		{"", nil},
		{"[192.0.2.1]", nil},
		{"192.0.2.1", nil},
		{"bad..example.com", nil},
	}
	for _, tc := range cases {
		t.Run(tc.from, func(t *testing.T) {
			var got []string
			for _, q := range Questions(tc.from) {
				got = append(got, resolver.TypeString(q.Type)+" "+q.Name)
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Fatalf("Questions = %v, want %v", got, tc.want)
			}
			asked := &resolvertest.Questions{Resolver: resolvertest.Zone(t, testZoneData, 0)}
			Lookup(context.Background(), asked, tc.from)
			want := append([]string(nil), tc.want...)
			slices.Sort(want)
			if a := asked.Asked(); strings.Join(a, ",") != strings.Join(want, ",") {
				t.Errorf("Lookup asked %v, Questions says %v", a, tc.want)
			}
		})
	}
}
