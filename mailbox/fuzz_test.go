package mailbox

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

// FuzzMbox: any input reads without panic, and the messages an mboxrd
// writer would make of the parts read back as those parts.
func FuzzMbox(f *testing.F) {
	f.Add([]byte("From a Thu Jan 15 10:00:00 2026\nS: 1\n\n>From x\n\nFrom b Thu Jan 15 10:00:00 2026\nS: 2\n"), "body\nFrom x\n>From y")
	f.Add([]byte("From \n\n\nFrom \n"), "")
	f.Fuzz(func(t *testing.T, in []byte, body string) {
		m := NewMbox(bytes.NewReader(in), "f")
		for i := 0; i < 10000; i++ {
			msg, err := m.Next()
			if err != nil {
				break
			}
			if _, err := io.Copy(io.Discard, msg.Body); err != nil {
				break
			}
		}
		// Round trip: a body of whole lines, escaped, between separators.
		if strings.ContainsRune(body, '\r') || !strings.HasSuffix(body, "\n") {
			body += "\n"
		}
		body = "S: x\n\n" + strings.ReplaceAll(body, "\r", "")
		var w bytes.Buffer
		for k := 0; k < 2; k++ {
			w.WriteString("From a@example.org Thu Jan 15 10:00:00 2026\n")
			for _, l := range strings.SplitAfter(body, "\n") {
				if strings.HasPrefix(strings.TrimLeft(l, ">"), "From ") {
					w.WriteByte('>')
				}
				w.WriteString(l)
			}
			w.WriteString("\n")
		}
		m = NewMbox(&w, "w")
		for k := 0; k < 2; k++ {
			msg, err := m.Next()
			if err != nil {
				t.Fatalf("message %d: %v", k+1, err)
			}
			got, _ := io.ReadAll(msg.Body)
			if string(got) != body {
				t.Fatalf("message %d: got %q, want %q", k+1, got, body)
			}
		}
		if _, err := m.Next(); !errors.Is(err, io.EOF) {
			t.Fatalf("a third message: %v", err)
		}
	})
}
