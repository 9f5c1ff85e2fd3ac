package trust_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mailtrust/mailtrust/arc"
	"github.com/mailtrust/mailtrust/internal/corpus"
	"github.com/mailtrust/mailtrust/resolver"
	"github.com/mailtrust/mailtrust/resolver/resolvertest"
	"github.com/mailtrust/mailtrust/trust"
)

var soakFor = flag.Duration("soak", 0, "run TestSoak for this long (go test ./trust/ -run Soak -soak=5m); 0 skips it")

// soakRate is the share of DNS questions the soak disturbs.
const soakRate = 0.15

// TestSoak is the long test of reliability, skipped unless -soak is given:
// 2 to 8 goroutines evaluate the sample corpus, again and again, over the
// wire through the loopback server while 15% of the DNS questions are
// dropped, answered SERVFAIL, delayed 0–2 s, forced to TCP or preceded by
// junk datagrams. It asserts that nothing panics, that no evaluation runs
// past its deadline, that no fault turns a check that passes in the clean
// run into anything but temperror (never fail), and that a verdict the
// faults left complete is the clean verdict.
func TestSoak(t *testing.T) {
	if *soakFor <= 0 {
		t.Skip("long test, skipped by default: go test ./trust/ -run Soak -soak=5m")
	}
	zone, err := resolver.LoadZone(filepath.Join(corpusDir, "zone.txt"))
	require.NoError(t, err)
	zone.Timeout = 2 * time.Second
	casesPath := filepath.Join(corpusDir, "cases.jsonl")
	cases, errs, err := corpus.ReadFile(casesPath)
	require.NoError(t, err)
	require.Empty(t, errs)

	srv := resolvertest.Start(t, zone)
	client := &resolver.Client{Servers: []string{srv.Addr()}, Timeout: 500 * time.Millisecond, Retries: 1}
	const timeout = 3 * time.Second
	type soakCase struct {
		id    string
		conn  trust.Conn
		msg   []byte
		ev    *trust.Evaluator
		clean *trust.Verdict
	}
	var all []soakCase
	for _, c := range cases {
		ip, at, err := c.Parsed()
		require.NoError(t, err)
		m, err := os.ReadFile(corpus.MessagePath(casesPath, &c))
		require.NoError(t, err)
		sc := soakCase{id: c.ID, msg: m,
			conn: trust.Conn{IP: ip, HELO: c.HELO, MailFrom: c.MailFrom, RcptTo: c.RcptTo, Time: at, Authenticated: c.Authenticated},
			ev:   trust.New(&trust.Options{Resolver: client, TrustedForwarders: c.TrustedForwarders, Limits: trust.Limits{Timeout: timeout}}),
		}
		sc.clean, err = sc.ev.Evaluate(context.Background(), sc.conn, bytes.NewReader(m))
		require.NoError(t, err)
		all = append(all, sc)
	}

	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	var rmu sync.Mutex
	rng := rand.New(rand.NewPCG(seed, seed>>1))
	var injected [5]atomic.Int64 // drop, servfail, delay, tcp, junk
	srv.Inject(func(resolver.Question, string) resolvertest.Injection {
		rmu.Lock()
		defer rmu.Unlock()
		if rng.Float64() >= soakRate {
			return resolvertest.Injection{}
		}
		k := rng.IntN(5)
		injected[k].Add(1)
		switch k {
		case 0:
			return resolvertest.Injection{Drop: true}
		case 1:
			return resolvertest.Injection{Servfail: true}
		case 2:
			return resolvertest.Injection{Delay: time.Duration(rng.Int64N(int64(2 * time.Second)))}
		case 3:
			return resolvertest.Injection{Truncate: true}
		}
		return resolvertest.Injection{Junk: true}
	})

	var evals, incomplete atomic.Int64
	var slowest atomic.Int64
	var fmu sync.Mutex
	var failures []string
	fail := func(format string, args ...any) {
		fmu.Lock()
		defer fmu.Unlock()
		if len(failures) < 20 {
			failures = append(failures, fmt.Sprintf(format, args...))
		}
	}
	end := time.Now().Add(*soakFor)
	phase := min(*soakFor/4, 30*time.Second)
	for p := 0; time.Now().Before(end); p++ {
		workers := 2 + p%7 // 2 to 8
		stop := time.Now().Add(phase)
		if stop.After(end) {
			stop = end
		}
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				r := rand.New(rand.NewPCG(seed+uint64(p), uint64(w)))
				for time.Now().Before(stop) {
					c := all[r.IntN(len(all))]
					func() {
						defer func() {
							if x := recover(); x != nil {
								fail("%s: panic: %v", c.id, x)
							}
						}()
						start := time.Now()
						v, err := c.ev.Evaluate(context.Background(), c.conn, bytes.NewReader(c.msg))
						took := time.Since(start)
						evals.Add(1)
						for {
							old := slowest.Load()
							if int64(took) <= old || slowest.CompareAndSwap(old, int64(took)) {
								break
							}
						}
						if err != nil {
							fail("%s: %v", c.id, err)
							return
						}
						// The checks end at the deadline; what follows is
						// CPU work, which a machine loaded by others (the
						// soak's own 8 goroutines included) may delay.
						if took > timeout+1500*time.Millisecond {
							fail("%s: took %v, deadline %v", c.id, took, timeout)
						}
						if v.Incomplete {
							incomplete.Add(1)
						}
						for _, d := range soakDiffs(c.clean, v) {
							fail("%s: %s", c.id, d)
						}
					}()
				}
			})
		}
		wg.Wait()
	}
	t.Logf("%d evaluations, %d incomplete, slowest %v; injected drop %d, servfail %d, delay %d, tcp %d, junk %d",
		evals.Load(), incomplete.Load(), time.Duration(slowest.Load()),
		injected[0].Load(), injected[1].Load(), injected[2].Load(), injected[3].Load(), injected[4].Load())
	require.Positive(t, evals.Load())
	require.Positive(t, injected[0].Load()+injected[1].Load()+injected[2].Load()+injected[3].Load()+injected[4].Load())
	require.Empty(t, failures)
}

// soakDiffs lists what a verdict under faults may not show against the
// clean one: a check that passed and now neither passes nor is
// temperror, or a complete verdict of another level or score.
func soakDiffs(clean, v *trust.Verdict) []string {
	var out []string
	check := func(name, was, now string) {
		if was == "pass" && now != "pass" && now != "temperror" {
			out = append(out, fmt.Sprintf("%s pass became %s", name, now))
		}
	}
	check("spf", string(clean.SPF.Status), string(v.SPF.Status))
	check("dmarc", string(clean.DMARC.Status), string(v.DMARC.Status))
	check("ptr", string(clean.PTR.Status), string(v.PTR.Status))
	check("helo", string(clean.HELO.Status), string(v.HELO.Status))
	if len(clean.DKIM) == len(v.DKIM) {
		for i := range v.DKIM {
			check(fmt.Sprintf("dkim[%d]", i), string(clean.DKIM[i].Status), string(v.DKIM[i].Status))
		}
	} else {
		out = append(out, fmt.Sprintf("%d DKIM results, clean %d", len(v.DKIM), len(clean.DKIM)))
	}
	if clean.ARC.Status == arc.Pass && v.ARC.Status != arc.Pass && !v.ARC.Temporary {
		out = append(out, fmt.Sprintf("arc pass became %s: %s", v.ARC.Status, v.ARC.Reason))
	}
	if !v.Incomplete && !clean.Incomplete && (v.Level != clean.Level || v.Score != clean.Score) {
		out = append(out, fmt.Sprintf("complete verdict %s %.2f, clean %s %.2f: %v", v.Level, v.Score, clean.Level, clean.Score, reasonCodes(v)))
	}
	return out
}
