package received

import (
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// parseDateReference is parseDate as it was before its fast path: the
// longest prefix of words that mail.ParseDate reads.
func parseDateReference(toks []token) time.Time {
	var words []string
	for _, t := range toks {
		if t.kind != tWord {
			continue
		}
		if strings.EqualFold(t.text, "id") {
			break
		}
		words = append(words, t.text)
	}
	for n := min(len(words), 6); n >= 4; n-- {
		if d, err := mail.ParseDate(strings.Join(words[:n], " ")); err == nil {
			return d.UTC()
		}
	}
	return time.Time{}
}

// TestParseDateFastPath holds parseDate to mail.ParseDate's reading on the
// dates receivers write and on near misses the fast layouts must leave to
// it (obsolete zones, two-digit years, no seconds, a wrong day name,
// trailing words, comments).
func TestParseDateFastPath(t *testing.T) {
	dates := []string{
		"Thu, 15 Jan 2026 10:00:00 +0000",
		"Thu, 5 Jan 2026 10:00:00 -0500",
		"Thu, 05 Jan 2026 09:08:07 +0130",
		"15 Jan 2026 10:00:00 +0000",
		"5 Jan 2026 1:02:03 +0000",
		"Thu, 15 Jan 2026 10:00:00 +0000 (UTC)",
		"Thu, 15 Jan 2026 10:00:00 GMT",
		"Thu, 15 Jan 2026 10:00:00 EST",
		"Thu, 15 Jan 26 10:00:00 +0000",
		"Thu, 15 Jan 2026 10:00 +0000",
		"Xyz, 15 Jan 2026 10:00:00 +0000",
		"Thu 15 Jan 2026 10:00:00 +0000",
		"Thu, 15 Jan 2026 10:00:00 +0000 id 42",
		"15 Jan 2026 10:00:00 +0000 extra",
		"Thu, 32 Jan 2026 10:00:00 +0000",
		"Thu, 15 Foo 2026 10:00:00 +0000",
		"Thu, 15 Jan 2026 25:00:00 +0000",
		"Thu, 15 Jan 2026 10:00:00 +00",
		"Thu, 15 Jan 2026 10:00:00 +9999",
		"Thu, 15 Jan 2026",
		"",
		"garbage words only here now",
	}
	for _, d := range dates {
		toks := tokenize(d)
		assert.Equal(t, parseDateReference(toks), parseDate(toks), "%q", d)
	}
	assert.Equal(t, time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC), parseDate(tokenize("Thu, 15 Jan 2026 10:00:00 +0000")))
}

func BenchmarkParseDate(b *testing.B) {
	toks := tokenize("Thu, 15 Jan 2026 10:00:00 +0000 (UTC)")
	b.ReportAllocs()
	for b.Loop() {
		_ = parseDate(toks)
	}
}
