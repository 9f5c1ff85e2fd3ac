package forward

import (
	"bytes"
	"context"
	"net/netip"
	"strings"
	"testing"

	"github.com/emersion/go-msgauth/authres"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mailtrust/mailtrust/arc"
	"github.com/mailtrust/mailtrust/dkim"
	"github.com/mailtrust/mailtrust/internal/testmail"
	"github.com/mailtrust/mailtrust/message"
	"github.com/mailtrust/mailtrust/resolver"
)

// The connection of the list's outbound server, and of a stranger.
var (
	listConn = Conn{IP: netip.MustParseAddr("198.51.100.7"), PTRConfirmed: []string{"out1.lists.example."},
		HELO: "out1.lists.example", HELOPass: true}
	strangerConn = Conn{IP: netip.MustParseAddr("203.0.113.66"), HELO: "mail.evil.test"}
	trustLists   = Trust{Forwarders: []string{"lists.example"}}
)

// listForward does what a mailing list does to a message: records its
// assessment on arrival, tags the subject, adds a footer and list headers,
// then seals with key k as authserv-id id.
func listForward(t *testing.T, msg []byte, k testmail.Key, id string, cv arc.Status) []byte {
	t.Helper()
	m := testmail.Prepend(msg, "Authentication-Results: "+id+"; spf=pass smtp.mailfrom=alice@origin.example;\r\n dkim=pass header.d=origin.example header.s=s1;\r\n dmarc=pass header.from=origin.example")
	m = testmail.EditField(t, m, "Subject:", func(string) string { return "Subject: [team] Quarterly numbers\r\n" })
	m = testmail.Prepend(m, "List-Id: Team <team.lists.example>")
	m = append(m, testmail.CRLF("--\nteam mailing list\nhttps://lists.example/team\n")...)
	return testmail.SealSet(t, m, k, id, cv, nil, testmail.SealTime())
}

// TestRescueForwardedThroughTrustedSealer is the case trusted forwarding
// exists for: a list breaks DKIM (footer, subject tag) and the final hop
// breaks SPF, so DMARC fails at the receiver; the list's ARC seal carries
// the original pass.
func TestRescueForwardedThroughTrustedSealer(t *testing.T) {
	origin := testmail.LoadKey(t, "../testdata/keys/origin.key.pem", "origin.example", "s1")
	lists := testmail.LoadKey(t, "../testdata/keys/lists.key.pem", "lists.example", "arc1")
	relay := testmail.LoadKey(t, "../testdata/keys/relay.key.pem", "relay.example", "sel")
	z := testmail.Zone(origin, lists, relay)
	signed := testmail.SignMsgauth(t, testmail.CRLF(testmail.ListMessage), origin)

	// Before forwarding the author's signature verifies (our dkim package
	// against go-msgauth's signer).
	before, err := dkim.Verify(context.Background(), z, bytes.NewReader(signed), &dkim.Options{Time: testmail.ReceiveTime()})
	require.NoError(t, err)
	require.Len(t, before, 1)
	require.Equal(t, dkim.StatusPass, before[0].Status, before[0].Reason)

	forwarded := listForward(t, signed, lists, "lists.example", arc.None)

	t.Run("trusted sealer rescues", func(t *testing.T) {
		after, err := dkim.Verify(context.Background(), z, bytes.NewReader(forwarded), &dkim.Options{Time: testmail.ReceiveTime()})
		require.NoError(t, err)
		require.Len(t, after, 1)
		assert.Equal(t, dkim.StatusFail, after[0].Status, "the list broke the author's DKIM signature")
		assert.ErrorIs(t, after[0].Err, dkim.ErrBodyHashMismatch)

		chain := testmail.VerifyARC(t, z, forwarded, testmail.ReceiveTime())
		require.Equal(t, arc.Pass, chain.Status, chain.Reason)
		h, _ := testmail.Split(t, forwarded)
		orig, forged := Rescue(h, message.ParseFrom(h), chain, listConn, trustLists)
		require.NotNil(t, orig)
		assert.Empty(t, forged)
		assert.Equal(t, ViaARC, orig.Via)
		assert.Equal(t, "lists.example", orig.Forwarder)
		assert.Equal(t, 1, orig.Instance)
		assert.Equal(t, authres.ResultValue("pass"), orig.DMARC)
		assert.Equal(t, authres.ResultValue("pass"), orig.SPF)
		assert.Equal(t, authres.ResultValue("pass"), orig.DKIM)
		assert.Equal(t, "origin.example", orig.DKIMDomain)
		assert.Equal(t, "origin.example", orig.SPFDomain)
		assert.Equal(t, "origin.example", orig.FromDomain)
		assert.Contains(t, orig.Detail, "lists.example")

		// The same message, delivered by someone else after the list:
		// ARC still rescues (the seal is the proof), and the list's
		// Authentication-Results, now from outside the trust boundary,
		// is reported.
		orig, forged = Rescue(h, message.ParseFrom(h), chain, strangerConn, trustLists)
		require.NotNil(t, orig)
		assert.Equal(t, ViaARC, orig.Via)
		assert.Len(t, forged, 1)
	})
	t.Run("untrusted sealer rescues nothing", func(t *testing.T) {
		m := listForward(t, signed, relay, "relay.example", arc.None)
		chain := testmail.VerifyARC(t, z, m, testmail.ReceiveTime())
		require.Equal(t, arc.Pass, chain.Status, chain.Reason)
		h, _ := testmail.Split(t, m)
		orig, forged := Rescue(h, message.ParseFrom(h), chain, strangerConn, trustLists)
		assert.Nil(t, orig)
		assert.Empty(t, forged)
	})
	t.Run("trusted sealer whose seal fails rescues nothing", func(t *testing.T) {
		m := testmail.EditField(t, forwarded, "ARC-Seal:", testmail.FlipSig)
		chain := testmail.VerifyARC(t, z, m, testmail.ReceiveTime())
		require.Equal(t, arc.Fail, chain.Status)
		h, _ := testmail.Split(t, m)
		orig, forged := Rescue(h, message.ParseFrom(h), chain, strangerConn, trustLists)
		assert.Nil(t, orig)
		assert.Len(t, forged, 1, "the list's Authentication-Results came from a stranger")
	})
	t.Run("content changed after the seal rescues nothing", func(t *testing.T) {
		m := append(append([]byte(nil), forwarded...), testmail.CRLF("P.S. wire the money to account 12345\n")...)
		chain := testmail.VerifyARC(t, z, m, testmail.ReceiveTime())
		require.Equal(t, arc.Fail, chain.Status)
		h, _ := testmail.Split(t, m)
		orig, _ := Rescue(h, message.ParseFrom(h), chain, strangerConn, trustLists)
		assert.Nil(t, orig)
	})
	t.Run("temporary failure rescues nothing", func(t *testing.T) {
		z2 := testmail.Zone(origin, lists)
		z2.SetFault("arc1._domainkey.lists.example", resolver.FaultServfail)
		chain := testmail.VerifyARC(t, z2, forwarded, testmail.ReceiveTime())
		require.True(t, chain.Temporary)
		h, _ := testmail.Split(t, forwarded)
		orig, _ := Rescue(h, message.ParseFrom(h), chain, strangerConn, trustLists)
		assert.Nil(t, orig)
	})
	t.Run("subdomain of a trusted forwarder", func(t *testing.T) {
		chain := testmail.VerifyARC(t, z, forwarded, testmail.ReceiveTime())
		h, _ := testmail.Split(t, forwarded)
		orig, _ := Rescue(h, message.ParseFrom(h), chain, listConn, Trust{Forwarders: []string{"example"}})
		assert.NotNil(t, orig, "lists.example lies below example")
		orig, _ = Rescue(h, message.ParseFrom(h), chain, listConn, Trust{Forwarders: []string{"sts.example"}})
		assert.Nil(t, orig, "a suffix is not a parent domain")
	})
	t.Run("the newest seal must be trusted: i=1 by the list, i=2 by a stranger", func(t *testing.T) {
		m := testmail.SealSet(t, forwarded, relay, "relay.example", arc.Pass, []string{"arc=pass"}, testmail.SealTime())
		chain := testmail.VerifyARC(t, z, m, testmail.ReceiveTime())
		require.Equal(t, arc.Pass, chain.Status, chain.Reason)
		h, _ := testmail.Split(t, m)
		orig, _ := Rescue(h, message.ParseFrom(h), chain, strangerConn, trustLists)
		assert.Nil(t, orig)
		both := Trust{Forwarders: []string{"lists.example", "relay.example"}}
		orig, _ = Rescue(h, message.ParseFrom(h), chain, strangerConn, both)
		require.NotNil(t, orig)
		assert.Equal(t, 1, orig.Instance, "every sealer trusted: the first hop's results")
		assert.Equal(t, "relay.example", orig.Forwarder)
		assert.Equal(t, authres.ResultValue("pass"), orig.DMARC)
	})
	t.Run("an untrusted first sealer's testimony is not used", func(t *testing.T) {
		// relay.example seals first claiming dmarc=pass; the trusted list
		// saw DMARC fail on arrival (the relay broke it).
		m := listForward(t, signed, relay, "relay.example", arc.None)
		m = testmail.SealSet(t, m, lists, "lists.example", arc.Pass,
			[]string{"arc=pass", "spf=fail smtp.mailfrom=origin.example", "dkim=fail header.d=origin.example", "dmarc=fail header.from=origin.example"}, testmail.SealTime())
		chain := testmail.VerifyARC(t, z, m, testmail.ReceiveTime())
		require.Equal(t, arc.Pass, chain.Status, chain.Reason)
		h, _ := testmail.Split(t, m)
		orig, _ := Rescue(h, message.ParseFrom(h), chain, listConn, trustLists)
		require.NotNil(t, orig)
		assert.Equal(t, 2, orig.Instance)
		assert.Equal(t, authres.ResultValue("fail"), orig.DMARC)
	})
	t.Run("AMS not signing From rescues nothing", func(t *testing.T) {
		hd, body := testmail.Split(t, signed)
		out, err := arc.Seal(hd, bytes.NewReader(body), arc.SealOptions{Domain: lists.Domain, Selector: lists.Selector, Signer: lists.Signer,
			AuthServID: "lists.example", AuthResults: []string{"spf=pass smtp.mailfrom=origin.example", "dkim=pass header.d=origin.example header.s=s1", "dmarc=pass header.from=origin.example"}, Headers: []string{"subject", "to"}, Time: testmail.SealTime()})
		require.NoError(t, err)
		m := append(out, signed...)
		chain := testmail.VerifyARC(t, z, m, testmail.ReceiveTime())
		require.Equal(t, arc.Pass, chain.Status, chain.Reason)
		h, _ := testmail.Split(t, m)
		orig, _ := Rescue(h, message.ParseFrom(h), chain, listConn, trustLists)
		assert.Nil(t, orig, "a sealed message could be replayed under another From")
	})
	t.Run("recorded DMARC about another From rescues nothing", func(t *testing.T) {
		m := testmail.EditField(t, testmail.CRLF(testmail.ListMessage), "From:", func(string) string { return "From: Alice via Team <team@lists.example>\r\n" })
		m = testmail.SealSet(t, m, lists, "lists.example", arc.None, []string{"spf=pass smtp.mailfrom=origin.example", "dkim=pass header.d=origin.example header.s=s1", "dmarc=pass header.from=origin.example"}, testmail.SealTime())
		chain := testmail.VerifyARC(t, z, m, testmail.ReceiveTime())
		require.Equal(t, arc.Pass, chain.Status, chain.Reason)
		h, _ := testmail.Split(t, m)
		orig, _ := Rescue(h, message.ParseFrom(h), chain, listConn, trustLists)
		assert.Nil(t, orig)
	})
	t.Run("no configuration, no rescue", func(t *testing.T) {
		chain := testmail.VerifyARC(t, z, forwarded, testmail.ReceiveTime())
		h, _ := testmail.Split(t, forwarded)
		orig, forged := Rescue(h, message.ParseFrom(h), chain, listConn, Trust{})
		assert.Nil(t, orig)
		assert.Nil(t, forged)
	})
}

func TestRescueAuthenticationResults(t *testing.T) {
	const upstream = "Authentication-Results: mx.lists.example;\r\n spf=pass smtp.mailfrom=alice@origin.example;\r\n dkim=pass (good signature; 2048-bit) header.d=origin.example;\r\n dmarc=pass header.from=origin.example"
	msg := testmail.Prepend(testmail.CRLF(testmail.ListMessage), upstream)
	h, _ := testmail.Split(t, msg)
	none := arc.Result{Status: arc.None}
	tests := []struct {
		name       string
		conn       Conn
		wantOrig   bool
		wantForged int
	}{
		{"forwarder relayed it (confirmed PTR)", listConn, true, 0},
		{"forwarder relayed it (passing HELO only)", Conn{IP: netip.MustParseAddr("198.51.100.8"), HELO: "mx2.lists.example", HELOPass: true}, true, 0},
		{"a stranger claims the forwarder's results", strangerConn, false, 1},
		{"HELO names the forwarder but does not resolve to the client", Conn{IP: netip.MustParseAddr("203.0.113.66"), HELO: "out1.lists.example"}, false, 1},
		{"PTR of a look-alike domain", Conn{IP: netip.MustParseAddr("203.0.113.66"), PTRConfirmed: []string{"lists.example.evil.test."}}, false, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			orig, forged := Rescue(h, message.ParseFrom(h), none, tt.conn, trustLists)
			assert.Len(t, forged, tt.wantForged)
			if !tt.wantOrig {
				assert.Nil(t, orig)
				for _, f := range forged {
					assert.Contains(t, f, "mx.lists.example")
				}
				return
			}
			require.NotNil(t, orig)
			assert.Equal(t, ViaAuthResults, orig.Via)
			assert.Equal(t, "mx.lists.example", orig.Forwarder)
			assert.Equal(t, authres.ResultValue("pass"), orig.DMARC)
			assert.Equal(t, authres.ResultValue("pass"), orig.DKIM)
			assert.Equal(t, "origin.example", orig.DKIMDomain)
			assert.Equal(t, 0, orig.Instance)
		})
	}
	t.Run("untrusted authserv-id is ignored, not forged", func(t *testing.T) {
		m := testmail.Prepend(testmail.CRLF(testmail.ListMessage), "Authentication-Results: mx.other.example; dmarc=pass header.from=origin.example")
		h, _ := testmail.Split(t, m)
		orig, forged := Rescue(h, message.ParseFrom(h), none, strangerConn, trustLists)
		assert.Nil(t, orig)
		assert.Empty(t, forged)
	})
	t.Run("results about another From are not used", func(t *testing.T) {
		m := testmail.Prepend(testmail.CRLF(testmail.ListMessage), "Authentication-Results: mx.lists.example; dmarc=pass header.from=elsewhere.example")
		h, _ := testmail.Split(t, m)
		orig, forged := Rescue(h, message.ParseFrom(h), none, listConn, trustLists)
		assert.Nil(t, orig)
		assert.Empty(t, forged)
	})
	t.Run("one report per forged authserv-id", func(t *testing.T) {
		m := testmail.Prepend(msg, strings.Replace(upstream, "dmarc=pass", "dmarc=fail", 1))
		h, _ := testmail.Split(t, m)
		_, forged := Rescue(h, message.ParseFrom(h), none, strangerConn, trustLists)
		assert.Len(t, forged, 1)
	})
}
