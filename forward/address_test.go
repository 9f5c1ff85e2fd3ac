package forward

import (
	"slices"
	"testing"
)

func TestParseAddrList(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"   ", nil},
		{"bob@example.com", []string{"bob@example.com"}},
		{`"Bob Smith" <bob@Example.COM>, carol@example.org`, []string{"bob@example.com", "carol@example.org"}},
		{"list: a@example.com, b@example.com;", []string{"a@example.com", "b@example.com"}},
		{"undisclosed-recipients:;", []string{}},
		{`"a b"@example.com`, []string{`"a b"@example.com`}},
		{"(comment) bob@example.com (another)", []string{"bob@example.com"}},
		{"postmaster", []string{}}, // no domain: not an address to compare
		// Refused by the parser: the loose fallback still finds addresses.
		// An unclosed "<" holds the rest of the field: one part, one address.
		{"Bob <bob@example.com, carol@example.org", []string{"bob@example.com"}},
		{"a@b@example.com, <c@example.net>", []string{"c@example.net"}},
	}
	for _, tc := range tests {
		got := parseAddrList(tc.in)
		if !slices.Equal(got, tc.want) {
			t.Errorf("parseAddrList(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
