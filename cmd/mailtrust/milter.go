package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/mailtrust/mailtrust/inbound"
	"github.com/mailtrust/mailtrust/milter"
	"github.com/mailtrust/mailtrust/received"
	"github.com/mailtrust/mailtrust/trust"
)

// shutdownGrace bounds the wait for messages in flight after SIGTERM.
const shutdownGrace = 30 * time.Second

// milterSynopsis is milter's usage line.
const milterSynopsis = "mailtrust milter -listen inet:HOST:PORT|unix:PATH [flags]"

func milterCmd(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	return serveMilter(ctx, args, stdout, stderr, nil)
}

// serveMilter runs the milter until ctx ends, then stops gracefully; the
// listening address is sent on ready when it is not nil. -h lists the
// flags on stdout; the log goes to stderr.
func serveMilter(ctx context.Context, args []string, stdout, stderr io.Writer, ready chan<- net.Addr) int {
	fs := flag.NewFlagSet("milter", flag.ContinueOnError)
	var (
		listen     = fs.String("listen", "", "`ADDR` to listen on: inet:HOST:PORT or unix:PATH")
		authServID = fs.String("authserv-id", "", "the receiver's `NAME` in Authentication-Results (default mailtrust)")
		reject     = fs.String("reject", "", "refuse with 550 from `LEVEL` on: untrusted or suspicious (default: accept all)")
		tempfail   = fs.Bool("tempfail-incomplete", false, "answer 451 when a temporary DNS failure left the verdict incomplete")
		jobs       = fs.Int("j", 0, "evaluations at once (default 4 × CPUs)")
		at         = fs.String("time", "", "date every message's receipt at this `RFC3339` instant instead of now (replaying a corpus)")
		trusted    listFlag
		receiver   listFlag
		d          dnsFlags
	)
	// -trusted as for check and replay; -trusted-forwarders, its first
	// name here, still works.
	fs.Var(&trusted, "trusted", "trusted forwarder `DOMAINS` (comma-separated)")
	fs.Var(&trusted, "trusted-forwarders", "trusted forwarder `DOMAINS`: the same as -trusted")
	fs.Var(&receiver, "receiver", "the receiver's own `HOSTS`: names, addresses, CIDR networks (comma-separated); a client among them is judged by the hop before it, from its Received field")
	fs.StringVar(&d.zone, "zone", "", "answer DNS from master `FILE`")
	fs.StringVar(&d.server, "dns", "", "ask DNS server `HOST:PORT`")
	if code, ok := parseFlags(fs, milterSynopsis, args, stdout, stderr); !ok {
		return code
	}
	if *listen == "" || fs.NArg() != 0 {
		fmt.Fprintf(stderr, "mailtrust milter: want -listen ADDR and no arguments\n")
		printFlags(stderr, fs, milterSynopsis)
		return exitUsage
	}
	level, err := inbound.ParseLevel(*reject)
	if err != nil {
		fmt.Fprintf(stderr, "mailtrust milter: -reject: %v\n", err)
		return exitUsage
	}
	rcv, err := received.ParseReceiver(strings.Join(receiver, ","))
	if err != nil {
		fmt.Fprintf(stderr, "mailtrust milter: -receiver: %v\n", err)
		return exitUsage
	}
	now := time.Now
	if *at != "" {
		t, err := time.Parse(time.RFC3339, *at)
		if err != nil {
			fmt.Fprintf(stderr, "mailtrust milter: -time: %v\n", err)
			return exitUsage
		}
		now = func() time.Time { return t }
	}
	res, _, err := d.open("")
	if err != nil {
		fmt.Fprintf(stderr, "mailtrust milter: %v\n", err)
		return exitMissing
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	srv := milter.NewServer(&milter.Options{
		Evaluator: trust.New(&trust.Options{
			Resolver: res, TrustedForwarders: trusted, AuthServID: *authServID,
			// The same hosts: the milter leaves their IP and HELO out, and
			// the Evaluator reads the hop before them from the trace.
			Receiver: rcv,
		}),
		Policy:        inbound.Policy{Reject: level, TempfailIncomplete: *tempfail},
		Receiver:      rcv,
		MaxConcurrent: *jobs,
		Now:           now,
		Logger:        log,
	})
	ln, err := milter.Listen(*listen)
	if err != nil {
		fmt.Fprintf(stderr, "mailtrust milter: %v\n", err)
		return exitUnavailable
	}
	log.Info("listening", "addr", ln.Addr().String(), "reject", string(level), "tempfail_incomplete", *tempfail)
	if ready != nil {
		ready <- ln.Addr()
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		fmt.Fprintf(stderr, "mailtrust milter: %v\n", err)
		return exitUnavailable
	case <-ctx.Done():
	}
	log.Info("stopping: finishing the messages in flight")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("stopped before every message was answered", "err", err)
		return exitFailed
	}
	if err := <-served; err != nil && !errors.Is(err, milter.ErrServerClosed) {
		log.Warn("serve", "err", err)
	}
	log.Info("stopped")
	return exitOK
}
