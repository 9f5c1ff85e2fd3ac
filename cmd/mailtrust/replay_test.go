package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mailtrust/mailtrust/internal/corpus"
)

const mailboxDir = "../../testdata/mailbox"

// judged is what must agree across sources: the message, the facts used,
// the level and the score.
type judged struct {
	MessageID string
	Conn      string
	Verdict   string
	Score     float64
}

func judgements(t *testing.T, stdout string) (map[string]judged, []judged) {
	t.Helper()
	byID := map[string]judged{}
	var all []judged
	for id, v := range verdictLines(t, stdout) {
		require.NotContains(t, v, "error", id)
		conn, _ := v["conn"].(map[string]any)
		require.NotNil(t, conn, id)
		c := map[string]any{}
		for k, x := range conn {
			if k != "from" {
				c[k] = x
			}
		}
		b, _ := json.Marshal(c)
		j := judged{v["message_id"].(string), string(b), v["verdict"].(string), v["score"].(float64)}
		byID[id] = j
		all = append(all, j)
	}
	sort.Slice(all, func(i, k int) bool { return fmt.Sprint(all[i]) < fmt.Sprint(all[k]) })
	return byID, all
}

// TestReplayMailboxSources: a folder of .eml files, an mbox and a Maildir
// holding the same messages give the verdicts of the cases.jsonl that
// spells their facts out, the facts read from the receiver's trace.
func TestReplayMailboxSources(t *testing.T) {
	zone := filepath.Join(mailboxDir, "zone.txt")
	cases := runCLI(t, nil, "replay", filepath.Join(mailboxDir, "cases.jsonl"))
	require.Equal(t, 0, cases.code, cases.stderr)
	_, want := judgements(t, cases.stdout)
	require.Len(t, want, caseCount(t, filepath.Join(mailboxDir, "cases.jsonl")))
	for _, l := range verdictLines(t, cases.stdout) {
		require.Equal(t, "case", l["conn"].(map[string]any)["from"])
	}
	for _, src := range []struct{ path, someID string }{
		{"eml", "legit-rsa.eml"},
		{"all.mbox", "all.mbox#1"},
		{"Maildir", "cur/1768471200.M0P1.imap.helpdesk.example"},
	} {
		// The zone: given, or by default zone.txt beside the source.
		r := runCLI(t, nil, "replay", "-receiver", corpus.TraceReceiver, filepath.Join(mailboxDir, src.path))
		if src.path == "eml" {
			r = runCLI(t, nil, "replay", "-receiver", corpus.TraceReceiver, "-zone", zone, filepath.Join(mailboxDir, src.path))
		}
		require.Equal(t, 0, r.code, "%s: %s", src.path, r.stderr)
		byID, got := judgements(t, r.stdout)
		assert.Equal(t, want, got, src.path)
		require.Contains(t, byID, src.someID, src.path)
		for id, l := range verdictLines(t, r.stdout) {
			assert.Equal(t, "headers", l["conn"].(map[string]any)["from"], id)
		}
	}
	// Without -receiver the facts are unknown, not made up: no IP, no
	// SPF, and nothing trusted.
	r := runCLI(t, nil, "replay", "-zone", zone, filepath.Join(mailboxDir, "eml"))
	require.Equal(t, 0, r.code, r.stderr)
	for id, l := range verdictLines(t, r.stdout) {
		assert.NotContains(t, l["conn"], "ip", id)
		assert.NotEqual(t, "trusted", l["verdict"], id)
		assert.Contains(t, fmt.Sprint(l["reasons"]), "conn.ip-unknown", id)
	}
}

// TestCheckMboxFromLine: a message saved with its mbox separator is judged
// exactly as without it, from a file or standard input.
func TestCheckMboxFromLine(t *testing.T) {
	msg := filepath.Join(mailboxDir, "eml", "legit-rsa.eml")
	b, err := os.ReadFile(msg)
	require.NoError(t, err)
	args := []string{"check", "-json", "-zone", filepath.Join(mailboxDir, "zone.txt"), "-receiver", corpus.TraceReceiver}
	plain := runCLI(t, nil, append(args, msg)...)
	require.Equal(t, 0, plain.code, plain.stderr)
	require.Contains(t, plain.stdout, `"verdict":"trusted"`)
	require.Contains(t, plain.stdout, `"from":"headers"`)
	withFrom := append([]byte("From bounce@example.com Thu Jan 15 10:00:00 2026\n"), b...)
	stdin := runCLI(t, withFrom, append(args, "-")...)
	require.Equal(t, plain.stdout, stdin.stdout)
	f := filepath.Join(t.TempDir(), "m.eml")
	require.NoError(t, os.WriteFile(f, withFrom, 0o644))
	file := runCLI(t, nil, append(args, f)...)
	require.Equal(t, plain.stdout, file.stdout)
}

// TestReplayShard: N shards together print exactly the lines of one run,
// each line in one shard only.
func TestReplayShard(t *testing.T) {
	srcs := []string{filepath.Join(corpusDir, "cases.jsonl"), filepath.Join(mailboxDir, "all.mbox")}
	args := []string{"replay", "-receiver", corpus.TraceReceiver, "-zone", filepath.Join(corpusDir, "zone.txt")}
	one := runCLI(t, nil, append(args, srcs...)...)
	require.Equal(t, 0, one.code, one.stderr)
	wantLines := strings.Split(strings.TrimSpace(one.stdout), "\n")
	for _, n := range []int{1, 3, 7} {
		var got []string
		for k := 0; k < n; k++ {
			r := runCLI(t, nil, append(append(args, "-shard", fmt.Sprintf("%d/%d", k, n)), srcs...)...)
			require.Equal(t, 0, r.code, r.stderr)
			if s := strings.TrimSpace(r.stdout); s != "" {
				got = append(got, strings.Split(s, "\n")...)
			}
		}
		w := append([]string(nil), wantLines...)
		sort.Strings(w)
		sort.Strings(got)
		assert.Equal(t, w, got, "%d shards", n)
	}
	for _, bad := range []string{"3/3", "1", "a/b", "0/0", "-1/2"} {
		r := runCLI(t, nil, append(append(args, "-shard", bad), srcs...)...)
		assert.Equal(t, exitUsage, r.code, bad)
	}
}

// TestReplayOrder: lines come out in input order whatever -j.
func TestReplayOrder(t *testing.T) {
	src := filepath.Join(mailboxDir, "all.mbox")
	args := []string{"replay", "-receiver", corpus.TraceReceiver, "-zone", filepath.Join(mailboxDir, "zone.txt")}
	one := runCLI(t, nil, append(args, "-j", "1", src)...)
	many := runCLI(t, nil, append(args, "-j", "8", src)...)
	require.Equal(t, one.stdout, many.stdout)
	for i, l := range strings.Split(strings.TrimSpace(one.stdout), "\n") {
		require.Contains(t, l, fmt.Sprintf(`{"id":"all.mbox#%d"`, i+1))
	}
}

// TestReplayCSV: one row per message, one column per signal, holding the
// weight that fired.
func TestReplayCSV(t *testing.T) {
	cases := filepath.Join(corpusDir, "cases.jsonl")
	js := verdictLines(t, runCLI(t, nil, "replay", cases).stdout)
	r := runCLI(t, nil, "replay", "-format", "csv", cases)
	require.Equal(t, 0, r.code, r.stderr)
	rows, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, 1+len(js))
	head := rows[0]
	require.Equal(t, []string{"id", "message_id", "level", "score"}, head[:4])
	col := map[string]int{}
	for i, h := range head {
		col[h] = i
	}
	for _, row := range rows[1:] {
		v := js[row[0]]
		require.NotNil(t, v, row[0])
		assert.Equal(t, v["verdict"], row[2])
		assert.Equal(t, v["message_id"], row[1])
		assert.Equal(t, fmt.Sprint(v["score"]), row[3])
		fired := map[string]string{}
		for _, x := range v["reasons"].([]any) {
			rr := x.(map[string]any)
			fired[rr["code"].(string)] = fmt.Sprint(rr["weight"])
		}
		for code, i := range col {
			if i < 4 {
				continue
			}
			want, ok := fired[code]
			if !ok {
				want = "0"
			}
			assert.Equal(t, want, row[i], "%s %s", row[0], code)
		}
	}
	bad := runCLI(t, nil, "replay", "-format", "xml", cases)
	assert.Equal(t, exitUsage, bad.code)
}

// TestReplayCorpusPaths: a case's message stays inside the corpus folder
// unless -allow-outside; only regular files are opened, so a FIFO cannot
// hang the replay; a line over 1 MiB is reported and the replay goes on.
func TestReplayCorpusPaths(t *testing.T) {
	dir := t.TempDir()
	copyCorpus(t, dir)
	other := t.TempDir()
	secret := filepath.Join(other, "secret.eml")
	require.NoError(t, os.WriteFile(secret, []byte("From: secret@outside.example\r\nSubject: s\r\n\r\nx\r\n"), 0o644))
	require.NoError(t, os.Symlink(secret, filepath.Join(dir, "msgs", "link.eml")))
	require.NoError(t, syscall.Mkfifo(filepath.Join(dir, "msgs", "fifo.eml"), 0o644))
	c := func(id, msg string) string {
		return fmt.Sprintf(`{"id":%q,"message":%q,"ip":"192.0.2.10","helo":"mail.example.com","mail_from":"a@example.com","time":"2026-01-15T10:00:00Z"}`+"\n", id, msg)
	}
	lines := c("ok", "msgs/legit-rsa.eml") + c("abs", secret) + c("dotdot", "../"+filepath.Base(other)+"/secret.eml") +
		c("link", "msgs/link.eml") + c("fifo", "msgs/fifo.eml") +
		`{"id":"huge","message":"` + strings.Repeat("x", 2<<20) + `"}` + "\n" + c("after", "msgs/legit-ed25519.eml")
	cases := filepath.Join(dir, "cases.jsonl")
	require.NoError(t, os.WriteFile(cases, []byte(lines), 0o644))

	done := make(chan result)
	go func() { done <- runCLI(t, nil, "replay", cases) }()
	var r result
	select {
	case r = <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("replay hung")
	}
	require.Equal(t, exitFailed, r.code)
	got := verdictLines(t, r.stdout)
	assert.NotContains(t, r.stdout, "secret@outside.example")
	assert.NotContains(t, got["ok"], "error")
	assert.NotContains(t, got["after"], "error", "the cases after the long line are read")
	for _, id := range []string{"abs", "dotdot", "link"} {
		assert.Contains(t, got[id]["error"], "outside the folder", id)
	}
	assert.Contains(t, got["fifo"]["error"], "not a regular file")
	assert.Contains(t, r.stderr, "line 6: corpus: line longer than")

	allowed := runCLI(t, nil, "replay", "-allow-outside", cases)
	assert.Contains(t, allowed.stdout, "secret@outside.example")
	assert.Contains(t, verdictLines(t, allowed.stdout)["fifo"]["error"], "not a regular file")
}

// TestRecordSafety: record writes through a temporary file, refuses to
// overwrite without -force, and fails when most questions failed.
func TestRecordSafety(t *testing.T) {
	cases := filepath.Join(corpusDir, "cases.jsonl")
	out := filepath.Join(t.TempDir(), "zone.txt")
	require.NoError(t, os.WriteFile(out, []byte("; precious\n"), 0o644))
	r := runCLI(t, nil, "record", "-dns", "127.0.0.1:9", "-out", out, cases)
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "give -force")
	b, _ := os.ReadFile(out)
	assert.Equal(t, "; precious\n", string(b))

	// Nothing answers on the discard port: every question fails.
	one := filepath.Join(t.TempDir(), "cases.jsonl")
	dir := filepath.Dir(one)
	copyCorpus(t, dir)
	src, _ := os.ReadFile(cases)
	require.NoError(t, os.WriteFile(one, []byte(strings.SplitAfter(string(src), "\n")[0]), 0o644))
	r = runCLI(t, nil, "record", "-force", "-dns", "127.0.0.1:9", "-out", out, one)
	assert.Equal(t, exitFailed, r.code, r.stderr)
	assert.Contains(t, r.stderr, "failed temporarily: the file records an outage")
	b, _ = os.ReadFile(out)
	assert.Contains(t, string(b), "; timeout:", "the file was replaced, whole")
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(out), ".zone.txt.*"))
	assert.Empty(t, left, "no temporary file left behind")
}

// TestReplayReceiverResults: the receiver's own Authentication-Results
// above its boundary are read back, and the summary says how today's
// checks agree with them.
func TestReplayReceiverResults(t *testing.T) {
	dir := t.TempDir()
	b, err := os.ReadFile(filepath.Join(mailboxDir, "eml", "legit-rsa.eml"))
	require.NoError(t, err)
	own := "Authentication-Results: mx.helpdesk.example; spf=pass smtp.mailfrom=bounce@example.com; dkim=pass header.d=example.com; dmarc=fail header.from=example.com\r\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "a.eml"), append([]byte(own), b...), 0o644))
	r := runCLI(t, nil, "replay", "-receiver", corpus.TraceReceiver, "-authserv-id", "mx.helpdesk.example", "-zone", filepath.Join(mailboxDir, "zone.txt"), dir)
	require.Equal(t, 0, r.code, r.stderr)
	v := verdictLines(t, r.stdout)["a.eml"]
	require.NotNil(t, v)
	assert.Equal(t, "trusted", v["verdict"], "the receiver's own results are no forgery")
	assert.Equal(t, map[string]any{"authserv_id": "mx.helpdesk.example", "spf": "pass", "dkim": "pass", "dmarc": "fail"}, v["recorded"])
	assert.Contains(t, r.stderr, "agreement with the receiver's results at receipt:")
	assert.Contains(t, r.stderr, "spf       1/1 agree")
	assert.Contains(t, r.stderr, "dmarc     0/1 agree")
	assert.Contains(t, r.stderr, "! then fail         got pass")
}

// TestRecordInterrupted: on SIGINT, record stops, writes the answers seen
// so far, and exits non-zero saying so.
func TestRecordInterrupted(t *testing.T) {
	// A DNS server that reads questions and never answers.
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	defer pc.Close()
	go func() {
		buf := make([]byte, 512)
		for {
			if _, _, err := pc.ReadFrom(buf); err != nil {
				return
			}
		}
	}()
	out := filepath.Join(t.TempDir(), "zone.txt")
	cmd := exec.Command(binary, "record", "-dns", pc.LocalAddr().String(), "-out", out, filepath.Join(corpusDir, "cases.jsonl"))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	time.Sleep(700 * time.Millisecond)
	start := time.Now()
	require.NoError(t, cmd.Process.Signal(os.Interrupt))
	err = cmd.Wait()
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee, stderr.String())
	assert.Equal(t, exitFailed, ee.ExitCode())
	assert.Less(t, time.Since(start), 10*time.Second, "the interrupt is not waited out")
	assert.Contains(t, stderr.String(), "interrupted after")
	assert.FileExists(t, out, "what was seen is written")
}

// TestReplayTimeoutFault: a recorded "; timeout:" fault is answered after
// the short replay timeout, not a second or the evaluation's 15.
func TestReplayTimeoutFault(t *testing.T) {
	dir := t.TempDir()
	copyCorpus(t, dir)
	z, err := os.ReadFile(filepath.Join(dir, "zone.txt"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "zone.txt"), append(z, "\n; timeout: _dmarc.example.com.\n"...), 0o644))
	src, err := os.ReadFile(filepath.Join(corpusDir, "cases.jsonl"))
	require.NoError(t, err)
	var c map[string]any
	require.NoError(t, json.Unmarshal([]byte(strings.SplitN(string(src), "\n", 2)[0]), &c))
	require.Equal(t, "legit-rsa", c["id"])
	delete(c, "expect")
	var lines strings.Builder
	const n = 10
	for i := 0; i < n; i++ {
		c["id"] = fmt.Sprintf("slow-%d", i)
		b, _ := json.Marshal(c)
		lines.Write(append(b, '\n'))
	}
	cases := filepath.Join(dir, "cases.jsonl")
	require.NoError(t, os.WriteFile(cases, []byte(lines.String()), 0o644))
	start := time.Now()
	r := runCLI(t, nil, "replay", "-j", "1", cases)
	took := time.Since(start)
	require.Equal(t, 0, r.code, r.stderr)
	got := verdictLines(t, r.stdout)
	require.Len(t, got, n)
	for id, v := range got {
		assert.Equal(t, "temperror", v["dmarc"].(map[string]any)["result"], id)
		assert.Equal(t, true, v["incomplete"], id)
	}
	assert.Less(t, took, 5*time.Second, "%d timeout faults, one after the other", n)
}
