package trust_test

import (
	"bytes"
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emersion/go-msgauth/authres"
	"github.com/miekg/dns"
	"github.com/stretchr/testify/require"

	"github.com/mailtrust/mailtrust/resolver"
	"github.com/mailtrust/mailtrust/trust"
)

// TestLowTrust: the connection signals receivers document (no PTR, a
// generic PTR, an invalid, non-resolving or foreign HELO) each lower the
// trust of an otherwise authenticated message, and none of them alone makes
// it untrusted.
func TestLowTrust(t *testing.T) {
	zone, err := resolver.LoadZone(filepath.Join(corpusDir, "zone.txt"))
	require.NoError(t, err)
	for _, rr := range []string{
		// 192.0.2.22 is inside example.org's SPF range, with a pool name.
		"22.2.0.192.in-addr.arpa. 3600 IN PTR 192-0-2-22.dyn.isp.example.",
		"192-0-2-22.dyn.isp.example. 3600 IN A 192.0.2.22",
	} {
		r, err := dns.NewRR(rr)
		require.NoError(t, err)
		zone.Add(r)
	}
	msg, err := os.ReadFile(filepath.Join(corpusDir, "msgs", "legit-ed25519.eml"))
	require.NoError(t, err)
	eval := func(ip, heloName string) *trust.Verdict {
		t.Helper()
		v, err := trust.New(&trust.Options{Resolver: zone}).Evaluate(context.Background(), trust.Conn{
			IP: netip.MustParseAddr(ip), HELO: heloName, MailFrom: "news@example.org",
			RcptTo: []string{"support@helpdesk.example"}, Time: receipt,
		}, bytes.NewReader(msg))
		require.NoError(t, err)
		return v
	}
	clean := eval("192.0.2.20", "mx.example.org")
	require.Equal(t, trust.Trusted, clean.Level, "%v", reasonCodes(clean))

	for _, c := range []struct {
		name, ip, helo string
		code           trust.Code
	}{
		{"no PTR", "192.0.2.21", "[192.0.2.21]", trust.PTRNone},
		{"generic PTR", "192.0.2.22", "[192.0.2.22]", trust.PTRGeneric},
		{"HELO localhost", "192.0.2.20", "localhost", trust.HELOInvalid},
		{"HELO bare IP", "192.0.2.20", "192.0.2.20", trust.HELOInvalid},
		{"HELO single label", "192.0.2.20", "mailhost", trust.HELOInvalid},
		{"HELO under an unknown TLD", "192.0.2.20", "mx.example.nosuchtld", trust.HELOInvalid},
		{"HELO that does not resolve", "192.0.2.20", "nothere.example.org", trust.HELONone},
		{"HELO of another organization", "192.0.2.20", "mail.vendor.example", trust.HELOOtherOrg},
	} {
		t.Run(c.name, func(t *testing.T) {
			v := eval(c.ip, c.helo)
			require.True(t, v.Has(c.code), "want %s in %v", c.code, reasonCodes(v))
			require.Greater(t, v.Score, clean.Score, "%s lowers trust", c.code)
			require.NotEqual(t, trust.Untrusted, v.Level, "low trust, not untrusted: %v", reasonCodes(v))
			require.Equal(t, "pass", string(v.DMARC.Status), "authentication is unaffected")
		})
	}
}

// TestTemporaryNeverFail: when the only signature that could have aligned
// has a key lookup that failed temporarily, DMARC is temperror, not fail,
// and the verdict is incomplete (the caller defers).
func TestTemporaryNeverFail(t *testing.T) {
	zone, err := resolver.LoadZone(filepath.Join(corpusDir, "zone.txt"))
	require.NoError(t, err)
	msg, err := os.ReadFile(filepath.Join(corpusDir, "msgs", "dkim-key-temperror.eml"))
	require.NoError(t, err)
	// From an address temp.example's SPF does not authorize: SPF fails,
	// the DKIM key is SERVFAIL.
	v, err := trust.New(&trust.Options{Resolver: zone}).Evaluate(context.Background(), trust.Conn{
		IP: netip.MustParseAddr("203.0.113.66"), HELO: "mail.temp.example", MailFrom: "ops@temp.example", Time: receipt,
	}, bytes.NewReader(msg))
	require.NoError(t, err)
	require.Equal(t, "fail", string(v.SPF.Status))
	require.Equal(t, "temperror", string(v.DKIM[0].Status))
	require.Equal(t, "temperror", string(v.DMARC.Status), v.DMARC.Reason)
	require.True(t, v.Incomplete)
	require.False(t, v.Has(trust.DMARCFail))
}

// TestAuthenticationResults: the header names every method with its
// result and parses back (RFC 8601 §2.2).
func TestAuthenticationResults(t *testing.T) {
	zone, err := resolver.LoadZone(filepath.Join(corpusDir, "zone.txt"))
	require.NoError(t, err)
	msg, err := os.ReadFile(filepath.Join(corpusDir, "msgs", "list-trusted-arc.eml"))
	require.NoError(t, err)
	v, err := trust.New(&trust.Options{Resolver: zone, AuthServID: "mx.helpdesk.example"}).Evaluate(context.Background(), trust.Conn{
		IP: netip.MustParseAddr("203.0.113.30"), HELO: "lists.example.net", MailFrom: "users-bounces@lists.example.net", Time: receipt,
	}, bytes.NewReader(msg))
	require.NoError(t, err)
	name, value, ok := strings.Cut(v.AuthenticationResults, ": ")
	require.True(t, ok)
	require.Equal(t, "Authentication-Results", name)
	id, results, err := authres.Parse(value)
	require.NoError(t, err)
	require.Equal(t, "mx.helpdesk.example", id)
	got := map[string]string{}
	for _, r := range results {
		switch r := r.(type) {
		case *authres.SPFResult:
			got["spf"] = string(r.Value)
		case *authres.DKIMResult:
			got["dkim"] = string(r.Value)
		case *authres.DMARCResult:
			got["dmarc"] = string(r.Value)
		case *authres.IPRevResult:
			got["iprev"] = string(r.Value)
		case *authres.ARCResult:
			got["arc"] = string(r.Value)
		case *authres.GenericResult:
			got[r.Method] = string(r.Value)
		}
	}
	require.Equal(t, map[string]string{"spf": "pass", "dkim": "fail", "dmarc": "fail", "arc": "pass", "iprev": "pass"}, got)
	require.NotContains(t, v.AuthenticationResults, " ;")
}

// TestIncompleteHeldAtNeutral: a list message whose author key cannot be
// fetched scores as trusted without it, but with it DKIM fails and DMARC
// with it; the incomplete verdict is held at neutral, with a reason.
func TestIncompleteHeldAtNeutral(t *testing.T) {
	zone, err := resolver.LoadZone(filepath.Join(corpusDir, "zone.txt"))
	require.NoError(t, err)
	zone.SetFault("sel1._domainkey.example.com", resolver.FaultServfail)
	msg, err := os.ReadFile(filepath.Join(corpusDir, "msgs", "list-untrusted-arc.eml"))
	require.NoError(t, err)
	v, err := trust.New(&trust.Options{Resolver: zone}).Evaluate(context.Background(), trust.Conn{
		IP: netip.MustParseAddr("203.0.113.30"), HELO: "lists.example.net", MailFrom: "users-bounces@lists.example.net", Time: receipt,
	}, bytes.NewReader(msg))
	require.NoError(t, err)
	require.True(t, v.Incomplete)
	require.Equal(t, "temperror", string(v.DMARC.Status))
	require.LessOrEqual(t, v.Score, trust.DefaultThresholds().Trusted, "the score alone reads trusted")
	require.Equal(t, trust.Neutral, v.Level)
	require.True(t, v.Has(trust.IncompleteCapped))

	// The corpus case whose DKIM key fails but whose DMARC passes by SPF
	// stays trusted: nothing open can turn it.
	msg, err = os.ReadFile(filepath.Join(corpusDir, "msgs", "dkim-key-temperror.eml"))
	require.NoError(t, err)
	v, err = trust.New(&trust.Options{Resolver: zone}).Evaluate(context.Background(), trust.Conn{
		IP: netip.MustParseAddr("192.0.2.50"), HELO: "mail.temp.example", MailFrom: "ops@temp.example", Time: receipt,
	}, bytes.NewReader(msg))
	require.NoError(t, err)
	require.True(t, v.Incomplete)
	require.Equal(t, trust.Trusted, v.Level)
}

// TestTrustedForwarderUndecided: when a trusted list's ARC key cannot be
// fetched, the DMARC failure its forwarding caused is undecided, not
// counted as a failure, and the verdict is incomplete.
func TestTrustedForwarderUndecided(t *testing.T) {
	zone, err := resolver.LoadZone(filepath.Join(corpusDir, "zone.txt"))
	require.NoError(t, err)
	zone.SetFault("arc1._domainkey.lists.example.net", resolver.FaultServfail)
	msg, err := os.ReadFile(filepath.Join(corpusDir, "msgs", "list-trusted-arc.eml"))
	require.NoError(t, err)
	conn := trust.Conn{IP: netip.MustParseAddr("203.0.113.30"), HELO: "lists.example.net", MailFrom: "users-bounces@lists.example.net", Time: receipt}
	eval := func(forwarders ...string) *trust.Verdict {
		v, err := trust.New(&trust.Options{Resolver: zone, TrustedForwarders: forwarders}).Evaluate(context.Background(), conn, bytes.NewReader(msg))
		require.NoError(t, err)
		return v
	}
	v := eval("lists.example.net")
	require.Equal(t, "fail", string(v.ARC.Status))
	require.True(t, v.ARC.Temporary)
	require.Equal(t, "fail", string(v.DMARC.Status))
	require.True(t, v.Incomplete)
	require.False(t, v.Has(trust.DMARCFail), "%v", reasonCodes(v))
	require.True(t, v.Has(trust.DMARCTempError))
	require.NotEqual(t, trust.Untrusted, v.Level, "%v", reasonCodes(v))

	// Without trusting the list, the failure counts.
	require.True(t, eval().Has(trust.DMARCFail))
}
