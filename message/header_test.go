package message

import (
	"bufio"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// readAll runs ReadHeader over in and returns the header, the error and
// what is left in the reader.
func readAll(t *testing.T, in string, lim Limits, bufSize int) (*Header, error, string) {
	t.Helper()
	if bufSize == 0 {
		bufSize = 4096
	}
	br := bufio.NewReaderSize(strings.NewReader(in), bufSize)
	h, err := ReadHeader(br, lim)
	require.NotNil(t, h)
	rest, rerr := io.ReadAll(br)
	require.NoError(t, rerr)
	return h, err, string(rest)
}

func names(h *Header) []string {
	var out []string
	for _, f := range h.Fields {
		out = append(out, f.Name)
	}
	return out
}

func TestReadHeader(t *testing.T) {
	long := strings.Repeat("x", 40)
	tests := []struct {
		name  string
		in    string
		lim   Limits
		buf   int
		names []string
		anom  Anomalies
		err   error
		rest  string
	}{
		{"crlf", "From: a\r\nTo: b\r\n\r\nbody\r\n", Limits{}, 0, []string{"From", "To"}, Anomalies{}, nil, "body\r\n"},
		{"lf", "From: a\nTo: b\n\nbody\n", Limits{}, 0, []string{"From", "To"}, Anomalies{BareLF: 3}, nil, "body\n"},
		{"mixed endings", "From: a\r\nTo: b\n\r\nbody", Limits{}, 0, []string{"From", "To"}, Anomalies{BareLF: 1}, nil, "body"},
		{"folded", "Subject: a\r\n b\r\n\tc\r\nTo: d\r\n\r\n", Limits{}, 0, []string{"Subject", "To"}, Anomalies{}, nil, ""},
		{"obs colon", "From : a\r\nFROM\t:b\r\n\r\n", Limits{}, 0, []string{"From", "FROM"}, Anomalies{}, nil, ""},
		{"nul", "From: a\x00b\r\n\r\n", Limits{}, 0, []string{"From"}, Anomalies{NUL: 1}, nil, ""},
		{"8-bit", "Subject: caf\xc3\xa9\r\n\r\n", Limits{}, 0, []string{"Subject"}, Anomalies{EightBit: 2}, nil, ""},
		{"bare cr inside", "Subject: a\rTo: b\r\n\r\n", Limits{}, 0, []string{"Subject"}, Anomalies{BareCR: 1}, nil, ""},
		{"bare cr before crlf", "Subject: a\r\r\n\r\n", Limits{}, 0, []string{"Subject"}, Anomalies{BareCR: 1}, nil, ""},
		{"malformed line left to body", "From: a\r\nnot a field\r\nTo: b\r\n", Limits{}, 0, []string{"From"}, Anomalies{Malformed: 1}, nil, "not a field\r\nTo: b\r\n"},
		{"line starting with bare cr", "From: a\r\n\rTo: b\r\n\r\n", Limits{}, 0, []string{"From"}, Anomalies{Malformed: 1}, nil, "\rTo: b\r\n\r\n"},
		{"lone cr at eof", "From: a\r\n\r", Limits{}, 0, []string{"From"}, Anomalies{Malformed: 1}, nil, "\r"},
		{"malformed first line", "hello world\r\nFrom: a\r\n\r\n", Limits{}, 0, nil, Anomalies{Malformed: 1}, ErrNoHeader, "hello world\r\nFrom: a\r\n\r\n"},
		{"name without colon at eof", "From", Limits{}, 0, nil, Anomalies{Malformed: 1}, ErrNoHeader, "From"},
		{"continuation first", " x\r\nFrom: a\r\n\r\n", Limits{}, 0, []string{"From"}, Anomalies{Malformed: 1}, nil, ""},
		{"no empty line", "From: a\r\nTo: b", Limits{}, 0, []string{"From", "To"}, Anomalies{}, nil, ""},
		{"empty input", "", Limits{}, 0, nil, Anomalies{}, ErrNoHeader, ""},
		{"only empty line", "\r\nbody", Limits{}, 0, nil, Anomalies{}, ErrNoHeader, "body"},
		{"whitespace-only continuation", "Subject: a\r\n \r\n\r\nb", Limits{}, 0, []string{"Subject"}, Anomalies{}, nil, "b"},
		{"long name beyond buffer", long + ": v\r\n\r\nb", Limits{}, 16, []string{long}, Anomalies{}, nil, "b"},
		{"long non-field beyond buffer", long + " v\r\n\r\nb", Limits{}, 16, nil, Anomalies{Malformed: 1}, ErrNoHeader, "\r\nb"},
		{"long obs colon beyond buffer", "From" + strings.Repeat(" ", 40) + ":v\r\n\r\n", Limits{}, 16, []string{"From"}, Anomalies{}, nil, ""},
		{"fields exact limit", "A: 1\r\nB: 2\r\nC: 3\r\n\r\n", Limits{MaxFields: 3}, 0, []string{"A", "B", "C"}, Anomalies{}, nil, ""},
		{"fields one over", "A: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n", Limits{MaxFields: 3}, 0, []string{"A", "B", "C"}, Anomalies{}, ErrTooManyFields, ""},
		{"size exact limit", "A: 1\r\n\r\n", Limits{MaxHeaderBytes: 8}, 0, []string{"A"}, Anomalies{}, nil, ""},
		{"size one over", "A: 1\r\n\r\nb", Limits{MaxHeaderBytes: 7}, 0, []string{"A"}, Anomalies{}, ErrHeaderTooLarge, "b"},
		{"line exact limit crlf", "A: 12\r\n\r\n", Limits{MaxLineLength: 5}, 0, []string{"A"}, Anomalies{}, nil, ""},
		{"line exact limit lf", "A: 12\n\n", Limits{MaxLineLength: 5}, 0, []string{"A"}, Anomalies{BareLF: 2}, nil, ""},
		{"line exact limit eof", "A: 12", Limits{MaxLineLength: 5}, 0, []string{"A"}, Anomalies{}, nil, ""},
		{"line one over crlf", "A: 123\r\n\r\n", Limits{MaxLineLength: 5}, 0, nil, Anomalies{}, ErrLineTooLong, "\r\n"},
		{"line one over lf", "A: 123\n\n", Limits{MaxLineLength: 5}, 0, nil, Anomalies{}, ErrLineTooLong, "\n"},
		{"line one over eof", "A: 123", Limits{MaxLineLength: 5}, 0, nil, Anomalies{}, ErrLineTooLong, ""},
		{"line over buffer size", "A: " + strings.Repeat("y", 100) + "\r\n\r\n", Limits{MaxLineLength: 103}, 16, []string{"A"}, Anomalies{}, nil, ""},
		{"binary", "\x00\x01\x02\xff\xfe", Limits{}, 0, nil, Anomalies{Malformed: 1}, ErrNoHeader, "\x00\x01\x02\xff\xfe"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, err, rest := readAll(t, tc.in, tc.lim, tc.buf)
			if tc.err == nil {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, tc.err)
			}
			assert.Equal(t, tc.names, names(h))
			assert.Equal(t, tc.anom, h.Anomalies)
			assert.Equal(t, tc.rest, rest)
			if tc.err == nil || tc.err == ErrNoHeader {
				assert.Equal(t, len(tc.in)-len(rest), h.Size, "Size counts the octets consumed")
			}
		})
	}
}

// TestReadHeaderOneByte reads through a reader that returns one octet per
// Read, so that every peek and line straddles reads; the result must not
// change.
func TestReadHeaderOneByte(t *testing.T) {
	for _, in := range []string{
		"From: a\r\nTo: b\r\n\r\nbody",
		"From : a\nSubject: x\n y\n\nbody",
		"From: a\r\nnot a field\r\nTo: b\r\n",
		"From: a\r\n\rX\r\n",
		"A-very-long-field-name-beyond-the-buffer: v\r\n\r\nb",
	} {
		want, wantErr, wantRest := readAll(t, in, Limits{}, 16)
		br := bufio.NewReaderSize(iotest.OneByteReader(strings.NewReader(in)), 16)
		got, err := ReadHeader(br, Limits{})
		rest, _ := io.ReadAll(br)
		assert.Equal(t, wantErr, err, in)
		assert.Equal(t, want, got, in)
		assert.Equal(t, wantRest, string(rest), in)
	}
}

func TestFieldAccessors(t *testing.T) {
	h, err, _ := readAll(t, "From : Alice\r\n <a@example.com>\r\nfrom: b@example.com\r\nSubject: \t hi\r\r\nTo:x\n\n", Limits{}, 0)
	require.NoError(t, err)
	require.Len(t, h.Fields, 4)
	assert.Equal(t, "From : Alice\r\n <a@example.com>\r\n", string(h.Fields[0].Raw))
	assert.Equal(t, "To:x\r\n", string(h.Fields[3].Raw), "bare LF read as CRLF")
	assert.True(t, h.Fields[0].ObsColon)
	assert.False(t, h.Fields[1].ObsColon)
	assert.Equal(t, "from", h.Fields[0].Key)
	assert.Equal(t, " Alice\r\n <a@example.com>", h.Fields[0].Value())
	assert.Equal(t, "Alice <a@example.com>", h.Fields[0].Unfolded())
	assert.Equal(t, "hi\r", h.Fields[2].Unfolded(), "only WSP is trimmed: a bare CR stays visible")
	assert.Equal(t, 2, h.Count("FROM"))
	assert.Len(t, h.Get("From"), 2)
	assert.Same(t, &h.Fields[0], h.First("from"))
	assert.Nil(t, h.First("cc"))
	assert.Equal(t, 0, h.Count("cc"))
	f := Field{Raw: []byte("no colon")}
	assert.Equal(t, "no colon", f.Value(), "a hand-made field without colon does not panic")
}

// errReader returns its data, then err.
type errReader struct {
	data string
	err  error
}

func (r *errReader) Read(p []byte) (int, error) {
	if r.data == "" {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

func TestReadHeaderReadError(t *testing.T) {
	boom := errors.New("boom")
	for _, in := range []string{"", "From: a\r\n", "From: a", "Fro"} {
		h, err := ReadHeader(bufio.NewReaderSize(&errReader{in, boom}, 16), Limits{})
		require.NotNil(t, h)
		require.ErrorIs(t, err, boom, "input %q", in)
	}
}

func TestReadHeaderRandomNeverPanics(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte("ab: \t\r\n\x00\xff.")
	for range 2000 {
		b := make([]byte, rng.IntN(64))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		checkReadHeader(t, string(b), Limits{MaxLineLength: 20, MaxFields: 4, MaxHeaderBytes: 50})
	}
}

// checkReadHeader asserts ReadHeader's invariants on in.
func checkReadHeader(t *testing.T, in string, lim Limits) {
	t.Helper()
	br := bufio.NewReaderSize(strings.NewReader(in), 16)
	h, err := ReadHeader(br, lim)
	if h == nil {
		t.Fatalf("nil header for %q", in)
	}
	for _, f := range h.Fields {
		if !isFieldStart(f.Raw) || !strings.HasSuffix(string(f.Raw), "\r\n") {
			t.Fatalf("bad field %q from %q", f.Raw, in)
		}
		_, _ = f.Value(), f.Unfolded()
	}
	if err != nil && !errors.Is(err, ErrNoHeader) {
		return
	}
	rest, _ := io.ReadAll(br)
	// A leading mbox separator line is consumed but is no part of the
	// header (Size): it must be one whole first line IsMboxFrom accepts.
	if skip := len(in) - len(rest) - h.Size; skip != 0 {
		line := in[:max(skip, 0)]
		if skip < 0 || !IsMboxFrom([]byte(line)) || strings.IndexByte(line, '\n') != len(line)-1 && skip != len(in) {
			t.Fatalf("Size %d, rest %q for %q: %d octets consumed beyond the header", h.Size, rest, in, skip)
		}
		in = in[skip:]
	}
	if len(in)-len(rest) != h.Size || in[h.Size:] != string(rest) {
		t.Fatalf("Size %d, rest %q for %q", h.Size, rest, in)
	}
	// The fields are the consumed input modulo line endings, less any
	// continuation lines skipped before the first field.
	consumed := in[:h.Size]
	for strings.HasPrefix(consumed, " ") || strings.HasPrefix(consumed, "\t") {
		i := strings.IndexByte(consumed, '\n')
		if i < 0 {
			consumed = ""
			break
		}
		consumed = consumed[i+1:]
	}
	var raw strings.Builder
	for _, f := range h.Fields {
		raw.Write(f.Raw)
	}
	c, r := crlfToLF(consumed), crlfToLF(raw.String())
	match := func(c string) bool { return c == r+"\n" || c == r || c+"\n" == r }
	if !match(c) {
		// A malformed line longer than the reader's buffer is consumed
		// (ReadHeader's documented exception): it ends the input read.
		last := strings.LastIndexByte(strings.TrimSuffix(c, "\n"), '\n')
		if h.Anomalies.Malformed == 0 || !match(c[:last+1]) || len(c)-last-1 < 16 {
			t.Fatalf("fields %q do not match consumed input %q", r, c)
		}
	}
}

func crlfToLF(s string) string { return strings.ReplaceAll(s, "\r\n", "\n") }

func FuzzReadHeader(f *testing.F) {
	for _, s := range []string{
		"From: a\r\nTo: b\r\n\r\nbody",
		"From : a\nSubject: x\n y\n\nbody",
		"bad line\r\n",
		"A: 1\r\n\x00\r\n\r\n",
		"A: 1\r\n\rB: 2\r\n",
		" cont\r\nA: b",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		checkReadHeader(t, in, Limits{MaxLineLength: 200, MaxFields: 20, MaxHeaderBytes: 2000})
	})
}

// TestAddressListOnce: a field's address list is parsed once per header,
// gives what ParseAddressList gives, and may be read concurrently.
func TestAddressListOnce(t *testing.T) {
	h, err, _ := readAll(t, "From: \"A\" <a@example.com>\r\nTo: b@example.org,\r\n c@example.net\r\nCc: <broken\r\n\r\n", Limits{}, 0)
	require.NoError(t, err)
	for _, key := range []string{"from", "to", "cc"} {
		f := h.First(key)
		wantList, wantErr := ParseAddressList(unfold(f.Value()))
		var wg sync.WaitGroup
		lists := make([]List, 8)
		for i := range lists {
			wg.Go(func() {
				var err error
				lists[i], err = h.AddressList(f)
				assert.Equal(t, wantErr, err, key)
			})
		}
		wg.Wait()
		for _, l := range lists {
			assert.Equal(t, wantList, l, key)
			if len(l.Mailboxes) > 0 {
				assert.Same(t, &lists[0].Mailboxes[0], &l.Mailboxes[0], "%s parsed more than once", key)
			}
		}
	}
	to, _ := h.AddressList(h.First("to"))
	assert.Len(t, to.Mailboxes, 2)
	_, err = h.AddressList(h.First("cc"))
	assert.Error(t, err)
}

// An mbox separator before the first field is not part of the message
// (RFC 4155): the header reads as without it.
func TestReadHeaderMboxFrom(t *testing.T) {
	msg := "Subject: hi\r\nFrom: a@example.org\r\n\r\nbody\r\n"
	want, werr, wrest := readAll(t, msg, Limits{}, 0)
	require.NoError(t, werr)
	tests := []struct {
		name   string
		prefix string
	}{
		{"lf", "From bounce@example.org Thu Jan 15 10:00:00 2026\n"},
		{"crlf", "From bounce@example.org Thu Jan 15 10:00:00 2026\r\n"},
		{"bare", "From \n"},
		{"longer than the buffer", "From " + strings.Repeat("x", 10000) + "\n"},
	}
	for _, tt := range tests {
		h, err, rest := readAll(t, tt.prefix+msg, Limits{}, 64)
		require.NoError(t, err, tt.name)
		assert.Equal(t, names(want), names(h), tt.name)
		assert.Equal(t, want.Size, h.Size, tt.name)
		assert.Equal(t, want.Anomalies, h.Anomalies, tt.name)
		assert.Equal(t, wrest, rest, tt.name)
	}
	// "From :" is an obsolete-syntax From field, not a separator.
	h, err, _ := readAll(t, "From : a@example.org\r\nSubject: x\r\n\r\n", Limits{}, 0)
	require.NoError(t, err)
	assert.Equal(t, []string{"From", "Subject"}, names(h))
	assert.True(t, h.Fields[0].ObsColon)
	// Only the first line: a later "From " line is what it always was.
	h, _, _ = readAll(t, "Subject: x\r\nFrom y\r\n\r\n", Limits{}, 0)
	assert.Equal(t, 1, h.Anomalies.Malformed)
	// Beyond the line limit it is an over-long line.
	_, err, _ = readAll(t, "From "+strings.Repeat("x", 200)+"\nSubject: x\n\n", Limits{MaxLineLength: 100}, 0)
	assert.ErrorIs(t, err, ErrLineTooLong)
}

// TestIsMboxFrom: the one rule for an mbox separator line, which
// ReadHeader, package mailbox and the mailtrust command share.
func TestIsMboxFrom(t *testing.T) {
	for _, tt := range []struct {
		line string
		want bool
	}{
		{"From bounce@example.org Thu Jan 15 10:00:00 2026\n", true},
		{"From bounce@example.org Thu Jan 15 10:00:00 2026\r\n", true},
		{"From \n", true},
		{"From x", true},
		{"From : a@example.org\n", false},
		{"From \t : a@example.org\n", false},
		{"From:a@example.org\n", false},
		{"From\t:a@example.org\n", false},
		{"From   ", false}, // a start of a line: the colon may follow
		{"From", false},
		{"from a@example.org Thu Jan 15 10:00:00 2026\n", false},
		{" From a@example.org\n", false},
		{">From a@example.org\n", false},
		{"", false},
	} {
		assert.Equal(t, tt.want, IsMboxFrom([]byte(tt.line)), "%q", tt.line)
	}
}
