package trust

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
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
		fmt.Fprintf(&b, "\n## %s\n\n| code | weight | meaning and rationale |\n|---|---:|---|\n", groupTitle[g])
		for _, s := range Signals() {
			if s.Group == g {
				fmt.Fprintf(&b, "| `%s` | %+.2f | %s |\n", s.Code, s.Weight, strings.ReplaceAll(s.Doc, "|", `\|`))
			}
		}
	}
	return b.Bytes()
}

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
		if groupTitle[s.Group] == "" {
			t.Errorf("code %s: group %q has no title", s.Code, s.Group)
		}
	}
}

// TestSpoofingDoc keeps docs/SPOOFING.md, which lists each spoofing class
// with its reason codes and weights, in step with the signal table: every
// code it names exists, and the weights it states are the defaults.
func TestSpoofingDoc(t *testing.T) {
	b, err := os.ReadFile("../docs/SPOOFING.md")
	if err != nil {
		t.Fatal(err)
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
