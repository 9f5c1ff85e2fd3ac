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
// session facts are read from the trace its receiver wrote, and so that
// the milter judges mail those hosts hand on by the hop before them.
//
// check exits 0 for a trusted or neutral verdict, 1 for a suspicious or
// untrusted one, 75 (EX_TEMPFAIL) for an incomplete one, 64 for a usage
// error and 66 for input it cannot read; replay exits 1 when a case could
// not be evaluated or disagrees with its expect; milter exits 0 when
// stopped, 69 (EX_UNAVAILABLE) when it cannot listen or serve. Every
// command lists its flags with -h; "mailtrust version" prints the version.
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
  mailtrust milter -listen inet:HOST:PORT|unix:PATH [-zone FILE | -dns HOST:PORT]
                   [-authserv-id ID] [-trusted DOMAINS] [-receiver LIST]
                   [-reject LEVEL] [-tempfail-incomplete] [-j N] [-time RFC3339]
  mailtrust version

  SOURCE: a cases.jsonl file, an mbox file, a Maildir or a folder of .eml files.

Each command lists its flags with -h.

exit codes: 0 trusted or neutral (check), every case as expected (replay),
  stopped (milter);
  1 suspicious or untrusted (check), a case failed or disagreed (replay),
  stopped before every message in flight was answered (milter);
  64 usage; 66 unreadable input; 69 cannot listen or serve (milter);
  74 output not written;
  75 incomplete verdict, a DNS lookup failed temporarily: try again later (check)
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

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
	case "milter":
		return milterCmd(args[1:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return exitOK
	case "-version", "--version", "version":
		fmt.Fprintln(stdout, version())
		return exitOK
	}
	fmt.Fprintf(stderr, "mailtrust: unknown command %q\n%s", args[0], usage)
	return exitUsage
}
