package dkim

import (
	"bufio"
	"crypto"
	"crypto/sha256"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mailtrust/mailtrust/message"
)

// The example of RFC 6376 §3.4.6.
const rfcExampleHeader = "A: X\r\n" +
	"B : Y\t\r\n" +
	"\tZ  \r\n"

const rfcExampleBody = " C \r\n" +
	"D \t E\r\n" +
	"\r\n" +
	"\r\n"

func readTestHeader(t *testing.T, s string) *message.Header {
	t.Helper()
	h, err := message.ReadHeader(bufio.NewReader(strings.NewReader(s)), message.Limits{})
	require.NoError(t, err)
	return h
}

func TestRFC6376Example(t *testing.T) {
	h := readTestHeader(t, rfcExampleHeader+"\r\n")
	require.Len(t, h.Fields, 2)

	var relaxed, simple []byte
	for _, f := range h.Fields {
		relaxed = append(relaxed, CanonicalHeader(Relaxed, f.Raw)...)
		simple = append(simple, CanonicalHeader(Simple, f.Raw)...)
	}
	assert.Equal(t, "a:X\r\nb:Y Z\r\n", string(relaxed))
	assert.Equal(t, rfcExampleHeader, string(simple))

	for _, tt := range []struct {
		c    Canonicalization
		want string
	}{
		{Relaxed, " C\r\nD E\r\n"},
		{Simple, " C \r\nD \t E\r\n"},
	} {
		b := NewBodyHasher(tt.c, crypto.SHA256, -1)
		_, _ = b.Write([]byte(rfcExampleBody))
		want := sha256.Sum256([]byte(tt.want))
		assert.Equal(t, want[:], b.Sum(), "%s", tt.c)
		assert.Equal(t, int64(len(tt.want)), b.Length(), "%s", tt.c)
	}
}

func TestCanonicalHeaderRelaxed(t *testing.T) {
	tests := []struct{ raw, want string }{
		{"Subject: Hello\r\n", "subject:Hello\r\n"},
		{"SUBJECT :  Hello   World \t \r\n", "subject:Hello World\r\n"},
		{"Subject:\r\n Hello\r\n\tWorld\r\n", "subject:Hello World\r\n"},
		{"Subject:Hello\r\n World\r\n", "subject:Hello World\r\n"},
		{"X-Empty:\r\n", "x-empty:\r\n"},
		{"X-Empty: \t \r\n", "x-empty:\r\n"},
		{"X-Folded-Empty: \r\n \r\n", "x-folded-empty:\r\n"},
		{"To: a@example.com,\r\n  b@example.com\r\n", "to:a@example.com, b@example.com\r\n"},
		{"X: a\rb\r\n", "x:a\rb\r\n"}, // a bare CR is not whitespace
		{"X: caf\xc3\xa9\r\n", "x:caf\xc3\xa9\r\n"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, string(CanonicalHeader(Relaxed, []byte(tt.raw))), "%q", tt.raw)
		assert.Equal(t, tt.raw, string(CanonicalHeader(Simple, []byte(tt.raw))), "%q", tt.raw)
	}
}

func TestParseCanonicalization(t *testing.T) {
	tests := []struct {
		in         string
		head, body Canonicalization
		err        bool
	}{
		{"", Simple, Simple, false},
		{"simple", Simple, Simple, false},
		{"relaxed", Relaxed, Simple, false},
		{"relaxed/relaxed", Relaxed, Relaxed, false},
		{"simple/relaxed", Simple, Relaxed, false},
		{"relaxed/simple", Relaxed, Simple, false},
		{"Relaxed/Simple", Relaxed, Simple, false},
		{"nowsp", "", "", true},
		{"relaxed/", "", "", true},
		{"/relaxed", "", "", true},
		{"relaxed/relaxed/relaxed", "", "", true},
		{"relaxed / relaxed", "", "", true},
	}
	for _, tt := range tests {
		h, b, err := ParseCanonicalization(tt.in)
		if tt.err {
			assert.True(t, errors.Is(err, ErrUnsupported), "%q: %v", tt.in, err)
			continue
		}
		require.NoError(t, err, "%q", tt.in)
		assert.Equal(t, tt.head, h, "%q", tt.in)
		assert.Equal(t, tt.body, b, "%q", tt.in)
	}
}

func TestBodyHasher(t *testing.T) {
	tests := []struct {
		name            string
		body            string
		simple, relaxed string
	}{
		{"empty", "", "\r\n", ""},
		{"only empty lines", "\r\n\r\n\r\n", "\r\n", ""},
		{"only WSP lines", "  \r\n\t\r\n", "  \r\n\t\r\n", ""},
		{"no final CRLF", "abc", "abc\r\n", "abc\r\n"},
		{"no final CRLF, trailing WSP", "abc  ", "abc  \r\n", "abc\r\n"},
		{"trailing empty lines", "abc\r\n\r\n\r\n", "abc\r\n", "abc\r\n"},
		{"inner empty lines kept", "a\r\n\r\n\r\nb\r\n", "a\r\n\r\n\r\nb\r\n", "a\r\n\r\n\r\nb\r\n"},
		{"LF endings", "a\n\nb\n\n", "a\r\n\r\nb\r\n", "a\r\n\r\nb\r\n"},
		{"mixed endings", "a\r\nb\nc\r\n", "a\r\nb\r\nc\r\n", "a\r\nb\r\nc\r\n"},
		{"bare CR is content", "a\rb\r\n", "a\rb\r\n", "a\rb\r\n"},
		{"CR before CRLF", "a\r\r\n", "a\r\r\n", "a\r\r\n"},
		{"final bare CR", "a\r", "a\r\r\n", "a\r\r\n"},
		{"WSP runs", "a  \t b\t\r\n", "a  \t b\t\r\n", "a b\r\n"},
		{"leading WSP kept as one SP", "\t\t a\r\n", "\t\t a\r\n", " a\r\n"},
		{"WSP-only line inside", "a\r\n \t \r\nb\r\n", "a\r\n \t \r\nb\r\n", "a\r\n\r\nb\r\n"},
		{"trailing WSP lines", "a\r\n  \r\n \r\n", "a\r\n  \r\n \r\n", "a\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, c := range []struct {
				c    Canonicalization
				want string
			}{{Simple, tt.simple}, {Relaxed, tt.relaxed}} {
				assert.Equal(t, c.want, string(canonBody(c.c, []byte(tt.body))), "reference %s", c.c)
				checkBodyHasher(t, c.c, []byte(tt.body), []byte(c.want))
			}
		})
	}
}

// checkBodyHasher hashes body in every two-piece split and in one-octet
// writes, with and without limits, and compares with the canonical form.
func checkBodyHasher(t *testing.T, c Canonicalization, body, canon []byte) {
	t.Helper()
	sum := func(p []byte) []byte { s := sha256.Sum256(p); return s[:] }
	for split := 0; split <= len(body); split++ {
		b := NewBodyHasher(c, crypto.SHA256, -1)
		_, _ = b.Write(body[:split])
		_, _ = b.Write(body[split:])
		require.Equal(t, sum(canon), b.Sum(), "%s %q split at %d", c, body, split)
		require.Equal(t, int64(len(canon)), b.Length())
	}
	b := NewBodyHasher(c, crypto.SHA256, -1)
	for i := range body {
		_, _ = b.Write(body[i : i+1])
	}
	require.Equal(t, sum(canon), b.Sum(), "%s %q octet by octet", c, body)
	for _, l := range []int{0, 1, len(canon) / 2, len(canon), len(canon) + 3} {
		b := NewBodyHasher(c, crypto.SHA256, int64(l))
		_, _ = b.Write(body)
		require.Equal(t, sum(canon[:min(l, len(canon))]), b.Sum(), "%s %q l=%d", c, body, l)
		require.Equal(t, int64(len(canon)), b.Length(), "Length counts octets beyond l=")
	}
}

func TestBodyHasherLargeAndSha1(t *testing.T) {
	// Longer than the internal buffer, with runs of empty lines that are
	// withheld and then released.
	body := strings.Repeat("line  of\ttext \r\n", 700) + strings.Repeat("\r\n", 300) + "end\n" + strings.Repeat("\n", 5000)
	for _, c := range []Canonicalization{Simple, Relaxed} {
		canon := canonBody(c, []byte(body))
		b := NewBodyHasher(c, crypto.SHA256, -1)
		for p := []byte(body); len(p) > 0; {
			n := min(len(p), 997)
			_, _ = b.Write(p[:n])
			p = p[n:]
		}
		s := sha256.Sum256(canon)
		assert.Equal(t, s[:], b.Sum(), "%s", c)
	}
	b := NewBodyHasher(Simple, crypto.SHA1, -1)
	_, _ = b.Write([]byte("x\r\n"))
	assert.Len(t, b.Sum(), 20)
}

func TestBodyHasherAfterSum(t *testing.T) {
	b := NewBodyHasher(Relaxed, crypto.SHA256, -1)
	_, _ = b.Write([]byte("a\r\n"))
	first := b.Sum()
	n, err := b.Write([]byte("more\r\n"))
	assert.NoError(t, err)
	assert.Equal(t, 6, n)
	assert.Equal(t, first, b.Sum(), "Sum is final")
}

func FuzzBodyHasher(f *testing.F) {
	for _, s := range []string{"", "a\r\n", " C \r\nD \t E\r\n\r\n", "a\rb\n\r\n\r", "x  \t\n\n  \n"} {
		f.Add(s, uint8(3), true)
	}
	f.Fuzz(func(t *testing.T, body string, chunk uint8, relaxed bool) {
		c := Simple
		if relaxed {
			c = Relaxed
		}
		canon := canonBody(c, []byte(body))
		b := NewBodyHasher(c, crypto.SHA256, -1)
		step := int(chunk)%17 + 1
		for p := []byte(body); len(p) > 0; {
			n := min(len(p), step)
			_, _ = b.Write(p[:n])
			p = p[n:]
		}
		s := sha256.Sum256(canon)
		if string(s[:]) != string(b.Sum()) {
			t.Fatalf("%s %q: hash differs from canonical %q", c, body, canon)
		}
		if b.Length() != int64(len(canon)) {
			t.Fatalf("%s %q: length %d, want %d", c, body, b.Length(), len(canon))
		}
	})
}

func TestStripSignatureValue(t *testing.T) {
	tests := []struct{ raw, want string }{
		{"DKIM-Signature: v=1; b=abc; d=x\r\n", "DKIM-Signature: v=1; b=; d=x\r\n"},
		{"DKIM-Signature: v=1; d=x; b=abc\r\n def\r\n", "DKIM-Signature: v=1; d=x; b=\r\n"},
		{"DKIM-Signature: v=1; d=x;\r\n b = abc def ;\r\n", "DKIM-Signature: v=1; d=x;\r\n b =;\r\n"},
		{"DKIM-Signature: bh=keep; b=go\r\n", "DKIM-Signature: bh=keep; b=\r\n"},
		{"DKIM-Signature: v=1; bh=keep\r\n", "DKIM-Signature: v=1; bh=keep\r\n"},
		{"DKIM-Signature: b=\r\n", "DKIM-Signature: b=\r\n"},
		{"ARC-Seal: i=1; a=rsa-sha256; b=sig; cv=none\r\n", "ARC-Seal: i=1; a=rsa-sha256; b=; cv=none\r\n"},
		{"X: no tags here\r\n", "X: no tags here\r\n"},
		{"no colon", "no colon"},
	}
	for _, tt := range tests {
		raw := []byte(tt.raw)
		got := StripSignatureValue(raw)
		assert.Equal(t, tt.want, string(got), "%q", tt.raw)
		assert.Equal(t, tt.raw, string(raw), "input unchanged")
	}
}

func TestSelectHeaders(t *testing.T) {
	h := readTestHeader(t, "From: top\r\nTo: t1\r\nfrom: bottom\r\nSubject: s\r\nTO: t2\r\n\r\n")
	tests := []struct {
		names []string
		want  []string // Raw without CRLF
	}{
		{[]string{"from"}, []string{"from: bottom"}},
		{[]string{"From", "FROM"}, []string{"from: bottom", "From: top"}},
		{[]string{"from", "from", "from"}, []string{"from: bottom", "From: top"}}, // oversigned
		{[]string{"to", "subject", "from"}, []string{"TO: t2", "Subject: s", "from: bottom"}},
		{[]string{"x-missing", "subject"}, []string{"Subject: s"}},
		{[]string{" from "}, []string{"from: bottom"}},
		{nil, []string{}},
	}
	for _, tt := range tests {
		var got []string
		for _, f := range SelectHeaders(h, tt.names) {
			got = append(got, strings.TrimSuffix(string(f.Raw), "\r\n"))
		}
		if got == nil {
			got = []string{}
		}
		assert.Equal(t, tt.want, got, "%q", tt.names)
		// The indexed selection, used for large inputs, agrees.
		var indexed []string
		for _, f := range selectHeadersIndexed(h, tt.names) {
			indexed = append(indexed, strings.TrimSuffix(string(f.Raw), "\r\n"))
		}
		if indexed == nil {
			indexed = []string{}
		}
		assert.Equal(t, tt.want, indexed, "indexed %q", tt.names)
	}
}

// TestBodyHasherPlainRuns mixes lines canonicalization leaves alone (hashed
// in runs) with every kind it changes or withholds, in chunks of several
// sizes, with and without l=.
func TestBodyHasherPlainRuns(t *testing.T) {
	kinds := []string{
		"plain line of text\r\n", "plain line of text\r\n", "x\r\n", " leading space\r\n",
		"\r\n", "tab\there\r\n", "two  spaces\r\n", "trailing space \r\n", "trailing tab\t\r\n",
		"bare\rcr\r\n", "cr before crlf\r\r\n", "bare lf\n", "\n", "  \r\n", "\t\r\n",
	}
	for seed := range 60 {
		var body strings.Builder
		for i := range 40 + seed {
			body.WriteString(kinds[(i*7+seed*i/3+seed)%len(kinds)])
		}
		if seed%3 == 0 {
			body.WriteString("no final line end  ")
		}
		for _, c := range []Canonicalization{Simple, Relaxed} {
			canon := canonBody(c, []byte(body.String()))
			for _, chunk := range []int{1, 5, 23, 64, 4096} {
				for _, l := range []int{-1, len(canon) / 3} {
					b := NewBodyHasher(c, crypto.SHA256, int64(l))
					for p := []byte(body.String()); len(p) > 0; {
						n := min(len(p), chunk)
						_, _ = b.Write(p[:n])
						p = p[n:]
					}
					want := canon
					if l >= 0 {
						want = canon[:l]
					}
					s := sha256.Sum256(want)
					require.Equal(t, s[:], b.Sum(), "%s seed %d chunk %d l=%d", c, seed, chunk, l)
					require.Equal(t, int64(len(canon)), b.Length())
				}
			}
		}
	}
}

// TestBodyHashers: one hasher per (canonicalization, hash, l=), every one
// fed by the set's Write.
func TestBodyHashers(t *testing.T) {
	var s BodyHashers
	a := s.Hasher(Relaxed, crypto.SHA256, -1)
	assert.Same(t, a, s.Hasher(Relaxed, crypto.SHA256, -7), "any negative limit is no l=")
	assert.Same(t, s.Hasher(Simple, crypto.SHA256, -1), s.Hasher("nonsense", crypto.SHA256, -1), "unknown is simple")
	l5 := s.Hasher(Relaxed, crypto.SHA256, 5)
	sha1 := s.Hasher(Relaxed, crypto.SHA1, -1)
	assert.Equal(t, 4, s.Len())
	body := []byte("Hello  world \r\n\r\n")
	n, err := s.Write(body)
	assert.NoError(t, err)
	assert.Equal(t, len(body), n)
	want := sha256.Sum256([]byte("Hello world\r\n"))
	assert.Equal(t, want[:], a.Sum())
	want5 := sha256.Sum256([]byte("Hello"))
	assert.Equal(t, want5[:], l5.Sum())
	assert.Len(t, sha1.Sum(), 20)
	assert.Equal(t, int64(13), l5.Length())
}

func TestCRLFRun(t *testing.T) {
	assert.Equal(t, strings.Repeat("\r\n", 64), crlfRun)
}

// TestWriteScan holds BodyHashers.WriteScan to BodyHasher.Write and
// SmugglingScanner.Write on every body of three lines drawn from kinds
// each path must take or leave, whole and split at every octet, in both
// canonicalizations, with and without l=; and on long runs with one odd
// line anywhere.
func TestWriteScan(t *testing.T) {
	kinds := []string{"text\r\n", "\r\n", "a  b\r\n", "a\tb\r\n", "trail \r\n", "tab\t\r\n", " \r\n", " lead\r\n",
		".\r\n", "x\n", "a\rb\r\n", "\r", "end"}
	var bodies []string
	for _, a := range kinds {
		for _, b := range kinds {
			for _, c := range kinds {
				bodies = append(bodies, "p\r\n"+a+b+c)
			}
		}
	}
	for _, odd := range kinds {
		for k := 0; k <= 40; k += 7 {
			bodies = append(bodies, strings.Repeat("line\r\n", k)+odd+strings.Repeat("more words\r\n", 40-k)+"\r\n\r\n")
		}
	}
	check := func(body string, chunks []string) {
		for _, c := range []Canonicalization{Simple, Relaxed} {
			for _, limit := range []int64{-1, 7} {
				want := NewBodyHasher(c, crypto.SHA256, limit)
				_, _ = want.Write([]byte(body))
				var wantScan message.SmugglingScanner
				_, _ = wantScan.Write([]byte(body))

				var set BodyHashers
				got := set.Hasher(c, crypto.SHA256, limit)
				var scan message.SmugglingScanner
				for _, ch := range chunks {
					set.WriteScan([]byte(ch), &scan)
				}
				if g, w := got.Sum(), want.Sum(); string(g) != string(w) || got.Length() != want.Length() {
					t.Fatalf("%s l=%d %q in %q: hash or length differs (%d, want %d)", c, limit, body, chunks, got.Length(), want.Length())
				}
				if g, w := scan.Result(), wantScan.Result(); g != w {
					t.Fatalf("%q in %q: scan %+v, want %+v", body, chunks, g, w)
				}
			}
		}
	}
	for _, body := range bodies {
		check(body, []string{body})
		for i := 0; i <= len(body); i += 1 + len(body)/40 {
			check(body, []string{body[:i], body[i:]})
		}
	}
	// No hasher: the scan alone.
	var set BodyHashers
	var scan, want message.SmugglingScanner
	body := []byte("a\r\nb\n.\r\nc\r\n")
	set.WriteScan(body, &scan)
	_, _ = want.Write(body)
	require.Equal(t, want.Result(), scan.Result())
}

// TestBodyHashersReset: a set reused after Reset hashes each message as a
// new set would, whatever the previous message left in the hashers it
// reuses (withheld CRLFs, a half CRLF, a cut, an l= reached), keeps at
// most maxSpareHashers, and leaves the sums given out before intact.
func TestBodyHashersReset(t *testing.T) {
	type use struct {
		c     Canonicalization
		h     crypto.Hash
		limit int64
	}
	msgs := []struct {
		uses []use
		body string
		cut  bool
	}{
		{[]use{{Relaxed, crypto.SHA256, -1}, {Simple, crypto.SHA256, -1}}, "a  b \r\n\r\n\r\n\r", false},
		{[]use{{Simple, crypto.SHA256, 3}}, "\r\nxyz\r\n", false},
		{[]use{{Relaxed, crypto.SHA256, -1}, {Relaxed, crypto.SHA1, -1}}, "one\r\ntwo\t\r\n", true},
		{[]use{{Relaxed, crypto.SHA256, 4}, {Simple, crypto.SHA1, -1}, {Simple, crypto.SHA256, -1}}, "line\r\n", false},
		{[]use{{Relaxed, crypto.SHA256, -1}, {Simple, crypto.SHA256, -1}, {Relaxed, crypto.SHA256, 1},
			{Simple, crypto.SHA256, 2}, {Relaxed, crypto.SHA256, 3}, {Simple, crypto.SHA256, 4}}, "x\r\n", false},
		{[]use{{Simple, crypto.SHA256, -1}}, "", false},
	}
	var reused BodyHashers
	var earlier [][]byte
	var earlierWant [][]byte
	for i, m := range msgs {
		var fresh BodyHashers
		var got, want []*BodyHasher
		for _, u := range m.uses {
			got = append(got, reused.Hasher(u.c, u.h, u.limit))
			want = append(want, fresh.Hasher(u.c, u.h, u.limit))
		}
		for _, s := range []*BodyHashers{&reused, &fresh} {
			_, _ = s.Write([]byte(m.body))
			if m.cut {
				s.Cut(ErrBodyLimit)
			}
		}
		for j := range got {
			assert.Equal(t, want[j].Sum(), got[j].Sum(), "message %d hasher %d", i, j)
			assert.Equal(t, want[j].Length(), got[j].Length(), "message %d hasher %d", i, j)
			earlier = append(earlier, got[j].Sum())
			earlierWant = append(earlierWant, append([]byte(nil), want[j].Sum()...))
		}
		reused.Reset()
		assert.Equal(t, 0, reused.Len())
		assert.LessOrEqual(t, len(reused.spare), maxSpareHashers)
	}
	assert.Equal(t, earlierWant, earlier, "sums given out survive reuse")
}
