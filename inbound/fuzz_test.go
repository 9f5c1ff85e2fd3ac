package inbound

import (
	"bufio"
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/mailtrust/mailtrust/internal/arfield"
	"github.com/mailtrust/mailtrust/message"
	"github.com/mailtrust/mailtrust/trust"
)

// splitHeader cuts a message the way RFC 5322 §2.2 reads it, written
// apart from Prepend: fields (a field line, then its continuation lines)
// up to the first line that is neither, and the rest. Continuation lines
// before the first field are dropped: message.ReadHeader skips them, and
// below the new fields they would continue the verdict's own.
func splitHeader(msg string) (fields []string, rest string) {
	for len(msg) > 0 {
		n := strings.IndexByte(msg, '\n') + 1
		if n == 0 {
			n = len(msg)
		}
		line := msg[:n]
		switch {
		case line[0] == ' ' || line[0] == '\t':
			if len(fields) > 0 {
				fields[len(fields)-1] += line
			}
		case isFieldName(line):
			fields = append(fields, line)
		default:
			return fields, msg
		}
		msg = msg[n:]
	}
	return fields, ""
}

func isFieldName(line string) bool {
	name, _, ok := strings.Cut(line, ":")
	if !ok || name == "" {
		return false
	}
	name = strings.TrimRight(name, " \t")
	for i := 0; i < len(name); i++ {
		if name[i] <= ' ' || name[i] > '~' {
			return false
		}
	}
	return true
}

// FuzzPrepend: Prepend puts the verdict's two fields on top, removes
// every X-Mailtrust-Verdict and every Authentication-Results field that
// carries the receiver's authserv-id (as the package's A-R reader reads
// it, so that no field the checks would take for the receiver's own is
// left for them), and leaves every other field and the body byte for byte
// as received, in order.
func FuzzPrepend(f *testing.F) {
	for _, s := range []string{
		"From: a@example.com\r\nSubject: hi\r\n\r\nbody\r\n",
		"Authentication-Results: mx.helpdesk.example;\r\n\tdkim=pass header.d=bank.example\r\nX-Mailtrust-Verdict: trusted\r\n" +
			"Authentication-Results: relay.example.net; spf=pass\r\nSubject: a\r\n b\r\n\r\nAuthentication-Results: mx.helpdesk.example; body\r\n",
		"From: a@example.com\nX-Mailtrust-Verdict: trusted\n\nbody\n",
		"From: a@example.com\r\nX-Mailtrust-Verdict: trusted",
		"From: a@example.com\r\nnot a field\r\nX-Mailtrust-Verdict: trusted\r\n",
		"",
		"authentication-results : (forged) \"MX.HELPDESK.EXAMPLE\" 1; dmarc=pass\r\n\r\n",
		"Authentication-Results:\r\n (c) mx.helpdesk.example (d); spf=pass\r\nauthentication-RESULTS:mx.helpdesk.example;none\r\n\r\n",
		"Authentication-Results: mx.helpdesk.example.evil.example; spf=pass\r\nAuthentication-Results: helpdesk.example; spf=pass\r\n\r\n",
		"X-Mailtrust-Verdict\t: trusted\r\nX-Mailtrust-Verdict:\r\n\r\n",
	} {
		f.Add(s)
	}
	v := &trust.Verdict{Level: trust.Suspicious, Score: 3.5,
		Reasons:               []trust.Reason{{Code: "spf.softfail", Weight: 1}},
		AuthenticationResults: "Authentication-Results: mx.helpdesk.example; spf=softfail smtp.mailfrom=example.com"}
	const id = "mx.helpdesk.example"
	top := AuthResultsField + ": " + AuthResultsValue(v) + "\r\n" + VerdictField + ": " + VerdictValue(v) + "\r\n"
	f.Fuzz(func(t *testing.T, msg string) {
		out, err := io.ReadAll(Prepend(v, strings.NewReader(msg)))
		if err != nil {
			t.Fatal(err)
		}
		fields, rest := splitHeader(msg)
		eol := "\r\n"
		if i := strings.IndexByte(msg, '\n'); i >= 0 && i < 4096 && (i == 0 || msg[i-1] != '\r') {
			eol = "\n"
		}
		want := strings.ReplaceAll(top, "\r\n", eol)
		for _, fl := range fields {
			name, value, _ := strings.Cut(fl, ":")
			name = strings.TrimRight(name, " \t")
			ours := strings.EqualFold(name, VerdictField)
			if strings.EqualFold(name, AuthResultsField) {
				if pid, _ := arfield.Parse(value); pid == id {
					ours = true
				}
			}
			if ours != Remove(name, value, id) {
				t.Fatalf("field %.300q: carries the receiver's id or name: %v, Remove says %v", fl, ours, !ours)
			}
			if !ours {
				want += fl
			}
		}
		want += rest
		if !bytes.Equal(out, []byte(want)) {
			t.Fatalf("Prepend(%.300q):\n got %.300q\nwant %.300q", msg, out, want)
		}
		// Read as the checks and mail readers read it, the result holds
		// no field of the receiver's but the two on top.
		h, _ := message.ReadHeader(bufio.NewReader(bytes.NewReader(out)), message.Limits{})
		if len(h.Fields) < 2 || string(h.Fields[0].Raw)+string(h.Fields[1].Raw) != top {
			t.Fatalf("Prepend(%.300q) = %.300q: the verdict's fields are not on top as written", msg, out)
		}
		for _, fl := range h.Fields[2:] {
			if fl.Key == "x-mailtrust-verdict" {
				t.Fatalf("Prepend(%.300q) = %.300q: an incoming verdict field is left", msg, out)
			}
			if pid, _ := arfield.Parse(fl.Value()); fl.Key == "authentication-results" && (pid == id || arfield.AuthServID(fl.Value()) == id) {
				t.Fatalf("Prepend(%.300q) = %.300q: an incoming %s field is left", msg, out, id)
			}
		}
	})
}
