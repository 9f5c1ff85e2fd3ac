package spf

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"gopkg.in/yaml.v3"

	"github.com/mailtrust/mailtrust/resolver"
)

// The open-spf test suites (testdata/conformance/spf), run through Check
// over a resolver.Zone built from each scenario's zonedata.
//
// Explanation strings (the tests' "explanation" key) are not compared:
// this package does not expand exp=. Only the result word is.

// skipped lists the cases not counted, per suite, with the reason. A
// listed case is still evaluated, and the test fails if it passes, so that
// the list cannot go stale.
func skipped() map[string]map[string]string {
	common := commonSkips()
	return map[string]map[string]string{
		"rfc7208-tests.yml": common,
		"rfc4408-tests.yml": common,
		"pyspf-tests.yml": {
			"default-modifier":       "pyspf's lax mode (strict: 0) honours the obsolete default= modifier; RFC 7208 §6 ignores unknown modifiers, giving neutral",
			"default-modifier-harsh": "pyspf's harsh mode (strict: 2) answers \"ambiguous\", which is no RFC 7208 result",
		},
	}
}

// commonSkips are the cases the RFC 7208 and RFC 4408 suites share that
// this package does not pass. The one left is a choice of the resolver
// package, not of the evaluator.
func commonSkips() map[string]string {
	return map[string]string{
		// The expanded name ("macro%percent  space%20url-space.example.com")
		// holds spaces. resolver.CheckName refuses such names, and every
		// Resolver (Zone, Client, System) refuses them too, by design: names
		// built from message content are never sent with spaces, and every
		// name asked can be written to a master file. The name is treated
		// as non-existent, so the a: mechanism does not match.
		"macro-mania-in-domain": "the expanded name contains spaces, which resolver.CheckName refuses; the mechanism then does not match",
	}
}

type ymlScenario struct {
	Description string                            `yaml:"description"`
	Comment     string                            `yaml:"comment"`
	Tests       map[string]ymlTest                `yaml:"tests"`
	ZoneData    map[string][]map[string]yaml.Node `yaml:"zonedata"`
}

type ymlTest struct {
	Description string    `yaml:"description"`
	Spec        yaml.Node `yaml:"spec"`
	Helo        string    `yaml:"helo"`
	Host        string    `yaml:"host"`
	MailFrom    string    `yaml:"mailfrom"`
	Result      words     `yaml:"result"`
	Explanation string    `yaml:"explanation"`
}

// words is a result: one word or a list of acceptable ones.
type words []string

func (w *words) UnmarshalYAML(n *yaml.Node) error {
	var list []string
	if err := n.Decode(&list); err == nil {
		*w = list
		return nil
	}
	var one string
	if err := n.Decode(&one); err != nil {
		return err
	}
	*w = []string{one}
	return nil
}

// conformanceDir is the suite's folder in the repository's testdata (its
// README names the source and licence), so that any clone runs it.
func conformanceDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join("..", "testdata", "conformance", "spf")
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("conformance suite missing: %v", err)
	}
	return dir
}

func loadSuite(t *testing.T, path string) []ymlScenario {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []ymlScenario
	dec := yaml.NewDecoder(f)
	for {
		var s ymlScenario
		err := dec.Decode(&s)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, s)
	}
	return out
}

// strs decodes a scalar or a sequence of scalars.
func strs(t *testing.T, n yaml.Node) []string {
	t.Helper()
	var list []string
	if err := n.Decode(&list); err == nil {
		return list
	}
	var one string
	if err := n.Decode(&one); err != nil {
		t.Fatalf("line %d: %v", n.Line, err)
	}
	return []string{one}
}

// buildZone turns a scenario's zonedata into a Zone, with the conventions
// of the suites' reference driver (pyspf's testspf.py):
//
//   - SPF entries are type 99 records, which RFC 7208 receivers never ask
//     for; the driver also copies them to TXT unless the name has TXT
//     entries of its own. "TXT: NONE" is such an entry with no record.
//   - A TXT or SPF value that is a list is one record of several strings.
//   - TIMEOUT makes the questions for the types not listed before it time
//     out. A Zone times out whole names, so a name whose TXT record comes
//     before TIMEOUT (only "spftimeout") keeps its records and loses the
//     fault, which concerned the SPF type alone.
//   - CNAMELOOP (a local addition) is a CNAME that points at itself.
func buildZone(t *testing.T, data map[string][]map[string]yaml.Node) *resolver.Zone {
	t.Helper()
	z := resolver.NewZone()
	z.Timeout = 20 * time.Millisecond
	hdr := func(name string, typ uint16) dns.RR_Header {
		return dns.RR_Header{Name: dns.Fqdn(name), Rrtype: typ, Class: dns.ClassINET, Ttl: 300}
	}
	for name, entries := range data {
		hasTXT, sawTXT := false, false
		var spf [][]string
		for _, entry := range entries {
			for typ, v := range entry {
				switch typ {
				case "A":
					for _, s := range strs(t, v) {
						ip := net.ParseIP(s).To4()
						if ip == nil {
							t.Fatalf("%s: bad A %q", name, s)
						}
						z.Add(&dns.A{Hdr: hdr(name, dns.TypeA), A: ip})
					}
				case "AAAA":
					for _, s := range strs(t, v) {
						ip := net.ParseIP(s)
						if ip == nil {
							t.Fatalf("%s: bad AAAA %q", name, s)
						}
						z.Add(&dns.AAAA{Hdr: hdr(name, dns.TypeAAAA), AAAA: ip})
					}
				case "MX":
					var mx []any
					if err := v.Decode(&mx); err != nil || len(mx) != 2 {
						t.Fatalf("%s: bad MX: %v", name, err)
					}
					pref, _ := mx[0].(int)
					host, _ := mx[1].(string)
					z.Add(&dns.MX{Hdr: hdr(name, dns.TypeMX), Preference: uint16(pref), Mx: dns.Fqdn(host)})
				case "PTR":
					for _, s := range strs(t, v) {
						z.Add(&dns.PTR{Hdr: hdr(name, dns.TypePTR), Ptr: dns.Fqdn(s)})
					}
				case "CNAME":
					z.Add(&dns.CNAME{Hdr: hdr(name, dns.TypeCNAME), Target: dns.Fqdn(strs(t, v)[0])})
				case "CNAMELOOP":
					z.Add(&dns.CNAME{Hdr: hdr(name, dns.TypeCNAME), Target: dns.Fqdn(name)})
				case "TXT":
					hasTXT = true
					if ss := strs(t, v); !(len(ss) == 1 && ss[0] == "NONE") {
						sawTXT = true
						z.Add(&dns.TXT{Hdr: hdr(name, dns.TypeTXT), Txt: ss})
					}
				case "SPF":
					ss := strs(t, v)
					spf = append(spf, ss)
					z.Add(&dns.SPF{Hdr: hdr(name, dns.TypeSPF), Txt: ss})
				case "TIMEOUT":
					if !sawTXT {
						z.SetFault(name, resolver.FaultTimeout)
					}
				case "SERVFAIL":
					z.SetFault(name, resolver.FaultServfail)
				default:
					t.Fatalf("%s: unknown record type %q", name, typ)
				}
			}
		}
		if !hasTXT {
			for _, ss := range spf {
				z.Add(&dns.TXT{Hdr: hdr(name, dns.TypeTXT), Txt: ss})
			}
		}
	}
	return z
}

func TestConformance(t *testing.T) {
	dir := conformanceDir(t)
	skips := skipped()
	for _, file := range []string{"rfc7208-tests.yml", "rfc4408-tests.yml", "pyspf-tests.yml"} {
		t.Run(strings.TrimSuffix(file, ".yml"), func(t *testing.T) {
			runSuite(t, filepath.Join(dir, file), skips[file])
		})
	}
}

func runSuite(t *testing.T, path string, skip map[string]string) {
	t.Helper()
	var total, passed, skippedN int
	seen := map[string]bool{}
	cache := &RecordCache{} // shared by the suite's checks, as by a process's
	for _, sc := range loadSuite(t, path) {
		z := buildZone(t, sc.ZoneData)
		names := make([]string, 0, len(sc.Tests))
		for n := range sc.Tests {
			names = append(names, n)
		}
		slices.Sort(names)
		for _, name := range names {
			tc := sc.Tests[name]
			seen[name] = true
			total++
			got, detail := runCase(t, z, tc, cache)
			ok := slices.Contains(tc.Result, string(got))
			if reason, isSkipped := skip[name]; isSkipped {
				skippedN++
				if ok {
					t.Errorf("%s: listed as skipped (%s) but passes: remove it from the list", name, reason)
				} else {
					t.Logf("skipped %s: %s", name, reason)
				}
				continue
			}
			if !ok {
				t.Errorf("%s (%s): got %s, want %v\n\t%s", name, sc.Description, got, tc.Result, detail)
				continue
			}
			passed++
		}
	}
	for name := range skip {
		if !seen[name] {
			t.Errorf("skip list names %q, which the suite does not hold", name)
		}
	}
	t.Logf("%s: %d/%d passed, %d skipped, %d failed", filepath.Base(path), passed, total, skippedN, total-passed-skippedN)
}

// runCase runs one test through Check, again with parsed records from
// cache, and for a null reverse-path also through CheckHELO: all must
// agree.
func runCase(t *testing.T, z *resolver.Zone, tc ymlTest, cache *RecordCache) (Status, string) {
	t.Helper()
	ip, err := netip.ParseAddr(tc.Host)
	if err != nil {
		t.Fatalf("bad host %q: %v", tc.Host, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res := Check(ctx, z, ip, tc.Helo, tc.MailFrom, nil)
	detail := fmt.Sprintf("domain=%q mechanism=%q record=%q reason=%q err=%v", res.Domain, res.Mechanism, res.Record, res.Reason, res.Err)
	checkInvariants(t, res)
	if c := Check(ctx, z, ip, tc.Helo, tc.MailFrom, &Options{Records: cache}); c.Status != res.Status || c.Mechanism != res.Mechanism {
		t.Errorf("with a RecordCache: %s %q, without: %s %q", c.Status, c.Mechanism, res.Status, res.Mechanism)
	}
	if tc.MailFrom == "" {
		if res.Identity != IdentityHelo {
			t.Errorf("null reverse-path: identity %q, want helo", res.Identity)
		}
		h := CheckHELO(ctx, z, ip, tc.Helo, nil)
		if h.Status != res.Status {
			t.Errorf("CheckHELO(%q) = %s, Check with null reverse-path = %s", tc.Helo, h.Status, res.Status)
		}
	}
	return res.Status, detail
}

// checkInvariants asserts what every Result must satisfy, whatever the
// case: a pass, fail or softfail names the term that decided it, a term of
// the top-level record as written; errors carry a cause, other results none.
func checkInvariants(t *testing.T, res Result) {
	t.Helper()
	switch res.Status {
	case StatusPass, StatusFail, StatusSoftfail, StatusNeutral:
		if res.Err != nil {
			t.Errorf("%s: %s with an error: %v", res.Domain, res.Status, res.Err)
		}
		if res.Status != StatusNeutral && res.Mechanism == "" {
			t.Errorf("%s: %s without a mechanism (record %q)", res.Domain, res.Status, res.Record)
		}
		if res.Mechanism == "" {
			break
		}
		rec, err := parseRecord(res.Record)
		if err != nil {
			t.Errorf("%s: record %q does not parse: %v", res.Domain, res.Record, err)
			break
		}
		if !slices.ContainsFunc(rec.terms, func(tm term) bool { return tm.raw == res.Mechanism }) {
			t.Errorf("%s: mechanism %q is not a term of %q", res.Domain, res.Mechanism, res.Record)
		}
		if len(res.Path) == 0 || res.Path[0].Term != res.Mechanism || res.Path[0].Domain != res.Domain {
			t.Errorf("%s: path %v does not start at %q", res.Domain, res.Path, res.Mechanism)
		}
	case StatusTemperror, StatusPermerror:
		if res.Err == nil {
			t.Errorf("%s: %s without a cause", res.Domain, res.Status)
		}
		if res.Status == StatusTemperror && !errors.Is(res.Err, ErrTemporary) {
			t.Errorf("%s: temperror cause %v does not wrap ErrTemporary", res.Domain, res.Err)
		}
	case StatusNone:
		if res.Err != nil {
			t.Errorf("%s: none with an error: %v", res.Domain, res.Err)
		}
	default:
		t.Errorf("%s: unknown status %q", res.Domain, res.Status)
	}
}
