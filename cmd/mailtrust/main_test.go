package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mailtrust/mailtrust/resolver"
	"github.com/mailtrust/mailtrust/resolver/resolvertest"
	"github.com/mailtrust/mailtrust/trust"
)

const corpusDir = "../../testdata/corpus"

var binary string

// TestMain builds the real binary once; the tests run it as a user would.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "mailtrust-cli")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "mailtrust")
	out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
	if err != nil {
		os.RemoveAll(dir)
		panic("building the binary: " + err.Error() + "\n" + string(out))
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	stdout, stderr string
	code           int
}

func runCLI(t *testing.T, stdin []byte, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{out.String(), errb.String(), code}
}

// verdictLines parses stdout as JSON lines keyed by id.
func verdictLines(t *testing.T, stdout string) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	sc := bufio.NewScanner(strings.NewReader(stdout))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var v map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &v), "line %q", sc.Text())
		id, _ := v["id"].(string)
		require.NotEmpty(t, id)
		out[id] = v
	}
	return out
}

func caseCount(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return bytes.Count(b, []byte("\n"))
}

func TestReplaySampleCorpus(t *testing.T) {
	cases := filepath.Join(corpusDir, "cases.jsonl")
	r := runCLI(t, nil, "replay", cases)
	require.Equal(t, 0, r.code, r.stderr)
	lines := verdictLines(t, r.stdout)
	require.Len(t, lines, caseCount(t, cases))
	for id, v := range lines {
		require.Contains(t, []any{"trusted", "neutral", "suspicious", "untrusted"}, v["verdict"], id)
		for _, k := range []string{"score", "incomplete", "spf", "dkim", "dmarc", "arc", "ptr", "helo", "forward", "automated", "reasons"} {
			require.Contains(t, v, k, "%s lacks %s", id, k)
		}
	}
	require.Equal(t, "trusted", lines["legit-rsa"]["verdict"])
	require.Equal(t, "untrusted", lines["spoof-dmarc-fail"]["verdict"])
	// The summary: counts per verdict and agreement per check.
	require.Contains(t, r.stderr, "19 cases:")
	require.Contains(t, r.stderr, "trusted   19/19 agree")
	require.Contains(t, r.stderr, "dkim      13/13 agree")
	require.NotContains(t, r.stderr, "differ:")

	// Replaying again gives byte-identical verdict lines.
	again := runCLI(t, nil, "replay", "-j", "1", cases)
	require.Equal(t, 0, again.code)
	require.Equal(t, r.stdout, again.stdout)
}

func TestReplayBadLines(t *testing.T) {
	dir := t.TempDir()
	src, err := os.ReadFile(filepath.Join(corpusDir, "cases.jsonl"))
	require.NoError(t, err)
	lines := strings.SplitAfter(strings.TrimSpace(string(src)), "\n")
	// Line 2 is not JSON; line 4 names a message that does not exist.
	bad := lines[0] + "{not json\n" + lines[1] +
		`{"id":"ghost","message":"msgs/ghost.eml","ip":"192.0.2.10","helo":"mail.example.com","mail_from":"a@example.com","time":"2026-01-15T10:00:00Z"}` + "\n" +
		lines[2]
	cases := filepath.Join(dir, "cases.jsonl")
	require.NoError(t, os.WriteFile(cases, []byte(bad), 0o644))
	copyCorpus(t, dir)

	r := runCLI(t, nil, "replay", cases)
	require.Equal(t, 1, r.code, "something could not be evaluated")
	require.Contains(t, r.stderr, "line 2:")
	require.Contains(t, r.stderr, "line 4: case ghost:")
	got := verdictLines(t, r.stdout)
	require.Len(t, got, 4, "the good cases are still evaluated, the ghost gets an error line")
	require.Contains(t, got["ghost"]["error"], "no such file")
	require.NotContains(t, got["legit-rsa"], "error")
}

func TestCheck(t *testing.T) {
	zone := filepath.Join(corpusDir, "zone.txt")
	msg := filepath.Join(corpusDir, "msgs", "legit-rsa.eml")
	args := []string{"check", "-zone", zone, "-ip", "192.0.2.10", "-helo", "mail.example.com",
		"-from", "bounce@example.com", "-rcpt", "support@helpdesk.example", "-time", "2026-01-15T10:00:00Z"}

	r := runCLI(t, nil, append(args, msg)...)
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stdout, "verdict  trusted")
	require.Contains(t, r.stdout, "reasons (by weight)")
	require.Contains(t, r.stdout, "Authentication-Results: mailtrust;")

	j := runCLI(t, nil, append(args, "-json", msg)...)
	require.Equal(t, 0, j.code, j.stderr)
	var v map[string]any
	require.NoError(t, json.Unmarshal([]byte(j.stdout), &v))
	require.Equal(t, "trusted", v["verdict"])

	// The same message on standard input.
	b, err := os.ReadFile(msg)
	require.NoError(t, err)
	s := runCLI(t, b, append(args, "-json", "-")...)
	require.Equal(t, j.stdout, s.stdout)

	// The same message saved from an mbox file, its "From " separator
	// line first (RFC 4155 §2): the same verdict.
	mbox := append([]byte("From bounce@example.com Thu Jan 15 09:59:00 2026\n"), b...)
	m := runCLI(t, mbox, append(args, "-json", "-")...)
	require.Equal(t, j.stdout, m.stdout)
}

// emptyFile is the path of an empty file.
func emptyFile(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "empty.eml")
	require.NoError(t, os.WriteFile(p, nil, 0o644))
	return p
}

func TestBadInput(t *testing.T) {
	zone := filepath.Join(corpusDir, "zone.txt")
	base := []string{"check", "-zone", zone, "-ip", "192.0.2.10", "-helo", "mail.example.com", "-time", "2026-01-15T10:00:00Z", "-json"}
	for _, c := range []struct {
		name   string
		args   []string
		stdin  []byte
		code   int
		stderr string
		stdout string
	}{
		{"no command", nil, nil, exitUsage, "usage:", ""},
		{"unknown command", []string{"frobnicate"}, nil, exitUsage, `unknown command "frobnicate"`, ""},
		{"unknown flag", []string{"check", "-bogus", "x.eml"}, nil, exitUsage, "flag provided but not defined: -bogus", ""},
		{"bad ip", []string{"check", "-ip", "300.1.1.1", "x.eml"}, nil, exitUsage, "-ip:", ""},
		{"bad time", []string{"check", "-time", "yesterday", "x.eml"}, nil, exitUsage, "-time:", ""},
		{"missing message", append(base, "/nonexistent/msg.eml"), nil, exitMissing, "no such file", ""},
		{"missing zone", []string{"check", "-zone", "/nonexistent/zone.txt", "x.eml"}, nil, exitMissing, "no such file", ""},
		{"missing cases", []string{"replay", "/nonexistent/cases.jsonl"}, nil, exitMissing, "no such file", ""},
		{"zone and dns", []string{"check", "-zone", zone, "-dns", "127.0.0.1:53", "x.eml"}, nil, exitUsage, "exclude each other", ""},
		{"no message argument", []string{"check", "-zone", zone}, nil, exitUsage, "want one MESSAGE", ""},
		{"two message arguments", []string{"check", "-zone", zone, "a.eml", "b.eml"}, nil, exitUsage, "want one MESSAGE", ""},
		{"message is a directory", append(base, corpusDir), nil, exitMissing, "is a directory", ""},
		{"empty input", append(base, "-"), []byte{}, exitFailed, "not an Internet message: empty input", `"reasons":[{"code":"input.not-a-message"`},
		{"empty file", append(base, emptyFile(t)), nil, exitFailed, "not an Internet message: empty input", `"reasons":[{"code":"input.not-a-message"`},
		{"binary input", append(base, "-"), []byte("\xff\xfe\x00\x01binary\x00junk\n\x89PNG"), exitFailed, "not an Internet message: binary data",
			`"reasons":[{"code":"input.not-a-message","weight":6.5,"detail":"binary data, no header fields"}]`},
		{"text without header fields", append(base, "-"), []byte("Dear Bob,\nlunch?\n"), exitFailed, "not an Internet message: no header fields",
			`"reasons":[{"code":"input.not-a-message"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := runCLI(t, c.stdin, c.args...)
			require.Equal(t, c.code, r.code, "stderr: %s", r.stderr)
			require.Contains(t, r.stderr, c.stderr)
			require.Contains(t, r.stdout, c.stdout)
		})
	}
}

// TestRecordThenReplay evaluates the corpus against a live DNS server (the
// loopback test server answering the corpus zone), records every answer,
// and replays offline from the recording: the verdicts are identical.
func TestRecordThenReplay(t *testing.T) {
	zone, err := resolver.LoadZone(filepath.Join(corpusDir, "zone.txt"))
	require.NoError(t, err)
	srv := resolvertest.Start(t, zone)
	cases := filepath.Join(corpusDir, "cases.jsonl")
	rec := filepath.Join(t.TempDir(), "recorded.txt")

	live := runCLI(t, nil, "record", "-dns", srv.Addr(), "-out", rec, cases)
	require.Equal(t, 0, live.code, live.stderr)
	require.FileExists(t, rec)

	replayed := runCLI(t, nil, "replay", "-zone", rec, cases)
	require.Equal(t, 0, replayed.code, replayed.stderr)
	require.Equal(t, live.stdout, replayed.stdout, "replay from the recording reproduces the live verdicts")

	// And both agree with the shipped zone file.
	shipped := runCLI(t, nil, "replay", cases)
	require.Equal(t, shipped.stdout, replayed.stdout)
}

// TestNotAMessageReport: the readable report of input that is no message
// says so first, not a confident score from checks that had nothing to
// check.
func TestNotAMessageReport(t *testing.T) {
	r := runCLI(t, []byte{}, "check", "-zone", filepath.Join(corpusDir, "zone.txt"), "-")
	require.Equal(t, exitFailed, r.code, r.stderr)
	require.True(t, strings.HasPrefix(r.stdout, "not an Internet message: empty input\n"), r.stdout)
	require.NotContains(t, r.stdout, "spf ", "no check was run")
	require.Contains(t, r.stdout, "input.not-a-message  empty input")
}

// TestCheckExitCodes runs check on a trusted, an untrusted and an
// incomplete verdict: 0, 1 and 75 (EX_TEMPFAIL).
func TestCheckExitCodes(t *testing.T) {
	zone, err := resolver.LoadZone(filepath.Join(corpusDir, "zone.txt"))
	require.NoError(t, err)
	srv := resolvertest.Start(t, zone)
	srv.Servfail("_dmarc.example.com.")
	legit := []string{"-ip", "192.0.2.10", "-helo", "mail.example.com", "-from", "bounce@example.com",
		"-rcpt", "support@helpdesk.example", "-time", "2026-01-15T10:00:00Z", filepath.Join(corpusDir, "msgs", "legit-rsa.eml")}
	spoof := []string{"-ip", "203.0.113.66", "-helo", "mail.example.com", "-from", "billing@example.com",
		"-rcpt", "support@helpdesk.example", "-time", "2026-01-15T10:00:00Z", filepath.Join(corpusDir, "msgs", "spoof-dmarc-fail.eml")}
	zoneArgs := []string{"check", "-zone", filepath.Join(corpusDir, "zone.txt")}
	for _, c := range []struct {
		name    string
		args    []string
		code    int
		verdict string
	}{
		{"trusted", append(zoneArgs, legit...), exitOK, "trusted"},
		{"trusted, as JSON", append(append(zoneArgs, "-json"), legit...), exitOK, `"verdict":"trusted"`},
		{"untrusted", append(zoneArgs, spoof...), exitFailed, "untrusted"},
		{"untrusted, as JSON", append(append(zoneArgs, "-json"), spoof...), exitFailed, `"verdict":"untrusted"`},
		{"incomplete: the DMARC lookup fails temporarily", append([]string{"check", "-dns", srv.Addr()}, legit...), exitTempFail, "incomplete"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := runCLI(t, nil, c.args...)
			require.Equal(t, c.code, r.code, "stdout %s\nstderr %s", r.stdout, r.stderr)
			require.Contains(t, r.stdout, c.verdict)
		})
	}
}

// TestCheckExplains: each reason comes with what it means and why it
// weighs what it weighs, from the signal table, and the score is set
// against the level thresholds.
func TestCheckExplains(t *testing.T) {
	r := runCLI(t, nil, "check", "-zone", filepath.Join(corpusDir, "zone.txt"), "-ip", "203.0.113.66", "-helo", "mail.example.com",
		"-from", "billing@example.com", "-rcpt", "support@helpdesk.example", "-time", "2026-01-15T10:00:00Z",
		filepath.Join(corpusDir, "msgs", "spoof-dmarc-fail.eml"))
	require.Equal(t, exitFailed, r.code, r.stderr)
	require.Contains(t, r.stdout, "levels   ")
	require.Contains(t, r.stdout, "against trusted <= -2.50 < neutral < 2.50 <= suspicious < 6.00 <= untrusted")
	for _, s := range trust.Signals() {
		if s.Code != trust.DMARCFail && s.Code != trust.SPFSoftfail {
			continue
		}
		i := strings.Index(r.stdout, string(s.Code)+"  ")
		require.GreaterOrEqual(t, i, 0, "reason %s listed", s.Code)
		// The explanation follows its reason, wrapped: its first words.
		first := strings.Join(strings.Fields(s.Doc)[:5], " ")
		require.Contains(t, r.stdout[i:], first, "explanation of %s", s.Code)
	}
}

// TestHelpAndVersion: -h on every command lists that command's flags on
// standard output and exits 0; the version is printed three ways.
func TestHelpAndVersion(t *testing.T) {
	for _, c := range []struct {
		args  []string
		flags []string
	}{
		{[]string{"check", "-h"}, []string{"-zone", "-dns", "-json", "-ip", "-helo", "-from", "-rcpt", "-trusted", "-authenticated", "-record", "-time"}},
		{[]string{"check", "-help"}, []string{"-json"}},
		{[]string{"replay", "-h"}, []string{"-zone", "-dns", "-j", "-record"}},
		{[]string{"record", "-h"}, []string{"-out", "-dns", "-j"}},
		{[]string{"milter", "-h"}, []string{"-listen", "-zone", "-dns", "-trusted", "-trusted-forwarders", "-receiver", "-reject", "-j", "-time"}},
		{[]string{"-h"}, []string{"check", "replay", "record", "milter", "[-tempfail-incomplete] [-j N] [-time RFC3339]", "exit codes", "69"}},
	} {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			r := runCLI(t, nil, c.args...)
			require.Equal(t, exitOK, r.code, r.stderr)
			for _, f := range c.flags {
				require.Contains(t, r.stdout, f)
			}
			require.Empty(t, r.stderr)
		})
	}
	// A bad flag lists the flags on standard error, with the usage code.
	bad := runCLI(t, nil, "replay", "-bogus", "x.jsonl")
	require.Equal(t, exitUsage, bad.code)
	require.Contains(t, bad.stderr, "-zone")
	require.Empty(t, bad.stdout)
	for _, v := range []string{"--version", "-version", "version"} {
		r := runCLI(t, nil, v)
		require.Equal(t, exitOK, r.code, r.stderr)
		require.True(t, strings.HasPrefix(r.stdout, "mailtrust "), r.stdout)
		require.Contains(t, r.stdout, "go1.")
	}
}

// TestReplayDisagreement: a case whose verdict disagrees with its expect
// makes replay exit non-zero, after every verdict line is written.
func TestReplayDisagreement(t *testing.T) {
	dir := t.TempDir()
	src, err := os.ReadFile(filepath.Join(corpusDir, "cases.jsonl"))
	require.NoError(t, err)
	lines := strings.SplitAfter(strings.TrimSpace(string(src)), "\n")
	wrong := strings.Replace(lines[0], `"trusted":true`, `"trusted":false`, 1)
	require.NotEqual(t, lines[0], wrong)
	// A corpus of its own (messages named by a cases file stay inside its
	// folder: links out are refused).
	require.NoError(t, os.Mkdir(filepath.Join(dir, "msgs"), 0o755))
	for _, f := range []string{"zone.txt", "msgs/legit-rsa.eml", "msgs/legit-ipv6.eml"} {
		b, err := os.ReadFile(filepath.Join(corpusDir, f))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, f), b, 0o644))
	}
	for _, c := range []struct {
		name, cases string
		code        int
	}{
		{"as expected", lines[0] + lines[1], exitOK},
		{"one case disagrees", wrong + lines[1], exitFailed},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "-")+".jsonl")
			require.NoError(t, os.WriteFile(path, []byte(c.cases), 0o644))
			r := runCLI(t, nil, "replay", path)
			require.Equal(t, c.code, r.code, r.stderr)
			require.Len(t, verdictLines(t, r.stdout), 2)
			if c.code != exitOK {
				require.Contains(t, r.stderr, "differ: legit-rsa")
			}
		})
	}
}
