package domain

import (
	"slices"
	"testing"
)

func TestMixedScript(t *testing.T) {
	tests := []struct {
		name  string
		label string
		mix   []string
	}{
		{"example.com", "", nil},
		{"bücher.example", "", nil},
		{"xn--bcher-kva.example", "", nil},
		{"p\u0430ypal.com", "p\u0430ypal", []string{"Latin", "Cyrillic"}},            // Cyrillic а
		{"xn--pypal-4ve.com", "p\u0430ypal", []string{"Latin", "Cyrillic"}},          // the same as an A-label
		{"secure.p\u0430ypal.example", "p\u0430ypal", []string{"Latin", "Cyrillic"}}, // below a registered name
		{"\u0440\u0430\u0443\u0440\u0430l.com", "\u0440\u0430\u0443\u0440\u0430l", []string{"Latin", "Cyrillic"}},
		{"\u043f\u0440\u0438\u043c\u0435\u0440.\u0440\u0444", "", nil},   // пример.рф: Cyrillic only
		{"\u03b5\u03bb\u03bb\u03b7\u03bd\u03b9\u03ba\u03ac.gr", "", nil}, // Greek only, with a tonos
		{"\u65e5\u672c\u8a9e\u30c9\u30e1\u30a4\u30f3.jp", "", nil},       // Han + Katakana
		{"abc\u65e5\u672c.jp", "", nil},                                  // Latin + Han
		{"\ud55c\uad6d\uc5b4abc.kr", "", nil},                            // Hangul + Latin
		{"\u0430pple-2\u03bf.com", "\u0430pple-2\u03bf", []string{"Latin", "Cyrillic", "Greek"}},
		{"xn--invalid-\u00ff.com", "", nil}, // not decodable: not judged
	}
	for _, tc := range tests {
		label, mix, ok := MixedScript(tc.name)
		if ok != (tc.label != "") || label != tc.label || !slices.Equal(mix, tc.mix) {
			t.Errorf("MixedScript(%q) = %q, %q, %v; want %q, %q", tc.name, label, mix, ok, tc.label, tc.mix)
		}
	}
}
