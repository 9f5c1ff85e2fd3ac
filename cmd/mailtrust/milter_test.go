package main

import (
	"bytes"
	"context"
	"net"
	"strings"
	"testing"
	"time"
)

func TestMilterFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{}, exitUsage, "want -listen"},
		{[]string{"-listen", "inet:127.0.0.1:0", "extra"}, exitUsage, "want -listen"},
		{[]string{"-listen", "inet:127.0.0.1:0", "-reject", "neutral"}, exitUsage, "-reject"},
		{[]string{"-listen", "inet:127.0.0.1:0", "-receiver", "192.0.2.0/40"}, exitUsage, "-receiver"},
		{[]string{"-listen", "inet:127.0.0.1:0", "-time", "yesterday"}, exitUsage, "-time"},
		{[]string{"-listen", "inet:127.0.0.1:0", "-zone", "x", "-dns", "127.0.0.1:53"}, exitMissing, "exclude"},
		{[]string{"-listen", "inet:127.0.0.1:0", "-zone", "no/such/zone.txt"}, exitMissing, "no/such/zone.txt"},
		{[]string{"-listen", "nonsense"}, exitFailed, "listen address"},
	} {
		var stderr bytes.Buffer
		code := serveMilter(context.Background(), c.args, &stderr, nil)
		if code != c.code || !strings.Contains(stderr.String(), c.msg) {
			t.Errorf("%q: exit %d, want %d; stderr %q, want %q in it", c.args, code, c.code, stderr.String(), c.msg)
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
		exit <- serveMilter(ctx, []string{"-listen", "inet:127.0.0.1:0", "-zone", "../../testdata/corpus/zone.txt"}, &stderr, ready)
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
