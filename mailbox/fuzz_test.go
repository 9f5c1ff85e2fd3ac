//go:build unix

package mailbox

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
)

// readMbox reads every message of an mbox; small makes it read the input
// one octet at a time and each message through a 3-octet buffer, so that
// every line is met in parts.
func readMbox(t *testing.T, in []byte, small bool) (ids, bodies []string, err error) {
	t.Helper()
	var r io.Reader = bytes.NewReader(in)
	if small {
		r = iotest.OneByteReader(r)
	}
	m := NewMbox(r, "box")
	for {
		msg, err := m.Next()
		if err != nil {
			if again, err2 := m.Next(); err2 == nil || again.Body != nil {
				t.Fatalf("Next after %v gave a message %q", err, again.ID)
			}
			return ids, bodies, err
		}
		var b []byte
		if small {
			buf := make([]byte, 3)
			for {
				n, err := msg.Body.Read(buf)
				b = append(b, buf[:n]...)
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatalf("reading %s: %v", msg.ID, err)
				}
			}
		} else if b, err = io.ReadAll(msg.Body); err != nil {
			t.Fatalf("reading %s: %v", msg.ID, err)
		}
		ids = append(ids, msg.ID)
		bodies = append(bodies, string(b))
	}
}

// writeMboxrd writes messages as an mboxrd writer does: a "From " line
// before each, every line matching ">*From " escaped with one more ">",
// and an empty line after each message (which ends in a line ending).
func writeMboxrd(msgs []string) []byte {
	var b bytes.Buffer
	for _, m := range msgs {
		b.WriteString("From sender@example.org Thu Jan 15 10:00:00 2026\n")
		for _, line := range strings.SplitAfter(m, "\n") {
			if isEscapedFrom([]byte(line)) || strings.HasPrefix(line, "From ") {
				b.WriteByte('>')
			}
			b.WriteString(line)
		}
		b.WriteString("\n")
	}
	return b.Bytes()
}

// FuzzMbox: (1) any input reads the same whether it arrives whole or one
// octet at a time, ids are NAME#1..NAME#N, unique, and no message holds
// more than the input; (2) messages written as mboxrd read back octet for
// octet, whatever lines they hold.
func FuzzMbox(f *testing.F) {
	seeds := []string{
		"From a@example.org Thu Jan 15 10:00:00 2026\nSubject: 1\n\nbody\n\nFrom b@example.org Thu Jan 15 10:00:01 2026\nSubject: 2\n\nbody2\n",
		"From a@example.org Thu Jan 15 10:00:00 2026\nSubject: 1\n\n>From me\n>>From you\n> From not\nFrom unescaped but no date\n\n",
		"From a@example.org Thu Jan 15 10:00:00 2026\r\nSubject: 1\r\n\r\nbody\r\n\r\nFrom b@example.org Thu Jan 15 10:00:01 2026\r\nSubject: 2\r\n\r\nx\r\n",
		"From a Thu Jan 15 10:00:00 2026\nS: 1\n\nx",
		"From \n\n\n\nFrom \nFrom x Mon Jan  1 00:00:00 2000 \n",
		"Subject: not an mbox\n\nbody\n",
		"",
		"From a@example.org Thu Jan 15 10:00:00 2026\nS: 1\n\n\n\nx\n\n\n\x1eFrom me\n>From you\n\x1e\x1e\r\n\r\n",
		"From " + strings.Repeat("x", 70000) + "\nS: 1\n\n" + strings.Repeat(">", 100) + "From deep\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		ids, bodies, err := readMbox(t, in, false)
		ids2, bodies2, err2 := readMbox(t, in, true)
		if !errors.Is(err, io.EOF) && !errors.Is(err, ErrNotMbox) {
			t.Fatalf("reading: %v", err)
		}
		if err != err2 || strings.Join(ids, "\x00") != strings.Join(ids2, "\x00") || strings.Join(bodies, "\x00") != strings.Join(bodies2, "\x00") {
			t.Fatalf("whole and octet by octet differ:\n%q %q %v\n%q %q %v", ids, bodies, err, ids2, bodies2, err2)
		}
		total := 0
		for i, id := range ids {
			if id != "box#"+strconv.Itoa(i+1) {
				t.Fatalf("message %d has id %q", i+1, id)
			}
			total += len(bodies[i])
		}
		if total > len(in) {
			t.Fatalf("messages hold %d octets, the input %d", total, len(in))
		}

		// Round trip: the input cut at \x1e into messages, each ending
		// in a line ending as in a mailbox.
		msgs := strings.Split(string(in), "\x1e")
		for i, m := range msgs {
			if m != "" && !strings.HasSuffix(m, "\n") {
				msgs[i] = m + "\n"
			}
		}
		ids, bodies, err = readMbox(t, writeMboxrd(msgs), false)
		if !errors.Is(err, io.EOF) {
			t.Fatalf("reading what was written: %v", err)
		}
		if len(bodies) != len(msgs) {
			t.Fatalf("wrote %d messages, read %d:\n%q\n%q", len(msgs), len(bodies), msgs, bodies)
		}
		for i := range msgs {
			if bodies[i] != msgs[i] {
				t.Fatalf("message %s: wrote %q, read %q", ids[i], msgs[i], bodies[i])
			}
		}
	})
}

// FuzzOpenInside: whatever relative path a corpus names, OpenInside opens
// only a regular file inside the folder: never the file outside that a
// symbolic link, "..", or an absolute path leads to.
func FuzzOpenInside(f *testing.F) {
	base := f.TempDir()
	root := filepath.Join(base, "corpus")
	for _, d := range []string{"corpus/msgs/sub", "outside"} {
		if err := os.MkdirAll(filepath.Join(base, d), 0o755); err != nil {
			f.Fatal(err)
		}
	}
	for p, content := range map[string]string{
		"corpus/msgs/ok.eml":      "Subject: inside\n\n",
		"corpus/msgs/sub/b.eml":   "Subject: inside\n\n",
		"outside/secret.eml":      "Subject: SECRET\n\n",
		"corpus/msgs/sub/..eml":   "Subject: inside\n\n",
		"corpus/msgs/sub/a b.eml": "Subject: inside\n\n",
	} {
		if err := os.WriteFile(filepath.Join(base, p), []byte(content), 0o644); err != nil {
			f.Fatal(err)
		}
	}
	for link, target := range map[string]string{
		"corpus/msgs/out.eml":    filepath.Join(base, "outside", "secret.eml"),
		"corpus/msgs/rel.eml":    "../../outside/secret.eml",
		"corpus/msgs/outdir":     "../../outside",
		"corpus/msgs/inner.eml":  "ok.eml",
		"corpus/msgs/loop.eml":   "loop.eml",
		"corpus/msgs/sub/up.eml": "../ok.eml",
	} {
		if err := os.Symlink(target, filepath.Join(base, link)); err != nil {
			f.Fatal(err)
		}
	}
	for _, s := range []string{"msgs/ok.eml", "msgs/sub/b.eml", "msgs/out.eml", "msgs/rel.eml", "msgs/outdir/secret.eml",
		"msgs/inner.eml", "msgs/loop.eml", "msgs/sub/up.eml", "../outside/secret.eml", "msgs/../../outside/secret.eml",
		filepath.Join(base, "outside", "secret.eml"), "msgs/sub/..eml", "msgs//sub/./b.eml", "msgs/sub/../ok.eml", "", ".", "msgs"} {
		f.Add(s)
	}
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, rel string) {
		fh, err := OpenInside(root, rel, false)
		if err != nil {
			return
		}
		defer fh.Close()
		st, err := fh.Stat()
		if err != nil || !st.Mode().IsRegular() {
			t.Fatalf("%q: opened something that is not a regular file", rel)
		}
		b, err := io.ReadAll(fh)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), "inside") {
			t.Fatalf("%q: read %q from outside the folder", rel, b)
		}
		r, err := filepath.Rel(realRoot, fh.Name())
		if err != nil || !filepath.IsLocal(r) {
			t.Fatalf("%q: opened %s, outside %s", rel, fh.Name(), realRoot)
		}
	})
}
