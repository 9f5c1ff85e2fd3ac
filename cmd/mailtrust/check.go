package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strings"
	"text/tabwriter"
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

func check(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		ipFlag   = fs.String("ip", "", "connecting client `IP` (default: unknown, or from the trace with -receiver)")
		heloFlag = fs.String("helo", "", "HELO/EHLO `NAME` (default: unknown)")
		from     = fs.String("from", "", "MAIL FROM `ADDR` (\"\" or <>: null reverse-path; not given: unknown)")
		rcvFlag  = fs.String("receiver", "", "the receiver's own hosts: `LIST` of names and CIDR networks; without -ip, the session facts come from its trace")
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
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if fs.NArg() != 1 {
		fmt.Fprintf(stderr, "mailtrust check: want one MESSAGE argument (or -)\n%s", usage)
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
	res, flush, err := d.open("")
	if err != nil {
		fmt.Fprintf(stderr, "mailtrust check: %v\n", err)
		return exitMissing
	}
	var msg io.Reader = stdin
	if name := fs.Arg(0); name != "-" {
		f, err := os.Open(name)
		if err != nil {
			fmt.Fprintf(stderr, "mailtrust check: %v\n", err)
			return exitMissing
		}
		defer f.Close()
		msg = f
	}
	ev := trust.New(&trust.Options{Resolver: res, TrustedForwarders: trusted, Receiver: rcv, ReceiverAuthServID: *authID})
	v, err := ev.Evaluate(context.Background(), conn, msg)
	if err != nil {
		fmt.Fprintf(stderr, "mailtrust check: %v\n", err)
		return exitFailed
	}
	if err := flush(); err != nil {
		fmt.Fprintf(stderr, "mailtrust check: -record: %v\n", err)
		return exitFailed
	}
	if *asJSON {
		b, err := v.JSONLine("")
		if err != nil {
			fmt.Fprintf(stderr, "mailtrust check: %v\n", err)
			return exitFailed
		}
		fmt.Fprintf(stdout, "%s\n", b)
		return exitOK
	}
	report(stdout, v)
	return exitOK
}

// report prints a verdict for people.
func report(w io.Writer, v *trust.Verdict) {
	inc := ""
	if v.Incomplete {
		inc = " (incomplete: a DNS lookup failed temporarily; defer rather than reject)"
	}
	fmt.Fprintf(w, "verdict  %s  score %.2f%s\n", v.Level, v.Score, inc)
	if v.From.Address != "" {
		fmt.Fprintf(w, "from     %s\n", v.From.Address)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "check\tresult\tdetail\n")
	fmt.Fprintf(tw, "spf\t%s\t%s %s %s\n", v.SPF.Status, v.SPF.Identity, v.SPF.Domain, firstNonEmpty(v.SPF.Mechanism, v.SPF.Reason))
	if len(v.DKIM) == 0 {
		fmt.Fprintf(tw, "dkim\tnone\tno signature\n")
	}
	for _, d := range v.DKIM {
		fmt.Fprintf(tw, "dkim\t%s\td=%s s=%s %s\n", d.Status, d.Domain, d.Selector, d.Reason)
	}
	fmt.Fprintf(tw, "dmarc\t%s\t%s p=%s %s\n", v.DMARC.Status, v.DMARC.Domain, v.DMARC.Policy, v.DMARC.Reason)
	fmt.Fprintf(tw, "arc\t%s\t%s\n", v.ARC.Status, v.ARC.Reason)
	fmt.Fprintf(tw, "ptr\t%s\t%s\n", v.PTR.Status, strings.Join(v.PTR.Names, " "))
	fmt.Fprintf(tw, "helo\t%s\t%s %s\n", v.HELO.Status, v.HELO.Name, v.HELO.Code)
	fmt.Fprintf(tw, "forwarded\t%v\t%s\n", v.Forward.Forwarded, v.Forward.OriginalSender)
	fmt.Fprintf(tw, "automated\t%v\t\n", v.Automated.Automated)
	tw.Flush()
	fmt.Fprintln(w)
	fmt.Fprintln(w, "reasons (by weight)")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, r := range v.Reasons {
		fmt.Fprintf(tw, "  %+.2f\t%s\t%s\n", r.Weight, r.Code, r.Detail)
	}
	tw.Flush()
	fmt.Fprintln(w)
	fmt.Fprintln(w, v.AuthenticationResults)
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}
