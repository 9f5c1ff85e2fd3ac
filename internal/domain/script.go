package domain

import (
	"slices"
	"strings"
	"unicode"

	"golang.org/x/net/idna"
)

// scripts are the scripts a label is sorted into; a letter of none of them
// counts as "other". Common (digits, hyphen) and Inherited (combining
// marks) belong to every script and are skipped.
var scripts = []struct {
	name  string
	table *unicode.RangeTable
}{
	{"Latin", unicode.Latin}, {"Cyrillic", unicode.Cyrillic}, {"Greek", unicode.Greek},
	{"Armenian", unicode.Armenian}, {"Georgian", unicode.Georgian}, {"Cherokee", unicode.Cherokee},
	{"Hebrew", unicode.Hebrew}, {"Arabic", unicode.Arabic}, {"Thai", unicode.Thai},
	{"Devanagari", unicode.Devanagari}, {"Han", unicode.Han}, {"Hiragana", unicode.Hiragana},
	{"Katakana", unicode.Katakana}, {"Hangul", unicode.Hangul}, {"Bopomofo", unicode.Bopomofo},
}

// allowedMixes are the combinations of scripts a single label may hold
// under the "Highly Restrictive" level of Unicode TS 39 §5.2: one script,
// or Latin with the scripts written together in Japanese, Chinese or
// Korean.
var allowedMixes = [][]string{
	{"Latin", "Han", "Hiragana", "Katakana"},
	{"Latin", "Han", "Bopomofo"},
	{"Latin", "Han", "Hangul"},
}

// MixedScript returns the first label of name, in Unicode, whose letters
// come from scripts that Unicode TS 39 §5.2 "Highly Restrictive" does not
// allow together — "pаypal" with a Cyrillic "а" among Latin letters — and
// the scripts it mixes. Such a label shows as a name it is not (a homograph,
// TS 39 §4); registries refuse most of them (RFC 5890 §4.4 leaves it to
// them), but names below a registered domain are free. A-labels are
// decoded first; a label that cannot be decoded is not judged here.
func MixedScript(name string) (label string, mix []string, ok bool) {
	if isASCII(name) && !containsFold(name, "xn--") {
		return "", nil, false // ASCII letters are all Latin, and no A-label hides others
	}
	for l := range strings.SplitSeq(Normalize(name), ".") {
		u := l
		if strings.HasPrefix(l, "xn--") {
			var err error
			if u, err = idna.Punycode.ToUnicode(l); err != nil {
				continue
			}
		}
		if m := labelScripts(u); len(m) > 1 && !allowedMix(m) {
			return u, m, true
		}
	}
	return "", nil, false
}

// labelScripts lists the scripts of the letters of label, in the order of
// the scripts table.
func labelScripts(label string) []string {
	seen := make([]bool, len(scripts)+1)
	for _, r := range label {
		if r < 0x80 {
			if 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' {
				seen[0] = true
			}
			continue
		}
		if !unicode.IsLetter(r) || unicode.Is(unicode.Common, r) || unicode.Is(unicode.Inherited, r) {
			continue
		}
		found := false
		for i, s := range scripts {
			if unicode.Is(s.table, r) {
				seen[i], found = true, true
				break
			}
		}
		if !found {
			seen[len(scripts)] = true
		}
	}
	var out []string
	for i, s := range scripts {
		if seen[i] {
			out = append(out, s.name)
		}
	}
	if seen[len(scripts)] {
		out = append(out, "other")
	}
	return out
}

func allowedMix(m []string) bool {
	for _, a := range allowedMixes {
		all := true
		for _, s := range m {
			if !slices.Contains(a, s) {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// containsFold reports whether s holds sub, ASCII case ignored.
func containsFold(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return true
		}
	}
	return false
}
