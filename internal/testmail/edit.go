package testmail

import (
	"bufio"
	"bytes"
	"strings"
	"testing"

	"github.com/mailtrust/mailtrust/message"
)

// Split reads the header of msg and returns it with the body; a header
// that does not parse fails tb.
func Split(tb testing.TB, msg []byte) (*message.Header, []byte) {
	tb.Helper()
	br := bufio.NewReader(bytes.NewReader(msg))
	h, err := message.ReadHeader(br, message.Limits{})
	if err != nil {
		tb.Fatal(err)
	}
	var body bytes.Buffer
	if _, err := body.ReadFrom(br); err != nil {
		tb.Fatal(err)
	}
	return h, body.Bytes()
}

// Prepend puts a header field, written with LF or CRLF line ends, on top
// of msg.
func Prepend(msg []byte, field string) []byte {
	return append(CRLF(field+"\n"), msg...)
}

// EditField rewrites with f the first field that starts with marker, when
// marker ends with ":" (a field name), or else whose raw text contains it
// (folded lines included). The body is left alone; no such field fails tb.
func EditField(tb testing.TB, msg []byte, marker string, f func(raw string) string) []byte {
	tb.Helper()
	h, body := Split(tb, msg)
	var out bytes.Buffer
	done := false
	for _, fl := range h.Fields {
		raw := string(fl.Raw)
		match := strings.Contains(raw, marker)
		if strings.HasSuffix(marker, ":") {
			match = strings.HasPrefix(strings.ToLower(raw), strings.ToLower(marker))
		}
		if !done && match {
			done = true
			raw = f(raw)
		}
		out.WriteString(raw)
	}
	if !done {
		tb.Fatalf("testmail: no field contains %q", marker)
	}
	out.WriteString("\r\n")
	out.Write(body)
	return out.Bytes()
}

// FlipSig changes the first character of a signature field's b= value,
// breaking the signature and nothing else.
func FlipSig(raw string) string {
	i := strings.Index(raw, "b=")
	j := i + 2
	c := raw[j]
	r := byte('A')
	if c == 'A' {
		r = 'B'
	}
	return raw[:j] + string(r) + raw[j+1:]
}
