package message

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func scanChunks(chunks ...string) Smuggling {
	var s SmugglingScanner
	for _, c := range chunks {
		n, err := s.Write([]byte(c))
		if n != len(c) || err != nil {
			panic("short write")
		}
	}
	return s.Result()
}

func TestSmuggling(t *testing.T) {
	const smuggled = "MAIL FROM:<admin@bank.example>\r\nRCPT TO:<victim@example.com>\r\nDATA\r\nFrom: admin@bank.example\r\n\r\nhi\r\n"
	tests := []struct {
		name       string
		body       string
		seq        int
		first      int64
		mixed      bool
		dots, lfds int
	}{
		{"empty", "", 0, -1, false, 0, 0},
		{"crlf text", "Hello.\r\nBye.\r\n", 0, -1, false, 0, 0},
		{"lf text", "Hello.\nBye.\n", 0, -1, false, 0, 0},
		{"crlf dot line", "a\r\n.\r\nb\r\n", 0, -1, false, 1, 0},
		{"crlf dot line at start", ".\r\nb\r\n", 0, -1, false, 1, 0},
		{"lf-only dot line", "a\n.\nb\n", 0, -1, false, 0, 1},
		{"lf-only dot line at start", ".\nb\n", 0, -1, false, 0, 1},
		{"dots not alone", "a\r\n..\r\n.a\r\na.\r\n", 0, -1, false, 0, 0},
		{"lf dot lf in crlf body", "a\r\nb\n.\n" + smuggled, 1, 4, true, 0, 0},
		{"lf dot crlf", "a\r\nb\n.\r\n" + smuggled, 1, 4, true, 0, 0},
		{"crlf dot lf", "a\r\n.\n" + smuggled, 1, 1, true, 0, 0},
		{"cr dot cr", "a\r\nb\r.\r" + smuggled, 1, 4, true, 0, 0},
		{"cr dot crlf", "a\r\nb\r.\r\n" + smuggled, 1, 4, true, 0, 0},
		{"crlf dot cr", "a\r\n.\r" + smuggled, 1, 1, true, 0, 0},
		{"lf dot cr", "a\n.\rb", 1, 1, true, 0, 0},
		{"cr dot lf", "a\r.\nb", 1, 1, true, 0, 0},
		{"cr dot cr at end", "a\r.\r", 1, 1, false, 0, 0},
		{"dot cr at start", ".\rb", 1, 0, false, 0, 0},
		{"lf dot lf with stray cr", "a\rb\n.\nc\n", 1, 3, true, 0, 0},
		{"two sequences", "a\n.\r\nb\n.\r\n", 2, 1, true, 0, 0},
		{"lf-only plus crlf elsewhere", "a\n.\nb\r\n", 1, 1, true, 0, 0},
		{"bare lf no dot", "a\r\nb\nc\r\n", 0, -1, true, 0, 0},
		{"bare cr no dot", "a\r\nb\rc\r\n", 0, -1, true, 0, 0},
		{"cr only body", "a\rb\r", 0, -1, false, 0, 0},
		{"crlf dot crlf then smuggle", "a\r\n.\r\nb\n.\nc\r\n", 1, 7, true, 1, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := scanChunks(tc.body)
			assert.Equal(t, tc.seq, want.Sequences, "Sequences")
			assert.Equal(t, tc.first, want.First, "First")
			assert.Equal(t, tc.mixed, want.MixedEndings, "MixedEndings")
			assert.Equal(t, tc.dots, want.DotLines, "DotLines")
			assert.Equal(t, tc.lfds, want.LFDotLines, "LFDotLines")
			assert.Equal(t, reference(tc.body), want, "reference scanner")
			// Every split into two chunks, and octet by octet.
			for i := 0; i <= len(tc.body); i++ {
				assert.Equal(t, want, scanChunks(tc.body[:i], tc.body[i:]), "split at %d", i)
			}
			one := make([]string, len(tc.body))
			for i := range tc.body {
				one[i] = tc.body[i : i+1]
			}
			assert.Equal(t, want, scanChunks(one...), "octet by octet")
		})
	}
}

// TestSmugglingLineRuns compares the scanner with the reference on every
// body of three lines drawn from kinds that the fast path of whole CRLF
// lines takes or must leave, whole and split at every octet.
func TestSmugglingLineRuns(t *testing.T) {
	kinds := []string{"text\r\n", "\r\n", ".\r\n", "a\rb\r\n", "x\n", ".\n", "\r", ".x\r\n", "end"}
	for _, a := range kinds {
		for _, b := range kinds {
			for _, c := range kinds {
				body := "p\r\n" + a + b + c
				want := reference(body)
				if got := scanChunks(body); got != want {
					t.Fatalf("%q: got %+v, reference %+v", body, got, want)
				}
				for i := 0; i <= len(body); i++ {
					if got := scanChunks(body[:i], body[i:]); got != want {
						t.Fatalf("%q split at %d: got %+v, reference %+v", body, i, got, want)
					}
				}
			}
		}
	}
	// Runs longer than the blocks whose CRs are counted at once, with one
	// odd line anywhere in them.
	for _, odd := range []string{"a\rb\r\n", "x\n", ".\r\n", "\r\n", "\r"} {
		for k := 0; k <= 40; k++ {
			body := strings.Repeat("text\r\n", k) + odd + strings.Repeat("more\r\n", 40-k)
			want := reference(body)
			for i := 0; i <= len(body); i += 3 {
				if got := scanChunks(body[:i], body[i:]); got != want {
					t.Fatalf("%q at line %d, split at %d: got %+v, reference %+v", odd, k, i, got, want)
				}
			}
		}
	}
}

func TestSmugglingCounts(t *testing.T) {
	r := scanChunks("a\r\nb\nc\rd\r\n")
	assert.Equal(t, Smuggling{First: -1, MixedEndings: true, CRLF: 2, BareLF: 1, BareCR: 1}, r)
	var s SmugglingScanner
	_, _ = s.Write([]byte("a\n.\r"))
	assert.Equal(t, 1, s.Result().Sequences, "a CR at the end counts as bare")
	_, _ = s.Write([]byte("\nb"))
	r = s.Result()
	assert.Equal(t, 1, r.Sequences, "Result does not disturb the scan")
	assert.Equal(t, int64(1), r.CRLF)
	assert.Equal(t, int64(0), r.BareCR)
}

func TestSmugglingAllocs(t *testing.T) {
	body := []byte(strings.Repeat("line of text.\r\n", 100) + "x\n.\r\ny\rz")
	var s SmugglingScanner
	allocs := testing.AllocsPerRun(100, func() { _, _ = s.Write(body) })
	assert.Zero(t, allocs)
}

// reference is a plain, separate implementation of the scanner's rules:
// split the body into lines with their breaks, then judge each "." line.
func reference(body string) Smuggling {
	type line struct {
		text string
		brk  string // "\r\n", "\n", "\r" or "" at the end
		off  int    // offset of brk
	}
	var lines []line
	start := 0
	for i := 0; i < len(body); i++ {
		switch {
		case body[i] == '\r' && i+1 < len(body) && body[i+1] == '\n':
			lines = append(lines, line{body[start:i], "\r\n", i})
			i++
			start = i + 1
		case body[i] == '\r' || body[i] == '\n':
			lines = append(lines, line{body[start:i], body[i : i+1], i})
			start = i + 1
		}
	}
	lines = append(lines, line{body[start:], "", len(body)})
	r := Smuggling{First: -1}
	var lfDot []int
	for i, l := range lines {
		switch l.brk {
		case "\r\n":
			r.CRLF++
		case "\n":
			r.BareLF++
		case "\r":
			r.BareCR++
		}
		if l.text != "." || l.brk == "" {
			continue
		}
		before, off := "", 0
		if i > 0 {
			before, off = lines[i-1].brk, lines[i-1].off
		}
		switch {
		case (before == "\r\n" || before == "") && l.brk == "\r\n":
			r.DotLines++
		case (before == "\n" || before == "") && l.brk == "\n":
			lfDot = append(lfDot, off)
		default:
			r.Sequences++
			if r.First < 0 {
				r.First = int64(off)
			}
		}
	}
	if r.CRLF == 0 && r.BareCR == 0 {
		r.LFDotLines = len(lfDot)
	} else if len(lfDot) > 0 {
		r.Sequences += len(lfDot)
		if r.First < 0 || int64(lfDot[0]) < r.First {
			r.First = int64(lfDot[0])
		}
	}
	kinds := 0
	for _, n := range []int64{r.CRLF, r.BareLF, r.BareCR} {
		if n > 0 {
			kinds++
		}
	}
	r.MixedEndings = kinds > 1
	return r
}

func FuzzSmuggling(f *testing.F) {
	for _, s := range []string{"a\r\n.\r\nb", "a\n.\r\nb", "\r.\r", ".\n", "x\r\r\n.\n\r"} {
		f.Add(s, uint8(3))
	}
	f.Fuzz(func(t *testing.T, body string, cut uint8) {
		want := reference(body)
		if got := scanChunks(body); got != want {
			t.Fatalf("whole: got %+v, reference %+v", got, want)
		}
		i := int(cut) % (len(body) + 1)
		if got := scanChunks(body[:i], body[i:]); got != want {
			t.Fatalf("split at %d: got %+v, reference %+v", i, got, want)
		}
	})
}

// benchBody is 1 MiB of CRLF text in lines of 76 octets.
func benchBody() []byte {
	line := strings.Repeat("The quick brown fox jumps over the lazy dog. ", 2)[:74] + "\r\n"
	return bytes.Repeat([]byte(line), (1<<20)/len(line)+1)[:1<<20]
}

// BenchmarkSmugglingScanner streams 1 MiB through the scanner in 32 KiB
// chunks, as io.Copy does; compare with BenchmarkIndexByteBaseline.
func BenchmarkSmugglingScanner(b *testing.B) {
	body := benchBody()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		var s SmugglingScanner
		for c := body; len(c) > 0; {
			n := min(len(c), 32<<10)
			_, _ = s.Write(c[:n])
			c = c[n:]
		}
		if s.Result().CRLF == 0 {
			b.Fatal("no lines")
		}
	}
}

// BenchmarkIndexByteBaseline finds every LF of the same body with
// bytes.IndexByte, the least any line-aware scan must do.
func BenchmarkIndexByteBaseline(b *testing.B) {
	body := benchBody()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		lines := 0
		for c := body; len(c) > 0; {
			n := min(len(c), 32<<10)
			chunk := c[:n]
			for {
				j := bytes.IndexByte(chunk, '\n')
				if j < 0 {
					break
				}
				lines++
				chunk = chunk[j+1:]
			}
			c = c[n:]
		}
		if lines == 0 {
			b.Fatal("no lines")
		}
	}
}

var _ io.Writer = (*SmugglingScanner)(nil)
