package arfield

import (
	"strings"
	"testing"

	"github.com/emersion/go-msgauth/authres"
)

func TestFormat(t *testing.T) {
	tests := []struct {
		name string
		rs   []authres.Result
		want string
	}{
		{"none", nil, "mx.example; none"},
		{"spf mailfrom", []authres.Result{&authres.SPFResult{Value: authres.ResultPass, Reason: "matched mx", From: "bob@example.com"}},
			`mx.example; spf=pass reason="matched mx" smtp.mailfrom=bob@example.com`},
		{"spf helo, no reason", []authres.Result{&authres.SPFResult{Value: authres.ResultNone, Helo: "mail.example.com"}},
			`mx.example; spf=none smtp.helo=mail.example.com`},
		{"no properties, no trailing space", []authres.Result{&authres.DMARCResult{Value: authres.ResultNone}, &authres.IPRevResult{Value: authres.ResultPermError}},
			`mx.example; dmarc=none; iprev=permerror`},
		{"generic: reason first, then sorted, empty left out", []authres.Result{&authres.GenericResult{Method: "dkim", Value: authres.ResultPass,
			Params: map[string]string{"header.s": "sel", "header.d": "example.com", "reason": "ok", "header.i": "", "header.b": "abcd/EFG"}}},
			`mx.example; dkim=pass reason=ok header.b=abcd/EFG header.d=example.com header.s=sel`},
		{"arc has its method name", []authres.Result{&authres.ARCResult{Value: authres.ResultPass, RemoteIP: "192.0.2.1", OldestPass: 2}},
			`mx.example; arc=pass header.oldest-pass=2 smtp.remote-ip=192.0.2.1`},
		{"quoted reason escapes quote and backslash", []authres.Result{&authres.DMARCResult{Value: authres.ResultFail, Reason: `a "b" \c`}},
			`mx.example; dmarc=fail reason="a \"b\" \\c"`},
		{"pvalue that is not address-like is quoted", []authres.Result{&authres.DMARCResult{Value: authres.ResultFail, From: "a b(c)"}},
			`mx.example; dmarc=fail header.from="a b(c)"`},
		{"backslash never bare", []authres.Result{&authres.IPRevResult{Value: authres.ResultPass, IP: `a\b`}},
			`mx.example; iprev=pass policy.iprev="a\\b"`},
		{"unicode letters stay bare", []authres.Result{&authres.DMARCResult{Value: authres.ResultPass, From: "bücher.example"}},
			`mx.example; dmarc=pass header.from=bücher.example`},
		{"auth", []authres.Result{&authres.AuthResult{Value: authres.ResultPass, Auth: "alice"}},
			`mx.example; auth=pass smtp.auth=alice`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Format("mx.example", tc.rs)
			if got != tc.want {
				t.Errorf("Format:\n got %s\nwant %s", got, tc.want)
			}
			// What is written parses back to the same results.
			id, back, err := authres.Parse(got)
			if err != nil || id != "mx.example" || len(back) != len(tc.rs) {
				t.Fatalf("Parse(%q) = %q, %d results, %v", got, id, len(back), err)
			}
		})
	}
}

// TestFormatAgreesWithAuthres: where go-msgauth's formatter is right (no
// ARC result, no backslash), both write the same field but for the space
// it leaves after a result without properties.
func TestFormatAgreesWithAuthres(t *testing.T) {
	values := []string{"", "x", "example.com", "bob@example.com", "two words", "a=b", "p;q", "(c)", "ünï", "x/y", `say "hi"`}
	for _, v := range values {
		rs := []authres.Result{
			&authres.SPFResult{Value: authres.ResultSoftFail, Reason: v, From: v},
			&authres.SPFResult{Value: authres.ResultPass, Helo: v},
			&authres.DKIMResult{Value: authres.ResultPass, Reason: v, Domain: v, Identifier: v},
			&authres.GenericResult{Method: "dkim", Value: authres.ResultNeutral, Params: map[string]string{"reason": v, "header.d": v, "header.a": "rsa-sha256", "header.s": v}},
			&authres.DMARCResult{Value: authres.ResultFail, Reason: v, From: v},
			&authres.IPRevResult{Value: authres.ResultTempError, Reason: v, IP: v},
			&authres.DomainKeysResult{Value: authres.ResultNone, Reason: v, Domain: v, From: v, Sender: v},
			&authres.SenderIDResult{Value: authres.ResultPass, Reason: v, HeaderKey: "From", HeaderValue: v},
			&authres.AuthResult{Value: authres.ResultPass, Auth: v},
		}
		want := strings.ReplaceAll(authres.Format("mx.example", rs), " ;", ";")
		want = strings.TrimSuffix(want, " ")
		if got := Format("mx.example", rs); got != want {
			t.Errorf("value %q:\n got %s\nwant %s", v, got, want)
		}
	}
}

func BenchmarkFormat(b *testing.B) {
	rs := []authres.Result{
		&authres.SPFResult{Value: authres.ResultPass, Reason: "matched mx", From: "bob@example.com"},
		&authres.GenericResult{Method: "dkim", Value: authres.ResultPass, Params: map[string]string{"header.d": "example.com", "header.s": "sel", "header.a": "rsa-sha256", "header.b": "abcdEFGH", "header.i": "@example.com"}},
		&authres.DMARCResult{Value: authres.ResultPass, Reason: "aligned dkim", From: "example.com"},
		&authres.IPRevResult{Value: authres.ResultPass, IP: "192.0.2.10"},
	}
	b.Run("arfield", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			Format("mx.example", rs)
		}
	})
	b.Run("authres", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			authres.Format("mx.example", rs)
		}
	})
}

// FuzzFormat: whatever the sender controls (a reason, a d=, a selector, an
// SMTP identity), once made safe as the checks do, Format writes a field
// that parses back to exactly the results given, with the values given.
func FuzzFormat(f *testing.F) {
	f.Add("matched mx", "example.com", "sel", "bob@example.com")
	f.Add(`x"; dkim=pass`, "a b", `s\"`, "\r\nX: 1")
	f.Add("(c)", "é.example", "=", "@")
	f.Fuzz(func(t *testing.T, reason, d, s, mailfrom string) {
		rs := []authres.Result{
			&authres.SPFResult{Value: authres.ResultPass, Reason: Reason(reason), From: Token(mailfrom)},
			&authres.GenericResult{Method: "dkim", Value: authres.ResultFail, Params: map[string]string{
				"reason": Reason(reason), "header.d": Value(d), "header.s": Value(s)}},
			&authres.DMARCResult{Value: authres.ResultNone, Reason: Reason(reason), From: Value(d)},
		}
		h := Format("mx.example", rs)
		if strings.ContainsAny(h, "\r\n\x00") {
			t.Fatalf("line break or NUL written: %q", h)
		}
		id, back, err := authres.Parse(h)
		if err != nil || id != "mx.example" || len(back) != len(rs) {
			t.Fatalf("%q: %q, %d results, %v", h, id, len(back), err)
		}
		spf, ok := back[0].(*authres.SPFResult)
		if !ok || spf.Value != authres.ResultPass || unquote(spf.From) != Token(mailfrom) {
			t.Fatalf("%q: spf read back as %#v", h, back[0])
		}
		dk, ok := back[1].(*authres.DKIMResult)
		if !ok || dk.Value != authres.ResultFail || unquote(dk.Domain) != Value(d) {
			t.Fatalf("%q: dkim read back as %#v", h, back[1])
		}
		dm, ok := back[2].(*authres.DMARCResult)
		if !ok || dm.Value != authres.ResultNone || unquote(dm.From) != Value(d) {
			t.Fatalf("%q: dmarc read back as %#v", h, back[2])
		}
	})
}

// unquote undoes a quoted-string, which go-msgauth's parser leaves quoted
// in property values.
func unquote(s string) string {
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return s
	}
	var b strings.Builder
	for i := 1; i < len(s)-1; i++ {
		if s[i] == '\\' && i+1 < len(s)-1 {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
