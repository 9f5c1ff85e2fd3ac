package message

import (
	"errors"
	"net/mail"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mailtrust/mailtrust/internal/domain"
)

// mb is the expected shape of one parsed mailbox.
type mb struct {
	addr, name string
	flags      Flags
}

func TestParseAddressList(t *testing.T) {
	const a, q, g = FlagAngle, FlagQuotedLocal, FlagGroup
	tests := []struct {
		name string
		in   string
		want []mb
		err  error
	}{
		{"addr-spec", "alice@example.com", []mb{{"alice@example.com", "", 0}}, nil},
		{"name-addr", "Alice <alice@example.com>", []mb{{"alice@example.com", "Alice", a}}, nil},
		{"angle only", "<alice@example.com>", []mb{{"alice@example.com", "", a}}, nil},
		{"case and trailing dot", "Alice@Example.COM.", []mb{{"Alice@example.com", "", FlagTrailingDot}}, nil},
		{"quoted name escaped quotes", `"Smith \"Jr\", J." <j@example.com>`, []mb{{"j@example.com", `Smith "Jr", J.`, a}}, nil},
		{"obs phrase dots", "John Q. Public <jqp@example.com>", []mb{{"jqp@example.com", "John Q. Public", a}}, nil},
		{"phrase words folded", "John\r\n Smith <js@example.com>", []mb{{"js@example.com", "John Smith", a}}, nil},
		{"list", "a@example.com, B <b@example.org>", []mb{{"a@example.com", "", 0}, {"b@example.org", "B", a}}, nil},
		{"empty elements", " , a@example.com,, b@example.org ,", []mb{{"a@example.com", "", 0}, {"b@example.org", "", 0}}, nil},
		{"group", "Team: a@example.com, B <b@example.org>;", []mb{{"a@example.com", "", g}, {"b@example.org", "B", a | g}}, nil},
		{"empty group", "undisclosed-recipients:;", nil, nil},
		{"unterminated group", "undisclosed-recipients:", nil, nil},
		{"group then mailbox", "G: a@example.com;, c@example.net", []mb{{"a@example.com", "", g}, {"c@example.net", "", 0}}, nil},
		{"comment as name", "alice@example.com (Alice Smith)", []mb{{"alice@example.com", "", 0}}, nil},
		{"comment inside addr", "alice(x)@(y)example.com", []mb{{"alice@example.com", "", 0}}, nil},
		{"nested comment quoted pair", `a@example.com (A (b \) c) d)`, []mb{{"a@example.com", "", 0}}, nil},
		{"quoted local dot-atom", `"alice.smith"@example.com`, []mb{{"alice.smith@example.com", "", q}}, nil},
		{"quoted local space", `"a b"@example.com`, []mb{{`"a b"@example.com`, "", q}}, nil},
		{"quoted local escaped", `"a\"b\\c"@example.com`, []mb{{`"a\"b\\c"@example.com`, "", q}}, nil},
		{"quoted local with at", `"alice@bank.example"@example.com`, []mb{{`"alice@bank.example"@example.com`, "", q}}, nil},
		{"obs local cfws", "a . b@example.com", []mb{{"a.b@example.com", "", FlagObsolete}}, nil},
		{"obs domain cfws", "a@example . com", []mb{{"a@example.com", "", FlagObsolete}}, nil},
		{"lax local double dot", "a..b@docomo.example", []mb{{`"a..b"@docomo.example`, "", FlagLaxLocal}}, nil},
		{"lax local trailing dot", "a.@example.com", []mb{{`"a."@example.com`, "", FlagLaxLocal}}, nil},
		{"route", "<@a.example,@b.example:user@c.example>", []mb{{"user@c.example", "", a | FlagRoute}}, nil},
		{"route cfws commas", "X < , @a.example , ,@b.example : user@c.example >", []mb{{"user@c.example", "X", a | FlagRoute}}, nil},
		{"domain literal", "a@[192.0.2.1]", []mb{{"a@[192.0.2.1]", "", FlagDomainLiteral}}, nil},
		{"domain literal v6", "<a@[IPv6:2001:DB8::1]>", []mb{{"a@[ipv6:2001:db8::1]", "", a | FlagDomainLiteral}}, nil},
		{"no domain", "alice", []mb{{"alice", "", FlagNoDomain}}, nil},
		{"no domain angle", "Alice <alice>", []mb{{"alice", "Alice", a | FlagNoDomain}}, nil},
		{"unquoted comma name", "Smith, John <j@example.com>", []mb{{"Smith", "", FlagNoDomain}, {"j@example.com", "John", a}}, nil},
		{"empty angle", "<>", []mb{{"", "", a | FlagEmpty | FlagNoDomain}}, nil},
		{"lax phrase at", "alice@bank.example <x@evil.example>", []mb{{"x@evil.example", "alice@bank.example", a | FlagLaxPhrase}}, nil},
		{"encoded name q", "=?utf-8?q?Al=C3=AFce_S?= <a@example.com>", []mb{{"a@example.com", "Alïce S", a | FlagEncodedName}}, nil},
		{"encoded name b adjacent", "=?utf-8?b?QWxp?= =?utf-8?b?Y2U=?= <a@example.com>", []mb{{"a@example.com", "Alice", a | FlagEncodedName}}, nil},
		{"encoded name in quotes", `"=?utf-8?q?a=40bank.example?=" <a@example.com>`, []mb{{"a@example.com", "a@bank.example", a | FlagEncodedName}}, nil},
		{"encoded name latin1", "=?iso-8859-1?q?caf=E9?= <a@example.com>", []mb{{"a@example.com", "café", a | FlagEncodedName}}, nil},
		{"encoded name koi8-r", "=?koi8-r?q?ab=E9?= <a@example.com>", []mb{{"a@example.com", "abИ", a | FlagEncodedName}}, nil},
		{"encoded name unknown charset", "=?x-unknown?q?ab=E9=1B?= <a@example.com>", []mb{{"a@example.com", "ab\uFFFD\uFFFD", a | FlagEncodedName | FlagCharset}}, nil},
		{"encoded name nul", "=?utf-8?q?a=00b?= <a@example.com>", []mb{{"a@example.com", "a\x00b", a | FlagEncodedName | FlagControl}}, nil},
		{"encoded local", "=?utf-8?q?a=40b.example?=@evil.example", []mb{{"=?utf-8?q?a=40b.example?=@evil.example", "", FlagEncodedWord}}, nil},
		{"encoded domain", "a@=?utf-8?q?b?=", []mb{{"a@=?utf-8?q?b?=", "", FlagEncodedWord}}, nil},
		{"utf-8", "Jösé <jösé@exämple.com>", []mb{{"jösé@xn--exmple-cua.com", "Jösé", a | FlagUTF8}}, nil},
		{"control in quoted", "\"a\x01b\" <a@example.com>", []mb{{"a@example.com", "a\x01b", a | FlagControl}}, nil},
		{"control in comment", "a@example.com (x\x00y)", []mb{{"a@example.com", "", FlagControl}}, nil},
		{"fold inside quoted", "\"a\r\n b\" <a@example.com>", []mb{{"a@example.com", "a b", a}}, nil},

		{"unbalanced angle open", "<a@example.com", nil, ErrAddressSyntax},
		{"unbalanced angle close", "a@example.com>", []mb{{"a@example.com", "", 0}}, ErrAddressSyntax},
		{"double angle", "<<a@example.com>>", nil, ErrAddressSyntax},
		{"unterminated quote", `"abc <a@example.com>`, nil, ErrAddressSyntax},
		{"unterminated comment", "a@example.com (abc", nil, ErrAddressSyntax},
		{"stray close paren", "a@example.com )", []mb{{"a@example.com", "", 0}}, ErrAddressSyntax},
		{"unterminated literal", "a@[192.0.2.1", nil, ErrAddressSyntax},
		{"missing domain", "a@", nil, ErrAddressSyntax},
		{"missing local", "@example.com", nil, ErrAddressSyntax},
		{"two ats", "a@b.example@c.example", []mb{{"a@b.example", "", 0}}, ErrAddressSyntax},
		{"words without dot", "a b@example.com", nil, ErrAddressSyntax},
		{"phrase without address", "Mary Smith", nil, ErrAddressSyntax},
		{"backslash outside quotes", `a\b@example.com`, []mb{{"a", "", FlagNoDomain}}, ErrAddressSyntax},
		{"nested group", "A: B: c@example.com;;", nil, ErrAddressSyntax},
		{"group name with at", "a@b: c@example.com;", nil, ErrAddressSyntax},
		{"nul outside quotes", "a@example.com\x00@evil.example", nil, ErrAddressSyntax},
		{"bare cr", "a@example.com\r b@example.org", nil, ErrAddressSyntax},
		{"route without address", "<@a.example:>", nil, ErrAddressSyntax},
		{"route not ended", "<@a.example>", nil, ErrAddressSyntax},
		{"semicolon outside group", "a@example.com; b@example.org", []mb{{"a@example.com", "", 0}}, ErrAddressSyntax},
		{"backslash at end of quote", `"abc\`, nil, ErrAddressSyntax},
		{"too long", strings.Repeat("a", MaxAddressListBytes+1), nil, ErrAddressLimit},
		{"nesting at limit", "a@example.com " + strings.Repeat("(", MaxCommentDepth) + strings.Repeat(")", MaxCommentDepth), []mb{{"a@example.com", "", 0}}, nil},
		{"nesting over limit", "a@example.com " + strings.Repeat("(", MaxCommentDepth+1) + strings.Repeat(")", MaxCommentDepth+1), nil, ErrAddressLimit},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l, err := ParseAddressList(tc.in)
			if tc.err == nil {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, tc.err)
			}
			var got []mb
			for _, m := range l.Mailboxes {
				got = append(got, mb{m.Address, m.DisplayName, m.Flags})
			}
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestParseAddressListDetails(t *testing.T) {
	l, err := ParseAddressList(`"Smith \"J\"" (c1) <@a.example,@B.Example.:Alice@Example.COM> (c2), undisclosed:;, (lead) x@example.org`)
	require.NoError(t, err)
	require.Len(t, l.Mailboxes, 2)
	m := l.Mailboxes[0]
	assert.Equal(t, `Smith "J"`, m.RawDisplayName)
	assert.Equal(t, "Alice", m.Local)
	assert.Equal(t, "example.com", m.Domain)
	assert.Equal(t, []string{"a.example", "b.example"}, m.Route)
	assert.Equal(t, []string{"c1", "c2"}, m.Comments)
	assert.False(t, m.Flags.Has(FlagTrailingDot), "a route's trailing dot is not the address's")
	assert.Equal(t, []string{"lead"}, l.Mailboxes[1].Comments)
	assert.Equal(t, []Group{{Name: "undisclosed", RawName: "undisclosed"}}, l.Groups)

	l, err = ParseAddressList("=?utf-8?q?T=C3=A9am?=: a@example.com, b@example.com")
	require.NoError(t, err)
	require.Len(t, l.Groups, 1)
	assert.Equal(t, Group{Name: "Téam", RawName: "=?utf-8?q?T=C3=A9am?=", Members: 2, Unterminated: true}, l.Groups[0])
	assert.Equal(t, "=?utf-8?q?T=C3=A9am?=", l.Mailboxes[1].Group)

	l, err = ParseAddressList("G: (inside) ;, a@example.com")
	require.NoError(t, err)
	assert.Empty(t, l.Mailboxes[0].Comments, "a comment of an empty group is not another mailbox's")
	assert.True(t, l.Obsolete == false)

	l, err = ParseAddressList("a@example.com,,b@example.com")
	require.NoError(t, err)
	assert.True(t, l.Obsolete)
}

func TestParseAddressListLimitMailboxes(t *testing.T) {
	in := strings.Repeat("a@b.example,", MaxMailboxes) + "c@d.example"
	l, err := ParseAddressList(in)
	require.ErrorIs(t, err, ErrAddressLimit)
	assert.Len(t, l.Mailboxes, MaxMailboxes)
	_, err = ParseAddressList(strings.Repeat("a@b.example,", MaxMailboxes))
	require.NoError(t, err)
}

func TestFlagsString(t *testing.T) {
	assert.Equal(t, "", Flags(0).String())
	assert.Equal(t, "angle|route|group", (FlagAngle | FlagRoute | FlagGroup).String())
	assert.True(t, (FlagAngle | FlagRoute).Has(FlagRoute))
	assert.False(t, FlagAngle.Has(FlagAngle|FlagRoute))
}

// TestParseAddressListNetMail cross-checks RFC 5322 addresses with
// net/mail, which agrees on valid input.
func TestParseAddressListNetMail(t *testing.T) {
	for _, in := range []string{
		"alice@example.com",
		"Alice <alice@example.com>",
		`"Smith, J." <j@example.com>, b@example.org`,
		"=?utf-8?q?Al=C3=AFce?= <a@example.com>",
		"a@example.com (Alice)",
		"a@[192.0.2.1]",
		"Group: a@example.com, b@example.org;",
		"John Q. Public <jqp@example.com>",
	} {
		t.Run(in, func(t *testing.T) {
			want, err := mail.ParseAddressList(in)
			require.NoError(t, err)
			l, err := ParseAddressList(in)
			require.NoError(t, err)
			require.Len(t, l.Mailboxes, len(want))
			for i, w := range want {
				assert.Equal(t, w.Address, l.Mailboxes[i].Address)
				if !strings.Contains(in, "(") { // net/mail takes a comment for the name
					assert.Equal(t, w.Name, l.Mailboxes[i].DisplayName)
				}
			}
		})
	}
}

func TestHasEncodedWord(t *testing.T) {
	for in, want := range map[string]bool{
		"=?utf-8?q?a?=":         true,
		"x=?UTF-8?B?YQ==?=y":    true,
		"=?utf-8?x?a?=":         false,
		"=?utf-8?q?a":           false,
		"=??q?a?=":              false,
		"a=?b":                  false,
		"=?a?q?=?b?B?c?=":       true,
		"plain.local":           false,
		"=?utf-8?q??=":          true,
		"=?utf-8*en?q?hello?=":  true,
		"=?utf-8?q?x?= =?a?b?c": true,
	} {
		assert.Equal(t, want, hasEncodedWord(in), in)
	}
}

func FuzzParseAddressList(f *testing.F) {
	for _, s := range []string{
		"Alice <alice@example.com>",
		`"a\"b" (c (d)) <@a.example,@b.example:u@c.example>, g:;`,
		"=?utf-8?q?x?= <a@[192.0.2.1]>",
		"a . b @ c . d, ,",
		"\"unterminated",
		"((((",
		"a@b@c",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		l, err := ParseAddressList(in)
		if err != nil && !errors.Is(err, ErrAddressSyntax) && !errors.Is(err, ErrAddressLimit) {
			t.Fatalf("unexpected error %v", err)
		}
		for _, m := range l.Mailboxes {
			if m.Domain != "" && !strings.HasSuffix(m.Address, "@"+m.Domain) {
				t.Fatalf("address %q does not end in its domain %q", m.Address, m.Domain)
			}
			if m.Domain != strings.ToLower(m.Domain) {
				t.Fatalf("domain %q not lower case", m.Domain)
			}
			if m.Flags.Has(FlagNoDomain) != (m.Domain == "") {
				t.Fatalf("no-domain flag disagrees with %q", m.Domain)
			}
			if err == nil && !m.Flags.Has(FlagLaxLocal) && !m.Flags.Has(FlagNoDomain) &&
				(m.Flags.Has(FlagDomainLiteral) || domain.Valid(m.RawDomain) == nil) {
				// The address written back parses to itself.
				back, berr := ParseAddressList(m.Address)
				if berr != nil || len(back.Mailboxes) != 1 || back.Mailboxes[0].Address != m.Address {
					t.Fatalf("address %q does not round-trip: %v %+v", m.Address, berr, back.Mailboxes)
				}
			}
		}
	})
}
