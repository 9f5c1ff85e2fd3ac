package message

import (
	"bufio"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// header parses a header block written with "\n" line ends.
func header(t testing.TB, block string) *Header {
	t.Helper()
	in := strings.ReplaceAll(block, "\n", "\r\n") + "\r\n"
	h, err := ReadHeader(bufio.NewReader(strings.NewReader(in)), Limits{})
	if err != nil && err != ErrNoHeader {
		t.Fatalf("ReadHeader(%q): %v", in, err)
	}
	return h
}

func TestParseFrom(t *testing.T) {
	type P = []Problem
	tests := []struct {
		name  string
		block string
		want  P
		addr  string // the identity; "" for none
	}{
		// Benign twins: no problem.
		{"plain", "From: Alice <alice@example.com>", nil, "alice@example.com"},
		{"name repeats address", `From: "alice@example.com" <alice@example.com>`, nil, "alice@example.com"},
		{"name repeats address unquoted", `From: alice@example.com <alice@example.com>`, nil, "alice@example.com"},
		{"name address same org", `From: "alice@example.com" <bounce@mail.example.com>`, nil, "bounce@mail.example.com"},
		{"encoded utf-8 name", "From: =?utf-8?q?J=C3=B6rg_M=C3=BCller?= <j@example.com>", nil, "j@example.com"},
		{"raw utf-8 name", "From: Jörg Müller <j@example.com>", nil, "j@example.com"},
		{"comment name", "From: alice@example.com (Alice Smith)", nil, "alice@example.com"},
		{"quoted local without at", `From: "alice.smith"@example.com`, nil, "alice.smith@example.com"},
		{"trailing dot and case", "From: Alice <alice@Example.COM.>", nil, "alice@example.com"},
		{"honorific after address", `From: "alice@example.com様" <alice@example.com>`, nil, "alice@example.com"},
		{"folded", "From: Alice\n  <alice@example.com>", nil, "alice@example.com"},
		{"8-bit local", "From: josé@example.com", nil, "josé@example.com"},
		{"other fields ignored", "Sender: x@evil.example\nFrom: a@example.com\nReply-To: y@evil.example", nil, "a@example.com"},

		// Each problem with its attack.
		{"missing", "To: a@example.com", P{FromMissing}, ""},
		{"multiple", "From: a@example.com\nFrom: b@evil.example", P{FromMultiple}, ""},
		{"multiple upper case", "From: a@example.com\nFROM: b@evil.example", P{FromMultiple}, ""},
		{"multiple lower case", "from: a@example.com\nFrom: a@example.com", P{FromMultiple}, ""},
		{"multiple obs colon", "From: a@example.com\nFrom : b@evil.example", P{FromMultiple, FromObsColon}, ""},
		{"obs colon", "From\t: a@example.com", P{FromObsColon}, "a@example.com"},
		{"multiple addresses", "From: a@example.com, b@evil.example", P{FromMultipleAddresses}, ""},
		{"multiple addresses same", "From: a@example.com, a@example.com", P{FromMultipleAddresses}, ""},
		{"empty", "From:", P{FromEmpty}, ""},
		{"empty spaces", "From:   ", P{FromEmpty}, ""},
		{"empty angle", "From: <>", P{FromEmpty}, ""},
		{"only comment", "From: (nobody)", P{FromEmpty}, ""},
		{"empty group", "From: undisclosed-recipients:;", P{FromEmpty, FromGroup}, ""},
		{"group", "From: Team: a@example.com;", P{FromGroup}, ""},
		{"unparsable two ats", "From: a@example.com@evil.example", P{FromUnparsable}, ""},
		{"unparsable quote", `From: "Alice <a@example.com>`, P{FromUnparsable}, ""},
		{"unparsable angle", "From: Alice <a@example.com", P{FromUnparsable}, ""},
		{"route", "From: <@legit.example:admin@attack.example>", P{FromRoute}, "admin@attack.example"},
		{"route second hop other org", "From: <@mx.attack.example,@legit.example:admin@attack.example>", P{FromRoute}, "admin@attack.example"},
		{"route literal", "From: <@[192.0.2.1]:admin@attack.example>", P{FromRoute}, "admin@attack.example"},
		{"route same org", "From: <@relay.example.com:alice@example.com>", P{FromRouteSameOrg}, "alice@example.com"},
		{"no domain", "From: alice", P{FromNoDomain}, ""},
		{"no domain angle", "From: Alice <alice>", P{FromNoDomain}, ""},
		{"bad domain literal", "From: a@[192.0.2.1]", P{FromBadDomain}, ""},
		{"bad domain literal space", "From: a@[exa mple]", P{FromBadDomain}, ""},
		{"bad domain empty label", "From: a@example..com", P{FromBadDomain}, ""},
		{"bad domain numeric", "From: a@192.0.2.1", P{FromBadDomain}, ""},
		{"bad domain underscore", "From: a@ex_ample.com", P{FromBadDomain}, ""},
		{"bad domain hyphen", "From: a@-example.com", P{FromBadDomain}, ""},
		{"internationalized domain as its A-label", "From: a@exämple.com", nil, "a@xn--exmple-cua.com"},
		{"bad domain latin-1 octet", "From: a@ex\xe4mple.com", P{FromBadDomain}, ""},
		{"bad domain utf-8 disallowed by IDNA", "From: a@ex\u2028ample.com", P{FromBadDomain}, ""},
		{"bad domain leading dot", "From: a@.example.com", P{FromBadDomain}, ""},
		{"bad domain two trailing dots", "From: a@example.com..", P{FromBadDomain}, ""},
		{"bad domain encoded", "From: a@=?utf-8?q?example.com?=", P{FromBadDomain, FromEncodedAddress}, ""},
		{"display address quoted", `From: "alice@bank.example" <x@evil.example>`, P{FromDisplayAddress}, "x@evil.example"},
		{"display address unquoted", `From: alice@bank.example <x@evil.example>`, P{FromDisplayAddress}, "x@evil.example"},
		{"display address encoded", "From: =?utf-8?b?YWxpY2VAYmFuay5leGFtcGxl?= <x@evil.example>", P{FromDisplayAddress}, "x@evil.example"},
		{"display address encoded in quotes", `From: "=?utf-8?q?alice=40bank.example?=" <x@evil.example>`, P{FromDisplayAddress}, "x@evil.example"},
		{"display address comment", "From: x@evil.example (alice@bank.example)", P{FromDisplayAddress}, "x@evil.example"},
		{"display address comment comma", "From: x@evil.example(,alice@bank.example)", P{FromDisplayAddress}, "x@evil.example"},
		{"display address quoted local", `From: "alice@bank.example"@evil.example`, P{FromDisplayAddress}, `"alice@bank.example"@evil.example`},
		{"display address full-width at", "From: alice＠bank．example <x@evil.example>", P{FromDisplayAddress}, "x@evil.example"},
		{"display address public suffix", `From: "a@bar.co.uk" <a@foo.co.uk>`, P{FromDisplayAddress}, "a@foo.co.uk"},
		{"display address lookalike", `From: "support@bank.example" <support@bank.example.evil.example>`, P{FromDisplayAddress}, "support@bank.example.evil.example"},
		{"display bidi override", "From: \"\u202emoc.knab@eoj\" <x@evil.example>", P{FromDisplayBidi}, "x@evil.example"},
		{"display bidi override encoded", "From: =?utf-8?q?=E2=80=AEmoc.knab@eoj?= <x@evil.example>", P{FromDisplayBidi}, "x@evil.example"},
		{"display bidi override in comment", "From: x@evil.example (\u202dA)", P{FromDisplayBidi}, "x@evil.example"},
		{"display bidi marks and isolates are fine", "From: \"\u2067\u05d3\u05e0\u05d4\u2069 \u200f\" <dana@example.com>", nil, "dana@example.com"},
		{"display domain", `From: "PayPal.com" <service@evil.example>`, P{FromDisplayDomain}, "service@evil.example"},
		{"display domain in words", `From: Support Team bank.co.uk <x@evil.example>`, P{FromDisplayDomain}, "x@evil.example"},
		{"display domain encoded", "From: =?utf-8?q?Example=2Ecom_Billing?= <x@evil.example>", P{FromDisplayDomain}, "x@evil.example"},
		{"display domain same organization", `From: "Example.com Billing" <billing@mail.example.com>`, nil, "billing@mail.example.com"},
		{"display domain new gTLD is a name", `From: "Mr.Green Dr.House" <x@evil.example>`, nil, "x@evil.example"},
		{"display domain bare public suffix", `From: "co.uk team" <x@evil.example>`, nil, "x@evil.example"},
		{"display domain abbreviation", `From: "J. Smith, e.g. v1.2" <x@evil.example>`, nil, "x@evil.example"},
		{"mixed-script domain", "From: PayPal <service@p\u0430ypal.com>", P{FromMixedScript}, "service@xn--pypal-4ve.com"},
		{"mixed-script domain as A-label", "From: service@xn--pypal-4ve.com", P{FromMixedScript}, "service@xn--pypal-4ve.com"},
		{"single-script IDN", "From: info@\u043f\u0440\u0438\u043c\u0435\u0440.\u0440\u0444", nil, "info@xn--e1afmkfd.xn--p1ai"},
		{"encoded address", "From: =?utf-8?q?admin?=@evil.example", P{FromEncodedAddress}, "=?utf-8?q?admin?=@evil.example"},
		{"encoded address hiding another", "From: =?utf-8?b?YWRtaW5AYmFuay5leGFtcGxl?=@evil.example", P{FromDisplayAddress, FromEncodedAddress}, "=?utf-8?b?YWRtaW5AYmFuay5leGFtcGxl?=@evil.example"},
		{"control nul", "From: a@example.com\x00@evil.example", P{FromControlBytes, FromUnparsable}, ""},
		{"control bare cr", "From: a@example.com\rb@evil.example", P{FromControlBytes, FromUnparsable}, ""},
		{"control in quoted name", "From: \"Alice\x01\" <a@example.com>", P{FromControlBytes}, "a@example.com"},
		{"control encoded", "From: =?utf-8?q?Alice=00?= <a@example.com>", P{FromControlBytes}, "a@example.com"},
		{"control in comment", "From: a@example.com (A\x1b[2J)", P{FromControlBytes}, "a@example.com"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := ParseFrom(header(t, tc.block))
			assert.Equal(t, tc.want, f.Problems, "details: %q", f.Details)
			assert.Len(t, f.Details, len(f.Problems))
			assert.Equal(t, tc.addr, f.Address)
			if tc.addr != "" {
				assert.True(t, strings.HasSuffix(f.Address, "@"+f.Domain))
				assert.Equal(t, tc.addr, addrSpecString(f.Local, f.Domain))
			}
			for _, p := range tc.want {
				assert.True(t, f.Has(p))
			}
		})
	}
}

func TestParseFromFields(t *testing.T) {
	f := ParseFrom(nil)
	assert.Equal(t, []Problem{FromMissing}, f.Problems)
	assert.Equal(t, 0, f.Fields)

	f = ParseFrom(header(t, "From: a@example.com\nfrom : b@example.com\nFROM: c@example.com"))
	assert.Equal(t, 3, f.Fields)
	require.Equal(t, []Problem{FromMultiple, FromObsColon}, f.Problems)
	assert.Contains(t, f.Details[0], `"from"`)
	assert.Empty(t, f.Domain)

	f = ParseFrom(header(t, "From: =?utf-8?q?Al=C3=AFce?= <Alice@Example.ORG.>"))
	assert.Equal(t, "Alïce", f.DisplayName)
	assert.Equal(t, "Alice", f.Local)
	assert.Equal(t, "example.org", f.Domain)
	require.NotNil(t, f.Mailbox)
	assert.True(t, f.Mailbox.Flags.Has(FlagTrailingDot))
}

func TestEmbeddedDomains(t *testing.T) {
	for in, want := range map[string][]string{
		"":                             nil,
		"Alice":                        nil,
		"alice@bank.example":           {"bank.example"},
		"a@b.example and c@D.Example.": {"b.example", "d.example"},
		"@nodot":                       nil,
		"Team @ example.org":           nil,
		"x@bank.example様":              {"bank.example"},
		"x@例え.テスト":                     {"例え.テスト"},
		"x＠bank。example":               {"bank.example"},
		"x@a..b":                       nil,
		"x@.example.":                  nil,
	} {
		assert.Equal(t, want, embeddedDomains(in), in)
	}
	assert.Len(t, embeddedDomains(strings.Repeat("a@b.example ", 100)), 16, "bounded")
}

func FuzzParseFrom(f *testing.F) {
	for _, s := range []string{
		"From: Alice <alice@example.com>",
		"From: \"a@b.example\" <c@d.example>\nFrom : x",
		"From: <@a.example:b@c.example>",
		"From: =?utf-8?b?YWRtaW5AYmFuay5leGFtcGxl?=@evil.example",
		"From: g:;",
		"From: a@[192.0.2.1] (x@y.example)",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, block string) {
		h, _ := ReadHeader(bufio.NewReader(strings.NewReader(block)), Limits{})
		got := ParseFrom(h)
		if got.Address != "" {
			if got.Domain == "" || got.Domain != strings.ToLower(got.Domain) || !strings.HasSuffix(got.Address, "@"+got.Domain) {
				t.Fatalf("address %q, domain %q", got.Address, got.Domain)
			}
			if got.Fields != 1 {
				t.Fatalf("identity from %d From fields", got.Fields)
			}
		}
		if !slices.IsSorted(got.Problems) || len(slices.Compact(slices.Clone(got.Problems))) != len(got.Problems) {
			t.Fatalf("problems not sorted and unique: %v", got.Problems)
		}
		if len(got.Details) != len(got.Problems) {
			t.Fatalf("%d details for %d problems", len(got.Details), len(got.Problems))
		}
		if (got.Fields == 0) != got.Has(FromMissing) {
			t.Fatalf("Fields %d, problems %v", got.Fields, got.Problems)
		}
	})
}
