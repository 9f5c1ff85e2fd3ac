package arc_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/authres"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mailtrust/mailtrust/arc"
	"github.com/mailtrust/mailtrust/internal/arfield"
	"github.com/mailtrust/mailtrust/internal/testmail"
	"github.com/mailtrust/mailtrust/message"
	"github.com/mailtrust/mailtrust/resolver"
)

// The ARC header field names (RFC 8617 §4.1), lower case as
// message.Field.Key holds them.
const (
	fieldAAR = "arc-authentication-results"
	fieldAMS = "arc-message-signature"
	fieldAS  = "arc-seal"
)

var listResults = []string{
	"spf=pass smtp.mailfrom=origin.example",
	"dkim=pass header.d=origin.example header.s=s1",
	"dmarc=pass header.from=origin.example",
}

func TestARC(t *testing.T) {
	lists := testmail.LoadKey(t, "../testdata/keys/lists.key.pem", "lists.example", "arc1")
	relay := testmail.LoadKey(t, "../testdata/keys/relay.key.pem", "relay.example", "sel")
	third := testmail.NewEd25519Key(t, "third.example", "ed")
	base := testmail.CRLF(testmail.ListMessage)

	oneSet := func(t *testing.T) []byte {
		return testmail.SealSet(t, base, lists, "lists.example", arc.None, listResults, testmail.SealTime())
	}
	twoSets := func(t *testing.T) []byte {
		return testmail.SealSet(t, oneSet(t), relay, "mx.relay.example", arc.Pass, []string{"arc=pass", "spf=pass smtp.mailfrom=lists.example"}, testmail.SealTime().Add(time.Minute))
	}
	threeSets := func(t *testing.T) []byte {
		return testmail.SealSet(t, twoSets(t), third, "third.example", arc.Pass, []string{"arc=pass"}, testmail.SealTime().Add(2*time.Minute))
	}

	tests := []struct {
		name      string
		msg       func(t *testing.T) []byte
		zone      func(z *resolver.Zone)
		status    arc.Status
		failed    int
		errIs     error
		temporary bool
		sets      int
	}{
		{name: "no ARC", msg: func(*testing.T) []byte { return base }, status: arc.None},
		{name: "one set", msg: oneSet, status: arc.Pass, sets: 1},
		{name: "two sets", msg: twoSets, status: arc.Pass, sets: 2},
		{name: "three sets, ed25519 newest", msg: threeSets, status: arc.Pass, sets: 3},
		{name: "body modified after the last seal", msg: func(t *testing.T) []byte {
			return append(twoSets(t), testmail.CRLF("-- \nadded by someone after the relay\n")...)
		}, status: arc.Fail, failed: 2, errIs: arc.ErrBodyHash, sets: 2},
		{name: "signed header modified after the last seal", msg: func(t *testing.T) []byte {
			return testmail.EditField(t, oneSet(t), "Subject:", func(string) string { return "Subject: Quarterly numbers (edited)\r\n" })
		}, status: arc.Fail, failed: 1, errIs: arc.ErrSignature},
		{name: "seal signature broken", msg: func(t *testing.T) []byte {
			return testmail.EditField(t, oneSet(t), "ARC-Seal:", func(raw string) string { return testmail.FlipSig(raw) })
		}, status: arc.Fail, failed: 1, errIs: arc.ErrSignature},
		{name: "older AAR edited: newest seal fails", msg: func(t *testing.T) []byte {
			return testmail.EditField(t, twoSets(t), "i=1; lists.example", func(raw string) string { return strings.Replace(raw, "dmarc=pass", "dmarc=fail", 1) })
		}, status: arc.Fail, failed: 2, errIs: arc.ErrSignature},
		{name: "newest seal says cv=fail", msg: func(t *testing.T) []byte {
			return testmail.SealSet(t, oneSet(t), relay, "mx.relay.example", arc.Fail, []string{"arc=fail"}, testmail.SealTime())
		}, status: arc.Fail, failed: 2, errIs: arc.ErrChainFailed},
		{name: "older seal says cv=fail", msg: func(t *testing.T) []byte {
			m := testmail.SealSet(t, base, lists, "lists.example", arc.Fail, listResults, testmail.SealTime())
			h, body := testmail.Split(t, m)
			// Seal refuses to extend a failed chain; write i=2 directly.
			return append(sealRaw(t, h, body, relay, "mx.relay.example", 2, arc.Pass), m...)
		}, status: arc.Fail, failed: 1, errIs: arc.ErrChainFailed},
		{name: "i=2 seal says cv=none", msg: func(t *testing.T) []byte {
			m := oneSet(t)
			h, body := testmail.Split(t, m)
			// A message with a chain sealed again as if it had none.
			out := sealRaw(t, h, body, relay, "mx.relay.example", 2, arc.None)
			return append(out, m...)
		}, status: arc.Fail, failed: 2, errIs: arc.ErrStructure},
		{name: "gap: set 2 removed", msg: func(t *testing.T) []byte {
			return dropInstance(t, threeSets(t), 2)
		}, status: arc.Fail, failed: 2, errIs: arc.ErrStructure},
		{name: "duplicate AAR for i=1", msg: func(t *testing.T) []byte {
			m := oneSet(t)
			return testmail.Prepend(m, "ARC-Authentication-Results: i=1; lists.example; dmarc=pass header.from=origin.example")
		}, status: arc.Fail, failed: 1, errIs: arc.ErrStructure},
		{name: "AMS without instance", msg: func(t *testing.T) []byte {
			return testmail.Prepend(oneSet(t), "ARC-Message-Signature: a=rsa-sha256; b=AAAA; bh=AAAA; d=x.example; s=s; h=from")
		}, status: arc.Fail, errIs: arc.ErrStructure},
		{name: "lone AAR", msg: func(t *testing.T) []byte {
			return testmail.Prepend(base, "ARC-Authentication-Results: i=1; lists.example; dmarc=pass")
		}, status: arc.Fail, failed: 1, errIs: arc.ErrStructure},
		{name: "key missing", msg: oneSet, zone: func(z *resolver.Zone) {
			*z = *resolver.NewZone()
		}, status: arc.Fail, failed: 1, errIs: arc.ErrKey},
		{name: "key SERVFAIL", msg: oneSet, zone: func(z *resolver.Zone) {
			z.SetFault("arc1._domainkey.lists.example", resolver.FaultServfail)
		}, status: arc.Fail, failed: 1, errIs: arc.ErrKey, temporary: true, sets: 1},
		{name: "key SERVFAIL for one seal, another seal broken", msg: func(t *testing.T) []byte {
			return testmail.EditField(t, twoSets(t), "ARC-Seal:", func(raw string) string { return testmail.FlipSig(raw) })
		}, zone: func(z *resolver.Zone) {
			z.SetFault("arc1._domainkey.lists.example", resolver.FaultServfail)
		}, status: arc.Fail, failed: 2, errIs: arc.ErrSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			z := testmail.Zone(lists, relay, third)
			if tt.zone != nil {
				tt.zone(z)
			}
			res := testmail.VerifyARC(t, z, tt.msg(t), testmail.ReceiveTime())
			assert.Equal(t, tt.status, res.Status, "reason: %s, err: %v", res.Reason, res.Err)
			assert.Equal(t, tt.failed, res.FailedInstance, "failed instance; reason: %s", res.Reason)
			assert.Equal(t, tt.temporary, res.Temporary, "temporary")
			if tt.errIs != nil {
				assert.ErrorIs(t, res.Err, tt.errIs)
			} else {
				assert.NoError(t, res.Err)
			}
			if tt.temporary {
				assert.True(t, resolver.IsTemporary(res.Err), "the resolver's temporary error is kept: %v", res.Err)
			}
			if tt.sets > 0 {
				require.Len(t, res.Sets, tt.sets)
				for i, s := range res.Sets {
					assert.Equal(t, i+1, s.Instance)
				}
			}
			assert.NotEmpty(t, res.Reason)
		})
	}
}

// dropInstance removes the three fields of one ARC set.
func dropInstance(t *testing.T, msg []byte, i int) []byte {
	t.Helper()
	h, body := testmail.Split(t, msg)
	var out bytes.Buffer
	tag := fmt.Sprintf("i=%d;", i)
	for _, f := range h.Fields {
		switch f.Key {
		case fieldAAR, fieldAMS, fieldAS:
			if strings.Contains(strings.ReplaceAll(string(f.Raw), " ", ""), tag) {
				continue
			}
		}
		out.Write(f.Raw)
	}
	out.WriteString("\r\n")
	out.Write(body)
	return out.Bytes()
}

// sealRaw writes a set with an explicit instance and cv, bypassing Seal's
// checks, to make chains Seal refuses to make; its signatures do not
// verify, which the structural checks never reach.
func sealRaw(t *testing.T, h *message.Header, body []byte, k testmail.Key, authServID string, instance int, cv arc.Status) []byte {
	t.Helper()
	// Seal on a header without the chain, then renumber.
	bare := &message.Header{}
	for _, f := range h.Fields {
		switch f.Key {
		case fieldAAR, fieldAMS, fieldAS:
			continue
		}
		bare.Fields = append(bare.Fields, f)
	}
	out, err := arc.Seal(bare, bytes.NewReader(body), arc.SealOptions{Domain: k.Domain, Selector: k.Selector, Signer: k.Signer,
		AuthServID: authServID, AuthResults: []string{"arc=none"}, Time: testmail.SealTime()})
	require.NoError(t, err)
	out = bytes.ReplaceAll(out, []byte("cv=none"), []byte("cv="+string(cv)))
	return bytes.ReplaceAll(out, []byte("i=1"), []byte(fmt.Sprintf("i=%d", instance)))
}

func TestARCTime(t *testing.T) {
	lists := testmail.LoadKey(t, "../testdata/keys/lists.key.pem", "lists.example", "arc1")
	z := testmail.Zone(lists)
	h, body := testmail.Split(t, testmail.CRLF(testmail.ListMessage))
	out, err := arc.Seal(h, bytes.NewReader(body), arc.SealOptions{
		Domain: lists.Domain, Selector: lists.Selector, Signer: lists.Signer, AuthServID: "lists.example",
		AuthResults: listResults, Time: testmail.SealTime(), Expiration: testmail.SealTime().Add(24 * time.Hour),
	})
	require.NoError(t, err)
	msg := append(out, testmail.CRLF(testmail.ListMessage)...)
	tests := []struct {
		name   string
		at     time.Time
		status arc.Status
		errIs  error
	}{
		{"before expiry", testmail.SealTime().Add(time.Hour), arc.Pass, nil},
		{"within the clock skew after x=", testmail.SealTime().Add(24*time.Hour + time.Minute), arc.Pass, nil},
		{"expired", testmail.SealTime().Add(25 * time.Hour), arc.Fail, arc.ErrExpired},
		{"signed in the future: not refused (RFC 6376 §3.5 MAY)", testmail.SealTime().Add(-time.Hour), arc.Pass, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := testmail.VerifyARC(t, z, msg, tt.at)
			assert.Equal(t, tt.status, res.Status, res.Reason)
			if tt.errIs != nil {
				assert.ErrorIs(t, res.Err, tt.errIs)
			}
		})
	}
	t.Run("no evaluation time", func(t *testing.T) {
		h, body := testmail.Split(t, msg)
		v := arc.NewVerifier(context.Background(), z, h, nil)
		_, _ = v.Write(body)
		res := v.Result()
		assert.Equal(t, arc.Fail, res.Status)
		assert.ErrorIs(t, res.Err, arc.ErrNoTime)
	})
}

func TestARCLimits(t *testing.T) {
	k := testmail.NewEd25519Key(t, "hop.example", "ed")
	z := testmail.Zone(k)
	msg := testmail.CRLF(testmail.ListMessage)
	cv := arc.None
	for i := 1; i <= arc.DefaultMaxSets; i++ {
		msg = testmail.SealSet(t, msg, k, "hop.example", cv, []string{fmt.Sprintf("arc=%s", cv)}, testmail.SealTime())
		cv = arc.Pass
	}
	t.Run("50 sets pass", func(t *testing.T) {
		res := testmail.VerifyARC(t, z, msg, testmail.ReceiveTime())
		assert.Equal(t, arc.Pass, res.Status, res.Reason)
		assert.Len(t, res.Sets, 50)
	})
	t.Run("Seal refuses a 51st set", func(t *testing.T) {
		h, body := testmail.Split(t, msg)
		_, err := arc.Seal(h, bytes.NewReader(body), arc.SealOptions{Domain: k.Domain, Selector: k.Selector, Signer: k.Signer,
			AuthServID: "hop.example", ChainStatus: arc.Pass})
		assert.ErrorIs(t, err, arc.ErrTooManySets)
	})
	t.Run("51 sets fail", func(t *testing.T) {
		m := msg
		for _, f := range []string{
			"ARC-Seal: i=51; a=rsa-sha256; cv=pass; d=hop.example; s=ed; b=AAAA",
			"ARC-Message-Signature: i=51; a=rsa-sha256; d=hop.example; s=ed; h=from; bh=AAAA; b=AAAA",
			"ARC-Authentication-Results: i=51; hop.example; arc=pass",
		} {
			m = testmail.Prepend(m, f)
		}
		res := testmail.VerifyARC(t, z, m, testmail.ReceiveTime())
		assert.Equal(t, arc.Fail, res.Status)
		assert.ErrorIs(t, res.Err, arc.ErrTooManySets)
		assert.Contains(t, res.Reason, "limit of 50")
	})
	t.Run("MaxSets lowers the limit", func(t *testing.T) {
		res, err := arc.Verify(context.Background(), z, bytes.NewReader(msg), &arc.Options{Time: testmail.ReceiveTime(), MaxSets: 10})
		require.NoError(t, err)
		assert.Equal(t, arc.Fail, res.Status)
		assert.ErrorIs(t, res.Err, arc.ErrTooManySets)
	})
	t.Run("a flood of ARC fields is cut short", func(t *testing.T) {
		var b strings.Builder
		for i := 0; i < 400; i++ {
			b.WriteString("ARC-Seal: i=1; cv=none\r\n")
		}
		res := testmail.VerifyARC(t, z, append([]byte(b.String()), testmail.CRLF(testmail.ListMessage)...), testmail.ReceiveTime())
		assert.Equal(t, arc.Fail, res.Status)
		assert.ErrorIs(t, res.Err, arc.ErrTooManySets)
	})
}

func TestARCSealRoundTrip(t *testing.T) {
	lists := testmail.LoadKey(t, "../testdata/keys/lists.key.pem", "lists.example", "arc1")
	z := testmail.Zone(lists)
	base := testmail.CRLF(testmail.ListMessage)
	for _, c := range []string{"relaxed/relaxed", "simple/simple", "relaxed/simple", "simple/relaxed"} {
		t.Run(c, func(t *testing.T) {
			h, body := testmail.Split(t, base)
			out, err := arc.Seal(h, bytes.NewReader(body), arc.SealOptions{Domain: lists.Domain, Selector: lists.Selector, Signer: lists.Signer,
				AuthServID: "lists.example", Canonicalization: c, Time: testmail.SealTime()})
			require.NoError(t, err)
			msg := append(out, base...)
			res := testmail.VerifyARC(t, z, msg, testmail.ReceiveTime())
			assert.Equal(t, arc.Pass, res.Status, res.Reason)
			// Refolding a signed field breaks simple header
			// canonicalization only.
			refolded := testmail.EditField(t, msg, "Subject:", func(string) string { return "Subject: Quarterly\r\n numbers\r\n" })
			res = testmail.VerifyARC(t, z, refolded, testmail.ReceiveTime())
			if strings.HasPrefix(c, "simple") {
				assert.Equal(t, arc.Fail, res.Status)
			} else {
				assert.Equal(t, arc.Pass, res.Status, res.Reason)
			}
		})
	}
	t.Run("AAR consolidated from Authentication-Results", func(t *testing.T) {
		m := testmail.Prepend(base, "Authentication-Results: lists.example; spf=pass smtp.mailfrom=origin.example;\r\n dkim=pass (2048-bit key; signed) header.d=origin.example")
		m = testmail.Prepend(m, "Authentication-Results: other.example; dmarc=fail header.from=origin.example")
		m = testmail.Prepend(m, "Authentication-Results: Lists.Example; dmarc=pass header.from=origin.example")
		sealed := testmail.SealSet(t, m, lists, "lists.example", arc.None, nil, testmail.SealTime())
		res := testmail.VerifyARC(t, z, sealed, testmail.ReceiveTime())
		require.Equal(t, arc.Pass, res.Status, res.Reason)
		aar := firstField(t, sealed, "arc-authentication-results")
		assert.Contains(t, aar, "dmarc=pass header.from=origin.example")
		assert.Contains(t, aar, "dkim=pass (2048-bit key; signed) header.d=origin.example")
		assert.NotContains(t, aar, "dmarc=fail")
		require.Len(t, res.Sets[0].Results, 3, "spf, dkim and dmarc, parsed")
		assert.Equal(t, "lists.example", res.Sets[0].AuthServID)
	})
	t.Run("option errors", func(t *testing.T) {
		h, body := testmail.Split(t, base)
		good := arc.SealOptions{Domain: lists.Domain, Selector: lists.Selector, Signer: lists.Signer, AuthServID: "lists.example"}
		for name, mod := range map[string]func(o *arc.SealOptions){
			"no signer":         func(o *arc.SealOptions) { o.Signer = nil },
			"bad domain":        func(o *arc.SealOptions) { o.Domain = "bad domain" },
			"no authserv-id":    func(o *arc.SealOptions) { o.AuthServID = "" },
			"signs ARC-Seal":    func(o *arc.SealOptions) { o.Headers = []string{"from", "ARC-Seal"} },
			"signs A-R":         func(o *arc.SealOptions) { o.Headers = []string{"from", "authentication-results"} },
			"pass without sets": func(o *arc.SealOptions) { o.ChainStatus = arc.Pass },
			"bad status":        func(o *arc.SealOptions) { o.ChainStatus = "maybe" },
			"bad c=":            func(o *arc.SealOptions) { o.Canonicalization = "loose" },
			"x= before t=": func(o *arc.SealOptions) {
				o.Time = testmail.SealTime()
				o.Expiration = testmail.SealTime().Add(-time.Hour)
			},
		} {
			o := good
			mod(&o)
			_, err := arc.Seal(h, bytes.NewReader(body), o)
			assert.ErrorIs(t, err, arc.ErrSealOptions, name)
		}
		sealed := testmail.SealSet(t, base, lists, "lists.example", arc.None, nil, testmail.SealTime())
		h2, body2 := testmail.Split(t, sealed)
		o := good
		_, err := arc.Seal(h2, bytes.NewReader(body2), o)
		assert.ErrorIs(t, err, arc.ErrSealOptions, "none for a message with a chain")
	})
}

func firstField(t *testing.T, msg []byte, key string) string {
	t.Helper()
	h, _ := testmail.Split(t, msg)
	f := h.First(key)
	require.NotNil(t, f, key)
	return arfield.Unfold(f.Value())
}

func TestARCResultAuthResult(t *testing.T) {
	for _, st := range []arc.Status{arc.None, arc.Pass, arc.Fail, ""} {
		r := arc.Result{Status: st}.AuthResult()
		want := st
		if want == "" {
			want = arc.None
		}
		// Formatted and parsed back, as a receiver's header carries it.
		header := authres.Format("mx.example", []authres.Result{r})
		assert.Equal(t, "mx.example; arc="+string(want), strings.TrimSpace(header))
		_, parsed, err := authres.Parse(header)
		require.NoError(t, err)
		require.Len(t, parsed, 1)
		assert.Equal(t, fmt.Sprintf("%v", want), fmt.Sprintf("%v", arcValue(parsed[0])))
	}
	var v *arc.Verifier
	assert.Equal(t, arc.None, v.Result().Status, "a nil verifier has no chain")
	n, err := v.Write([]byte("x"))
	assert.Equal(t, 1, n)
	assert.NoError(t, err)
}

func arcValue(r authres.Result) authres.ResultValue {
	if a, ok := r.(*authres.ARCResult); ok {
		return a.Value
	}
	return "not an arc result"
}
