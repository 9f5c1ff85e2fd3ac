package trust_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mailtrust/mailtrust/internal/testmail"
	"github.com/mailtrust/mailtrust/resolver"
	"github.com/mailtrust/mailtrust/trust"
)

// TestHostileInput feeds inputs written to break parsers: each gets a
// verdict (never a panic, never a hang) with the expected level and reason.
func TestHostileInput(t *testing.T) {
	w := loadWorld(t)
	signed := signedCom(t, w, msg("Alice <alice@example.com>"))
	binary := make([]byte, 64<<10)
	_, _ = rand.Read(binary)
	binary[0] = 0xff // not a header field name

	manyDKIM := func(n int) []byte {
		var b bytes.Buffer
		for i := 0; i < n; i++ {
			fmt.Fprintf(&b, "DKIM-Signature: v=1; a=rsa-sha256; d=example.com; s=s%d; h=from; bh=AAAA; b=AAAA\r\n", i)
		}
		b.Write(signed)
		return b.Bytes()
	}
	manyHeaders := func(n int) []byte {
		var b bytes.Buffer
		for i := 0; i < n; i++ {
			fmt.Fprintf(&b, "X-Filler-%d: %d\r\n", i, i)
		}
		b.Write(signed)
		return b.Bytes()
	}
	arcSets := func(n int) []byte {
		var b bytes.Buffer
		for i := n; i >= 1; i-- {
			cv := "pass"
			if i == 1 {
				cv = "none"
			}
			fmt.Fprintf(&b, "ARC-Seal: i=%d; a=rsa-sha256; cv=%s; d=lists.example.net; s=arc1; t=1; b=AAAA\r\n", i, cv)
			fmt.Fprintf(&b, "ARC-Message-Signature: i=%d; a=rsa-sha256; c=relaxed/relaxed; d=lists.example.net; s=arc1; h=from; bh=AAAA; b=AAAA\r\n", i)
			fmt.Fprintf(&b, "ARC-Authentication-Results: i=%d; lists.example.net; spf=pass\r\n", i)
		}
		b.Write(signed)
		return b.Bytes()
	}

	// Input that is no message is judged on that alone: one reason, no
	// check run, no result in the A-R field.
	notAMessage := func(t *testing.T, v *trust.Verdict) {
		require.Len(t, v.Reasons, 1, "%v", reasonCodes(v))
		require.Equal(t, trust.NotAMessage, v.Reasons[0].Code)
		require.NotEmpty(t, v.Reasons[0].Detail)
		require.Equal(t, v.Reasons[0].Weight, v.Score)
		require.Empty(t, v.DKIM)
		require.Equal(t, "Authentication-Results: mailtrust; none", v.AuthenticationResults)
	}
	cases := []struct {
		name   string
		msg    []byte
		levels []trust.Level
		code   trust.Code
		check  func(t *testing.T, v *trust.Verdict)
	}{
		{"empty input", nil, bad, trust.NotAMessage, notAMessage},
		{"binary input", binary, bad, trust.NotAMessage, notAMessage},
		{"a text file", []byte("Dear Bob,\r\nlunch on Friday?\r\n"), bad, trust.NotAMessage, notAMessage},
		{"a note that parses as a field", []byte("Note: buy milk\r\n\r\nand bread\r\n"), bad, trust.NotAMessage, notAMessage},
		{"benign twin: a bare message with a Subject only", []byte("Subject: hi\r\n\r\nhello\r\n"), nil, trust.FromMissing,
			func(t *testing.T, v *trust.Verdict) { require.False(t, v.Has(trust.NotAMessage)) }},
		{"missing From", testmail.CRLF(msg("")), bad, trust.FromMissing, nil},
		{"two From", append([]byte("From: x@evil.test\r\n"), signed...), bad, trust.FromMultiple, nil},
		{"From with two addresses", testmail.CRLF(msg("a@example.com, b@evil.test")), bad, trust.FromMultipleAddrs, nil},
		{"From with comment hiding a domain", testmail.CRLF(msg("x@evil.test (alice@example.com)")), bad, trust.FromDisplayAddress, nil},
		{"NUL in a header", bytes.Replace(signed, []byte("Subject: Invoice"), []byte("Subject: Inv\x00oice"), 1), nil, trust.HeaderNUL, nil},
		{"8-bit bytes in a header", bytes.Replace(signed, []byte("Subject: Invoice"), []byte("Subject: Rechnung f\xfcr Sie"), 1), good, "",
			func(t *testing.T, v *trust.Verdict) {
				require.Equal(t, "fail", string(v.DKIM[0].Status), "the signed Subject changed")
			}},
		{"NUL in DKIM d=", bytes.Replace(signed, []byte("d=example.com"), []byte("d=example.com\x00.evil.test"), 1), nil, trust.DKIMBadName, nil},
		{"8-bit in DKIM d=", bytes.Replace(signed, []byte("d=example.com"), []byte("d=ex\xe4mple.com"), 1), nil, trust.DKIMBadName, nil},
		{"bare LF line endings", bytes.ReplaceAll(signed, []byte("\r\n"), []byte("\n")), good, "",
			func(t *testing.T, v *trust.Verdict) { require.Equal(t, "pass", string(v.DKIM[0].Status)) }},
		{"bare CR in the header", bytes.Replace(signed, []byte("Subject: Invoice"), []byte("Subject: Invoice\rFrom: x@evil.test"), 1), nil, trust.BareCRHeader, nil},
		{"1 MB header line", append([]byte("X-Long: "+strings.Repeat("a", 1<<20)+"\r\n"), signed...), bad, trust.HeaderLimit, nil},
		{"10 000 headers", manyHeaders(10000), bad, trust.HeaderLimit, nil},
		{"1 000 DKIM signatures", manyDKIM(999), nil, trust.TooManyDKIM,
			func(t *testing.T, v *trust.Verdict) {
				require.Equal(t, 1000, len(v.DKIM), "every signature is reported")
				verified := 0
				for _, d := range v.DKIM {
					if d.Status != "neutral" {
						verified++
					}
				}
				require.Equal(t, trust.DefaultMaxDKIMSignatures, verified, "only the cap is verified")
			}},
		{"ARC chain of 51 sets", arcSets(51), nil, trust.TooManyARC,
			func(t *testing.T, v *trust.Verdict) { require.Equal(t, "fail", string(v.ARC.Status)) }},
	}
	// Room for 1 000 DKIM-Signature fields; 10 000 headers still exceed it.
	limits := trust.Limits{MaxHeaderFields: 2000}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			conn := legitConn
			conn.Time = receipt
			v, err := trust.New(&trust.Options{Resolver: w.zone, Limits: limits}).Evaluate(ctx, conn, bytes.NewReader(c.msg))
			require.NoError(t, err)
			require.NotNil(t, v)
			if c.levels != nil {
				require.Contains(t, c.levels, v.Level, "score %.2f reasons %v", v.Score, reasonCodes(v))
			}
			if c.code != "" {
				require.True(t, v.Has(c.code), "want %s, got %v", c.code, reasonCodes(v))
			}
			if c.check != nil {
				c.check(t, v)
			}
		})
	}
}

var (
	bad  = []trust.Level{trust.Suspicious, trust.Untrusted}
	good = []trust.Level{trust.Trusted, trust.Neutral}
)

// TestLimitsAtBoundary: each configurable limit accepts its boundary value
// and refuses one more.
func TestLimitsAtBoundary(t *testing.T) {
	w := loadWorld(t)
	signed := signedCom(t, w, msg("Alice <alice@example.com>"))
	fields := bytes.Count(signed[:bytes.Index(signed, []byte("\r\n\r\n"))+2], []byte("\r\n")) -
		bytes.Count(signed[:bytes.Index(signed, []byte("\r\n\r\n"))], []byte("\r\n\t"))
	headerBytes := bytes.Index(signed, []byte("\r\n\r\n")) + 4
	eval := func(t *testing.T, lim trust.Limits, m []byte) *trust.Verdict {
		t.Helper()
		conn := legitConn
		conn.Time = receipt
		v, err := trust.New(&trust.Options{Resolver: w.zone, Limits: lim}).Evaluate(context.Background(), conn, bytes.NewReader(m))
		require.NoError(t, err)
		return v
	}
	t.Run("header fields", func(t *testing.T) {
		require.False(t, eval(t, trust.Limits{MaxHeaderFields: fields}, signed).Has(trust.HeaderLimit))
		require.True(t, eval(t, trust.Limits{MaxHeaderFields: fields - 1}, signed).Has(trust.HeaderLimit))
	})
	t.Run("header bytes", func(t *testing.T) {
		require.False(t, eval(t, trust.Limits{MaxHeaderBytes: headerBytes}, signed).Has(trust.HeaderLimit))
		require.True(t, eval(t, trust.Limits{MaxHeaderBytes: headerBytes - 1}, signed).Has(trust.HeaderLimit))
	})
	t.Run("line length", func(t *testing.T) {
		long := append([]byte("X-Long: "+strings.Repeat("a", 990)+"\r\n"), signed...)
		// 998 octets without the line ending (RFC 5322 §2.1.1 counts so).
		require.False(t, eval(t, trust.Limits{MaxLineLength: 998}, long).Has(trust.HeaderLimit))
		require.True(t, eval(t, trust.Limits{MaxLineLength: 997}, long).Has(trust.HeaderLimit))
	})
	t.Run("dkim signatures", func(t *testing.T) {
		two := sign(t, signed, w.com, nil)
		v := eval(t, trust.Limits{MaxDKIMSignatures: 2}, two)
		require.Equal(t, "pass", string(v.DKIM[1].Status))
		require.False(t, v.Has(trust.TooManyDKIM))
		v = eval(t, trust.Limits{MaxDKIMSignatures: 1}, two)
		require.Equal(t, "neutral", string(v.DKIM[1].Status))
		require.True(t, v.Has(trust.TooManyDKIM))
	})
	t.Run("dns queries", func(t *testing.T) {
		base := eval(t, trust.Limits{}, signed)
		require.False(t, base.Has(trust.DNSBudget))
		v := eval(t, trust.Limits{MaxDNSQueries: 3}, signed)
		require.True(t, v.Has(trust.DNSBudget))
	})
}

// TestDeadline: a context deadline ends an evaluation on time with a
// partial, incomplete verdict, even when DNS never answers.
func TestDeadline(t *testing.T) {
	w := loadWorld(t)
	z := resolver.NewZone()
	z.Timeout = time.Hour
	for _, n := range []string{"example.com.", "_dmarc.example.com.", "sel1._domainkey.example.com.", "10.2.0.192.in-addr.arpa.", "mail.example.com."} {
		z.SetFault(n, resolver.FaultTimeout)
	}
	m := signedCom(t, w, msg("Alice <alice@example.com>"))
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	conn := legitConn
	conn.Time = receipt
	v, err := trust.New(&trust.Options{Resolver: z}).Evaluate(ctx, conn, bytes.NewReader(m))
	require.NoError(t, err)
	require.Less(t, time.Since(start), 2*time.Second)
	require.True(t, v.Incomplete)
	require.True(t, v.Has(trust.Deadline), "%v", reasonCodes(v))
	require.Equal(t, "temperror", string(v.SPF.Status))
}
