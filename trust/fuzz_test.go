package trust_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mailtrust/mailtrust/internal/corpus"
	"github.com/mailtrust/mailtrust/resolver"
	"github.com/mailtrust/mailtrust/trust"
)

// FuzzEvaluate runs whole evaluations on the sample corpus zone: any
// message, HELO, MAIL FROM and client address gets a verdict, in bounded
// time, whose level follows from its score, whose score follows from its
// reasons, which is incomplete whenever a check is temperror, and whose
// JSON line is valid and round-trips. The seeds are the corpus cases,
// read from ../testdata/corpus so that they follow it; regressions live in
// testdata/fuzz/FuzzEvaluate.
func FuzzEvaluate(f *testing.F) {
	casesPath := filepath.Join(corpusDir, "cases.jsonl")
	cases, errs, err := corpus.ReadFile(casesPath)
	if err != nil || len(errs) > 0 {
		f.Fatalf("reading the corpus: %v %v", err, errs)
	}
	for _, c := range cases {
		m, err := os.ReadFile(corpus.MessagePath(casesPath, &c))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(m, c.IP, c.HELO, c.MailFrom)
	}
	zone, err := resolver.LoadZone(filepath.Join(corpusDir, "zone.txt"))
	if err != nil {
		f.Fatal(err)
	}
	zone.Timeout = time.Millisecond // a timeout fault must not slow the fuzzer
	groups := map[trust.Code]trust.Group{}
	for _, s := range trust.Signals() {
		groups[s.Code] = s.Group
	}
	caps := map[trust.Group]float64{trust.GroupConnection: 4.0}
	ev := trust.New(&trust.Options{Resolver: zone, GroupCaps: caps, Limits: trust.Limits{Timeout: 5 * time.Second}})
	th := trust.DefaultThresholds()

	f.Fuzz(func(t *testing.T, msg []byte, ip, helo, mailFrom string) {
		addr, _ := netip.ParseAddr(ip) // an unusable address is the zero Addr
		conn := trust.Conn{IP: addr, HELO: helo, MailFrom: mailFrom, RcptTo: []string{"support@helpdesk.example"}, Time: receipt}
		start := time.Now()
		v, err := ev.Evaluate(context.Background(), conn, bytes.NewReader(msg))
		if took := time.Since(start); took > 8*time.Second {
			t.Fatalf("evaluation took %v", took)
		}
		if err != nil || v == nil {
			t.Fatalf("no verdict from an in-memory message: %v", err)
		}

		// The level follows from the score and the thresholds.
		var level trust.Level
		switch {
		case v.Score >= th.Untrusted:
			level = trust.Untrusted
		case v.Score >= th.Suspicious:
			level = trust.Suspicious
		case v.Score <= th.Trusted:
			level = trust.Trusted
		default:
			level = trust.Neutral
		}
		if level == trust.Trusted && v.Level == trust.Neutral && v.Incomplete && v.Has(trust.IncompleteCapped) {
			level = trust.Neutral // held at neutral: a deciding result is open
		}
		if level == trust.Trusted && v.Level == trust.Neutral && v.Has(trust.UnknownCapped) {
			level = trust.Neutral // held at neutral: a session fact is unknown
		}
		if v.Level != level {
			t.Fatalf("score %.2f gives %s, verdict says %s", v.Score, level, v.Level)
		}
		// The score follows from the reasons: each code once, positive
		// weights of a capped group up to the cap, in descending order of
		// absolute weight.
		seen := map[trust.Code]bool{}
		pos := map[trust.Group]float64{}
		score := 0.0
		for i, r := range v.Reasons {
			if seen[r.Code] {
				t.Fatalf("code %s twice", r.Code)
			}
			seen[r.Code] = true
			if i > 0 && math.Abs(r.Weight) > math.Abs(v.Reasons[i-1].Weight) {
				t.Fatalf("reasons out of order: %v", v.Reasons)
			}
			if _, capped := caps[groups[r.Code]]; capped && r.Weight > 0 {
				pos[groups[r.Code]] += r.Weight
				continue
			}
			score += r.Weight
		}
		for g, sum := range pos {
			score += min(sum, caps[g])
		}
		if math.Abs(score-v.Score) > 0.011 {
			t.Fatalf("score %.2f, reasons add up to %.4f: %v", v.Score, score, v.Reasons)
		}

		// A temporary failure leaves the verdict incomplete.
		temp := v.SPF.Status == "temperror" || v.DMARC.Status == "temperror" || v.PTR.Status == "temperror" ||
			v.HELO.Status == "temperror" || v.ARC.Temporary
		for _, d := range v.DKIM {
			temp = temp || d.Status == "temperror"
		}
		if temp && !v.Incomplete {
			t.Fatalf("temperror in a complete verdict: %+v", v)
		}
		if v.Has(trust.Deadline) {
			t.Fatalf("deadline reached on an answering zone: %v", v.Reasons)
		}

		// Input that is no message gets that one reason, first and alone,
		// and an Authentication-Results field with no result.
		if v.Has(trust.NotAMessage) {
			if len(v.Reasons) != 1 || v.Reasons[0].Code != trust.NotAMessage {
				t.Fatalf("not a message, yet reasons %v", v.Reasons)
			}
			if v.AuthenticationResults != "Authentication-Results: mailtrust; none" {
				t.Fatalf("not a message, yet A-R field %q", v.AuthenticationResults)
			}
			return
		}

		// Every check whose facts are known reports a result word; one
		// whose facts are not does not run, and the verdict says so.
		known := map[string]bool{"spf": addr.IsValid(), "dmarc": true, "ptr": addr.IsValid(), "helo": addr.IsValid() && helo != ""}
		for name, s := range map[string]string{"spf": string(v.SPF.Status), "dmarc": string(v.DMARC.Status),
			"ptr": string(v.PTR.Status), "helo": string(v.HELO.Status)} {
			if known[name] && s == "" {
				t.Fatalf("no %s result", name)
			}
			if !known[name] && s != "" {
				t.Fatalf("%s result %q without its facts", name, s)
			}
		}
		if !addr.IsValid() && (!v.Has(trust.ConnIPUnknown) || v.Level == trust.Trusted) {
			t.Fatalf("unknown IP: %s %v", v.Level, v.Reasons)
		}
		if helo == "" && !v.Has(trust.ConnHELOUnknown) {
			t.Fatalf("unknown HELO not reported: %v", v.Reasons)
		}

		// The Authentication-Results field cannot carry a header of its
		// own: every line break is a fold.
		ar := v.AuthenticationResults
		if !strings.HasPrefix(ar, "Authentication-Results: ") {
			t.Fatalf("A-R field %q", ar)
		}
		for i := 0; i < len(ar); i++ {
			switch ar[i] {
			case '\n':
				t.Fatalf("bare LF in the A-R field %q", ar)
			case '\r':
				if i+2 >= len(ar) || ar[i+1] != '\n' || (ar[i+2] != ' ' && ar[i+2] != '\t') {
					t.Fatalf("line break that is no fold in the A-R field %q", ar)
				}
				i++
			case 0:
				t.Fatalf("NUL in the A-R field %q", ar)
			}
		}

		// Read as RFC 8601 §2.2 (quoted strings, comments), the field holds
		// the verdict's results, no more and in order.
		methods, err := arMethods(strings.TrimPrefix(ar, "Authentication-Results: "))
		if err != nil {
			t.Fatalf("A-R field %q: %v", ar, err)
		}
		var wantMethods []string
		if known["spf"] {
			wantMethods = append(wantMethods, "spf")
		}
		for range max(1, len(v.DKIM)) {
			wantMethods = append(wantMethods, "dkim")
		}
		if v.From.Domain != "" {
			wantMethods = append(wantMethods, "dmarc")
		}
		if v.ARC.Status != "" {
			wantMethods = append(wantMethods, "arc")
		}
		if known["ptr"] {
			wantMethods = append(wantMethods, "iprev")
		}
		if !reflect.DeepEqual(methods, wantMethods) {
			t.Fatalf("A-R field %q holds %v, want %v", ar, methods, wantMethods)
		}

		// The verdict line is valid JSON, says what the verdict says, and
		// round-trips.
		line, err := v.JSONLine("fuzz")
		if err != nil {
			t.Fatalf("JSONLine: %v", err)
		}
		if !json.Valid(line) {
			t.Fatalf("invalid JSON %q", line)
		}
		var got map[string]any
		if err := json.Unmarshal(line, &got); err != nil {
			t.Fatal(err)
		}
		if got["id"] != "fuzz" || got["verdict"] != string(v.Level) || got["incomplete"] != v.Incomplete ||
			got["score"] != v.Score {
			t.Fatalf("JSON line %s says other than the verdict (%s %.2f %v)", line, v.Level, v.Score, v.Incomplete)
		}
		if d, ok := got["dkim"].([]any); !ok || len(d) != len(v.DKIM) {
			t.Fatalf("JSON line has %v for %d signatures", got["dkim"], len(v.DKIM))
		}
		again, err := json.Marshal(got)
		if err != nil {
			t.Fatal(err)
		}
		var back map[string]any
		if err := json.Unmarshal(again, &back); err != nil || !reflect.DeepEqual(got, back) {
			t.Fatalf("JSON does not round-trip: %s became %s (%v)", line, again, err)
		}
		plain, err := json.Marshal(v)
		if err != nil || !json.Valid(plain) {
			t.Fatalf("MarshalJSON: %v %q", err, plain)
		}
	})
}

// arMethods splits an Authentication-Results value at the semicolons that
// are outside quoted strings and comments (RFC 8601 §2.2, RFC 5322 §3.2)
// and returns the method of each resinfo.
func arMethods(v string) ([]string, error) {
	var parts []string
	var cur strings.Builder
	quoted, depth := false, 0
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '\\' && (quoted || depth > 0):
			if i+1 == len(v) {
				return nil, errors.New("quoted-pair at the end")
			}
			cur.WriteByte(c)
			i++
			c = v[i]
		case quoted:
			quoted = c != '"'
		case c == '"' && depth == 0:
			quoted = true
		case c == '(':
			depth++
		case c == ')' && depth > 0:
			depth--
		case c == ';' && depth == 0:
			parts = append(parts, cur.String())
			cur.Reset()
			continue
		}
		cur.WriteByte(c)
	}
	if quoted || depth > 0 {
		return nil, errors.New("unterminated quoted string or comment")
	}
	parts = append(parts, cur.String())
	var methods []string
	for _, p := range parts[1:] { // parts[0] is the authserv-id
		p = strings.TrimSpace(p)
		m, _, ok := strings.Cut(p, "=")
		if !ok {
			return nil, fmt.Errorf("resinfo %q without a result", p)
		}
		methods = append(methods, strings.TrimSpace(m))
	}
	return methods, nil
}
