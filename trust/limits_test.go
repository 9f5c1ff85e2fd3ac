package trust_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mailtrust/mailtrust/arc"
	"github.com/mailtrust/mailtrust/dkim"
	"github.com/mailtrust/mailtrust/internal/testmail"
	"github.com/mailtrust/mailtrust/resolver"
	"github.com/mailtrust/mailtrust/resolver/resolvertest"
	"github.com/mailtrust/mailtrust/trust"
)

var (
	chainOnce sync.Once
	chain     [][]byte // chain[n]: the message with n valid ARC sets
	chainErr  error
)

// arcChain returns the example.com message sealed n times in a row by
// lists.example.net, 0 <= n <= 50, every set valid.
func arcChain(t *testing.T, w *world, n int) []byte {
	t.Helper()
	chainOnce.Do(func() {
		m := signedCom(t, w, msg("Alice <alice@example.com>"))
		chain = append(chain, m)
		for i := 1; i <= arc.DefaultMaxSets; i++ {
			cv := arc.Pass
			if i == 1 {
				cv = arc.None
			}
			m, chainErr = testmail.Seal(m, arc.SealOptions{
				Domain: w.list.Domain, Selector: w.list.Selector, Signer: w.list.Signer,
				AuthServID: w.list.Domain, AuthResults: []string{"spf=pass smtp.mailfrom=example.com"},
				ChainStatus: cv, Time: receipt.Add(-time.Duration(60-i) * time.Second),
			})
			if chainErr != nil {
				return
			}
			chain = append(chain, m)
		}
	})
	require.NoError(t, chainErr)
	return chain[n]
}

// TestARCSetsAtBoundary: a chain of MaxARCSets valid sets is verified, one
// more set is refused for its number before any key is asked (RFC 8617
// §5.2 step 1), and the limit cannot be raised above 50 (RFC 8617 §4.2.1).
func TestARCSetsAtBoundary(t *testing.T) {
	w := loadWorld(t)
	// A 51st set on top of 50 valid ones: Seal refuses to add it, so it
	// is written by hand.
	var b bytes.Buffer
	fmt.Fprintf(&b, "ARC-Seal: i=51; a=rsa-sha256; cv=pass; d=lists.example.net; s=arc1; t=1; b=AAAA\r\n")
	fmt.Fprintf(&b, "ARC-Message-Signature: i=51; a=rsa-sha256; c=relaxed/relaxed; d=lists.example.net; s=arc1; h=from; bh=AAAA; b=AAAA\r\n")
	fmt.Fprintf(&b, "ARC-Authentication-Results: i=51; lists.example.net; spf=pass\r\n")
	b.Write(arcChain(t, w, 50))
	fiftyOne := b.Bytes()

	cases := []struct {
		name  string
		limit int // Limits.MaxARCSets
		msg   []byte
		sets  int // the chain's sets
		pass  bool
	}{
		{"50 sets, default limit", 0, arcChain(t, w, 50), 50, true},
		{"51 sets, default limit", 0, fiftyOne, 51, false},
		{"51 sets, limit above the RFC's", 60, fiftyOne, 51, false},
		{"50 sets, limit 49", 49, arcChain(t, w, 50), 50, false},
		{"3 sets, limit 3", 3, arcChain(t, w, 3), 3, true},
		{"4 sets, limit 3", 3, arcChain(t, w, 4), 4, false},
		{"1 set, limit 1", 1, arcChain(t, w, 1), 1, true},
		{"2 sets, limit 1", 1, arcChain(t, w, 2), 2, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			conn := listConn
			conn.Time = receipt
			v, err := trust.New(&trust.Options{Resolver: w.zone, Limits: trust.Limits{MaxARCSets: c.limit}}).
				Evaluate(context.Background(), conn, bytes.NewReader(c.msg))
			require.NoError(t, err)
			if c.pass {
				require.Equal(t, "pass", string(v.ARC.Status), "arc: %s", v.ARC.Reason)
				require.Len(t, v.ARC.Sets, c.sets)
				require.False(t, v.Has(trust.TooManyARC))
				return
			}
			require.Equal(t, "fail", string(v.ARC.Status))
			require.ErrorIs(t, v.ARC.Err, arc.ErrTooManySets, "arc: %s", v.ARC.Reason)
			require.Equal(t, c.sets, v.ARC.FailedInstance)
			require.True(t, v.Has(trust.TooManyARC), "%v", reasonCodes(v))
		})
	}
}

// TestDNSBudgetAtBoundary: an evaluation that asks N distinct questions
// completes with a budget of N and is refused the last one with N-1
// (resolver.Memo counts distinct questions, answered or not, and the round
// trips of a Client beyond the first of each: a Zone makes none).
func TestDNSBudgetAtBoundary(t *testing.T) {
	w := loadWorld(t)
	m := signedCom(t, w, msg("Alice <alice@example.com>"))
	eval := func(t *testing.T, r resolver.Resolver, budget int) *trust.Verdict {
		t.Helper()
		conn := legitConn
		conn.Time = receipt
		v, err := trust.New(&trust.Options{Resolver: r, Limits: trust.Limits{MaxDNSQueries: budget}}).
			Evaluate(context.Background(), conn, bytes.NewReader(m))
		require.NoError(t, err)
		return v
	}
	// What the evaluation asks when nothing limits it, seen from below.
	seen := resolver.NewMemo(w.zone, 10000)
	free := eval(t, seen, 10000)
	n := seen.Queries()
	require.Greater(t, n, 5, "questions: %v", seen.Log())
	require.False(t, free.Has(trust.DNSBudget))
	require.Equal(t, "pass", string(free.DMARC.Status))

	for i := 0; i < 3; i++ { // the set of questions does not depend on timing
		exact := resolver.NewMemo(w.zone, 10000)
		v := eval(t, exact, n)
		require.Equal(t, n, exact.Queries(), "questions: %v", exact.Log())
		require.False(t, v.Has(trust.DNSBudget), "%v", reasonCodes(v))
		require.Equal(t, free.Level, v.Level)
		require.Equal(t, free.Score, v.Score)

		short := resolver.NewMemo(w.zone, 10000)
		v = eval(t, short, n-1)
		require.Equal(t, n-1, short.Queries(), "the question over budget is never asked upstream")
		require.True(t, v.Has(trust.DNSBudget), "%v", reasonCodes(v))
	}
}

// TestDeadlineOverTheWire: with a server that answers nothing, the
// caller's deadline, or Limits.Timeout without one, ends the evaluation on
// time, with every DNS check temperror and the verdict incomplete.
func TestDeadlineOverTheWire(t *testing.T) {
	w := loadWorld(t)
	m := signedCom(t, w, msg("Alice <alice@example.com>"))
	// Every question the evaluation asks, learned from the zone.
	seen := resolver.NewMemo(w.zone, 10000)
	conn := legitConn
	conn.Time = receipt
	_, err := trust.New(&trust.Options{Resolver: seen}).Evaluate(context.Background(), conn, bytes.NewReader(m))
	require.NoError(t, err)

	const deadline = 300 * time.Millisecond
	cases := []struct {
		name    string
		ctx     bool // deadline from the caller's context, else Limits.Timeout
		timeout time.Duration
	}{
		{"context deadline", true, 0},
		{"Limits.Timeout", false, deadline},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			srv := resolvertest.Start(t, w.zone)
			for _, q := range seen.Log() {
				srv.Drop(q.Name)
			}
			// A client that would wait far longer than the deadline.
			client := &resolver.Client{Servers: []string{srv.Addr()}, Timeout: 10 * time.Second, Retries: 3}
			ctx := context.Background()
			if c.ctx {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, deadline)
				defer cancel()
			}
			start := time.Now()
			v, err := trust.New(&trust.Options{Resolver: client, Limits: trust.Limits{Timeout: c.timeout}}).
				Evaluate(ctx, conn, bytes.NewReader(m))
			took := time.Since(start)
			require.NoError(t, err)
			require.GreaterOrEqual(t, took, deadline-10*time.Millisecond)
			require.Less(t, took, deadline+700*time.Millisecond, "the deadline ends the evaluation")
			require.True(t, v.Incomplete)
			require.True(t, v.Has(trust.Deadline), "%v", reasonCodes(v))
			require.Equal(t, "temperror", string(v.PTR.Status))
			require.Equal(t, "temperror", string(v.HELO.Status))
			require.Equal(t, "temperror", string(v.SPF.Status))
			require.Equal(t, "temperror", string(v.DKIM[0].Status))
			require.Equal(t, "temperror", string(v.DMARC.Status))
			require.Contains(t, []trust.Level{trust.Trusted, trust.Neutral}, v.Level,
				"nothing failed, nothing is judged: %v", reasonCodes(v))
			require.Positive(t, srv.Total(), "the questions reached the server")
		})
	}
}

// TestLimitDefaults: the zero Limits mean the documented defaults, each
// accepting its boundary value and refusing one more.
func TestLimitDefaults(t *testing.T) {
	w := loadWorld(t)
	signed := signedCom(t, w, msg("Alice <alice@example.com>"))
	head := bytes.Index(signed, []byte("\r\n\r\n")) + 4 // header block octets, blank line included
	fields := 0
	for _, line := range bytes.SplitAfter(signed[:head-2], []byte("\r\n")) {
		if len(line) > 0 && line[0] != ' ' && line[0] != '\t' {
			fields++
		}
	}
	// filler returns header fields of n octets in all, none longer than
	// 60 000 octets a line.
	filler := func(n int) []byte {
		var b bytes.Buffer
		for i := 0; n > 0; i++ {
			size := min(n, 60000)
			if rest := n - size; rest > 0 && rest < 20 {
				size -= 20
			}
			fmt.Fprintf(&b, "X-Pad-%03d: ", i)
			b.Write(bytes.Repeat([]byte("a"), size-len("X-Pad-000: \r\n")))
			b.WriteString("\r\n")
			n -= size
		}
		return b.Bytes()
	}
	fieldsOf := func(n int) []byte {
		var b bytes.Buffer
		for i := 0; i < n; i++ {
			fmt.Fprintf(&b, "X-Filler-%d: %d\r\n", i, i)
		}
		return b.Bytes()
	}
	line := func(n int) []byte { // one field whose line has n octets before CRLF
		return []byte("X-Long: " + strings.Repeat("a", n-len("X-Long: ")) + "\r\n")
	}
	nine := signed
	for i := 0; i < 8; i++ {
		nine = sign(t, nine, w.com, nil)
	}
	eight := nine[bytes.Index(nine, []byte("\r\nDKIM-Signature:"))+2:]

	cases := []struct {
		name    string
		msg     []byte
		limited bool
		code    trust.Code
	}{
		{"1000 header fields", append(fieldsOf(1000-fields), signed...), false, trust.HeaderLimit},
		{"1001 header fields", append(fieldsOf(1001-fields), signed...), true, trust.HeaderLimit},
		{"1 MiB header block", append(filler(1<<20-head), signed...), false, trust.HeaderLimit},
		{"1 MiB and 1 octet", append(filler(1<<20-head+1), signed...), true, trust.HeaderLimit},
		{"64 KiB line", append(line(64<<10), signed...), false, trust.HeaderLimit},
		{"64 KiB and 1 octet line", append(line(64<<10+1), signed...), true, trust.HeaderLimit},
		{"8 DKIM signatures", eight, false, trust.TooManyDKIM},
		{"9 DKIM signatures", nine, true, trust.TooManyDKIM},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			conn := legitConn
			conn.Time = receipt
			v, err := trust.New(&trust.Options{Resolver: w.zone}).Evaluate(context.Background(), conn, bytes.NewReader(c.msg))
			require.NoError(t, err)
			require.Equal(t, c.limited, v.Has(c.code), "%v", reasonCodes(v))
			if c.code == trust.HeaderLimit {
				// A header block cut short is no signed header block.
				require.Equal(t, c.limited, len(v.DKIM) == 0, "dkim: %+v", v.DKIM)
			}
			if c.code == trust.TooManyDKIM {
				pass := 0
				for _, d := range v.DKIM {
					if d.Status == "pass" {
						pass++
					}
				}
				require.Equal(t, trust.DefaultMaxDKIMSignatures, pass, "the first 8 are verified")
			}
		})
	}
}

// TestBodyLimit: Limits.MaxBodyBytes. A body at the limit is read and
// verified in full; one octet more and the rest is not read: the
// signature covering it is neutral, not verified, and the verdict says
// message.body-limit. A signature whose l= ends before the limit still
// verifies.
func TestBodyLimit(t *testing.T) {
	w := loadWorld(t)
	body := strings.Repeat("Please pay the attached invoice.\n", 100)
	m := testmail.CRLF(strings.TrimSuffix(msg("Alice <alice@example.com>"), "Please pay the attached invoice.\n") + body)
	whole := sign(t, m, w.com, nil)
	bodyLen := int64(len(whole) - bytes.Index(whole, []byte("\r\n\r\n")) - 4)
	short := sign(t, m, w.com, func(o *testmail.SignOptions) { o.Limit, o.BodyLength = true, 200 })
	cases := []struct {
		name   string
		msg    []byte
		limit  int64
		status string
		over   bool
	}{
		{"at the limit", whole, bodyLen, "pass", false},
		{"one octet over", whole, bodyLen - 1, "neutral", true},
		{"far over", whole, 10, "neutral", true},
		{"default limit", whole, 0, "pass", false},
		{"l= within the limit", short, 300, "pass", true},
		{"l= beyond the limit", short, 100, "neutral", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			conn := legitConn
			conn.Time = receipt
			v, err := trust.New(&trust.Options{Resolver: w.zone, Limits: trust.Limits{MaxBodyBytes: c.limit}}).
				Evaluate(context.Background(), conn, bytes.NewReader(c.msg))
			require.NoError(t, err)
			require.Len(t, v.DKIM, 1)
			require.Equal(t, c.status, string(v.DKIM[0].Status), "dkim: %s", v.DKIM[0].Reason)
			require.Equal(t, c.over, v.Has(trust.BodyLimit), "%v", reasonCodes(v))
			if c.status == "neutral" {
				require.ErrorIs(t, v.DKIM[0].Err, dkim.ErrBodyLimit)
			}
		})
	}
}

// endlessBody is a message body of n octets of short lines, made as it is
// read.
type endlessBody struct {
	n    int64
	line []byte
	off  int
}

func (b *endlessBody) Read(p []byte) (int, error) {
	if b.n <= 0 {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), b.n)]
	for n := 0; n < len(p); {
		c := copy(p[n:], b.line[b.off:])
		n += c
		b.off = (b.off + c) % len(b.line)
	}
	b.n -= int64(len(p))
	return len(p), nil
}

// TestBodyDeadline: the deadline covers the body. A 1 GiB body signed
// nine ways (relaxed and simple, l= and none: several hashers) is cut
// when Limits.Timeout ends, checked per chunk: the evaluation returns on
// time, incomplete, and the signatures it could not hash are temperror,
// not fail.
func TestBodyDeadline(t *testing.T) {
	w := loadWorld(t)
	m := signedCom(t, w, msg("Alice <alice@example.com>"))
	for i, canon := range []string{"simple/simple", "relaxed/simple", "simple/relaxed"} {
		m = sign(t, m, w.com, func(o *testmail.SignOptions) { o.Canon = canon; o.Limit, o.BodyLength = i > 0, int64(10+i) })
	}
	head := m[:bytes.Index(m, []byte("\r\n\r\n"))+4]
	body := &endlessBody{n: 1 << 30, line: []byte("Please pay the attached invoice, all of it, today.\r\n")}
	const timeout = 300 * time.Millisecond
	conn := legitConn
	conn.Time = receipt
	start := time.Now()
	v, err := trust.New(&trust.Options{Resolver: w.zone, Limits: trust.Limits{Timeout: timeout, MaxBodyBytes: 2 << 30}}).
		Evaluate(context.Background(), conn, io.MultiReader(bytes.NewReader(head), body))
	took := time.Since(start)
	require.NoError(t, err)
	t.Logf("returned after %v, %d MiB of the body read", took, (1<<30-body.n)>>20)
	// Hashing all of it takes seconds; a loaded machine may delay the
	// end by some hundred milliseconds.
	require.Less(t, took, timeout+2*time.Second, "the deadline ends the body")
	require.Positive(t, body.n, "the body was not read to its end")
	require.True(t, v.Incomplete)
	require.True(t, v.Has(trust.Deadline), "%v", reasonCodes(v))
	require.False(t, v.Has(trust.BodyLimit))
	require.Len(t, v.DKIM, 4)
	for _, d := range v.DKIM {
		if d.BodyLength >= 0 {
			// l= of a few octets: hashed before the deadline.
			require.NotEqual(t, "temperror", string(d.Status), "%s", d.Reason)
			continue
		}
		require.Equal(t, "temperror", string(d.Status), "%s", d.Reason)
		require.ErrorIs(t, d.Err, dkim.ErrBodyUnread)
	}
}
