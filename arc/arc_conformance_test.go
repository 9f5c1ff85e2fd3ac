package arc_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/mailtrust/mailtrust/arc"
	"github.com/mailtrust/mailtrust/dkim"
	"github.com/mailtrust/mailtrust/internal/arfield"
	"github.com/mailtrust/mailtrust/internal/testmail"
	"github.com/mailtrust/mailtrust/message"
	"github.com/mailtrust/mailtrust/resolver"
)

// conformanceDir is the suite's folder in the repository's testdata (its
// README names the source and licence), so that any clone runs it.
func conformanceDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join("..", "testdata", "conformance", "arc")
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("conformance suite missing: %v", err)
	}
	return dir
}

// arcScenario is one YAML document of the ValiMail ARC suite.
type arcScenario struct {
	Description string
	// Tests in file order. The validation file repeats four names
	// (as_fields_b_head_case, as_fields_b_head_unfold, as_fields_b_eol_wsp,
	// as_fields_b_inl_wsp) with different messages; a YAML map would keep
	// only the last of each, so both are run, the second named "name#2".
	Tests      []arcCase
	TXTRecords map[string]string
	Domain     string
	Sel        string
	PrivateKey string
}

type arcCase struct {
	Name        string `yaml:"-"`
	Spec        string `yaml:"spec"`
	Description string `yaml:"description"`
	Message     string `yaml:"message"`
	CV          string `yaml:"cv"`
	// Signing suite.
	T          string `yaml:"t"`
	SigHeaders string `yaml:"sig-headers"`
	SrvID      string `yaml:"srv-id"`
	AS         string `yaml:"AS"`
	AMS        string `yaml:"AMS"`
	AAR        string `yaml:"AAR"`
}

func loadARCSuite(t *testing.T, name string) []arcScenario {
	t.Helper()
	path := filepath.Join(conformanceDir(t), name)
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("ARC suite: %v", err)
	}
	defer f.Close()
	var out []arcScenario
	dec := yaml.NewDecoder(f)
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("ARC suite %s: %v", name, err)
		}
		out = append(out, scenarioFromNode(t, &doc))
	}
	if len(out) == 0 {
		t.Fatalf("ARC suite %s: no scenarios", name)
	}
	return out
}

func scenarioFromNode(t *testing.T, doc *yaml.Node) arcScenario {
	t.Helper()
	root := doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind != yaml.MappingNode {
		t.Fatalf("ARC suite: scenario is not a mapping (line %d)", root.Line)
	}
	var sc arcScenario
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i].Value, root.Content[i+1]
		var err error
		switch k {
		case "description":
			sc.Description = v.Value
		case "domain":
			sc.Domain = v.Value
		case "sel":
			sc.Sel = v.Value
		case "privatekey":
			sc.PrivateKey = v.Value
		case "txt-records", "txt_records":
			err = v.Decode(&sc.TXTRecords)
		case "tests":
			seen := map[string]int{}
			for j := 0; j+1 < len(v.Content); j += 2 {
				var c arcCase
				if err := v.Content[j+1].Decode(&c); err != nil {
					t.Fatalf("ARC suite: test %s: %v", v.Content[j].Value, err)
				}
				c.Name = v.Content[j].Value
				seen[c.Name]++
				if n := seen[c.Name]; n > 1 {
					c.Name += "#" + strconv.Itoa(n)
				}
				sc.Tests = append(sc.Tests, c)
			}
		}
		if err != nil {
			t.Fatalf("ARC suite: %s: %v", k, err)
		}
	}
	return sc
}

// suiteZone builds the DNS of a scenario: each key record as a TXT record,
// split into 255-octet strings.
func suiteZone(t *testing.T, sc arcScenario) *resolver.Zone {
	t.Helper()
	z := resolver.NewZone()
	for name, val := range sc.TXTRecords {
		z.Add(testmail.TXTRecord(name, strings.TrimSpace(strings.ReplaceAll(val, "\n", ""))))
	}
	return z
}

// suiteTime is the evaluation time for the suite: its messages were
// written in January 2017 and its signatures carry t= values from the
// first hours of 1970 and no x=, so no signature reads as expired or
// signed in the future.
var suiteTime = time.Date(2017, time.January, 4, 12, 0, 0, 0, time.UTC)

// arcSuiteOverrides are the cases whose expectation RFC 8617 corrects. The
// suite was written against draft-ietf-dmarc-arc-protocol-18 and expects an
// empty cv (its reference implementation returned nothing) for chains
// whose seals say cv=fail; RFC 8617 §5.2 step 2 (newest seal) and step 3.3
// (any seal) make such a chain fail. They are run and counted, with the
// RFC's answer.
var arcSuiteOverrides = map[string]struct{ cv, why string }{
	"cv_fail_i1_as_cv_fail": {"fail", "RFC 8617 §5.2 steps 2 and 3.3: the only seal says cv=fail"},
	"cv_fail_i2_as2_fail":   {"fail", "RFC 8617 §5.2 step 2: the newest seal says cv=fail"},
	"cv_fail_i2_as1_fail":   {"fail", "RFC 8617 §5.2 step 3.3: a seal says cv=fail"},
}

// arcSuiteSkips lists validation cases not run, with the reason. Empty: the
// whole suite runs.
var arcSuiteSkips = map[string]string{}

// TestARCValidationSuite runs every case of the ValiMail ARC validation
// suite (testdata/conformance/arc/arc-draft-validation-tests.yml) and compares
// the chain validation status.
//
//	go test ./forward/ -run TestARCValidationSuite -v
func TestARCValidationSuite(t *testing.T) {
	scenarios := loadARCSuite(t, "arc-draft-validation-tests.yml")
	total, passed, skipped, overridden := 0, 0, 0, 0
	for _, sc := range scenarios {
		z := suiteZone(t, sc)
		for _, tc := range sc.Tests {
			name := tc.Name
			total++
			if why, ok := arcSuiteSkips[name]; ok {
				skipped++
				t.Logf("skip %s: %s", name, why)
				continue
			}
			want := strings.ToLower(strings.TrimSpace(tc.CV))
			if o, ok := arcSuiteOverrides[name]; ok {
				if want != "" {
					t.Errorf("%s: override no longer needed, the suite now expects %q", name, want)
				}
				want = o.cv
				overridden++
			}
			ok := t.Run(name, func(t *testing.T) {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				res, err := arc.Verify(ctx, z, strings.NewReader(tc.Message), &arc.Options{Time: suiteTime})
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if string(res.Status) != want {
					t.Errorf("%s (%s): cv=%s, want %s; reason: %s; err: %v", name, tc.Description, res.Status, want, res.Reason, res.Err)
				}
				if res.Temporary {
					t.Errorf("%s: temporary failure reported with a complete zone", name)
				}
			})
			if ok {
				passed++
			}
		}
	}
	t.Logf("ARC validation suite: %d/%d passed (%d with RFC 8617 overrides, %d skipped); 171 distinct names, 4 of them twice", passed, total, overridden, skipped)
	if total != 175 {
		t.Errorf("suite has %d cases, want 175 (171 names, 4 repeated)", total)
	}
}

// TestARCSignSuite seals every message of the ValiMail ARC signing suite
// (testdata/conformance/arc/arc-draft-sign-tests.yml) with the suite's key,
// time, signed headers and authserv-id, and compares the three fields
// with the suite's. RSA PKCS #1 v1.5 signatures are deterministic, so equal
// b= values show byte-identical canonicalization and signing input. The
// chain status is the one the suite stamped in its Authentication-Results
// (arc=), as its README says a sealer may use.
//
//	go test ./forward/ -run TestARCSignSuite -v
func TestARCSignSuite(t *testing.T) {
	scenarios := loadARCSuite(t, "arc-draft-sign-tests.yml")
	total, passed := 0, 0
	for _, sc := range scenarios {
		block, _ := pem.Decode([]byte(sc.PrivateKey))
		if block == nil {
			t.Fatalf("scenario %q: no PEM key", sc.Description)
		}
		key, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			t.Fatalf("scenario %q: %v", sc.Description, err)
		}
		for _, tc := range sc.Tests {
			total++
			ok := t.Run(tc.Name, func(t *testing.T) {
				br := bufio.NewReader(strings.NewReader(tc.Message))
				h, err := message.ReadHeader(br, message.Limits{})
				require.NoError(t, err)
				ts, err := strconv.ParseInt(strings.TrimSpace(tc.T), 10, 64)
				require.NoError(t, err)
				opts := arc.SealOptions{
					Domain: sc.Domain, Selector: sc.Sel, Signer: key,
					AuthServID:  tc.SrvID,
					ChainStatus: stampedARC(h, tc.SrvID),
					Headers:     strings.Split(tc.SigHeaders, ":"),
					Time:        time.Unix(ts, 0),
				}
				out, err := arc.Seal(h, br, opts)
				if strings.TrimSpace(tc.AS) == "" {
					require.ErrorIs(t, err, arc.ErrChainFailed, "the suite expects no new set")
					return
				}
				require.NoError(t, err)
				got, err := message.ReadHeader(bufio.NewReader(bytes.NewReader(append(out, "\r\n"...))), message.Limits{})
				require.NoError(t, err)
				require.Len(t, got.Fields, 3)
				assert.Equal(t, sigTags(t, tc.AS), sigTags(t, got.First("arc-seal").Value()), "ARC-Seal")
				assert.Equal(t, sigTags(t, tc.AMS), sigTags(t, got.First("arc-message-signature").Value()), "ARC-Message-Signature")
				assert.Equal(t, strings.Join(strings.Fields(tc.AAR), " "),
					strings.Join(strings.Fields(arfield.Unfold(got.First("arc-authentication-results").Value())), " "), "ARC-Authentication-Results")
			})
			if ok {
				passed++
			}
		}
	}
	t.Logf("ARC signing suite: %d/%d passed", passed, total)
}

// stampedARC returns the arc= result of the Authentication-Results fields
// of authServID, or none.
func stampedARC(h *message.Header, authServID string) arc.Status {
	for _, f := range h.Get("authentication-results") {
		id, items := arfield.Items(f.Value())
		if id != authServID {
			continue
		}
		for _, it := range items {
			if v, ok := strings.CutPrefix(it, "arc="); ok {
				return arc.Status(strings.ToLower(strings.Fields(v)[0]))
			}
		}
	}
	return arc.None
}

// sigTags returns a signature's tags with all whitespace removed from the
// values, for comparison.
func sigTags(t *testing.T, v string) map[string]string {
	t.Helper()
	tags, err := dkim.ParseTagList(v)
	require.NoError(t, err, v)
	out := map[string]string{}
	for _, tag := range tags {
		out[tag.Name] = strings.Join(strings.Fields(tag.Value), "")
	}
	return out
}
