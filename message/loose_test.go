package message

import (
	"bufio"
	"slices"
	"strings"
	"testing"
)

func TestFieldList(t *testing.T) {
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
		h, err := ReadHeader(bufio.NewReader(strings.NewReader("To: "+tc.in+"\r\n\r\n")), Limits{})
		if err != nil {
			t.Fatal(err)
		}
		for range 2 { // the second time from the header's parsed lists
			if got := h.looseList(h.First("to")); !slices.Equal(got, tc.want) {
				t.Errorf("fieldList(%q) = %q, want %q", tc.in, got, tc.want)
			}
		}
	}
}
