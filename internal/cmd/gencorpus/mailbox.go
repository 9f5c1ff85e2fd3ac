package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/mailtrust/mailtrust/internal/corpus"
)

// writeMailbox stores the corpus messages as their receiver would have
// kept them: each with the trace fields the receiver wrote on top
// (corpus.Trace), as a folder of .eml files (eml/), a Maildir (Maildir/)
// and an mbox (all.mbox, mboxrd), in case order, with a cases.jsonl that
// spells out the same facts for the eml/ copies and a copy of the zone. A
// case with trusted_forwarders is left out: a mailbox carries no receiver
// configuration. Maildir names have no ":2," info, which module paths
// cannot hold; a Maildir reader takes any name.
func writeMailbox(corpusDir, dir string, cases []corpus.Case) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	for _, d := range []string{"eml", "Maildir/cur", "Maildir/new", "Maildir/tmp"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return err
		}
	}
	var mbox, lines bytes.Buffer
	n := 0
	for _, c := range cases {
		if len(c.TrustedForwarders) > 0 {
			continue
		}
		msg, err := os.ReadFile(filepath.Join(corpusDir, c.Message))
		if err != nil {
			return err
		}
		trace, err := corpus.Trace(c, "")
		if err != nil {
			return err
		}
		full := append([]byte(trace), msg...)
		if err := os.WriteFile(filepath.Join(dir, "eml", c.ID+".eml"), full, 0o644); err != nil {
			return err
		}
		sub := "new"
		if n%2 == 0 {
			sub = "cur" // read, moved on by the mail reader
		}
		if err := os.WriteFile(filepath.Join(dir, "Maildir", sub, fmt.Sprintf("1768471200.M%dP1.imap.helpdesk.example", n)), full, 0o644); err != nil {
			return err
		}
		n++
		sender := c.MailFrom
		if sender == "" {
			sender = "MAILER-DAEMON"
		}
		fmt.Fprintf(&mbox, "From %s Thu Jan 15 10:00:00 2026\n", sender)
		for _, l := range strings.SplitAfter(string(full), "\n") {
			if strings.HasPrefix(strings.TrimLeft(l, ">"), "From ") {
				mbox.WriteByte('>') // mboxrd
			}
			mbox.WriteString(l)
		}
		if !bytes.HasSuffix(full, []byte("\n")) {
			mbox.WriteByte('\n')
		}
		mbox.WriteByte('\n')
		c.Message = "eml/" + c.ID + ".eml"
		line, err := json.Marshal(c)
		if err != nil {
			return err
		}
		lines.Write(line)
		lines.WriteByte('\n')
	}
	if err := os.WriteFile(filepath.Join(dir, "Maildir", "tmp", ".keep"), nil, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "all.mbox"), mbox.Bytes(), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "cases.jsonl"), lines.Bytes(), 0o644); err != nil {
		return err
	}
	zone, err := os.ReadFile(filepath.Join(corpusDir, "zone.txt"))
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "zone.txt"), zone, 0o644); err != nil {
		return err
	}
	fmt.Printf("wrote %d messages to %s (eml/, Maildir/, all.mbox, cases.jsonl)\n", n, dir)
	return nil
}
