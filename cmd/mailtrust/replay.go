package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/mailtrust/mailtrust/internal/corpus"
	"github.com/mailtrust/mailtrust/resolver"
	"github.com/mailtrust/mailtrust/trust"
)

// outcome is one case's verdict, or why there is none.
type outcome struct {
	c    corpus.Case
	v    *trust.Verdict
	err  error
	line []byte
}

func replay(args []string, stdout, stderr io.Writer, recordOut string) int {
	name := "replay"
	if recordOut != "" {
		name = "record"
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var d dnsFlags
	jobs := fs.Int("j", runtime.NumCPU(), "evaluate `N` cases in parallel")
	if recordOut == "" {
		fs.StringVar(&d.zone, "zone", "", "answer DNS from master `FILE` (default: zone.txt beside the cases)")
		fs.StringVar(&d.record, "record", "", "write every DNS answer seen to master `FILE`")
	}
	fs.StringVar(&d.server, "dns", "", "ask DNS server `HOST:PORT`")
	synopsis := "mailtrust " + name + " [flags] CORPUS/cases.jsonl"
	if code, ok := parseFlags(fs, synopsis, args, stdout, stderr); !ok {
		return code
	}
	if fs.NArg() != 1 {
		fmt.Fprintf(stderr, "mailtrust %s: want one cases.jsonl argument\n%s", name, usage)
		return exitUsage
	}
	casesPath := fs.Arg(0)
	cases, lineErrs, err := corpus.ReadFile(casesPath)
	if err != nil {
		fmt.Fprintf(stderr, "mailtrust %s: %v\n", name, err)
		return exitMissing
	}
	fallback := ""
	if recordOut != "" {
		d.record = recordOut
	} else if d.server == "" {
		fallback = filepath.Join(filepath.Dir(casesPath), "zone.txt")
	}
	res, flush, err := d.open(fallback)
	if err != nil {
		fmt.Fprintf(stderr, "mailtrust %s: %v\n", name, err)
		return exitMissing
	}
	for _, e := range lineErrs {
		fmt.Fprintf(stderr, "mailtrust %s: %s: %v\n", name, casesPath, e)
	}

	progress := newProgress(stderr, len(cases))
	out := make([]outcome, len(cases))
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < max(1, *jobs); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				out[i] = evaluateCase(res, casesPath, cases[i])
				progress.step()
			}
		}()
	}
	for i := range cases {
		next <- i
	}
	close(next)
	wg.Wait()
	progress.done()

	failed := len(lineErrs)
	for _, o := range out {
		if o.err != nil {
			failed++
			fmt.Fprintf(stderr, "mailtrust %s: %s line %d: case %s: %v\n", name, casesPath, o.c.Line, o.c.ID, o.err)
		}
		stdout.Write(o.line)
		stdout.Write([]byte{'\n'})
	}
	if err := flush(); err != nil {
		fmt.Fprintf(stderr, "mailtrust %s: %v\n", name, err)
		failed++
	}
	// A case that disagrees with its expect fails the replay, as one that
	// could not be evaluated does.
	if disagreed := summary(stderr, out, failed); failed > 0 || disagreed > 0 {
		return exitFailed
	}
	return exitOK
}

func record(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("record", flag.ContinueOnError)
	fs.SetOutput(stderr)
	outPath := fs.String("out", "", "write the DNS answers seen to master `FILE` (required)")
	// Listed for -h only; the replay machinery parses them.
	fs.String("dns", "", "ask DNS server `HOST:PORT`")
	fs.Int("j", runtime.NumCPU(), "evaluate `N` cases in parallel")
	for _, a := range args {
		if a == "-h" || a == "-help" || a == "--help" {
			printFlags(stdout, fs, "mailtrust record [flags] -out ZONE.txt CORPUS/cases.jsonl")
			return exitOK
		}
	}
	// Parse -out first; the remaining flags go to the replay machinery.
	var rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "-out" || a == "--out" {
			if i+1 < len(args) {
				*outPath = args[i+1]
				i++
				continue
			}
		}
		if v, ok := strings.CutPrefix(a, "-out="); ok {
			*outPath = v
			continue
		}
		rest = append(rest, a)
	}
	if *outPath == "" {
		fmt.Fprintf(stderr, "mailtrust record: -out ZONE.txt is required\n%s", usage)
		return exitUsage
	}
	return replay(rest, stdout, stderr, *outPath)
}

func evaluateCase(res resolver.Resolver, casesPath string, c corpus.Case) outcome {
	o := outcome{c: c}
	fail := func(err error) outcome {
		o.err = err
		o.line, _ = json.Marshal(map[string]string{"id": c.ID, "error": err.Error()})
		return o
	}
	ip, t, err := c.Parsed()
	if err != nil {
		return fail(err)
	}
	f, err := os.Open(corpus.MessagePath(casesPath, &c))
	if err != nil {
		return fail(err)
	}
	defer f.Close()
	ev := trust.New(&trust.Options{Resolver: res, TrustedForwarders: c.TrustedForwarders})
	v, err := ev.Evaluate(context.Background(), trust.Conn{
		IP: ip, HELO: c.HELO, MailFrom: c.MailFrom, RcptTo: c.RcptTo, Time: t, Authenticated: c.Authenticated,
	}, f)
	if err != nil {
		return fail(err)
	}
	o.v = v
	o.line, err = v.JSONLine(c.ID)
	if err != nil {
		return fail(err)
	}
	return o
}

// summary prints verdict counts and, where cases carry expectations, the
// agreement per check with a small confusion table and the ids that differ.
// It returns how many cases disagree with their expect in any check.
func summary(w io.Writer, out []outcome, failed int) int {
	counts := map[trust.Level]int{}
	type cell struct{ want, got string }
	conf := map[string]map[cell]int{}
	disagree := map[string][]string{}
	checks := []string{"trusted", "spf", "dkim", "dmarc", "arc", "ptr", "helo", "forwarded", "automated"}
	note := func(check, id, want, got string) {
		if conf[check] == nil {
			conf[check] = map[cell]int{}
		}
		conf[check][cell{want, got}]++
		if want != got {
			disagree[check] = append(disagree[check], id)
		}
	}
	for _, o := range out {
		if o.v == nil {
			continue
		}
		v := o.v
		counts[v.Level]++
		x := o.c.Expect
		if x == nil {
			continue
		}
		if x.Trusted != nil {
			got := v.Level == trust.Trusted || v.Level == trust.Neutral
			note("trusted", o.c.ID, fmt.Sprint(*x.Trusted), fmt.Sprint(got))
		}
		if x.SPF != "" {
			note("spf", o.c.ID, x.SPF, string(v.SPF.Status))
		}
		if x.DKIM != nil {
			var got []string
			for _, d := range v.DKIM {
				got = append(got, string(d.Status))
			}
			note("dkim", o.c.ID, strings.Join(x.DKIM, ","), strings.Join(got, ","))
		}
		if x.DMARC != "" {
			note("dmarc", o.c.ID, x.DMARC, string(v.DMARC.Status))
		}
		if x.ARC != "" {
			note("arc", o.c.ID, x.ARC, string(v.ARC.Status))
		}
		if x.PTR != "" {
			note("ptr", o.c.ID, x.PTR, string(v.PTR.Status))
		}
		if x.HELO != "" {
			note("helo", o.c.ID, x.HELO, string(v.HELO.Status))
		}
		if x.Forwarded != nil {
			note("forwarded", o.c.ID, fmt.Sprint(*x.Forwarded), fmt.Sprint(v.Forward.Forwarded))
		}
		if x.Automated != nil {
			note("automated", o.c.ID, fmt.Sprint(*x.Automated), fmt.Sprint(v.Automated.Automated))
		}
	}
	fmt.Fprintf(w, "\n%d cases: ", len(out))
	for i, l := range []trust.Level{trust.Trusted, trust.Neutral, trust.Suspicious, trust.Untrusted} {
		if i > 0 {
			fmt.Fprint(w, ", ")
		}
		fmt.Fprintf(w, "%d %s", counts[l], l)
	}
	fmt.Fprintf(w, "; %d not evaluated\n", failed)
	for _, check := range checks {
		cells := conf[check]
		if len(cells) == 0 {
			continue
		}
		agree, total := 0, 0
		var keys []cell
		for k, n := range cells {
			total += n
			if k.want == k.got {
				agree += n
			}
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool {
			if keys[i].want != keys[j].want {
				return keys[i].want < keys[j].want
			}
			return keys[i].got < keys[j].got
		})
		fmt.Fprintf(w, "%-9s %d/%d agree\n", check, agree, total)
		for _, k := range keys {
			mark := " "
			if k.want != k.got {
				mark = "!"
			}
			fmt.Fprintf(w, "  %s expected %-12s got %-12s %d\n", mark, k.want, k.got, cells[k])
		}
		if ids := disagree[check]; len(ids) > 0 {
			sort.Strings(ids)
			fmt.Fprintf(w, "  differ: %s\n", strings.Join(ids, " "))
		}
	}
	differ := map[string]bool{}
	for _, ids := range disagree {
		for _, id := range ids {
			differ[id] = true
		}
	}
	return len(differ)
}
