package trust_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/stretchr/testify/require"

	"github.com/mailtrust/mailtrust/arc"
	"github.com/mailtrust/mailtrust/internal/testmail"
	"github.com/mailtrust/mailtrust/resolver"
	"github.com/mailtrust/mailtrust/trust"
)

var receipt = time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC)

// world is the corpus DNS plus an attacker's domain, and the keys that sign
// for both.
type world struct {
	zone            *resolver.Zone
	com, org, evil  testmail.Key
	list, otherList testmail.Key
	homograph       testmail.Key // the attacker's xn--exmple-4nf.test, "exаmple" with a Cyrillic а
}

var (
	worldOnce sync.Once
	theWorld  *world
	worldErr  error
)

func loadWorld(t *testing.T) *world {
	t.Helper()
	worldOnce.Do(func() {
		w := &world{}
		w.zone, worldErr = resolver.LoadZone(filepath.Join(corpusDir, "zone.txt"))
		if worldErr != nil {
			return
		}
		key := func(file, domain, sel string) testmail.Key {
			s, err := testmail.LoadOrCreateKey(filepath.Join(corpusDir, "keys", file+".pem"), "")
			if err != nil {
				worldErr = err
			}
			return testmail.Key{Domain: domain, Selector: sel, Signer: s}
		}
		w.com = key("example.com-sel1", "example.com", "sel1")
		w.org = key("example.org-ed1", "example.org", "ed1")
		w.list = key("lists.example.net-arc1", "lists.example.net", "arc1")
		// The attacker owns evil.test and signs with a key made here.
		_, evilKey, _ := ed25519.GenerateKey(nil)
		w.evil = testmail.Key{Domain: "evil.test", Selector: "k1", Signer: evilKey}
		_, otherKey, _ := ed25519.GenerateKey(nil)
		w.otherList = testmail.Key{Domain: "relay.evil.test", Selector: "arc", Signer: otherKey}
		// It also owns a homograph of example, fully authenticated.
		_, homoKey, _ := ed25519.GenerateKey(nil)
		w.homograph = testmail.Key{Domain: "xn--exmple-4nf.test", Selector: "k1", Signer: homoKey}
		for _, rr := range []string{
			"evil.test. 3600 IN MX 10 mx.evil.test.",
			`evil.test. 3600 IN TXT "v=spf1 ip4:203.0.113.66 -all"`,
			"mx.evil.test. 3600 IN A 203.0.113.66",
			`mx.evil.test. 3600 IN TXT "v=spf1 a -all"`,
			w.evil.TXT(),
			w.otherList.TXT(),
			w.homograph.TXT(),
			"xn--exmple-4nf.test. 3600 IN MX 10 mx.evil.test.",
			`xn--exmple-4nf.test. 3600 IN TXT "v=spf1 ip4:203.0.113.66 -all"`,
			`_dmarc.xn--exmple-4nf.test. 3600 IN TXT "v=DMARC1; p=reject"`,
		} {
			r, err := dns.NewRR(rr)
			if err != nil {
				worldErr = err
				return
			}
			w.zone.Add(r)
		}
		theWorld = w
	})
	require.NoError(t, worldErr)
	return theWorld
}

func msg(from string, extra ...string) string {
	var b strings.Builder
	if from != "" {
		b.WriteString("From: " + from + "\n")
	}
	b.WriteString("To: support@helpdesk.example\nSubject: Invoice\nDate: Thu, 15 Jan 2026 09:58:00 +0000\nMessage-ID: <m1@example.com>\n")
	for _, e := range extra {
		b.WriteString(e + "\n")
	}
	b.WriteString("\nPlease pay the attached invoice.\n")
	return b.String()
}

func sign(t *testing.T, m []byte, k testmail.Key, mod func(*testmail.SignOptions)) []byte {
	t.Helper()
	o := testmail.SignOptions{Key: k, Time: receipt.Add(-time.Minute), BodyLength: -1}
	if mod != nil {
		mod(&o)
	}
	out, err := testmail.Sign(m, o)
	require.NoError(t, err)
	return out
}

// Connections used below.
var (
	legitConn = trust.Conn{IP: netip.MustParseAddr("192.0.2.10"), HELO: "mail.example.com", MailFrom: "bounce@example.com",
		RcptTo: []string{"support@helpdesk.example"}}
	orgConn = trust.Conn{IP: netip.MustParseAddr("192.0.2.20"), HELO: "mx.example.org", MailFrom: "news@example.org",
		RcptTo: []string{"support@helpdesk.example"}}
	evilConn = trust.Conn{IP: netip.MustParseAddr("203.0.113.66"), HELO: "mx.evil.test", MailFrom: "x@evil.test",
		RcptTo: []string{"support@helpdesk.example"}}
	listConn = trust.Conn{IP: netip.MustParseAddr("203.0.113.30"), HELO: "lists.example.net", MailFrom: "users-bounces@lists.example.net",
		RcptTo: []string{"support@helpdesk.example"}}
)

type spoofCase struct {
	name   string
	conn   trust.Conn
	opts   trust.Options
	msg    func(t *testing.T, w *world) []byte
	attack bool       // judged suspicious or untrusted, with code
	code   trust.Code // the reason that must be given ("" for benign twins)
	check  func(t *testing.T, v *trust.Verdict)
}

func runSpoof(t *testing.T, cases []spoofCase) {
	t.Helper()
	w := loadWorld(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			opts := c.opts
			opts.Resolver = w.zone
			conn := c.conn
			conn.Time = receipt
			v, err := trust.New(&opts).Evaluate(context.Background(), conn, bytes.NewReader(c.msg(t, w)))
			require.NoError(t, err)
			codes := reasonCodes(v)
			if c.attack {
				require.Contains(t, []trust.Level{trust.Suspicious, trust.Untrusted}, v.Level,
					"attack judged %s (%.2f): %v", v.Level, v.Score, codes)
			} else {
				require.Contains(t, []trust.Level{trust.Trusted, trust.Neutral}, v.Level,
					"benign twin judged %s (%.2f): %v", v.Level, v.Score, codes)
			}
			if c.code != "" {
				require.True(t, v.Has(c.code), "want reason %s, got %v", c.code, codes)
			}
			if c.check != nil {
				c.check(t, v)
			}
		})
	}
}

func reasonCodes(v *trust.Verdict) []string {
	var out []string
	for _, r := range v.Reasons {
		out = append(out, fmt.Sprintf("%s(%+.2f)", r.Code, r.Weight))
	}
	return out
}

func signedCom(t *testing.T, w *world, m string) []byte {
	return sign(t, testmail.CRLF(m), w.com, nil)
}

func TestSpoofEnvelope(t *testing.T) {
	nullHELO := legitConn
	nullHELO.MailFrom = ""
	nullEvil := evilConn
	nullEvil.MailFrom = ""
	nxSub := evilConn
	nxSub.MailFrom = "billing@nope.example.com"
	nul := legitConn
	nul.MailFrom = "bounce@example.com\x00.evil.test"
	nulHELO := legitConn
	nulHELO.HELO = "mail.example.com\x00evil"
	runSpoof(t, []spoofCase{
		{name: "null reverse-path, HELO of the From organization", conn: nullHELO,
			msg: func(t *testing.T, w *world) []byte { return testmail.CRLF(msg("Mailer <mailer-daemon@example.com>")) },
			check: func(t *testing.T, v *trust.Verdict) {
				require.Equal(t, "helo", string(v.SPF.Identity))
				require.Equal(t, "mail.example.com", v.SPF.Domain)
				require.Equal(t, "pass", string(v.DMARC.Status), "HELO identity aligns (RFC 7489 §3.1.2)")
			}},
		{name: "null reverse-path never makes the From domain the SPF identity", conn: nullEvil, attack: true, code: trust.DMARCFail,
			msg: func(t *testing.T, w *world) []byte { return testmail.CRLF(msg("CEO <ceo@example.com>")) },
			check: func(t *testing.T, v *trust.Verdict) {
				require.Equal(t, "helo", string(v.SPF.Identity))
				require.Equal(t, "mx.evil.test", v.SPF.Domain)
				require.Equal(t, "pass", string(v.SPF.Status))
			}},
		{name: "MAIL FROM in a subdomain that does not exist", conn: nxSub, attack: true, code: trust.MailFromNXDomain,
			msg: func(t *testing.T, w *world) []byte { return signedCom(t, w, msg("Alice <alice@example.com>")) }},
		{name: "NUL in MAIL FROM", conn: nul, attack: true, code: trust.EnvelopeControl,
			msg: func(t *testing.T, w *world) []byte { return signedCom(t, w, msg("Alice <alice@example.com>")) }},
		{name: "NUL in HELO", conn: nulHELO, attack: true, code: trust.EnvelopeControl,
			msg: func(t *testing.T, w *world) []byte { return signedCom(t, w, msg("Alice <alice@example.com>")) }},
		{name: "benign twin: plain envelope", conn: legitConn,
			msg: func(t *testing.T, w *world) []byte { return signedCom(t, w, msg("Alice <alice@example.com>")) }},
	})
}

func TestSpoofFromHeader(t *testing.T) {
	plain := func(from string, extra ...string) func(t *testing.T, w *world) []byte {
		return func(t *testing.T, w *world) []byte { return signedCom(t, w, msg(from, extra...)) }
	}
	prepend := func(line, from string) func(t *testing.T, w *world) []byte {
		return func(t *testing.T, w *world) []byte {
			return append([]byte(line+"\r\n"), signedCom(t, w, msg(from))...)
		}
	}
	runSpoof(t, []spoofCase{
		{name: "two From headers", conn: legitConn, attack: true, code: trust.FromMultiple,
			msg: prepend("From: CEO <ceo@bank.example>", "Alice <alice@example.com>")},
		{name: "second From in obsolete 'From :' form", conn: legitConn, attack: true, code: trust.FromMultiple,
			msg: prepend("From : CEO <ceo@bank.example>", "Alice <alice@example.com>")},
		{name: "second From in other letter case", conn: legitConn, attack: true, code: trust.FromMultiple,
			msg: prepend("FROM: CEO <ceo@bank.example>", "Alice <alice@example.com>")},
		{name: "several addresses in one From", conn: legitConn, attack: true, code: trust.FromMultipleAddrs,
			msg: plain("alice@example.com, ceo@bank.example")},
		{name: "empty From", conn: legitConn, attack: true, code: trust.FromEmpty, msg: plain(" ")},
		{name: "group with no address", conn: legitConn, attack: true, code: trust.FromEmpty, msg: plain("undisclosed-recipients:;")},
		{name: "no From at all", conn: legitConn, attack: true, code: trust.FromMissing,
			msg: func(t *testing.T, w *world) []byte {
				return testmail.CRLF(msg(""))
			}},
		{name: "obsolete route syntax", conn: legitConn, attack: true, code: trust.FromRoute,
			msg: plain("<@example.com:ceo@bank.example>")},
		{name: "route showing another organization on fully authenticated mail", conn: evilConn, attack: true, code: trust.FromRoute,
			msg: func(t *testing.T, w *world) []byte {
				return sign(t, testmail.CRLF(msg("CEO <@example.com:ceo@evil.test>")), w.evil, nil)
			},
			check: func(t *testing.T, v *trust.Verdict) {
				require.True(t, v.Has(trust.AlignedPass), "authenticated as itself")
			}},
		{name: "benign twin: route within the sender's own organization", conn: legitConn, code: trust.FromRouteSameOrg,
			msg:   plain("Alice <@mail.example.com:alice@example.com>"),
			check: func(t *testing.T, v *trust.Verdict) { require.False(t, v.Has(trust.FromRoute)) }},
		{name: "benign twin: From domain with trailing dot and upper case", conn: legitConn,
			msg: plain("Alice <alice@Example.COM.>"),
			check: func(t *testing.T, v *trust.Verdict) {
				require.Equal(t, "pass", string(v.DMARC.Status))
				require.Equal(t, "reject", string(v.DMARC.Policy), "the domain's own policy applies")
			}},
	})
}

func TestSpoofReaderView(t *testing.T) {
	evil := func(from string) func(t *testing.T, w *world) []byte {
		return func(t *testing.T, w *world) []byte { return sign(t, testmail.CRLF(msg(from)), w.evil, nil) }
	}
	com := func(from string) func(t *testing.T, w *world) []byte {
		return func(t *testing.T, w *world) []byte { return signedCom(t, w, msg(from)) }
	}
	runSpoof(t, []spoofCase{
		{name: "address of another organization in the display name", conn: evilConn, attack: true, code: trust.FromDisplayAddress,
			msg: evil(`"ceo@example.com" <x@evil.test>`)},
		{name: "address in an encoded display name", conn: evilConn, attack: true, code: trust.FromDisplayAddress,
			msg: evil(`=?utf-8?b?Y2VvQGV4YW1wbGUuY29t?= <x@evil.test>`)},
		{name: "address in a comment", conn: evilConn, attack: true, code: trust.FromDisplayAddress,
			msg: evil(`x@evil.test (ceo@example.com)`)},
		{name: "address in the quoted local part", conn: evilConn, attack: true, code: trust.FromDisplayAddress,
			msg: evil(`"ceo@example.com"@evil.test`)},
		{name: "encoded-word inside the address", conn: evilConn, attack: true, code: trust.FromEncodedAddress,
			msg: evil(`CEO <=?utf-8?q?ceo=40example=2Ecom?=@evil.test>`)},
		{name: "bidirectional override reverses an address in the display name", conn: evilConn, attack: true, code: trust.FromDisplayBidi,
			msg: evil("\"\u202emoc.elpmaxe@oec\" <x@evil.test>")},
		{name: "bidirectional override in an encoded display name", conn: evilConn, attack: true, code: trust.FromDisplayBidi,
			msg: evil(`=?utf-8?q?=E2=80=AEmoc.elpmaxe@oec?= <x@evil.test>`)},
		{name: "display name names another organization's domain (weak alone)", conn: evilConn, code: trust.FromDisplayDomain,
			msg: evil(`"Example.com Billing" <x@evil.test>`)},
		{name: "benign twin: display name names the sender's own domain", conn: legitConn, msg: com(`"Example.com Billing" <alice@example.com>`),
			check: func(t *testing.T, v *trust.Verdict) { require.False(t, v.Has(trust.FromDisplayDomain)) }},
		{name: "benign twin: right-to-left name with isolates and marks", conn: legitConn, msg: com("\"\u2067\u05d3\u05e0\u05d4\u2069\u200f\" <alice@example.com>"),
			check: func(t *testing.T, v *trust.Verdict) { require.False(t, v.Has(trust.FromDisplayBidi)) }},
		{name: "homograph From domain, fully authenticated", conn: evilConn, attack: true, code: trust.FromMixedScript,
			msg: func(t *testing.T, w *world) []byte {
				return sign(t, testmail.CRLF(msg("Example Billing <billing@ex\u0430mple.test>")), w.homograph, nil)
			},
			check: func(t *testing.T, v *trust.Verdict) {
				require.Equal(t, "pass", string(v.DMARC.Status), "the homograph authenticates as itself")
			}},
		{name: "benign twin: display name repeats the address", conn: legitConn, msg: com(`"alice@example.com" <alice@example.com>`)},
		{name: "benign twin: Japanese name in ISO-2022-JP", conn: legitConn, msg: com(`=?ISO-2022-JP?B?GyRCOzNFREJATzobKEI=?= <alice@example.com>`),
			check: func(t *testing.T, v *trust.Verdict) {
				require.Equal(t, "山田太郎", v.From.DisplayName)
				require.False(t, v.Has(trust.FromControlBytes))
				require.Equal(t, trust.Trusted, v.Level)
			}},
		{name: "benign twin: name in a charset not known here", conn: legitConn, code: trust.FromUnknownCharset,
			msg: com(`=?x-mac-unknown?B?GyRCOzNFREJATzobKEI=?= <alice@example.com>`),
			check: func(t *testing.T, v *trust.Verdict) {
				require.False(t, v.Has(trust.FromControlBytes))
				require.Equal(t, trust.Trusted, v.Level)
			}},
		{name: "control character decoded from an ISO-2022-JP name", conn: evilConn, attack: true, code: trust.FromControlBytes,
			msg: evil(`=?iso-2022-jp?Q?CEO=00?= <x@evil.test>`)},
		{name: "benign twin: UTF-8 name in an encoded word", conn: legitConn, msg: com(`=?utf-8?q?Al=C3=AFce_M=C3=BCller?= <alice@example.com>`)},
		{name: "benign twin: comment holds a name", conn: legitConn, msg: com(`alice@example.com (Alice Example)`)},
		{name: "benign twin: quoted local part without @", conn: legitConn, msg: com(`"alice.example"@example.com`)},
	})
}

func TestSpoofDKIMCoverage(t *testing.T) {
	runSpoof(t, []spoofCase{
		{name: "From not signed, no SPF for the From domain", conn: evilConn, attack: true, code: trust.DKIMFromUnsigned,
			msg: func(t *testing.T, w *world) []byte {
				return sign(t, testmail.CRLF(msg("CEO <ceo@nospf.example>")), w.evil, func(o *testmail.SignOptions) {
					o.Headers = []string{"To", "Subject", "Date"}
				})
			}},
		{name: "unsigned Subject added above the signed one", conn: legitConn, attack: true, code: trust.DKIMUnsignedAbove,
			msg: func(t *testing.T, w *world) []byte {
				return append([]byte("Subject: Urgent: new bank details\r\n"), signedCom(t, w, msg("Alice <alice@example.com>"))...)
			}},
		{name: "second Reply-To added above the signed one", conn: evilConn, attack: true, code: trust.DKIMUnsignedAbove,
			msg: func(t *testing.T, w *world) []byte {
				m := sign(t, testmail.CRLF(msg("Alice <alice@example.com>", "Reply-To: alice@example.com")), w.com, func(o *testmail.SignOptions) {
					o.Headers = []string{"From", "To", "Subject", "Date", "Message-ID", "Reply-To"}
				})
				return append([]byte("Reply-To: ceo@evil.test\r\n"), m...)
			}},
		{name: "benign twin: a Reply-To h= never names is unsigned, not added above", conn: legitConn, code: trust.DKIMNotSigned,
			msg: func(t *testing.T, w *world) []byte {
				return signedCom(t, w, msg("Alice <alice@example.com>", "Reply-To: team@example.com"))
			},
			check: func(t *testing.T, v *trust.Verdict) { require.False(t, v.Has(trust.DKIMUnsignedAbove)) }},
		{name: "benign twin: signer leaves Message-ID, Date, Cc and Reply-To out of h=", conn: legitConn, code: trust.DKIMNotSigned,
			msg: func(t *testing.T, w *world) []byte {
				return sign(t, testmail.CRLF(msg("Alice <alice@example.com>", "Cc: bob@example.com", "Reply-To: team@example.com")), w.com,
					func(o *testmail.SignOptions) { o.Headers = []string{"From", "To", "Subject"} })
			},
			check: func(t *testing.T, v *trust.Verdict) {
				require.False(t, v.Has(trust.DKIMUnsignedAbove))
				require.Equal(t, []string{"cc", "date", "message-id", "reply-to"}, v.DKIM[0].NotSigned)
				require.Equal(t, trust.Trusted, v.Level)
			}},
		{name: "l= with content appended", conn: legitConn, attack: true, code: trust.DKIMBodyLength,
			msg: func(t *testing.T, w *world) []byte {
				m := testmail.CRLF(msg("Alice <alice@example.com>"))
				body := len(m) - bytes.Index(m, []byte("\r\n\r\n")) - 4
				s := sign(t, m, w.com, func(o *testmail.SignOptions) { o.Limit, o.BodyLength = true, int64(body) })
				return append(s, []byte("\r\nPS: new account IBAN XX00 0000 0000.\r\n")...)
			}},
		{name: "l=0 with a body", conn: legitConn, attack: true, code: trust.DKIMBodyLength,
			msg: func(t *testing.T, w *world) []byte {
				return sign(t, testmail.CRLF(msg("Alice <alice@example.com>")), w.com, func(o *testmail.SignOptions) { o.Limit, o.BodyLength = true, 0 })
			}},
		{name: "i= outside d=", conn: evilConn, attack: true, code: trust.DKIMIdentifier,
			msg: func(t *testing.T, w *world) []byte {
				return sign(t, testmail.CRLF(msg("CEO <ceo@nospf.example>")), w.evil, func(o *testmail.SignOptions) { o.Identifier = "ceo@example.com" })
			}},
		{name: "d= with a NUL byte", conn: evilConn, attack: true, code: trust.DKIMBadName,
			msg: func(t *testing.T, w *world) []byte {
				m := sign(t, testmail.CRLF(msg("CEO <ceo@nospf.example>")), w.evil, nil)
				return bytes.Replace(m, []byte("d=evil.test"), []byte("d=example.com\x00.evil.test"), 1)
			}},
		{name: "d= with an empty label", conn: evilConn, attack: true, code: trust.DKIMBadName,
			msg: func(t *testing.T, w *world) []byte {
				m := sign(t, testmail.CRLF(msg("CEO <ceo@nospf.example>")), w.evil, nil)
				return bytes.Replace(m, []byte("d=evil.test"), []byte("d=evil..test"), 1)
			}},
		{name: "benign twin: oversigned From", conn: legitConn,
			msg: func(t *testing.T, w *world) []byte {
				return sign(t, testmail.CRLF(msg("Alice <alice@example.com>")), w.com, func(o *testmail.SignOptions) {
					o.Headers = []string{"From", "From", "To", "Subject", "Subject", "Date", "Message-ID"}
				})
			},
			check: func(t *testing.T, v *trust.Verdict) { require.Equal(t, "pass", string(v.DKIM[0].Status)) }},
		{name: "benign twin: l= covering the whole body", conn: legitConn,
			msg: func(t *testing.T, w *world) []byte {
				m := testmail.CRLF(msg("Alice <alice@example.com>"))
				body := len(m) - bytes.Index(m, []byte("\r\n\r\n")) - 4
				return sign(t, m, w.com, func(o *testmail.SignOptions) { o.Limit, o.BodyLength = true, int64(body) })
			}},
	})
}

func TestSpoofForwardingClaims(t *testing.T) {
	trusted := trust.Options{TrustedForwarders: []string{"lists.example.net"}}
	listMsgFrom := func(t *testing.T, w *world, from string, k testmail.Key, mutate func([]byte) []byte) []byte {
		m := signedCom(t, w, msg(from))
		m = bytes.Replace(m, []byte("Subject: "), []byte("Subject: [users] "), 1)
		m = append(m, []byte("-- \r\nusers mailing list\r\n")...)
		sealed, err := testmail.Seal(m, arc.SealOptions{
			Domain: k.Domain, Selector: k.Selector, Signer: k.Signer, Time: receipt.Add(-30 * time.Second),
			AuthServID: k.Domain, AuthResults: []string{"spf=pass smtp.mailfrom=example.com", "dkim=pass header.d=example.com", "dmarc=pass header.from=example.com"},
		})
		require.NoError(t, err)
		if mutate != nil {
			sealed = mutate(sealed)
		}
		return sealed
	}
	listMsg := func(t *testing.T, w *world, k testmail.Key, mutate func([]byte) []byte) []byte {
		return listMsgFrom(t, w, "Alice <alice@example.com>", k, mutate)
	}
	forgedAR := "Authentication-Results: lists.example.net; spf=pass smtp.mailfrom=example.com; dkim=pass header.d=example.com; dmarc=pass header.from=example.com"
	runSpoof(t, []spoofCase{
		{name: "valid chain sealed by an untrusted domain", conn: evilConn, opts: trusted, attack: true, code: trust.DMARCFail,
			msg: func(t *testing.T, w *world) []byte { return listMsg(t, w, w.otherList, nil) },
			check: func(t *testing.T, v *trust.Verdict) {
				require.Equal(t, "pass", string(v.ARC.Status))
				require.Nil(t, v.Original)
			}},
		{name: "trusted sealer whose seal fails", conn: listConn, opts: trusted, attack: true, code: trust.ARCFail,
			msg: func(t *testing.T, w *world) []byte {
				return listMsg(t, w, w.list, func(m []byte) []byte {
					return bytes.Replace(m, []byte("cv=none"), []byte("cv=none "), 1)
				})
			},
			check: func(t *testing.T, v *trust.Verdict) { require.Nil(t, v.Original) }},
		{name: "forged upstream Authentication-Results", conn: evilConn, opts: trusted, attack: true, code: trust.UpstreamForged,
			msg: func(t *testing.T, w *world) []byte {
				return append([]byte(forgedAR+"\r\n"), testmail.CRLF(msg("CEO <ceo@example.com>"))...)
			}},
		// A reader sees two authors; what the trusted sealer recorded about
		// example.com cannot be tied to the one DMARC could not pick.
		{name: "trusted seal over a From of two mailboxes", conn: listConn, opts: trusted, attack: true, code: trust.Code("from.multiple-addresses"),
			msg: func(t *testing.T, w *world) []byte {
				return listMsgFrom(t, w, "alice@example.com, eve@evil.test", w.list, nil)
			},
			check: func(t *testing.T, v *trust.Verdict) {
				require.Equal(t, "pass", string(v.ARC.Status))
				require.Nil(t, v.Original, "no rescue without a single From domain")
				require.Equal(t, "permerror", string(v.DMARC.Status))
				require.False(t, v.Has(trust.DMARCPass))
			}},
		{name: "trusted relay's Authentication-Results over a From of two mailboxes", conn: listConn, opts: trusted, attack: true,
			msg: func(t *testing.T, w *world) []byte {
				m := signedCom(t, w, msg("alice@example.com, eve@evil.test"))
				return append([]byte(forgedAR+"\r\n"), m...)
			},
			check: func(t *testing.T, v *trust.Verdict) {
				require.Nil(t, v.Original)
				require.False(t, v.Has(trust.UpstreamTrusted))
			}},
		{name: "benign twin: trusted list's ARC seal", conn: listConn, opts: trusted, code: trust.ARCTrusted,
			msg: func(t *testing.T, w *world) []byte { return listMsg(t, w, w.list, nil) }},
		{name: "benign twin: trusted relay's own Authentication-Results", conn: listConn, opts: trusted, code: trust.UpstreamTrusted,
			msg: func(t *testing.T, w *world) []byte {
				m := signedCom(t, w, msg("Alice <alice@example.com>"))
				m = append(m, []byte("-- \r\nfooter\r\n")...)
				return append([]byte(forgedAR+"\r\n"), m...)
			}},
	})
}

func TestSpoofSmuggling(t *testing.T) {
	with := func(seq string) func(t *testing.T, w *world) []byte {
		return func(t *testing.T, w *world) []byte {
			m := testmail.CRLF(msg("Alice <alice@example.com>"))
			m = append(m, []byte("Regards"+seq+"MAIL FROM:<ceo@example.com>\r\nDATA\r\nFrom: ceo@example.com\r\n\r\nPay.\r\n")...)
			return sign(t, m, w.com, nil)
		}
	}
	runSpoof(t, []spoofCase{
		{name: `\n.\n`, conn: legitConn, attack: true, code: trust.Smuggling, msg: with("\n.\n")},
		{name: `\n.\r\n`, conn: legitConn, attack: true, code: trust.Smuggling, msg: with("\n.\r\n")},
		{name: `\r.\r`, conn: legitConn, attack: true, code: trust.Smuggling, msg: with("\r.\r")},
		{name: "benign twin: a message stored with LF endings", conn: legitConn,
			msg: func(t *testing.T, w *world) []byte {
				return bytes.ReplaceAll(signedCom(t, w, msg("Alice <alice@example.com>", "X-Note: stored")), []byte("\r\n"), []byte("\n"))
			}},
	})
}

func TestSpoofReceiverRules(t *testing.T) {
	claims := evilConn
	claims.HELO = "mail.example.com"
	claims.MailFrom = "billing@example.com"
	natHELO := legitConn
	natHELO.HELO = "smtp-out.example.com"
	runSpoof(t, []spoofCase{
		{name: "no SPF and no other authentication", conn: trust.Conn{IP: netip.MustParseAddr("203.0.113.66"), HELO: "mx.evil.test",
			MailFrom: "ceo@nospf.example"}, attack: true, code: trust.NoAuthentication,
			msg: func(t *testing.T, w *world) []byte { return testmail.CRLF(msg("CEO <ceo@nospf.example>")) }},
		{name: "From subdomain that does not exist", conn: evilConn, attack: true, code: trust.FromNXDomain,
			msg: func(t *testing.T, w *world) []byte {
				return sign(t, testmail.CRLF(msg("CEO <ceo@ghost.example.com>")), w.evil, nil)
			}},
		{name: "recipient header domain that does not exist", conn: evilConn, attack: true, code: trust.RcptNXDomain,
			msg: func(t *testing.T, w *world) []byte {
				m := msg("X <x@evil.test>")
				m = strings.Replace(m, "To: support@helpdesk.example", "To: boss@nowhere-at-all.example", 1)
				return sign(t, testmail.CRLF(m), w.evil, nil)
			}},
		{name: "HELO claims the sender's host without resolving back", conn: claims, attack: true, code: trust.HostClaimOther,
			msg: func(t *testing.T, w *world) []byte { return testmail.CRLF(msg("Billing <billing@example.com>")) }},
		{name: "benign twin: the organization's own IP with a HELO name that does not resolve to it", conn: natHELO,
			msg: func(t *testing.T, w *world) []byte { return signedCom(t, w, msg("Alice <alice@example.com>")) },
			check: func(t *testing.T, v *trust.Verdict) {
				require.Equal(t, "pass", string(v.SPF.Status))
				require.NotEqual(t, "pass", string(v.HELO.Status))
				require.False(t, v.Has(trust.HostClaimOther), "%v", reasonCodes(v))
			}},
		{name: "benign twin: the organization's own host", conn: legitConn,
			msg: func(t *testing.T, w *world) []byte { return signedCom(t, w, msg("Alice <alice@example.com>")) },
			check: func(t *testing.T, v *trust.Verdict) {
				require.Equal(t, trust.Trusted, v.Level)
				require.False(t, v.Has(trust.HostClaimOther))
			}},
	})
}

func TestSpoofAuthenticatedSubmission(t *testing.T) {
	auth := trust.Conn{IP: netip.MustParseAddr("203.0.113.5"), HELO: "laptop", MailFrom: "noreply@app.example", Authenticated: true}
	runSpoof(t, []spoofCase{
		{name: "authenticated connector, bad PTR/HELO/SPF", conn: auth, code: trust.Authenticated,
			msg:   func(t *testing.T, w *world) []byte { return testmail.CRLF(msg("App <noreply@app.example>")) },
			check: func(t *testing.T, v *trust.Verdict) { require.Equal(t, trust.Trusted, v.Level) }},
	})
}

// TestSpoofAliasForwarding: an alias relays the author's message unchanged
// (no ARC, no list headers, no SRS), so SPF fails at the forwarder while
// the author's aligned DKIM passes; the forwarder's own Received field
// says it got the message from another organization's host.
func TestSpoofAliasForwarding(t *testing.T) {
	alias := trust.Conn{IP: netip.MustParseAddr("203.0.113.40"), HELO: "relay.fwd.test", MailFrom: "bounce@example.com",
		RcptTo: []string{"support@helpdesk.example"}}
	relayed := "Received: from mail.example.com (mail.example.com [192.0.2.10]) by relay.fwd.test with ESMTPS id a1; Thu, 15 Jan 2026 09:59:00 +0000\r\n"
	runSpoof(t, []spoofCase{
		{name: "benign twin: alias forwarding of aligned DKIM mail", conn: alias, code: trust.SPFFailForwarded,
			msg: func(t *testing.T, w *world) []byte {
				return append([]byte(relayed), signedCom(t, w, msg("Alice <alice@example.com>"))...)
			},
			check: func(t *testing.T, v *trust.Verdict) {
				require.True(t, v.Forward.Forwarded, "%+v", v.Forward.Signals)
				require.False(t, v.Has(trust.SPFSoftfail) || v.Has(trust.SPFFail), "the forwarder's SPF result is not counted")
				require.Equal(t, trust.Trusted, v.Level)
			}},
		{name: "SPF fail without a forwarding trace still counts", conn: alias, code: trust.SPFSoftfail,
			msg: func(t *testing.T, w *world) []byte { return signedCom(t, w, msg("Alice <alice@example.com>")) },
			check: func(t *testing.T, v *trust.Verdict) {
				require.False(t, v.Forward.Forwarded)
				require.False(t, v.Has(trust.SPFFailForwarded))
			}},
		{name: "a relay's Received field rescues no unaligned signature", conn: alias, attack: true, code: trust.DMARCFail,
			msg: func(t *testing.T, w *world) []byte {
				return append([]byte(relayed), sign(t, testmail.CRLF(msg("CEO <ceo@example.com>")), w.evil, nil)...)
			},
			check: func(t *testing.T, v *trust.Verdict) { require.False(t, v.Has(trust.SPFFailForwarded)) }},
	})
}

// TestSpoofBenignTwins holds, for the spoof-group signals whose other
// tables have no twin of their own, the ordinary practice each could be
// confused with: each must stay trusted or neutral without its code.
func TestSpoofBenignTwins(t *testing.T) {
	com := func(from string, extra ...string) func(t *testing.T, w *world) []byte {
		return func(t *testing.T, w *world) []byte { return signedCom(t, w, msg(from, extra...)) }
	}
	without := func(codes ...trust.Code) func(t *testing.T, v *trust.Verdict) {
		return func(t *testing.T, v *trust.Verdict) {
			for _, c := range codes {
				require.False(t, v.Has(c), "benign twin given %s: %v", c, reasonCodes(v))
			}
		}
	}
	utf8Envelope := legitConn
	utf8Envelope.MailFrom = "jörg@example.com"
	bracketed := legitConn
	bracketed.MailFrom = "<bounce@example.com>"
	runSpoof(t, []spoofCase{
		{name: "h= names From in lower case", conn: legitConn, check: without(trust.DKIMFromUnsigned),
			msg: func(t *testing.T, w *world) []byte {
				return sign(t, testmail.CRLF(msg("Alice <alice@example.com>")), w.com, func(o *testmail.SignOptions) {
					o.Headers = []string{"from", "to", "subject", "date", "message-id"}
				})
			}},
		{name: "i= in a subdomain of d=", conn: legitConn, check: without(trust.DKIMIdentifier, trust.DKIMPermError),
			msg: func(t *testing.T, w *world) []byte {
				return sign(t, testmail.CRLF(msg("Alice <alice@example.com>")), w.com, func(o *testmail.SignOptions) {
					o.Identifier = "alice@mail.example.com"
				})
			}},
		{name: "UTF-8 MAIL FROM (RFC 6531)", conn: utf8Envelope, check: without(trust.EnvelopeControl, trust.EnvelopeSyntax),
			msg: com("Alice <alice@example.com>")},
		{name: "MAIL FROM in angle brackets", conn: bracketed, check: without(trust.EnvelopeSyntax),
			msg: com("Alice <alice@example.com>")},
		{name: "From in upper case", conn: legitConn, check: without(trust.FromMissing, trust.FromMultiple, trust.FromObsColon),
			msg: func(t *testing.T, w *world) []byte {
				return signedCom(t, w, strings.Replace(msg("Alice <alice@example.com>"), "From: ", "FROM: ", 1))
			}},
		{name: "Sender and Resent-From beside From", conn: legitConn, check: without(trust.FromMultiple, trust.FromMultipleAddrs),
			msg: com("Alice <alice@example.com>", "Sender: secretary@example.com", "Resent-From: bob@example.com")},
		{name: "a comma in a quoted display name", conn: legitConn, check: without(trust.FromMultipleAddrs, trust.FromUnparsable),
			msg: com(`"Smith, Alice" <alice@example.com>`)},
		{name: "an empty group in Cc", conn: legitConn, check: without(trust.FromGroup, trust.FromEmpty),
			msg: com("Alice <alice@example.com>", "Cc: undisclosed-recipients:;")},
		{name: "quoted words inside a display name", conn: legitConn, check: without(trust.FromUnparsable),
			msg: com(`Alice "The Boss" Smith <alice@example.com>`)},
		{name: "display name holds an address of the same organization", conn: legitConn, check: without(trust.FromDisplayAddress, trust.FromDisplayDomain),
			msg: com(`"alice@mail.example.com" <alice@example.com>`)},
		{name: "a handle in the display name", conn: legitConn, check: without(trust.FromDisplayAddress),
			msg: com(`"Alice @alice" <alice@example.com>`)},
		{name: "a display name in raw ISO-2022-JP (RFC 1468)", conn: legitConn, check: without(trust.FromControlBytes, trust.FromUnparsable),
			msg: com("\x1b$B;3EDB@O:\x1b(B <alice@example.com>")},
		{name: "a newer generic TLD word in the display name", conn: legitConn, check: without(trust.FromDisplayDomain),
			msg: com(`"Mr.Green" <alice@example.com>`)},
	})
}
