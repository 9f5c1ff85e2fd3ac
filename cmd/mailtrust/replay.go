package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/emersion/go-msgauth/authres"
	"github.com/mailtrust/mailtrust/internal/corpus"
	"github.com/mailtrust/mailtrust/received"
	"github.com/mailtrust/mailtrust/trust"
)

// outcome is one message's verdict line (or CSV row), and the little the
// summary needs of it; the verdict itself is not kept.
type outcome struct {
	seq   int
	id    string
	cline int // the cases line, 0 for a mailbox message
	line  []byte
	row   []string
	err   error
	level trust.Level
	// expect: (check, want, got) per expectation of a case; then: (check,
	// receiver's result at receipt, today's) per recorded result.
	expect [][3]string
	then   [][3]string
}

// replayWindow bounds the verdicts held waiting for an earlier one, so
// that lines come out in input order with -j > 1 in bounded memory.
const replayWindow = 256

// replayQueue is the room in the queues to and from the workers, within
// replayWindow.
const replayQueue = 64

// maxEvaluators bounds the configurations cached: a corpus with more
// distinct trusted_forwarders lists than this gets fresh Evaluators for
// the others.
const maxEvaluators = 64

// evaluators caches one Evaluator per distinct trusted_forwarders list: a
// run shares key cache and buffers across its messages.
type evaluators struct {
	mu   sync.Mutex
	base trust.Options
	m    map[string]*trust.Evaluator
}

func (e *evaluators) get(extra []string) *trust.Evaluator {
	fw := append(append([]string(nil), e.base.TrustedForwarders...), extra...)
	sort.Strings(fw)
	key := strings.Join(fw, ",")
	e.mu.Lock()
	defer e.mu.Unlock()
	if ev, ok := e.m[key]; ok {
		return ev
	}
	o := e.base
	o.TrustedForwarders = fw
	ev := trust.New(&o)
	if len(e.m) < maxEvaluators {
		e.m[key] = ev
	}
	return ev
}

func replay(args []string, stdout, stderr io.Writer, recordOut string) int {
	name := "replay"
	if recordOut != "" {
		name = "record"
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var d dnsFlags
	var trusted listFlag
	jobs := fs.Int("j", runtime.NumCPU(), "evaluate `N` messages in parallel")
	if recordOut == "" {
		fs.StringVar(&d.zone, "zone", "", "answer DNS from master `FILE` (default: zone.txt beside the first SOURCE)")
		fs.StringVar(&d.record, "record", "", "write every DNS answer seen to master `FILE`")
	}
	fs.StringVar(&d.server, "dns", "", "ask DNS server `HOST:PORT`")
	force := fs.Bool("force", false, "overwrite an existing record file")
	receiverFlag := fs.String("receiver", "", "the receiver's own hosts: `LIST` of names and CIDR networks, comma-separated")
	authServID := fs.String("authserv-id", "", "the receiver's authserv-`ID` in the Authentication-Results it wrote")
	shardFlag := fs.String("shard", "", "evaluate only shard `K/N` (0 <= K < N) of the messages, by a hash of their id")
	format := fs.String("format", "jsonl", "output `FORMAT`: jsonl (verdict lines) or csv (one row per message, one column per signal)")
	allowOutside := fs.Bool("allow-outside", false, "let cases.jsonl name messages outside its folder")
	fs.Var(&trusted, "trusted", "trusted forwarder `DOMAINS` for every message (comma-separated)")
	synopsis := "mailtrust " + name + " [flags] SOURCE..."
	if code, ok := parseFlags(fs, synopsis, args, stdout, stderr); !ok {
		return code
	}
	if fs.NArg() < 1 {
		fmt.Fprintf(stderr, "mailtrust %s: want at least one SOURCE (cases.jsonl, mbox, Maildir or .eml folder)\n%s", name, usage)
		return exitUsage
	}
	if *format != "jsonl" && *format != "csv" {
		fmt.Fprintf(stderr, "mailtrust %s: -format %q: want jsonl or csv\n", name, *format)
		return exitUsage
	}
	sh, err := parseShard(*shardFlag)
	if err != nil {
		fmt.Fprintf(stderr, "mailtrust %s: %v\n", name, err)
		return exitUsage
	}
	rcv, err := received.ParseReceiver(*receiverFlag)
	if err != nil {
		fmt.Fprintf(stderr, "mailtrust %s: -receiver: %v\n", name, err)
		return exitUsage
	}
	sources := fs.Args()
	for _, s := range sources {
		if _, err := os.Stat(s); err != nil {
			fmt.Fprintf(stderr, "mailtrust %s: %v\n", name, err)
			return exitMissing
		}
	}
	if recordOut != "" {
		d.record = recordOut
	}
	d.force = *force
	if err := d.checkRecord(); err != nil {
		fmt.Fprintf(stderr, "mailtrust %s: %v\n", name, err)
		return exitUsage
	}
	fallback := ""
	if recordOut == "" && d.server == "" {
		fallback = defaultZone(sources[0])
	}
	res, flush, err := d.open(fallback)
	if err != nil {
		fmt.Fprintf(stderr, "mailtrust %s: %v\n", name, err)
		return exitMissing
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	evs := &evaluators{base: trust.Options{Resolver: res, TrustedForwarders: trusted, Receiver: rcv, ReceiverAuthServID: *authServID},
		m: map[string]*trust.Evaluator{}}
	sum := newSummary()
	out := newWriter(stdout, *format)

	var warnMu sync.Mutex // stderr is written by the producer and the printer
	warned := 0           // lines of a cases file that are no case
	warn := func(s string) {
		warnMu.Lock()
		fmt.Fprintf(stderr, "mailtrust %s: %s\n", name, s)
		warned++
		warnMu.Unlock()
	}
	// The queues are buffered so that the producer reads and parses cases
	// ahead while the workers evaluate, and a worker hands its verdict on
	// without waiting for the printer: each would otherwise stall the
	// others once per message. The slots still bound what is held.
	items := make(chan item, replayQueue)
	results := make(chan outcome, replayQueue)
	slots := make(chan struct{}, replayWindow)
	var prodErr error
	go func() {
		defer close(items)
		prodErr = produce(ctx, sources, sourceOpts{allowOutside: *allowOutside, shard: sh}, func(it item) bool {
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				return false
			}
			items <- it
			return true
		}, warn)
	}()
	var wg sync.WaitGroup
	for w := 0; w < max(1, *jobs); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range items {
				results <- evaluateItem(ctx, evs, it, *allowOutside, *format == "csv")
			}
		}()
	}
	go func() { wg.Wait(); close(results) }()

	// Lines leave in input order: a verdict that is ready early waits in
	// pending, which the slots bound. Once interrupted, the verdicts cut
	// short are not printed: only complete ones are.
	pending := map[int]outcome{}
	next := 0
	for o := range results {
		if ctx.Err() != nil {
			<-slots
			continue
		}
		pending[o.seq] = o
		for {
			p, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			next++
			if p.err != nil {
				out.flush() // the error line follows the verdicts before it
				warnMu.Lock()
				if p.cline > 0 {
					fmt.Fprintf(stderr, "mailtrust %s: line %d: case %s: %v\n", name, p.cline, p.id, p.err)
				} else {
					fmt.Fprintf(stderr, "mailtrust %s: %s: %v\n", name, p.id, p.err)
				}
				warnMu.Unlock()
			}
			out.write(p)
			sum.add(p)
			<-slots
		}
	}
	out.flush()
	sum.failed += warned // the producer is done: no more warnings
	interrupted := ctx.Err() != nil
	stop()
	if prodErr != nil {
		fmt.Fprintf(stderr, "mailtrust %s: %v\n", name, prodErr)
		sum.failed++
	}
	if err := flush(); err != nil {
		fmt.Fprintf(stderr, "mailtrust %s: %v\n", name, err)
		sum.failed++
	}
	sum.print(stderr)
	switch {
	case interrupted:
		fmt.Fprintf(stderr, "mailtrust %s: interrupted after %d messages\n", name, next)
		return exitFailed
	case sum.failed > 0, sum.disagreed > 0:
		// A case that disagrees with its expect fails the replay, as one
		// that could not be evaluated does.
		return exitFailed
	}
	return exitOK
}

// defaultZone is where a replay finds its DNS without -zone or -dns:
// zone.txt in the first source's folder, or beside the first source.
func defaultZone(source string) string {
	if st, err := os.Stat(source); err == nil && st.IsDir() {
		if z := filepath.Join(source, "zone.txt"); fileExists(z) {
			return z
		}
	}
	return filepath.Join(filepath.Dir(filepath.Clean(source)), "zone.txt")
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func record(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("record", flag.ContinueOnError)
	fs.SetOutput(stderr)
	outPath := fs.String("out", "", "write the DNS answers seen to master `FILE` (required)")
	// Listed for -h only; the replay machinery parses them.
	fs.String("dns", "", "ask DNS server `HOST:PORT`")
	fs.Int("j", runtime.NumCPU(), "evaluate `N` messages in parallel")
	fs.Bool("force", false, "overwrite an existing record file")
	for _, a := range args {
		if a == "-h" || a == "-help" || a == "--help" {
			printFlags(stdout, fs, "mailtrust record [flags] -out ZONE.txt SOURCE...")
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

// evaluateItem judges one message. A cases line gives the session facts;
// a mailbox message gives none, so that they come from its trace when
// -receiver names the receiver's hosts.
func evaluateItem(ctx context.Context, evs *evaluators, it item, allowOutside, asCSV bool) outcome {
	o := outcome{seq: it.seq, id: it.id}
	if it.c != nil {
		o.cline = it.c.Line
	}
	fail := func(err error) outcome {
		o.err = err
		o.line, _ = json.Marshal(map[string]string{"id": it.id, "error": err.Error()})
		return o
	}
	if it.err != nil {
		return fail(it.err)
	}
	var conn trust.Conn
	var extra []string
	if c := it.c; c != nil {
		extra = c.TrustedForwarders
		if c.IP != "" {
			ip, t, err := c.Parsed()
			if err != nil {
				return fail(err)
			}
			conn = trust.Conn{IP: ip, HELO: c.HELO, MailFrom: c.MailFrom, RcptTo: c.RcptTo, Time: t, Authenticated: c.Authenticated}
		} else {
			// A case without ip spells out no session: like a mailbox
			// message, its facts come from the trace.
			conn = trust.Conn{Authenticated: c.Authenticated, Unknown: trust.FactMailFrom}
		}
	} else {
		conn.Unknown = trust.FactMailFrom
	}
	f, err := it.open(allowOutside)
	if err != nil {
		return fail(err)
	}
	defer f.Close()
	v, err := evs.get(extra).Evaluate(ctx, conn, f)
	if err != nil {
		return fail(err)
	}
	o.level = v.Level
	if asCSV {
		o.row = csvRow(it.id, v)
	} else if o.line, err = v.JSONLine(it.id); err != nil {
		return fail(err)
	}
	if it.c != nil && it.c.Expect != nil {
		o.expect = expectations(it.c.Expect, v)
	}
	if r := v.Recorded; r != nil {
		o.then = recordedAgreement(r, v)
	}
	return o
}

func expectations(x *corpus.Expect, v *trust.Verdict) [][3]string {
	var out [][3]string
	note := func(check, want, got string) { out = append(out, [3]string{check, want, got}) }
	if x.Trusted != nil {
		got := v.Level == trust.Trusted || v.Level == trust.Neutral
		note("trusted", fmt.Sprint(*x.Trusted), fmt.Sprint(got))
	}
	if x.SPF != "" {
		note("spf", x.SPF, string(v.SPF.Status))
	}
	if x.DKIM != nil {
		var got []string
		for _, d := range v.DKIM {
			got = append(got, string(d.Status))
		}
		note("dkim", strings.Join(x.DKIM, ","), strings.Join(got, ","))
	}
	if x.DMARC != "" {
		note("dmarc", x.DMARC, string(v.DMARC.Status))
	}
	if x.ARC != "" {
		note("arc", x.ARC, string(v.ARC.Status))
	}
	if x.PTR != "" {
		note("ptr", x.PTR, string(v.PTR.Status))
	}
	if x.HELO != "" {
		note("helo", x.HELO, string(v.HELO.Status))
	}
	if x.Forwarded != nil {
		note("forwarded", fmt.Sprint(*x.Forwarded), fmt.Sprint(v.Forward.Forwarded))
	}
	if x.Automated != nil {
		note("automated", fmt.Sprint(*x.Automated), fmt.Sprint(v.Automated.Automated))
	}
	return out
}

// recordedAgreement pairs what the receiver wrote at receipt with today's
// result, per check it recorded. DKIM is compared as the receiver words
// it: pass when any signature passed, else the first result.
func recordedAgreement(r *trust.Recorded, v *trust.Verdict) [][3]string {
	var out [][3]string
	note := func(check string, then authres.ResultValue, now string) {
		if then != "" {
			out = append(out, [3]string{check, strings.ToLower(string(then)), now})
		}
	}
	note("spf", r.SPF, string(v.SPF.Status))
	dk := "none"
	for i, d := range v.DKIM {
		if d.Status == "pass" {
			dk = "pass"
			break
		}
		if i == 0 {
			dk = string(d.Status)
		}
	}
	note("dkim", r.DKIM, dk)
	note("dmarc", r.DMARC, string(v.DMARC.Status))
	note("arc", r.ARC, string(v.ARC.Status))
	iprev := string(v.PTR.Status)
	if iprev == "none" {
		iprev = "permerror" // RFC 8601 §2.7.3: no PTR is iprev permerror
	}
	note("iprev", r.IPRev, iprev)
	return out
}

// writer prints verdict lines or CSV rows, buffered: one write per line
// would cost the single printer of all workers a system call per message.
type writer struct {
	w   *bufio.Writer
	csv *csv.Writer
}

func newWriter(w io.Writer, format string) *writer {
	wr := &writer{w: bufio.NewWriterSize(w, 64<<10)}
	if format == "csv" {
		wr.csv = csv.NewWriter(w)
		_ = wr.csv.Write(csvHeader())
	}
	return wr
}

func (wr *writer) write(o outcome) {
	if wr.csv != nil {
		if o.row != nil {
			_ = wr.csv.Write(o.row)
		}
		return
	}
	wr.w.Write(o.line)
	wr.w.WriteByte('\n')
}

func (wr *writer) flush() {
	if wr.csv != nil {
		wr.csv.Flush()
		return
	}
	wr.w.Flush()
}

// csvHeader names the columns: id, message_id, level, score, then every
// signal code of trust.Signals in its order.
func csvHeader() []string {
	h := []string{"id", "message_id", "level", "score"}
	for _, s := range trust.Signals() {
		h = append(h, string(s.Code))
	}
	return h
}

// csvRow gives each signal the weight it had in v, 0 when it did not
// fire.
func csvRow(id string, v *trust.Verdict) []string {
	fired := map[trust.Code]float64{}
	for _, r := range v.Reasons {
		fired[r.Code] = r.Weight
	}
	row := []string{id, v.MessageID, string(v.Level), strconv.FormatFloat(v.Score, 'f', -1, 64)}
	for _, s := range trust.Signals() {
		row = append(row, strconv.FormatFloat(fired[s.Code], 'f', -1, 64))
	}
	return row
}

// summary counts verdicts and agreements as the lines go out.
type summary struct {
	n, failed int
	disagreed int // cases that disagree with their expect in any check
	counts    map[trust.Level]int
	expect    *agreement
	then      *agreement
}

// agreement counts (want, got) pairs per check, with the ids that differ
// (the first maxDiffer of them).
type agreement struct {
	cells  map[string]map[[2]string]int
	differ map[string][]string
	more   map[string]int
}

const maxDiffer = 50

func newAgreement() *agreement {
	return &agreement{cells: map[string]map[[2]string]int{}, differ: map[string][]string{}, more: map[string]int{}}
}

func (a *agreement) note(id string, x [3]string) {
	check, want, got := x[0], x[1], x[2]
	if a.cells[check] == nil {
		a.cells[check] = map[[2]string]int{}
	}
	a.cells[check][[2]string{want, got}]++
	if want != got {
		if len(a.differ[check]) < maxDiffer {
			a.differ[check] = append(a.differ[check], id)
		} else {
			a.more[check]++
		}
	}
}

func newSummary() *summary {
	return &summary{counts: map[trust.Level]int{}, expect: newAgreement(), then: newAgreement()}
}

func (s *summary) add(o outcome) {
	s.n++
	if o.err != nil {
		s.failed++
		return
	}
	s.counts[o.level]++
	differs := false
	for _, x := range o.expect {
		s.expect.note(o.id, x)
		differs = differs || x[1] != x[2]
	}
	if differs {
		s.disagreed++
	}
	for _, x := range o.then {
		s.then.note(o.id, x)
	}
}

// print writes verdict counts and, where cases carry expectations, the
// agreement per check with a small confusion table and the ids that
// differ; where the receiver's own results were found (-authserv-id), how
// today's replay agrees with what the receiver said at receipt.
func (s *summary) print(w io.Writer) {
	fmt.Fprintf(w, "\n%d cases: ", s.n)
	for i, l := range []trust.Level{trust.Trusted, trust.Neutral, trust.Suspicious, trust.Untrusted} {
		if i > 0 {
			fmt.Fprint(w, ", ")
		}
		fmt.Fprintf(w, "%d %s", s.counts[l], l)
	}
	fmt.Fprintf(w, "; %d not evaluated\n", s.failed)
	s.expect.print(w, []string{"trusted", "spf", "dkim", "dmarc", "arc", "ptr", "helo", "forwarded", "automated"}, "expected")
	if len(s.then.cells) > 0 {
		fmt.Fprintln(w, "\nagreement with the receiver's results at receipt:")
		s.then.print(w, []string{"spf", "dkim", "dmarc", "arc", "iprev"}, "then")
	}
}

func (a *agreement) print(w io.Writer, checks []string, wantWord string) {
	for _, check := range checks {
		cells := a.cells[check]
		if len(cells) == 0 {
			continue
		}
		agree, total := 0, 0
		var keys [][2]string
		for k, n := range cells {
			total += n
			if k[0] == k[1] {
				agree += n
			}
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool {
			if keys[i][0] != keys[j][0] {
				return keys[i][0] < keys[j][0]
			}
			return keys[i][1] < keys[j][1]
		})
		fmt.Fprintf(w, "%-9s %d/%d agree\n", check, agree, total)
		for _, k := range keys {
			mark := " "
			if k[0] != k[1] {
				mark = "!"
			}
			fmt.Fprintf(w, "  %s %s %-12s got %-12s %d\n", mark, wantWord, k[0], k[1], cells[k])
		}
		if ids := a.differ[check]; len(ids) > 0 {
			sort.Strings(ids)
			more := ""
			if n := a.more[check]; n > 0 {
				more = fmt.Sprintf(" (and %d more)", n)
			}
			fmt.Fprintf(w, "  differ: %s%s\n", strings.Join(ids, " "), more)
		}
	}
}
