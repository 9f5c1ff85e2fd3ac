// Command mailtrust judges inbound mail: how much to trust where a message
// came from, and why.
//
//	mailtrust check [flags] MESSAGE.eml|-      one message, a readable report or -json
//	mailtrust replay [flags] SOURCE...         cases.jsonl, mbox, Maildir or .eml folder,
//	                                           one verdict line per message
//	mailtrust record [flags] -out ZONE.txt SOURCE...
//	                                           live DNS, written down for replay
//
// DNS comes from a zone file (-zone), a server (-dns HOST:PORT) or the
// system resolver. Replay defaults to zone.txt beside (or in) the first
// source, so a corpus replays offline and gives the same verdicts years
// later. -receiver names the receiver's hosts, so that a stored message's
// session facts are read from the trace its receiver wrote.
package main

import (
	"fmt"
	"io"
	"os"
)

const usage = `usage:
  mailtrust check  [-ip IP] [-helo NAME] [-from ADDR] [-rcpt ADDR] [-time RFC3339]
                   [-receiver LIST] [-authserv-id ID]
                   [-zone FILE | -dns HOST:PORT] [-trusted DOMAINS] [-authenticated]
                   [-record ZONE.txt] [-json] MESSAGE.eml|-
  mailtrust replay [-zone FILE | -dns HOST:PORT] [-j N] [-record ZONE.txt [-force]]
                   [-receiver LIST] [-authserv-id ID] [-trusted DOMAINS] [-shard K/N]
                   [-format jsonl|csv] [-allow-outside] SOURCE...
  mailtrust record [-dns HOST:PORT] [-force] -out ZONE.txt SOURCE...

  SOURCE: a cases.jsonl file, an mbox file, a Maildir or a folder of .eml files.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// Exit codes.
const (
	exitOK      = 0
	exitFailed  = 1 // something could not be evaluated
	exitUsage   = 2
	exitMissing = 3 // an input file could not be read
)

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	switch args[0] {
	case "check":
		return check(args[1:], stdin, stdout, stderr)
	case "replay":
		return replay(args[1:], stdout, stderr, "")
	case "record":
		return record(args[1:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	fmt.Fprintf(stderr, "mailtrust: unknown command %q\n%s", args[0], usage)
	return exitUsage
}
