package arfield

import "testing"

func TestAuthServID(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{" mx.example.com; spf=pass smtp.mailfrom=example.com", "mx.example.com"},
		{"MX.Example.COM 1; none", "mx.example.com"},
		{"\r\n\tmailtrust;\r\n\tdkim=pass", "mailtrust"},
		{" (forged (nested) comment) mailtrust; spf=pass", "mailtrust"},
		{` "mail trust"; none`, "mail trust"},
		{` "mailtrust\"x"; none`, `mailtrust"x`},
		{`mailtrust(comment); none`, "mailtrust"},
		{" ; spf=pass", ""},
		{"", ""},
		{" (unterminated comment mailtrust; none", ""},
		{` "unterminated; none`, ""},
		{"mailtrust.example.org;spf=pass", "mailtrust.example.org"},
	} {
		if got := AuthServID(c.in); got != c.want {
			t.Errorf("AuthServID(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func FuzzAuthServID(f *testing.F) {
	f.Add(" mx.example.com; spf=pass")
	f.Add(` (a) "b\"c" 1; none`)
	f.Fuzz(func(t *testing.T, s string) {
		id := AuthServID(s)
		// An id written back as the start of a field reads as itself.
		if id != "" && Token(id) == id {
			if got := AuthServID(" " + id + "; none"); got != id {
				t.Fatalf("round trip of %q: %q", id, got)
			}
		}
	})
}
