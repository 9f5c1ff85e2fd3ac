package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

func TestMilterFlags(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	for _, c := range []struct {
		args []string
		code int
		out  string // in stdout; "" means stdout stays empty
		msg  string // in stderr; "" means stderr stays empty
	}{
		{[]string{"-h"}, exitOK, "usage: mailtrust milter -listen", ""},
		{[]string{"-help"}, exitOK, "-trusted-forwarders DOMAINS\n", ""},
		{[]string{"-h"}, exitOK, "-trusted DOMAINS\n", ""},
		{[]string{"-h"}, exitOK, "-time RFC3339", ""},
		{[]string{"-no-such-flag"}, exitUsage, "", "usage: mailtrust milter -listen"},
		{[]string{}, exitUsage, "", "want -listen"},
		{[]string{"-listen", "inet:127.0.0.1:0", "extra"}, exitUsage, "", "want -listen"},
		{[]string{"-listen", "inet:127.0.0.1:0", "-reject", "neutral"}, exitUsage, "", "-reject"},
		{[]string{"-listen", "inet:127.0.0.1:0", "-receiver", "192.0.2.0/40"}, exitUsage, "", "-receiver"},
		{[]string{"-listen", "inet:127.0.0.1:0", "-time", "yesterday"}, exitUsage, "", "-time"},
		{[]string{"-listen", "inet:127.0.0.1:0", "-zone", "x", "-dns", "127.0.0.1:53"}, exitMissing, "", "exclude"},
		{[]string{"-listen", "inet:127.0.0.1:0", "-zone", "no/such/zone.txt"}, exitMissing, "", "no/such/zone.txt"},
		{[]string{"-listen", "nonsense"}, exitUnavailable, "", "listen address"},
		{[]string{"-listen", "inet:" + busy.Addr().String()}, exitUnavailable, "", "address already in use"},
		// Both names of the trusted forwarders pass the flags: the listen
		// address is what fails.
		{[]string{"-trusted", "fwd.example", "-listen", "nonsense"}, exitUnavailable, "", "listen address"},
		{[]string{"-trusted-forwarders", "fwd.example", "-listen", "nonsense"}, exitUnavailable, "", "listen address"},
	} {
		var stdout, stderr bytes.Buffer
		code := serveMilter(context.Background(), c.args, &stdout, &stderr, nil)
		okOut := c.out == "" && stdout.Len() == 0 || c.out != "" && strings.Contains(stdout.String(), c.out)
		okErr := c.msg == "" && stderr.Len() == 0 || c.msg != "" && strings.Contains(stderr.String(), c.msg)
		if code != c.code || !okOut || !okErr {
			t.Errorf("%q: exit %d, want %d; stdout %q, want %q in it; stderr %q, want %q in it",
				c.args, code, c.code, stdout.String(), c.out, stderr.String(), c.msg)
		}
	}
}

// The milter listens, and stops cleanly when its context ends (SIGTERM).
func TestMilterStops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan net.Addr, 1)
	exit := make(chan int, 1)
	var stderr syncBuffer
	go func() {
		exit <- serveMilter(ctx, []string{"-listen", "inet:127.0.0.1:0", "-zone", "../../testdata/corpus/zone.txt"}, io.Discard, &stderr, ready)
	}()
	addr := <-ready
	c, err := net.Dial("tcp", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	cancel()
	select {
	case code := <-exit:
		if code != exitOK || !strings.Contains(stderr.String(), "msg=stopped") {
			t.Errorf("exit %d, log %s", code, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the milter did not stop")
	}
	if _, err := net.Dial("tcp", addr.String()); err == nil {
		t.Error("still listening after the stop")
	}
}
