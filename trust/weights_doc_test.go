package trust

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite docs/WEIGHTS.md from the signal table")

const weightsDoc = "../docs/WEIGHTS.md"

// renderWeights renders the signal table as the markdown document readers
// get; the test keeps docs/WEIGHTS.md equal to it.
func renderWeights() []byte {
	var b bytes.Buffer
	b.WriteString(weightsIntro)
	t := DefaultThresholds()
	fmt.Fprintf(&b, "| level | score |\n|---|---|\n| trusted | ≤ %.1f |\n| neutral | between |\n| suspicious | ≥ %.1f |\n| untrusted | ≥ %.1f |\n\n", t.Trusted, t.Suspicious, t.Untrusted)
	b.WriteString("Group caps: the positive weights of a group add up to at most its cap.\n\n| group | cap |\n|---|---|\n")
	caps := defaultCaps()
	for _, g := range groupOrder {
		if c, ok := caps[g]; ok {
			fmt.Fprintf(&b, "| %s | %.1f |\n", g, c)
		}
	}
	for _, g := range groupOrder {
		fmt.Fprintf(&b, "\n## %s\n\n| code | weight | meaning and rationale | deliberately does not fire on |\n|---|---:|---|---|\n", groupTitle[g])
		for _, s := range Signals() {
			if s.Group == g {
				notFor := s.NotFor
				if notFor == "" {
					notFor = "—"
				}
				fmt.Fprintf(&b, "| `%s` | %+.2f | %s | %s |\n", s.Code, s.Weight, cell(s.Doc), cell(notFor))
			}
		}
	}
	return b.Bytes()
}

func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

var groupOrder = []Group{GroupAuth, GroupSpoof, GroupSender, GroupConnection, GroupForward, GroupMessage, GroupInfo}

var groupTitle = map[Group]string{
	GroupAuth:       "Authentication (SPF, DKIM, DMARC)",
	GroupConnection: "Connection (PTR, HELO)",
	GroupSender:     "Sender, recipients and the session",
	GroupSpoof:      "What the reader sees",
	GroupForward:    "Forwarding",
	GroupMessage:    "Malformed or over-limit input",
	GroupInfo:       "Facts reported without weight",
}

const weightsIntro = `# Signals and default weights

Every reason a verdict gives has a stable code, a default weight and a rationale.
Positive weights are suspicious, negative ones trustworthy; DNS temporary failures
weigh 0 and mark the verdict incomplete. A code counts once per message. Callers
override any weight (` + "`Options.Weights`" + `), the group caps (` + "`Options.GroupCaps`" + `) and the
level thresholds (` + "`Options.Thresholds`" + `).

The weights follow how rspamd (conf/scores.d) and SpamAssassin weigh the same facts,
rescaled so that authentication decides and connection hygiene alone can make a
message suspicious, never untrusted. Attacks that ride on genuinely authenticated mail
(an unsigned header above a signed one, content after l=, a display name hiding another
organization's address, SMTP smuggling, forged upstream results) weigh 8.5: fully
authenticated mail scores about -6, so the attack alone still makes it suspicious
(docs/SPOOFING.md lists them by class). This file is generated from ` + "`trust.Signals()`" + `:
` + "`go test ./trust -run TestWeightsDoc -update`" + `.

`

func TestWeightsDoc(t *testing.T) {
	got := renderWeights()
	if *update {
		if err := os.MkdirAll(filepath.Dir(weightsDoc), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(weightsDoc, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(weightsDoc)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("docs/WEIGHTS.md is out of date with trust.Signals(): run go test ./trust -run TestWeightsDoc -update")
	}
}

func TestSignalsUnique(t *testing.T) {
	seen := map[Code]bool{}
	for _, s := range Signals() {
		if seen[s.Code] {
			t.Errorf("code %s listed twice", s.Code)
		}
		seen[s.Code] = true
		if s.Doc == "" || s.Group == "" {
			t.Errorf("code %s lacks doc or group", s.Code)
		}
		if s.Weight > 0 && s.NotFor == "" {
			t.Errorf("code %s weighs %+.2f but does not say what it deliberately does not fire on", s.Code, s.Weight)
		}
		if groupTitle[s.Group] == "" {
			t.Errorf("code %s: group %q has no title", s.Code, s.Group)
		}
	}
}

// TestSpoofingDoc keeps docs/SPOOFING.md, which lists each spoofing class
// with its reason codes and weights, in step with the signal table: every
// code it names exists, and the weights it states are the defaults.
func TestSpoofingDoc(t *testing.T) {
	b, err := os.ReadFile(spoofingDoc)
	if err != nil {
		t.Fatal(err)
	}
	// The section on what each signal does not fire on is the table's.
	begin, end := bytes.Index(b, []byte(notForBegin)), bytes.Index(b, []byte(notForEnd))
	if begin < 0 || end < begin {
		t.Fatalf("docs/SPOOFING.md lacks the %s ... %s section", notForBegin, notForEnd)
	}
	want := append(append(append([]byte{}, b[:begin]...), renderNotFor()...), b[end+len(notForEnd):]...)
	if *update && !bytes.Equal(b, want) {
		if err := os.WriteFile(spoofingDoc, want, 0o644); err != nil {
			t.Fatal(err)
		}
		b = want
	}
	if !bytes.Equal(b, want) {
		t.Errorf("docs/SPOOFING.md: the section on what signals do not fire on is out of date with trust.Signals(): run go test ./trust -run TestSpoofingDoc -update")
	}
	weights := map[Code]float64{}
	for _, s := range Signals() {
		weights[s.Code] = s.Weight
	}
	code := regexp.MustCompile("`([a-z0-9-]+\\.[a-z0-9.-]+)`")
	rows := 0
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(line, "| ") || strings.HasPrefix(line, "| attack") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "| "), " | ")
		codes := code.FindAllStringSubmatch(cells[len(cells)-2], -1)
		if len(codes) == 0 {
			continue
		}
		rows++
		var ws []float64
		for _, f := range strings.Split(cells[len(cells)-1], "/") {
			w, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
			if err != nil {
				t.Fatalf("row %q: weight %q: %v", line, f, err)
			}
			ws = append(ws, w)
		}
		for i, m := range codes {
			c := Code(m[1])
			want, ok := weights[c]
			if !ok {
				t.Errorf("docs/SPOOFING.md names unknown code %s", c)
				continue
			}
			w := ws[min(i, len(ws)-1)]
			if w != want {
				t.Errorf("docs/SPOOFING.md gives %s weight %v, the default is %v", c, w, want)
			}
		}
	}
	if rows < 25 {
		t.Errorf("only %d rows with codes found in docs/SPOOFING.md", rows)
	}
}

const (
	spoofingDoc = "../docs/SPOOFING.md"
	notForBegin = "<!-- generated from trust.Signals(): begin -->"
	notForEnd   = "<!-- generated from trust.Signals(): end -->"
)

// notForCodes are the codes outside the spoof group that SPOOFING.md
// explains too: the forwarding decisions and the input check.
func notForCodes() []Code {
	return []Code{DMARCFail, SPFFail, SPFFailForwarded, DKIMNotSigned, ARCTrusted, UpstreamTrusted, NotAMessage}
}

// renderNotFor renders, for every spoof-group signal and notForCodes, what
// it deliberately does not fire on, between the section markers.
func renderNotFor() []byte {
	var b bytes.Buffer
	b.WriteString(notForBegin + "\n")
	for _, s := range Signals() {
		if s.Group != GroupSpoof && !slices.Contains(notForCodes(), s.Code) {
			continue
		}
		fmt.Fprintf(&b, "- `%s` (%+.2f): %s\n", s.Code, s.Weight, s.NotFor)
	}
	b.WriteString(notForEnd)
	return b.Bytes()
}

func TestReasonDoc(t *testing.T) {
	tests := []struct {
		code Code
		want string // a phrase of the explanation; "" for none
	}{
		{DMARCFail, "nothing aligns"},
		{FromControlBytes, "control bytes"},
		{NotAMessage, "not an Internet message"},
		{Code("x.unknown"), ""},
	}
	for _, tt := range tests {
		got := Reason{Code: tt.code}.Doc()
		if tt.want == "" && got != "" || !strings.Contains(got, tt.want) {
			t.Errorf("Reason{%s}.Doc() = %q, want it to say %q", tt.code, got, tt.want)
		}
		s, ok := LookupSignal(tt.code)
		if ok != (tt.want != "") || s.Doc != got {
			t.Errorf("LookupSignal(%s) = %+v, %v", tt.code, s, ok)
		}
	}
	if n := len(notFor()); n == 0 {
		t.Fatal("no NotFor entries")
	}
	known := map[Code]bool{}
	for _, s := range Signals() {
		known[s.Code] = true
	}
	for c := range notFor() {
		if !known[c] {
			t.Errorf("NotFor names %s, which is not in the table", c)
		}
	}
}
