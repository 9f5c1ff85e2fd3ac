package message

import (
	"bufio"
	"bytes"
	"testing"
)

func TestNotAMessage(t *testing.T) {
	tests := []struct {
		name, in string
		not      bool
	}{
		{"empty", "", true},
		{"blank lines", "\r\n\r\n\n", true},
		{"png", "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", true},
		{"elf", "\x7fELF\x02\x01\x01\x00\x00\x00", true},
		{"text letter", "Dear Bob,\nlunch?\n", true},
		{"a note that parses as a field", "Note: buy milk\n\nand bread\n", true},
		{"binary after a field-like line", "key: \x00\x01\x02\n\x00\x00", true},
		// Benign twins: messages, however bare.
		{"only a Subject", "Subject: hi\n\nbody\n", false},
		{"only Received", "Received: from a.example by b.example; Thu, 15 Jan 2026 09:00:00 +0000\n\n", false},
		{"only an X- field beside Date", "X-Mailer: m\nDate: Thu, 15 Jan 2026 09:00:00 +0000\n\n", false},
		{"MIME part", "Content-Type: text/plain\n\nhi\n", false},
		{"no body", "From: a@example.com\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			br := bufio.NewReader(bytes.NewReader([]byte(tt.in)))
			head, _ := br.Peek(512)
			head = bytes.Clone(head)
			h, err := ReadHeader(br, Limits{})
			if err != nil && err != ErrNoHeader {
				t.Fatal(err)
			}
			why := NotAMessage(h, head)
			if (why != "") != tt.not {
				t.Errorf("NotAMessage = %q, want not a message: %v", why, tt.not)
			}
		})
	}
}
