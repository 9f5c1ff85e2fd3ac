package arc

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

	"github.com/mailtrust/mailtrust/internal/arfield"
	"github.com/mailtrust/mailtrust/message"
	"github.com/mailtrust/mailtrust/resolver"
)

const baseMsg = `From: Alice <alice@origin.example>
To: team@lists.example
Subject: Quarterly numbers
Date: Thu, 15 Jan 2026 09:00:00 +0000
Message-ID: <q1@origin.example>
MIME-Version: 1.0
Content-Type: text/plain

Hello team,
the numbers are in.
`

var (
	sealTime = time.Date(2026, time.January, 15, 9, 5, 0, 0, time.UTC)
	recvTime = time.Date(2026, time.January, 15, 10, 0, 0, 0, time.UTC)
)

var listResults = []string{
	"spf=pass smtp.mailfrom=origin.example",
	"dkim=pass header.d=origin.example header.s=s1",
	"dmarc=pass header.from=origin.example",
}

func TestARC(t *testing.T) {
	lists := loadKey(t, "lists", "lists.example", "arc1")
	relay := loadKey(t, "relay", "relay.example", "sel")
	third := newEd25519Key(t, "third.example", "ed")
	base := crlf(baseMsg)

	oneSet := func(t *testing.T) []byte {
		return sealMsg(t, base, lists, "lists.example", None, listResults, sealTime)
	}
	twoSets := func(t *testing.T) []byte {
		return sealMsg(t, oneSet(t), relay, "mx.relay.example", Pass, []string{"arc=pass", "spf=pass smtp.mailfrom=lists.example"}, sealTime.Add(time.Minute))
	}
	threeSets := func(t *testing.T) []byte {
		return sealMsg(t, twoSets(t), third, "third.example", Pass, []string{"arc=pass"}, sealTime.Add(2*time.Minute))
	}

	tests := []struct {
		name      string
		msg       func(t *testing.T) []byte
		zone      func(z *resolver.Zone)
		status    Status
		failed    int
		errIs     error
		temporary bool
		sets      int
	}{
		{name: "no ARC", msg: func(*testing.T) []byte { return base }, status: None},
		{name: "one set", msg: oneSet, status: Pass, sets: 1},
		{name: "two sets", msg: twoSets, status: Pass, sets: 2},
		{name: "three sets, ed25519 newest", msg: threeSets, status: Pass, sets: 3},
		{name: "body modified after the last seal", msg: func(t *testing.T) []byte {
			return append(twoSets(t), crlf("-- \nadded by someone after the relay\n")...)
		}, status: Fail, failed: 2, errIs: ErrBodyHash, sets: 2},
		{name: "signed header modified after the last seal", msg: func(t *testing.T) []byte {
			return editField(t, oneSet(t), "Subject:", func(string) string { return "Subject: Quarterly numbers (edited)\r\n" })
		}, status: Fail, failed: 1, errIs: ErrSignature},
		{name: "seal signature broken", msg: func(t *testing.T) []byte {
			return editField(t, oneSet(t), "ARC-Seal:", func(raw string) string { return flipSig(raw) })
		}, status: Fail, failed: 1, errIs: ErrSignature},
		{name: "older AAR edited: newest seal fails", msg: func(t *testing.T) []byte {
			return editField(t, twoSets(t), "i=1; lists.example", func(raw string) string { return strings.Replace(raw, "dmarc=pass", "dmarc=fail", 1) })
		}, status: Fail, failed: 2, errIs: ErrSignature},
		{name: "newest seal says cv=fail", msg: func(t *testing.T) []byte {
			return sealMsg(t, oneSet(t), relay, "mx.relay.example", Fail, []string{"arc=fail"}, sealTime)
		}, status: Fail, failed: 2, errIs: ErrChainFailed},
		{name: "older seal says cv=fail", msg: func(t *testing.T) []byte {
			m := sealMsg(t, base, lists, "lists.example", Fail, listResults, sealTime)
			h, body := split(t, m)
			// Seal refuses to extend a failed chain; write i=2 directly.
			return append(sealRaw(t, h, body, relay, "mx.relay.example", 2, Pass), m...)
		}, status: Fail, failed: 1, errIs: ErrChainFailed},
		{name: "i=2 seal says cv=none", msg: func(t *testing.T) []byte {
			m := oneSet(t)
			h, body := split(t, m)
			// A message with a chain sealed again as if it had none.
			out := sealRaw(t, h, body, relay, "mx.relay.example", 2, None)
			return append(out, m...)
		}, status: Fail, failed: 2, errIs: ErrStructure},
		{name: "gap: set 2 removed", msg: func(t *testing.T) []byte {
			return dropInstance(t, threeSets(t), 2)
		}, status: Fail, failed: 2, errIs: ErrStructure},
		{name: "duplicate AAR for i=1", msg: func(t *testing.T) []byte {
			m := oneSet(t)
			return prepend(m, "ARC-Authentication-Results: i=1; lists.example; dmarc=pass header.from=origin.example")
		}, status: Fail, failed: 1, errIs: ErrStructure},
		{name: "AMS without instance", msg: func(t *testing.T) []byte {
			return prepend(oneSet(t), "ARC-Message-Signature: a=rsa-sha256; b=AAAA; bh=AAAA; d=x.example; s=s; h=from")
		}, status: Fail, errIs: ErrStructure},
		{name: "lone AAR", msg: func(t *testing.T) []byte {
			return prepend(base, "ARC-Authentication-Results: i=1; lists.example; dmarc=pass")
		}, status: Fail, failed: 1, errIs: ErrStructure},
		{name: "key missing", msg: oneSet, zone: func(z *resolver.Zone) {
			*z = *resolver.NewZone()
		}, status: Fail, failed: 1, errIs: ErrKey},
		{name: "key SERVFAIL", msg: oneSet, zone: func(z *resolver.Zone) {
			z.SetFault("arc1._domainkey.lists.example", resolver.FaultServfail)
		}, status: Fail, failed: 1, errIs: ErrKey, temporary: true, sets: 1},
		{name: "key SERVFAIL for one seal, another seal broken", msg: func(t *testing.T) []byte {
			return editField(t, twoSets(t), "ARC-Seal:", func(raw string) string { return flipSig(raw) })
		}, zone: func(z *resolver.Zone) {
			z.SetFault("arc1._domainkey.lists.example", resolver.FaultServfail)
		}, status: Fail, failed: 2, errIs: ErrSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			z := zoneOf(t, lists, relay, third)
			if tt.zone != nil {
				tt.zone(z)
			}
			res := verifyAt(t, z, tt.msg(t), recvTime)
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

// flipSig changes one character of the b= value of a signature field.
func flipSig(raw string) string {
	i := strings.Index(raw, "b=")
	j := i + 2
	c := raw[j]
	r := byte('A')
	if c == 'A' {
		r = 'B'
	}
	return raw[:j] + string(r) + raw[j+1:]
}

// dropInstance removes the three fields of one ARC set.
func dropInstance(t *testing.T, msg []byte, i int) []byte {
	t.Helper()
	h, body := split(t, msg)
	var out bytes.Buffer
	tag := fmt.Sprintf("i=%d;", i)
	for _, f := range h.Fields {
		switch f.Key {
		case keyAAR, keyAMS, keyAS:
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
func sealRaw(t *testing.T, h *message.Header, body []byte, k testKey, authServID string, instance int, cv Status) []byte {
	t.Helper()
	// Seal on a header without the chain, then renumber.
	bare := &message.Header{}
	for _, f := range h.Fields {
		switch f.Key {
		case keyAAR, keyAMS, keyAS:
			continue
		}
		bare.Fields = append(bare.Fields, f)
	}
	out, err := Seal(bare, bytes.NewReader(body), SealOptions{Domain: k.domain, Selector: k.selector, Signer: k.signer,
		AuthServID: authServID, AuthResults: []string{"arc=none"}, Time: sealTime})
	require.NoError(t, err)
	out = bytes.ReplaceAll(out, []byte("cv=none"), []byte("cv="+string(cv)))
	return bytes.ReplaceAll(out, []byte("i=1"), []byte(fmt.Sprintf("i=%d", instance)))
}

func TestARCTime(t *testing.T) {
	lists := loadKey(t, "lists", "lists.example", "arc1")
	z := zoneOf(t, lists)
	h, body := split(t, crlf(baseMsg))
	out, err := Seal(h, bytes.NewReader(body), SealOptions{
		Domain: lists.domain, Selector: lists.selector, Signer: lists.signer, AuthServID: "lists.example",
		AuthResults: listResults, Time: sealTime, Expiration: sealTime.Add(24 * time.Hour),
	})
	require.NoError(t, err)
	msg := append(out, crlf(baseMsg)...)
	tests := []struct {
		name   string
		at     time.Time
		status Status
		errIs  error
	}{
		{"before expiry", sealTime.Add(time.Hour), Pass, nil},
		{"within the clock skew after x=", sealTime.Add(24*time.Hour + time.Minute), Pass, nil},
		{"expired", sealTime.Add(25 * time.Hour), Fail, ErrExpired},
		{"signed in the future: not refused (RFC 6376 §3.5 MAY)", sealTime.Add(-time.Hour), Pass, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := verifyAt(t, z, msg, tt.at)
			assert.Equal(t, tt.status, res.Status, res.Reason)
			if tt.errIs != nil {
				assert.ErrorIs(t, res.Err, tt.errIs)
			}
		})
	}
	t.Run("no evaluation time", func(t *testing.T) {
		h, body := split(t, msg)
		v := NewVerifier(context.Background(), z, h, nil)
		_, _ = v.Write(body)
		res := v.Result()
		assert.Equal(t, Fail, res.Status)
		assert.ErrorIs(t, res.Err, ErrNoTime)
	})
}

func TestARCLimits(t *testing.T) {
	k := newEd25519Key(t, "hop.example", "ed")
	z := zoneOf(t, k)
	msg := crlf(baseMsg)
	cv := None
	for i := 1; i <= DefaultMaxSets; i++ {
		msg = sealMsg(t, msg, k, "hop.example", cv, []string{fmt.Sprintf("arc=%s", cv)}, sealTime)
		cv = Pass
	}
	t.Run("50 sets pass", func(t *testing.T) {
		res := verifyAt(t, z, msg, recvTime)
		assert.Equal(t, Pass, res.Status, res.Reason)
		assert.Len(t, res.Sets, 50)
	})
	t.Run("Seal refuses a 51st set", func(t *testing.T) {
		h, body := split(t, msg)
		_, err := Seal(h, bytes.NewReader(body), SealOptions{Domain: k.domain, Selector: k.selector, Signer: k.signer,
			AuthServID: "hop.example", ChainStatus: Pass})
		assert.ErrorIs(t, err, ErrTooManySets)
	})
	t.Run("51 sets fail", func(t *testing.T) {
		m := msg
		for _, f := range []string{
			"ARC-Seal: i=51; a=rsa-sha256; cv=pass; d=hop.example; s=ed; b=AAAA",
			"ARC-Message-Signature: i=51; a=rsa-sha256; d=hop.example; s=ed; h=from; bh=AAAA; b=AAAA",
			"ARC-Authentication-Results: i=51; hop.example; arc=pass",
		} {
			m = prepend(m, f)
		}
		res := verifyAt(t, z, m, recvTime)
		assert.Equal(t, Fail, res.Status)
		assert.ErrorIs(t, res.Err, ErrTooManySets)
		assert.Contains(t, res.Reason, "limit of 50")
	})
	t.Run("MaxSets lowers the limit", func(t *testing.T) {
		res, err := Verify(context.Background(), z, bytes.NewReader(msg), &Options{Time: recvTime, MaxSets: 10})
		require.NoError(t, err)
		assert.Equal(t, Fail, res.Status)
		assert.ErrorIs(t, res.Err, ErrTooManySets)
	})
	t.Run("a flood of ARC fields is cut short", func(t *testing.T) {
		var b strings.Builder
		for i := 0; i < 400; i++ {
			b.WriteString("ARC-Seal: i=1; cv=none\r\n")
		}
		res := verifyAt(t, z, append([]byte(b.String()), crlf(baseMsg)...), recvTime)
		assert.Equal(t, Fail, res.Status)
		assert.ErrorIs(t, res.Err, ErrTooManySets)
	})
}

func TestARCSealRoundTrip(t *testing.T) {
	lists := loadKey(t, "lists", "lists.example", "arc1")
	z := zoneOf(t, lists)
	base := crlf(baseMsg)
	for _, c := range []string{"relaxed/relaxed", "simple/simple", "relaxed/simple", "simple/relaxed"} {
		t.Run(c, func(t *testing.T) {
			h, body := split(t, base)
			out, err := Seal(h, bytes.NewReader(body), SealOptions{Domain: lists.domain, Selector: lists.selector, Signer: lists.signer,
				AuthServID: "lists.example", Canonicalization: c, Time: sealTime})
			require.NoError(t, err)
			msg := append(out, base...)
			res := verifyAt(t, z, msg, recvTime)
			assert.Equal(t, Pass, res.Status, res.Reason)
			// Refolding a signed field breaks simple header
			// canonicalization only.
			refolded := editField(t, msg, "Subject:", func(string) string { return "Subject: Quarterly\r\n numbers\r\n" })
			res = verifyAt(t, z, refolded, recvTime)
			if strings.HasPrefix(c, "simple") {
				assert.Equal(t, Fail, res.Status)
			} else {
				assert.Equal(t, Pass, res.Status, res.Reason)
			}
		})
	}
	t.Run("AAR consolidated from Authentication-Results", func(t *testing.T) {
		m := prepend(base, "Authentication-Results: lists.example; spf=pass smtp.mailfrom=origin.example;\r\n dkim=pass (2048-bit key; signed) header.d=origin.example")
		m = prepend(m, "Authentication-Results: other.example; dmarc=fail header.from=origin.example")
		m = prepend(m, "Authentication-Results: Lists.Example; dmarc=pass header.from=origin.example")
		sealed := sealMsg(t, m, lists, "lists.example", None, nil, sealTime)
		res := verifyAt(t, z, sealed, recvTime)
		require.Equal(t, Pass, res.Status, res.Reason)
		aar := firstField(t, sealed, "arc-authentication-results")
		assert.Contains(t, aar, "dmarc=pass header.from=origin.example")
		assert.Contains(t, aar, "dkim=pass (2048-bit key; signed) header.d=origin.example")
		assert.NotContains(t, aar, "dmarc=fail")
		require.Len(t, res.Sets[0].Results, 3, "spf, dkim and dmarc, parsed")
		assert.Equal(t, "lists.example", res.Sets[0].AuthServID)
	})
	t.Run("option errors", func(t *testing.T) {
		h, body := split(t, base)
		good := SealOptions{Domain: lists.domain, Selector: lists.selector, Signer: lists.signer, AuthServID: "lists.example"}
		for name, mod := range map[string]func(o *SealOptions){
			"no signer":         func(o *SealOptions) { o.Signer = nil },
			"bad domain":        func(o *SealOptions) { o.Domain = "bad domain" },
			"no authserv-id":    func(o *SealOptions) { o.AuthServID = "" },
			"signs ARC-Seal":    func(o *SealOptions) { o.Headers = []string{"from", "ARC-Seal"} },
			"signs A-R":         func(o *SealOptions) { o.Headers = []string{"from", "authentication-results"} },
			"pass without sets": func(o *SealOptions) { o.ChainStatus = Pass },
			"bad status":        func(o *SealOptions) { o.ChainStatus = "maybe" },
			"bad c=":            func(o *SealOptions) { o.Canonicalization = "loose" },
			"x= before t=":      func(o *SealOptions) { o.Time = sealTime; o.Expiration = sealTime.Add(-time.Hour) },
		} {
			o := good
			mod(&o)
			_, err := Seal(h, bytes.NewReader(body), o)
			assert.ErrorIs(t, err, ErrSealOptions, name)
		}
		sealed := sealMsg(t, base, lists, "lists.example", None, nil, sealTime)
		h2, body2 := split(t, sealed)
		o := good
		_, err := Seal(h2, bytes.NewReader(body2), o)
		assert.ErrorIs(t, err, ErrSealOptions, "none for a message with a chain")
	})
}

func firstField(t *testing.T, msg []byte, key string) string {
	t.Helper()
	h, _ := split(t, msg)
	f := h.First(key)
	require.NotNil(t, f, key)
	return arfield.Unfold(f.Value())
}

func TestARCResultAuthResult(t *testing.T) {
	for _, st := range []Status{None, Pass, Fail, ""} {
		r := Result{Status: st}.AuthResult()
		want := st
		if want == "" {
			want = None
		}
		// Formatted and parsed back, as a receiver's header carries it.
		header := authres.Format("mx.example", []authres.Result{r})
		assert.Equal(t, "mx.example; arc="+string(want), strings.TrimSpace(header))
		_, parsed, err := authres.Parse(header)
		require.NoError(t, err)
		require.Len(t, parsed, 1)
		assert.Equal(t, fmt.Sprintf("%v", want), fmt.Sprintf("%v", arcValue(parsed[0])))
	}
	var v *Verifier
	assert.Equal(t, None, v.Result().Status, "a nil verifier has no chain")
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
