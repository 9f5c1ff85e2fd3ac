package arfield

import (
	"slices"
	"testing"
)

func TestSplitResults(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"mx.example; spf=pass; dkim=pass", []string{"mx.example", "spf=pass", "dkim=pass"}},
		{` mx.example ;; spf=pass reason="a; b" ;`, []string{"mx.example", `spf=pass reason="a; b"`}},
		{"mx.example; spf=pass (x; (nested; y) z); dkim=none", []string{"mx.example", "spf=pass (x; (nested; y) z)", "dkim=none"}},
		{`mx.example; spf=pass reason="q\"; still quoted"; dmarc=none`, []string{"mx.example", `spf=pass reason="q\"; still quoted"`, "dmarc=none"}},
		{`mx.example; spf=pass (c\); still comment); dmarc=none`, []string{"mx.example", `spf=pass (c\); still comment)`, "dmarc=none"}},
		{`mx.example; a=b\; c=d`, []string{"mx.example", `a=b\`, "c=d"}}, // no quoted-pair outside quotes and comments
	}
	for _, tc := range tests {
		if got := splitResults(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("splitResults(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// FuzzStripComments: removing comments is idempotent and leaves no
// balanced comment behind.
func FuzzStripComments(f *testing.F) {
	for _, s := range []string{"a (b) c", "a (b (c) d) e", `"(not)" (yes)`, `a \( (b\)c) d`, "((", "))", `"unterminated (`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		once := StripComments(s)
		if twice := StripComments(once); twice != once {
			t.Fatalf("not idempotent: %q -> %q -> %q", s, once, twice)
		}
		if len(once) > len(s)+1 && len(s) > 0 {
			t.Fatalf("grew: %q -> %q", s, once)
		}
	})
}
