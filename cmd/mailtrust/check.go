package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/mailtrust/mailtrust/received"
	"github.com/mailtrust/mailtrust/trust"
)

// listFlag collects a repeatable or comma-separated flag.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error {
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			*l = append(*l, p)
		}
	}
	return nil
}

// checkSynopsis is check's usage line.
const checkSynopsis = "mailtrust check [flags] MESSAGE.eml|-"

func check(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	var (
		ipFlag   = fs.String("ip", "", "connecting client `IP` (default: unknown, or from the trace with -receiver)")
		heloFlag = fs.String("helo", "", "HELO/EHLO `NAME` (default: unknown)")
		from     = fs.String("from", "", "MAIL FROM `ADDR` (\"\" or <>: null reverse-path; not given: unknown)")
		rcvFlag  = fs.String("receiver", "", "the receiver's own hosts: `LIST` of names and CIDR networks; without -ip, the session facts not given by flag come from its trace")
		authID   = fs.String("authserv-id", "", "the receiver's authserv-`ID` in the Authentication-Results it wrote")
		at       = fs.String("time", "", "time of receipt, `RFC3339` (default now)")
		asJSON   = fs.Bool("json", false, "print the JSON verdict line")
		auth     = fs.Bool("authenticated", false, "the client authenticated (SMTP AUTH)")
		rcpt     listFlag
		trusted  listFlag
		d        dnsFlags
	)
	fs.Var(&rcpt, "rcpt", "RCPT TO `ADDR` (repeatable)")
	fs.Var(&trusted, "trusted", "trusted forwarder `DOMAINS` (comma-separated)")
	fs.StringVar(&d.zone, "zone", "", "answer DNS from master `FILE`")
	fs.StringVar(&d.server, "dns", "", "ask DNS server `HOST:PORT`")
	fs.StringVar(&d.record, "record", "", "write every DNS answer seen to master `FILE`")
	if code, ok := parseFlags(fs, checkSynopsis, args, stdout, stderr); !ok {
		return code
	}
	if fs.NArg() != 1 {
		fmt.Fprintf(stderr, "mailtrust check: want one MESSAGE argument (or -)\n")
		printFlags(stderr, fs, checkSynopsis)
		return exitUsage
	}
	conn := trust.Conn{HELO: *heloFlag, MailFrom: *from, RcptTo: rcpt, Authenticated: *auth}
	if !flagGiven(fs, "from") {
		conn.Unknown |= trust.FactMailFrom
	}
	rcv, err := received.ParseReceiver(*rcvFlag)
	if err != nil {
		fmt.Fprintf(stderr, "mailtrust check: -receiver: %v\n", err)
		return exitUsage
	}
	if *ipFlag != "" {
		ip, err := netip.ParseAddr(*ipFlag)
		if err != nil {
			fmt.Fprintf(stderr, "mailtrust check: -ip: %v\n", err)
			return exitUsage
		}
		conn.IP = ip
	}
	if *at != "" {
		t, err := time.Parse(time.RFC3339, *at)
		if err != nil {
			fmt.Fprintf(stderr, "mailtrust check: -time: %v\n", err)
			return exitUsage
		}
		conn.Time = t
	}
	if err := d.exclusive(); err != nil {
		fmt.Fprintf(stderr, "mailtrust check: %v\n", err)
		return exitUsage
	}
	var msg io.Reader = stdin
	if name := fs.Arg(0); name != "-" {
		f, err := openMessage(name)
		if err != nil {
			fmt.Fprintf(stderr, "mailtrust check: %v\n", err)
			return exitMissing
		}
		defer f.Close()
		msg = f
	}
	res, flush, err := d.open("")
	if err != nil {
		fmt.Fprintf(stderr, "mailtrust check: %v\n", err)
		return exitMissing
	}
	ev := trust.New(&trust.Options{Resolver: res, TrustedForwarders: trusted, Receiver: rcv, ReceiverAuthServID: *authID})
	v, err := ev.Evaluate(context.Background(), conn, msg)
	if err != nil {
		// Only reading the message fails: the input is unreadable.
		fmt.Fprintf(stderr, "mailtrust check: %v\n", err)
		return exitMissing
	}
	if err := flush(); err != nil {
		fmt.Fprintf(stderr, "mailtrust check: -record: %v\n", err)
		return exitIOErr
	}
	if *asJSON {
		b, err := v.JSONLine("")
		if err != nil {
			fmt.Fprintf(stderr, "mailtrust check: %v\n", err)
			return exitFailed
		}
		fmt.Fprintf(stdout, "%s\n", b)
	} else {
		report(stdout, v, ev.Thresholds())
	}
	if v.Has(trust.NotAMessage) {
		fmt.Fprintf(stderr, "mailtrust check: %s: not an Internet message: %s\n", fs.Arg(0), v.Reasons[0].Detail)
	}
	return checkExit(v)
}

// openMessage opens a message file; a directory is refused here, with the
// path, rather than failing at the first read.
func openMessage(name string) (*os.File, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if st.IsDir() {
		f.Close()
		return nil, fmt.Errorf("%s: is a directory, not a message", name)
	}
	return f, nil
}
