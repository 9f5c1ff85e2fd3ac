package arfield

import (
	"reflect"
	"strings"
	"testing"
)

// FuzzParse: Parse reads the authserv-id as AuthServID does (the reader
// and the remover of a receiver's fields agree on whose a field is); the
// id is lower case and no longer than the field; a field with no id gives
// no results; and where Format can write what Parse read without quoting
// (a token id, no quoted value), parsing the formatted field gives the
// same id and as many results, formatting those gives the same field, and
// parsing it the same results.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		" mx.google.com;\r\n       dkim=pass header.i=@example.com header.s=s1 header.b=abcdEFGH;\r\n       spf=pass (google.com: domain of bounce@example.com designates 192.0.2.1 as permitted sender) smtp.mailfrom=bounce@example.com;\r\n       dmarc=pass (p=REJECT sp=REJECT dis=NONE) header.from=example.com",
		" spf=pass (sender IP is 192.0.2.1) smtp.mailfrom=example.com; dkim=pass (signature was verified) header.d=example.com;dmarc=pass action=none header.from=example.com;compauth=pass reason=100",
		"mx.example.net 1; none",
		"mx.example.net; iprev=pass policy.iprev=192.0.2.1; auth=pass smtp.auth=user@example.net",
		"mx.example.net; arc=pass header.oldest-pass=1 smtp.remote-ip=192.0.2.1",
		"\"quoted.example\"; spf=fail",
		"\u00a0mx.example.net; spf=pass",
		"; mx.example.net; dmarc=pass",
		"(comment; with) mx.example.net (x) 1; dkim=pass reason=\"a; b\" header.d=example.com",
		"mx.example.net; x-custom=pass x.y=\"\\\"\"; dkim=neutral header.d=a(b)c",
		"mx.example.net; spf=pass smtp.mailfrom=\"unterminated",
		"((((((((((((",
		"\"\\",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, payload string) {
		id, rs := Parse(payload)
		if id != AuthServID(payload) {
			t.Fatalf("Parse(%q) reads the id %q, AuthServID %q", payload, id, AuthServID(payload))
		}
		if id != lowerASCII(id) || len(id) > len(payload) {
			t.Fatalf("Parse(%q): id %q", payload, id)
		}
		if id == "" && len(rs) > 0 {
			t.Fatalf("Parse(%q): results %v of no one", payload, rs)
		}
		if id2, rs2 := Parse(payload); id2 != id || !reflect.DeepEqual(rs, rs2) {
			t.Fatalf("Parse(%q) not deterministic", payload)
		}
		if id == "" || Token(id) != id {
			return // Format writes the id as given: only a token reads back
		}
		s := Format(id, rs)
		if strings.ContainsAny(s, `"()\`) {
			// go-msgauth keeps the quotes of a value it reads; a comment
			// character comes only from a method or result that is no
			// keyword, which Format writes as given.
			return
		}
		// Format leaves out empty properties that Parse keeps, so the
		// results compare from the first formatted field on.
		id2, rs2 := Parse(s)
		if id2 != id || len(rs2) != len(rs) {
			t.Fatalf("Parse(%q) = %q, %d results; formatted %q parses to %q, %d results", payload, id, len(rs), s, id2, len(rs2))
		}
		s2 := Format(id2, rs2)
		if s2 != s {
			t.Fatalf("Format is not a fixpoint: %q then %q", s, s2)
		}
		if id3, rs3 := Parse(s2); id3 != id2 || !reflect.DeepEqual(rs2, rs3) {
			t.Fatalf("%q parses to %q %#v, then %q %#v", s2, id2, rs2, id3, rs3)
		}
	})
}
