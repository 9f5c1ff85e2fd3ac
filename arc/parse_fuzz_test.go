package arc

import (
	"strings"
	"testing"
)

// FuzzParseAAR: the ARC-Authentication-Results parser never panics and
// returns only valid instances.
func FuzzParseAAR(f *testing.F) {
	for _, s := range []string{"i=1; lists.example; spf=pass", " i = 7 ;x", "i=1 x;", "lists.example; i=1", "i=1; (a;b) id; dkim=pass (c) header.d=x", "i=100; x", "i=0; x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, id, _, err := parseAAR(s)
		if err != nil {
			return
		}
		if n < 1 || n > 99 || id == "" || strings.ContainsAny(id, " \t;") {
			t.Fatalf("parseAAR(%q) = %d, %q", s, n, id)
		}
	})
}
