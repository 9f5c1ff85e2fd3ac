package message

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// selfDecoded are the charsets mime.WordDecoder decodes without asking
// its CharsetReader.
func selfDecoded(name string) bool {
	switch strings.ToLower(name) {
	case "utf-8", "iso-8859-1", "us-ascii":
		return true
	}
	return false
}

// FuzzCharset: an encoded word in any charset, with any octets, decodes
// to valid UTF-8; one in a charset not known here is reported
// (FlagCharset) and yields printable ASCII and U+FFFD only, never control
// octets; a known charset is not reported unknown. A raw ISO-2022-JP value
// decodes only to valid UTF-8 without ESC, and leaves its angle-addr as
// written.
func FuzzCharset(f *testing.F) {
	for _, s := range []struct {
		charset string
		payload string
	}{
		{"iso-2022-jp", "\x1b$B;3EDB@O:\x1b(B"},
		{"ISO-2022-JP*ja", "\x1b$B;3ED\x1b(J Taro"},
		{"shift_jis", "\x8eR\x93c\x91\xbe\x98Y"},
		{"euc-jp", "\xbb\xb3\xc5\xc4"},
		{"gb2312", "\xcd\xf5\xd0\xa1"},
		{"big5", "\xb3\xaf\xa4j"},
		{"euc-kr", "\xb1\xe8\xc3\xb6"},
		{"koi8-r", "\xe9\xd7\xc1\xce"},
		{"windows-1252", "Ren\xe9 \x93Zo\xeb\x94"},
		{"utf-8", "caf\xc3\xa9"},
		{"utf-8", "\xff\xfe\x1b[2J"},
		{"us-ascii", "a\x00b\x80"},
		{"iso-8859-1", "\x00\x1b\x7f\xff"},
		{"x-unknown", "\x1b$B;3EDB@O:\x1b(B\x00\x07"},
		{"utf-7", "+ZeVnLIqe-"},
		{"iso-2022-kr", "\x1b$)Ca"},
		{"utf-16", "\xff\xfea\x00\x00\xd8"},
		{"utf-16be", "\xd8\x00"},
		{"gb18030", "\x84\x31\xa4\x39\x00"},
		{"", "x"},
	} {
		f.Add(s.charset, []byte(s.payload), true, "\x1b$B;3EDB@O:\x1b(B <taro@example.jp>")
		f.Add(s.charset, []byte(s.payload), false, "\x1b$B;3ED\x1b(J Taro <taro@example.jp>")
	}
	f.Add("utf-8", []byte("x"), true, "\x1b$B;3ED <taro@example.jp>")
	f.Fuzz(func(t *testing.T, charset string, payload []byte, b64 bool, raw string) {
		var word string
		if b64 {
			word = "=?" + charset + "?B?" + base64.StdEncoding.EncodeToString(payload) + "?="
		} else {
			var q strings.Builder
			for _, c := range payload {
				fmt.Fprintf(&q, "=%02X", c)
			}
			word = "=?" + charset + "?Q?" + q.String() + "?="
		}
		d, fl := decodeWords(word)
		if d != word { // decoded: the word was well formed
			if !utf8.ValidString(d) {
				t.Fatalf("%s decoded to invalid UTF-8 %q", word, d)
			}
			known := charsetEncoding(charset) != nil || selfDecoded(charset)
			if !known && !fl.Has(FlagCharset) {
				t.Fatalf("%s: unknown charset not reported, decoded to %q", word, d)
			}
			if fl.Has(FlagCharset) {
				for _, r := range d {
					if (r < ' ' || r >= 0x7f) && r != utf8.RuneError {
						t.Fatalf("%s: unknown charset decoded to %q", word, d)
					}
				}
			}
		}
		// Any text: valid UTF-8 in, valid UTF-8 out.
		if d, _ := decodeWords(raw); utf8.ValidString(raw) && !utf8.ValidString(d) {
			t.Fatalf("%q decoded to invalid UTF-8 %q", raw, d)
		}
		if d, ok := rawISO2022JP(raw); ok {
			lt := strings.LastIndexByte(raw, '<')
			if !utf8.ValidString(d) || strings.IndexByte(d, 0x1b) >= 0 {
				t.Fatalf("raw %q decoded to %q", raw, d)
			}
			if !strings.HasSuffix(d, raw[lt:]) {
				t.Fatalf("raw %q decoded to %q: the angle-addr %q was rewritten", raw, d, raw[lt:])
			}
		}
	})
}

// readInput reads in as the CLI and trust do: the first octets peeked,
// then the header.
func readInput(in string) (*Header, error, string, []byte) {
	br := bufio.NewReaderSize(strings.NewReader(in), 64)
	head, _ := br.Peek(512)
	head = bytes.Clone(head)
	h, err := ReadHeader(br, Limits{MaxLineLength: 300, MaxFields: 30, MaxHeaderBytes: 3000})
	rest, _ := io.ReadAll(br)
	return h, err, string(rest), head
}

// FuzzInput: a leading mbox "From " line is not part of the message: the
// header, its size, anomalies, error and body read exactly as without it;
// "From" WSP* ":" is a field and is not skipped. NotAMessage says "" only
// for a header holding a field messages carry, and never for empty input.
func FuzzInput(f *testing.F) {
	for _, s := range []struct{ sep, msg string }{
		{"bounce@example.org Thu Jan 15 10:00:00 2026", "Subject: hi\r\nFrom: a@example.org\r\n\r\nbody\r\n"},
		{"", "From: a@example.org\n\nbody\n"},
		{": not a separator", "Subject: x\n\n"},
		{" \t: obsolete field", "Subject: x\n\n"},
		{"MAILER-DAEMON Thu Jan 15 10:00:00 2026\r", "\r\n\r\nbody"},
		{"x", ""},
		{"x", "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"},
		{"x", "Note: buy milk\n\nand bread\n"},
		{"x", " cont\r\nA: b\r\n"},
		{"x", "key: \x00\x01\x02\n\x00\x00"},
		{strings.Repeat("y", 400), "Date: Thu, 15 Jan 2026 09:00:00 +0000\n"},
	} {
		f.Add(s.sep, s.msg)
	}
	f.Fuzz(func(t *testing.T, sep, msg string) {
		if strings.ContainsAny(sep, "\n") {
			return // one line
		}
		h, err, rest, head := readInput(msg)
		why := NotAMessage(h, head)
		if err == nil || errors.Is(err, ErrNoHeader) {
			if why == "" {
				found := false
				for _, fl := range h.Fields {
					found = found || messageField(fl.Key)
				}
				if !found {
					t.Fatalf("%q judged a message without a message field", msg)
				}
			}
			if len(h.Fields) == 0 && why == "" {
				t.Fatalf("%q without fields judged a message", msg)
			}
		}
		if msg == "" && why == "" {
			t.Fatal("empty input judged a message")
		}
		if strings.HasPrefix(msg, "From ") {
			return // its own first line would be skipped instead
		}
		line := "From " + sep + "\n"
		h2, err2, rest2, head2 := readInput(line + msg)
		if len(line) > 300 {
			return // longer than the line limit: the reader may stop at it
		}
		if strings.HasPrefix(strings.TrimLeft(sep, " \t"), ":") {
			// A limit met later returns only the fields before it.
			if (err2 == nil || errors.Is(err2, ErrNoHeader)) && (len(h2.Fields) == 0 || h2.Fields[0].Key != "from") {
				t.Fatalf("%q: the obsolete From field was skipped: %v", line, names(h2))
			}
			return
		}
		if len(sep)-len(strings.TrimLeft(sep, " \t")) >= 64-len("From ")-1 {
			return // the blanks run past the reader's buffer: documented as left to the field reader
		}
		if err != err2 || rest != rest2 || h.Size != h2.Size || h.Anomalies != h2.Anomalies ||
			!reflect.DeepEqual(fieldsRaw(h), fieldsRaw(h2)) {
			t.Fatalf("with %q before it, %q reads otherwise:\n%v %q %d %+v %q\n%v %q %d %+v %q",
				line, msg, err, fieldsRaw(h), h.Size, h.Anomalies, rest, err2, fieldsRaw(h2), h2.Size, h2.Anomalies, rest2)
		}
		if (why == "") != (NotAMessage(h2, head2) == "") {
			t.Fatalf("with %q before it, %q is judged otherwise: %q, %q", line, msg, why, NotAMessage(h2, head2))
		}
	})
}

func fieldsRaw(h *Header) []string {
	var out []string
	for _, f := range h.Fields {
		out = append(out, string(f.Raw))
	}
	return out
}
