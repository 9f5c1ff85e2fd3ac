package trust_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mailtrust/mailtrust/internal/testmail"
	"github.com/mailtrust/mailtrust/resolver"
	"github.com/mailtrust/mailtrust/resolver/resolvertest"
	"github.com/mailtrust/mailtrust/trust"
)

// lookupKind is one kind of DNS question an evaluation asks: the name a
// fault is put on, the types asked there, and the message whose
// evaluation asks it.
type lookupKind struct {
	owner string
	types []uint16
	msg   string // file in the corpus msgs folder
	conn  trust.Conn
	opts  trust.Options
	// bad is a record of the kind that cannot be used (TXT kinds only).
	bad string
	// pad inserts a tag or modifier the kind's parser must ignore.
	pad func(record, filler string) string
}

var (
	faultLegit = trust.Conn{IP: netip.MustParseAddr("192.0.2.10"), HELO: "mail.example.com", MailFrom: "bounce@example.com",
		RcptTo: []string{"support@helpdesk.example"}, Time: receipt}
	faultList = trust.Conn{IP: netip.MustParseAddr("203.0.113.30"), HELO: "lists.example.net",
		MailFrom: "users-bounces@lists.example.net", RcptTo: []string{"support@helpdesk.example"}, Time: receipt}
	trustList = trust.Options{TrustedForwarders: []string{"lists.example.net"}}
)

// padKey adds a note tag after v=DKIM1 (RFC 6376 §3.6.1 n=).
func padKey(rec, filler string) string {
	return strings.Replace(rec, "v=DKIM1;", "v=DKIM1; n="+filler+";", 1)
}

// The kinds of lookup, each on the corpus zone: the legitimate example.com
// message (legit-rsa.eml, signed by sel1._domainkey.example.com, sent from
// 192.0.2.10 = mail.example.com), and for the ARC key the mailing-list
// message sealed by lists.example.net (list-trusted-arc.eml).
var lookupKinds = map[string]lookupKind{
	"ptr": {owner: "10.2.0.192.in-addr.arpa.", types: []uint16{dns.TypePTR}, msg: "legit-rsa.eml", conn: faultLegit},
	// mail.example.com is also the name PTR confirms and the target of the
	// MX that example.com's SPF record ("v=spf1 mx ~all") authorizes.
	"helo": {owner: "mail.example.com.", types: []uint16{dns.TypeA, dns.TypeAAAA}, msg: "legit-rsa.eml", conn: faultLegit},
	// example.com is also the domain whose MX tells whether the From and
	// MAIL FROM domains exist, and the MX HELO is compared with.
	"spf": {owner: "example.com.", types: []uint16{dns.TypeTXT}, msg: "legit-rsa.eml", conn: faultLegit,
		// RFC 7208 §4.6.1: an ip4 address out of range is a syntax error.
		bad: "v=spf1 ip4:192.0.2.300 mx ~all",
		// RFC 7208 §6: unknown modifiers are ignored.
		pad: func(rec, filler string) string { return strings.Replace(rec, " mx", " x-pad="+filler+" mx", 1) }},
	"dkim-key": {owner: "sel1._domainkey.example.com.", types: []uint16{dns.TypeTXT}, msg: "legit-rsa.eml", conn: faultLegit,
		bad: "v=DKIM1; k=rsa; p=%%not*base64%%", pad: padKey},
	// The same key asked for the list message, where SPF does not align
	// with From (the list's bounce domain) and no forwarder is trusted:
	// DMARC depends on the key alone.
	"dkim-key/list": {owner: "sel1._domainkey.example.com.", types: []uint16{dns.TypeTXT}, msg: "list-trusted-arc.eml", conn: faultList,
		bad: "v=DKIM1; k=rsa; p=%%not*base64%%", pad: padKey},
	"dmarc": {owner: "_dmarc.example.com.", types: []uint16{dns.TypeTXT}, msg: "legit-rsa.eml", conn: faultLegit,
		// RFC 7489 §6.3: p= must be none, quarantine or reject; without
		// rua= the record is not a valid DMARC record (§6.6.3).
		bad: "v=DMARC1; p=bogus",
		// RFC 7489 §6.3: unknown tags are ignored.
		pad: func(rec, filler string) string { return rec + "; xpad=" + filler }},
	"arc-key": {owner: "arc1._domainkey.lists.example.net.", types: []uint16{dns.TypeTXT}, msg: "list-trusted-arc.eml", conn: faultList, opts: trustList,
		bad: "v=DKIM1; k=rsa; p=%%not*base64%%", pad: padKey},
}

// want is what an evaluation under one fault reports: the result word of
// every check (dkim: the only signature), Incomplete, and whether the
// verdict is trusted or neutral.
type want struct {
	ptr, helo, spf, dkim, dmarc, arc string
	incomplete, trusted              bool
}

// TestDNSFaults is the fault matrix: every kind of lookup an evaluation
// makes, under every fault a DNS server can show, over the wire through
// the loopback server and resolver.Client. The server's faults hold for a
// name and every type, so a fault at a name shared by several checks shows
// in each of them; the rows say so.
//
// The RFC rules: a temporary failure (SERVFAIL, REFUSED, no answer) is
// temperror and leaves the verdict incomplete, never fail (RFC 7208
// §2.6.6, §4.4; RFC 6376 §6.1.2; RFC 7489 §6.6.2, §11.2; RFC 8601
// §2.7.3). A truncated UDP answer is asked again over TCP and changes
// nothing (RFC 7766 §5), and so does junk sent to the client's port
// before the reply (RFC 5452 §9.1). NXDOMAIN and NODATA are answers: SPF none
// (RFC 7208 §4.3, §4.5), DKIM permerror (RFC 6376 §6.1.2: no key record
// is PERMFAIL), DMARC none (RFC 7489 §6.6.3), ARC fail (RFC 8617 §5.2), PTR
// none and HELO none (RFC 8601 §2.7.3, docs/CORPUS.md). A CNAME loop needs the
// operator's intervention and is no transient failure: permerror (RFC 7208
// §2.6.7, RFC 6376 §6.1.2), a name that does not confirm for PTR and
// HELO. A record that cannot be parsed is permerror (RFC 7208 §4.6, RFC
// 6376 §3.6.1, RFC 7489 §6.6.3); one of 4000 octets comes over TCP and
// counts; one split in many strings is their concatenation (RFC 7208
// §3.3, RFC 6376 §3.6.2.2).
func TestDNSFaults(t *testing.T) {
	base := corpusRRs(t)
	legit := want{"pass", "pass", "pass", "pass", "pass", "none", false, true}
	list := want{"pass", "pass", "pass", "fail", "fail", "pass", false, true}
	rows := []struct {
		kind, fault string
		want        want
	}{
		{"ptr", "servfail", want{"temperror", "pass", "pass", "pass", "pass", "none", true, true}},
		{"ptr", "timeout", want{"temperror", "pass", "pass", "pass", "pass", "none", true, true}},
		{"ptr", "refused", want{"temperror", "pass", "pass", "pass", "pass", "none", true, true}},
		{"ptr", "truncated", legit},
		{"ptr", "junk", legit},
		{"ptr", "nxdomain", want{"none", "pass", "pass", "pass", "pass", "none", false, true}},
		{"ptr", "nodata", want{"none", "pass", "pass", "pass", "pass", "none", false, true}},
		{"ptr", "cname-loop", want{"permerror", "pass", "pass", "pass", "pass", "none", false, true}},

		// SPF's mx mechanism asks mail.example.com A too: the failure is
		// its own (RFC 7208 §5.4, §2.6.6); DMARC still passes by DKIM.
		{"helo", "servfail", want{"temperror", "temperror", "temperror", "pass", "pass", "none", true, true}},
		{"helo", "timeout", want{"temperror", "temperror", "temperror", "pass", "pass", "none", true, true}},
		{"helo", "refused", want{"temperror", "temperror", "temperror", "pass", "pass", "none", true, true}},
		{"helo", "truncated", legit},
		{"helo", "junk", legit},
		// The MX target does not resolve: mx does not match, ~all decides
		// (RFC 7208 §5.4, §4.6.4 void lookup).
		{"helo", "nxdomain", want{"fail", "none", "softfail", "pass", "pass", "none", false, false}},
		{"helo", "nodata", want{"fail", "none", "softfail", "pass", "pass", "none", false, false}},
		// A loop is permanent for PTR and HELO, but in an SPF mechanism
		// any error but NXDOMAIN is temperror (RFC 7208 §5): a recursive
		// server would have answered SERVFAIL.
		{"helo", "cname-loop", want{"fail", "none", "temperror", "pass", "pass", "none", true, false}},

		{"spf", "servfail", want{"pass", "pass", "temperror", "pass", "pass", "none", true, true}},
		{"spf", "timeout", want{"pass", "pass", "temperror", "pass", "pass", "none", true, true}},
		{"spf", "refused", want{"pass", "pass", "temperror", "pass", "pass", "none", true, true}},
		{"spf", "truncated", legit},
		{"spf", "junk", legit},
		// NXDOMAIN at the MAIL FROM and From domain: none (RFC 7208 §4.3),
		// and both domains are reported as non-existent.
		{"spf", "nxdomain", want{"pass", "pass", "none", "pass", "pass", "none", false, false}},
		{"spf", "nodata", want{"pass", "pass", "none", "pass", "pass", "none", false, true}},
		{"spf", "cname-loop", want{"pass", "pass", "permerror", "pass", "pass", "none", false, true}},
		{"spf", "malformed", want{"pass", "pass", "permerror", "pass", "pass", "none", false, true}},
		{"spf", "oversized", legit},
		{"spf", "split", legit},

		// SPF aligns: DMARC passes without the key.
		{"dkim-key", "servfail", want{"pass", "pass", "pass", "temperror", "pass", "none", true, true}},
		{"dkim-key", "timeout", want{"pass", "pass", "pass", "temperror", "pass", "none", true, true}},
		{"dkim-key", "refused", want{"pass", "pass", "pass", "temperror", "pass", "none", true, true}},
		{"dkim-key", "truncated", legit},
		{"dkim-key", "junk", legit},
		{"dkim-key", "nxdomain", want{"pass", "pass", "pass", "permerror", "pass", "none", false, true}},
		{"dkim-key", "nodata", want{"pass", "pass", "pass", "permerror", "pass", "none", false, true}},
		{"dkim-key", "cname-loop", want{"pass", "pass", "pass", "permerror", "pass", "none", false, true}},
		{"dkim-key", "malformed", want{"pass", "pass", "pass", "permerror", "pass", "none", false, true}},
		{"dkim-key", "oversized", legit},
		{"dkim-key", "split", legit},

		// Nothing else aligns: the DKIM temperror makes DMARC temperror,
		// not fail; a missing key makes it fail.
		{"dkim-key/list", "servfail", want{"pass", "pass", "pass", "temperror", "temperror", "pass", true, true}},
		{"dkim-key/list", "nxdomain", want{"pass", "pass", "pass", "permerror", "fail", "pass", false, false}},

		{"dmarc", "servfail", want{"pass", "pass", "pass", "pass", "temperror", "none", true, true}},
		{"dmarc", "timeout", want{"pass", "pass", "pass", "pass", "temperror", "none", true, true}},
		{"dmarc", "refused", want{"pass", "pass", "pass", "pass", "temperror", "none", true, true}},
		{"dmarc", "truncated", legit},
		{"dmarc", "junk", legit},
		{"dmarc", "nxdomain", want{"pass", "pass", "pass", "pass", "none", "none", false, true}},
		{"dmarc", "nodata", want{"pass", "pass", "pass", "pass", "none", "none", false, true}},
		{"dmarc", "cname-loop", want{"pass", "pass", "pass", "pass", "permerror", "none", false, true}},
		{"dmarc", "malformed", want{"pass", "pass", "pass", "pass", "permerror", "none", false, true}},
		{"dmarc", "oversized", legit},
		{"dmarc", "split", legit},

		// RFC 8617 §5.2.1: all ARC failures are permanent, so a key lookup
		// that failed temporarily is fail too, marked Temporary, and the
		// verdict incomplete. Without the chain nothing carries the
		// original DMARC pass, and DMARC fails at this hop.
		{"arc-key", "servfail", want{"pass", "pass", "pass", "fail", "fail", "fail", true, true}}, // trusted sealer undecided: DMARC fail not counted
		{"arc-key", "timeout", want{"pass", "pass", "pass", "fail", "fail", "fail", true, true}},  // trusted sealer undecided: DMARC fail not counted
		{"arc-key", "refused", want{"pass", "pass", "pass", "fail", "fail", "fail", true, true}},  // trusted sealer undecided: DMARC fail not counted
		{"arc-key", "truncated", list},
		{"arc-key", "junk", list},
		{"arc-key", "nxdomain", want{"pass", "pass", "pass", "fail", "fail", "fail", false, false}},
		{"arc-key", "nodata", want{"pass", "pass", "pass", "fail", "fail", "fail", false, false}},
		{"arc-key", "cname-loop", want{"pass", "pass", "pass", "fail", "fail", "fail", false, false}},
		{"arc-key", "malformed", want{"pass", "pass", "pass", "fail", "fail", "fail", false, false}},
		{"arc-key", "oversized", list},
		{"arc-key", "split", list},
	}
	for _, row := range rows {
		t.Run(row.kind+"/"+row.fault, func(t *testing.T) {
			t.Parallel()
			k, ok := lookupKinds[row.kind]
			require.True(t, ok, "kind %s", row.kind)
			z, apply := faultZone(t, base, k, row.fault)
			srv := resolvertest.Start(t, z)
			apply(srv)
			m, err := os.ReadFile(filepath.Join(corpusDir, "msgs", k.msg))
			require.NoError(t, err)
			opts := k.opts
			opts.Resolver = &resolver.Client{Servers: []string{srv.Addr()}, Timeout: 250 * time.Millisecond, Retries: 1}
			start := time.Now()
			v, err := trust.New(&opts).Evaluate(context.Background(), k.conn, bytes.NewReader(m))
			require.NoError(t, err)
			require.NotNil(t, v)
			require.Less(t, time.Since(start), 5*time.Second)

			t.Logf("%s %.2f incomplete=%v %v", v.Level, v.Score, v.Incomplete, reasonCodes(v))
			w := row.want
			assert.Equal(t, w.ptr, string(v.PTR.Status), "ptr: %s", v.PTR.Reason)
			assert.Equal(t, w.helo, string(v.HELO.Status), "helo: %s", v.HELO.Reason)
			assert.Equal(t, w.spf, string(v.SPF.Status), "spf: %s", v.SPF.Reason)
			require.Len(t, v.DKIM, 1)
			assert.Equal(t, w.dkim, string(v.DKIM[0].Status), "dkim: %s", v.DKIM[0].Reason)
			assert.Equal(t, w.dmarc, string(v.DMARC.Status), "dmarc: %s", v.DMARC.Reason)
			assert.Equal(t, w.arc, string(v.ARC.Status), "arc: %s", v.ARC.Reason)
			assert.Equal(t, w.incomplete, v.Incomplete, "incomplete; reasons %v", reasonCodes(v))
			assert.Equal(t, w.trusted, v.Level == trust.Trusted || v.Level == trust.Neutral,
				"verdict %s (%.2f): %v", v.Level, v.Score, reasonCodes(v))
			// The A-R header names no resolver and carries no resolver
			// error: every temperror says only that DNS failed.
			host, _, _ := strings.Cut(srv.Addr(), ":")
			assert.NotContains(t, v.AuthenticationResults, host, "the resolver's address stays out of the header")
			for _, entry := range strings.Split(v.AuthenticationResults, ";") {
				if strings.Contains(entry, "=temperror") {
					assert.Contains(t, entry, `reason="temporary DNS failure"`, "A-R entry %q", entry)
				}
			}
			if row.kind == "arc-key" && w.arc == "fail" {
				assert.Equal(t, w.incomplete, v.ARC.Temporary, "arc temporary")
			}
			switch row.fault {
			case "truncated", "oversized":
				assert.Positive(t, srv.Transport("tcp"), "the answer came over TCP")
			}
		})
	}
}

// corpusRRs reads the records of the sample corpus zone.
func corpusRRs(t *testing.T) []dns.RR {
	t.Helper()
	f, err := os.Open(filepath.Join(corpusDir, "zone.txt"))
	require.NoError(t, err)
	defer f.Close()
	zp := dns.NewZoneParser(f, ".", "zone.txt")
	var out []dns.RR
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		out = append(out, rr)
	}
	require.NoError(t, zp.Err())
	return out
}

// faultZone builds the zone of one row: the corpus records, less those the
// fault replaces at the kind's owner name, plus the fault's records; and
// the server faults to apply once the server runs.
func faultZone(t *testing.T, base []dns.RR, k lookupKind, fault string) (*resolver.Zone, func(*resolvertest.Server)) {
	t.Helper()
	owner := k.owner
	var drop []uint16 // types removed at owner; dns.TypeANY: all
	var add []string
	apply := func(*resolvertest.Server) {}
	txt := func() string { // the kind's record, its strings joined
		for _, rr := range base {
			if r, ok := rr.(*dns.TXT); ok && strings.EqualFold(r.Hdr.Name, owner) {
				return strings.Join(r.Txt, "")
			}
		}
		t.Fatalf("no TXT record at %s", owner)
		return ""
	}
	switch fault {
	case "servfail":
		apply = func(s *resolvertest.Server) { s.Servfail(owner) }
	case "timeout":
		apply = func(s *resolvertest.Server) { s.Drop(owner) }
	case "refused":
		apply = func(s *resolvertest.Server) { s.Refused(owner) }
	case "truncated":
		apply = func(s *resolvertest.Server) { s.Truncate(owner) }
	case "junk":
		// RFC 5452 §9.1: datagrams that do not parse or answer another
		// question, racing the reply, are ignored.
		apply = func(s *resolvertest.Server) { s.Junk(owner) }
	case "nxdomain":
		// Forced at the name alone: names below it keep resolving.
		apply = func(s *resolvertest.Server) { s.Rcode(owner, dns.RcodeNameError) }
	case "nodata":
		// The name stays, as an empty non-terminal or with other types.
		drop = k.types
		add = []string{`nodata.` + owner + ` 300 IN TXT "x"`}
	case "cname-loop":
		drop = []uint16{dns.TypeANY}
		add = []string{owner + " 300 IN CNAME loop.example.net.", "loop.example.net. 300 IN CNAME " + owner}
	case "malformed":
		drop = []uint16{dns.TypeTXT}
		add = []string{owner + " 300 IN TXT " + testmail.SplitTXT(k.bad)}
	case "oversized":
		rec := k.pad(txt(), strings.Repeat("a", 4000))
		require.Greater(t, len(rec), 4000)
		drop = []uint16{dns.TypeTXT}
		add = []string{owner + " 300 IN TXT " + testmail.SplitTXT(rec)}
	case "split":
		// Strings of 7 octets cut through tag names, values and base64.
		rec := txt()
		var parts []string
		for len(rec) > 7 {
			parts = append(parts, `"`+rec[:7]+`"`)
			rec = rec[7:]
		}
		parts = append(parts, `"`+rec+`"`)
		drop = []uint16{dns.TypeTXT}
		add = []string{owner + " 300 IN TXT " + strings.Join(parts, " ")}
	default:
		t.Fatalf("unknown fault %q", fault)
	}
	z := resolver.NewZone()
	for _, rr := range base {
		h := rr.Header()
		if strings.EqualFold(h.Name, owner) && dropped(drop, h.Rrtype) {
			continue
		}
		z.Add(dns.Copy(rr))
	}
	for _, s := range add {
		rr, err := dns.NewRR(s)
		require.NoError(t, err, s)
		z.Add(rr)
	}
	return z, apply
}

func dropped(types []uint16, t uint16) bool {
	for _, x := range types {
		if x == dns.TypeANY || x == t {
			return true
		}
	}
	return false
}

// TestJunkKeepsSpoofUntrusted: a spoof of a p=reject domain stays dmarc=fail
// and untrusted when a datagram of junk, a forged reply with another ID or
// a reply to another question reaches the client before the genuine answer
// of the lookups that decide it. Taking the junk as an answer or as a
// permanent failure would make it permerror, and the verdict neutral.
func TestJunkKeepsSpoofUntrusted(t *testing.T) {
	conn := trust.Conn{IP: netip.MustParseAddr("203.0.113.66"), HELO: "mail.example.com", MailFrom: "billing@example.com",
		RcptTo: []string{"support@helpdesk.example"}, Time: receipt}
	m, err := os.ReadFile(filepath.Join(corpusDir, "msgs", "spoof-dmarc-fail.eml"))
	require.NoError(t, err)
	for _, names := range [][]string{
		nil,
		{"_dmarc.example.com."},
		{"example.com."},
		{"_dmarc.example.com.", "example.com.", "mail.example.com.", "66.113.0.203.in-addr.arpa."},
	} {
		t.Run(strings.Join(append([]string{"junk"}, names...), " "), func(t *testing.T) {
			t.Parallel()
			z := resolver.NewZone()
			for _, rr := range corpusRRs(t) {
				z.Add(rr)
			}
			srv := resolvertest.Start(t, z)
			for _, n := range names {
				srv.Junk(n)
			}
			opts := trust.Options{Resolver: &resolver.Client{Servers: []string{srv.Addr()}, Timeout: 250 * time.Millisecond, Retries: 1}}
			v, err := trust.New(&opts).Evaluate(context.Background(), conn, bytes.NewReader(m))
			require.NoError(t, err)
			assert.Equal(t, "fail", string(v.DMARC.Status), "dmarc: %s", v.DMARC.Reason)
			assert.Equal(t, trust.Untrusted, v.Level, "%.2f %v", v.Score, reasonCodes(v))
			assert.False(t, v.Incomplete, "%v", reasonCodes(v))
			for _, n := range names {
				assert.Positive(t, srv.Queries(n, dns.TypeTXT)+srv.Queries(n, dns.TypeA)+srv.Queries(n, dns.TypePTR)+srv.Queries(n, dns.TypeMX), "%s asked", n)
			}
		})
	}
}

// TestAuthenticatedIncomplete: Incomplete means that a temporary failure
// left open a result the verdict weighs. For an authenticated client the
// receiver's configuration decides: SPF, DKIM, DMARC, PTR and HELO are
// reported (temperror) but not weighed, so their temporary failures leave
// the verdict complete; the existence of the From domain still counts, and
// its temporary failure makes the verdict incomplete, as it does for every
// failure when the client is not authenticated.
func TestAuthenticatedIncomplete(t *testing.T) {
	m, err := os.ReadFile(filepath.Join(corpusDir, "msgs", "legit-rsa.eml"))
	require.NoError(t, err)
	rows := []struct {
		name, owner    string
		check          func(*trust.Verdict) string
		authIncomplete bool
	}{
		{"ptr", "10.2.0.192.in-addr.arpa.", func(v *trust.Verdict) string { return string(v.PTR.Status) }, false},
		{"helo", "mail.example.com.", func(v *trust.Verdict) string { return string(v.HELO.Status) }, false},
		{"dkim key", "sel1._domainkey.example.com.", func(v *trust.Verdict) string { return string(v.DKIM[0].Status) }, false},
		{"dmarc", "_dmarc.example.com.", func(v *trust.Verdict) string { return string(v.DMARC.Status) }, false},
		// SPF's TXT and the From domain's MX share the name.
		{"spf and From domain", "example.com.", func(v *trust.Verdict) string { return string(v.SPF.Status) }, true},
	}
	base := corpusRRs(t)
	for _, row := range rows {
		for _, auth := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/authenticated=%v", row.name, auth), func(t *testing.T) {
				t.Parallel()
				z := resolver.NewZone()
				for _, rr := range base {
					z.Add(dns.Copy(rr))
				}
				srv := resolvertest.Start(t, z)
				srv.Servfail(row.owner)
				conn := faultLegit
				conn.Authenticated = auth
				opts := trust.Options{Resolver: &resolver.Client{Servers: []string{srv.Addr()}, Timeout: 250 * time.Millisecond, Retries: 1}}
				v, err := trust.New(&opts).Evaluate(context.Background(), conn, bytes.NewReader(m))
				require.NoError(t, err)
				assert.Equal(t, "temperror", row.check(v), "the check reports the failure")
				want := !auth || row.authIncomplete
				assert.Equal(t, want, v.Incomplete, "%v", reasonCodes(v))
				if auth {
					assert.Equal(t, trust.Trusted, v.Level, "%.2f %v", v.Score, reasonCodes(v))
				}
			})
		}
	}
}

// TestTemporaryFailureDetail: the A-R field says only "temporary DNS
// failure"; the resolver's detail is in the verdict's reasons and the log.
func TestTemporaryFailureDetail(t *testing.T) {
	z, err := resolver.LoadZone(filepath.Join(corpusDir, "zone.txt"))
	require.NoError(t, err)
	srv := resolvertest.Start(t, z)
	srv.Servfail("sel1._domainkey.example.com.")
	m, err := os.ReadFile(filepath.Join(corpusDir, "msgs", "legit-rsa.eml"))
	require.NoError(t, err)
	var log bytes.Buffer
	opts := trust.Options{
		Resolver: &resolver.Client{Servers: []string{srv.Addr()}, Timeout: 250 * time.Millisecond, Retries: 1},
		Logger:   slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	v, err := trust.New(&opts).Evaluate(context.Background(), faultLegit, bytes.NewReader(m))
	require.NoError(t, err)
	require.True(t, v.Incomplete)
	require.Contains(t, v.AuthenticationResults, `dkim=temperror reason="temporary DNS failure"`)
	require.NotContains(t, v.AuthenticationResults, "SERVFAIL")
	var detail string
	for _, r := range v.Reasons {
		if r.Code == trust.DKIMTempError {
			detail = r.Detail
		}
	}
	require.Contains(t, detail, "SERVFAIL", "the verdict keeps the resolver's detail")
	require.Contains(t, log.String(), "code=dkim.temperror")
	require.Contains(t, log.String(), "SERVFAIL", "the log keeps the resolver's detail")
}

// TestBestLevel: a temporary failure leaves the verdict incomplete, and
// BestLevel bounds what the open results could still make of it. A spoof
// of a p=reject domain cannot escape refusal by making its own DNS fail (a
// Cc domain, its PTR, its HELO): DMARC failed for good, and no answer of
// those lookups could save it. When the open result could turn the
// verdict (the DMARC policy, the DKIM key of an aligned signature), it is
// not bounded that way.
func TestBestLevel(t *testing.T) {
	spoof, err := os.ReadFile(filepath.Join(corpusDir, "msgs", "spoof-dmarc-fail.eml"))
	require.NoError(t, err)
	legit, err := os.ReadFile(filepath.Join(corpusDir, "msgs", "legit-rsa.eml"))
	require.NoError(t, err)
	spoofConn := trust.Conn{IP: netip.MustParseAddr("203.0.113.66"), HELO: "mail.example.com", MailFrom: "billing@example.com",
		RcptTo: []string{"support@helpdesk.example"}, Time: receipt}
	withCc := append([]byte("Cc: boss@busy.example\r\n"), spoof...)
	rows := []struct {
		name      string
		msg       []byte
		conn      trust.Conn
		servfail  string
		level     trust.Level
		bestLevel trust.Level
	}{
		{"spoof, Cc domain fails", withCc, spoofConn, "busy.example.", trust.Untrusted, trust.Untrusted},
		{"spoof, PTR fails", spoof, spoofConn, "66.113.0.203.in-addr.arpa.", trust.Untrusted, trust.Untrusted},
		{"legit, DMARC policy fails", legit, faultLegit, "_dmarc.example.com.", trust.Neutral, trust.Trusted},
		{"legit, DKIM key fails, aligned SPF passes", legit, faultLegit, "sel1._domainkey.example.com.", trust.Trusted, trust.Trusted},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			t.Parallel()
			z := resolver.NewZone()
			for _, rr := range corpusRRs(t) {
				z.Add(dns.Copy(rr))
			}
			srv := resolvertest.Start(t, z)
			srv.Servfail(row.servfail)
			opts := trust.Options{Resolver: &resolver.Client{Servers: []string{srv.Addr()}, Timeout: 250 * time.Millisecond, Retries: 1}}
			v, err := trust.New(&opts).Evaluate(context.Background(), row.conn, bytes.NewReader(row.msg))
			require.NoError(t, err)
			require.True(t, v.Incomplete, "%v", reasonCodes(v))
			assert.Equal(t, row.level, v.Level, "%.2f %v", v.Score, reasonCodes(v))
			assert.Equal(t, row.bestLevel, v.BestLevel, "%.2f %v", v.Score, reasonCodes(v))
			line, err := v.JSONLine("x")
			require.NoError(t, err)
			assert.Contains(t, string(line), `"best_level":"`+string(row.bestLevel)+`"`)
		})
	}
	t.Run("complete", func(t *testing.T) {
		z := resolver.NewZone()
		for _, rr := range corpusRRs(t) {
			z.Add(dns.Copy(rr))
		}
		v, err := trust.New(&trust.Options{Resolver: z}).Evaluate(context.Background(), spoofConn, bytes.NewReader(spoof))
		require.NoError(t, err)
		require.False(t, v.Incomplete)
		assert.Equal(t, v.Level, v.BestLevel)
	})
}
