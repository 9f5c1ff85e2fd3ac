package arfield

import (
	"testing"

	"github.com/emersion/go-msgauth/authres"
)

func TestSafe(t *testing.T) {
	for _, tc := range []struct{ in, reason, value, token string }{
		{"example.com", "example.com", "example.com", "example.com"},
		{"a@b.example", "a@b.example", "a@b.example", "a@b.example"},
		{"RFC 7208 §4.6.4", "RFC 7208 section 4.6.4", "", ""},
		{"x\x00y", "x?y", "", ""},
		{`say "pass"; dkim=pass`, `say 'pass', dkim=pass`, "", ""},
		{`back\slash`, "back/slash", "", ""},
		{"a=b", "a=b", "a=b", ""},
		{"a;b", "a,b", "", ""},
		{"bücher", "b??cher", "", ""},
	} {
		if got := Reason(tc.in); got != tc.reason {
			t.Errorf("Reason(%q) = %q, want %q", tc.in, got, tc.reason)
		}
		if got := Value(tc.in); got != tc.value {
			t.Errorf("Value(%q) = %q, want %q", tc.in, got, tc.value)
		}
		if got := Token(tc.in); got != tc.token {
			t.Errorf("Token(%q) = %q, want %q", tc.in, got, tc.token)
		}
	}
}

// FuzzReason: whatever goes in, a header written with the reason parses
// back to one result with that reason.
func FuzzReason(f *testing.F) {
	f.Add(`x"; dkim=pass`)
	f.Add("\r\nX-Injected: 1")
	f.Fuzz(func(t *testing.T, s string) {
		r := Reason(s)
		h := authres.Format("mx.example", []authres.Result{&authres.SPFResult{Value: authres.ResultPass, Reason: r}})
		_, rs, err := authres.Parse(h)
		if err != nil || len(rs) != 1 {
			t.Fatalf("%q → %q: %v %d results", s, h, err, len(rs))
		}
	})
}

func TestResultReason(t *testing.T) {
	tests := []struct{ status, reason, want string }{
		{"temperror", "key unavailable: resolver: 127.0.0.1:5353: read udp: i/o timeout", TemporaryReason},
		{"temperror", "", TemporaryReason},
		{"permerror", "no key; \"x\"", "no key, 'x'"},
		{"pass", "", ""},
		{"fail", "temperror in a fail reason stays", "temperror in a fail reason stays"},
	}
	for _, tt := range tests {
		if got := ResultReason(tt.status, tt.reason); got != tt.want {
			t.Errorf("ResultReason(%q, %q) = %q, want %q", tt.status, tt.reason, got, tt.want)
		}
	}
}
