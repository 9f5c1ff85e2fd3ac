package dkim

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseTagList(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want TagList // nil: error
	}{
		{"simple", "v=1; a=rsa-sha256", TagList{{"v", "1"}, {"a", "rsa-sha256"}}},
		{"trailing semicolon", "v=1; a=b;", TagList{{"v", "1"}, {"a", "b"}}},
		{"trailing semicolon and FWS", "v=1;\r\n \t", TagList{{"v", "1"}}},
		{"FWS around name and value", " v \r\n\t= 1 ;\r\n d = example.com ", TagList{{"v", "1"}, {"d", "example.com"}}},
		{"inner FWS kept", "b=abc\r\n def", TagList{{"b", "abc\r\n def"}}},
		{"empty value", "p=", TagList{{"p", ""}}},
		{"empty value then more", "p=; k=rsa", TagList{{"p", ""}, {"k", "rsa"}}},
		{"value with equals", "z=From:a=3Db", TagList{{"z", "From:a=3Db"}}},
		{"underscore and digits in name", "x_1=y", TagList{{"x_1", "y"}}},
		{"case-sensitive names", "a=1; A=2", TagList{{"a", "1"}, {"A", "2"}}},
		{"empty", "", nil},
		{"only FWS", " \r\n ", nil},
		{"only semicolon", ";", nil},
		{"empty tag-spec inside", "a=1;;b=2", nil},
		{"leading semicolon", ";a=1", nil},
		{"no equals", "a=1; b", nil},
		{"empty name", "=1", nil},
		{"name starts with digit", "1a=1", nil},
		{"name with dash", "a-b=1", nil},
		{"name with inner space", "a b=1", nil},
		{"duplicate", "d=a; s=b; d=c", nil},
		{"two semicolons at end", "a=1;;", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseTagList(tt.in)
			if tt.want == nil {
				require.Error(t, err)
				assert.True(t, errors.Is(err, ErrTagList), "%v", err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestTagListGet(t *testing.T) {
	tl, err := ParseTagList("v=1; p=; h=sha256")
	require.NoError(t, err)
	v, ok := tl.Get("p")
	assert.True(t, ok, "present with an empty value")
	assert.Equal(t, "", v)
	_, ok = tl.Get("k")
	assert.False(t, ok)
	_, ok = tl.Get("H")
	assert.False(t, ok, "names are case-sensitive")
	v, _ = tl.Get("h")
	assert.Equal(t, "sha256", v)
}

func FuzzParseTagList(f *testing.F) {
	for _, s := range []string{"v=1; a=rsa-sha256;", "a=1;;", " b = x\r\n y ;", "=", ";", "k=rsa; p=MIIB"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tl, err := ParseTagList(s)
		if err != nil {
			return
		}
		// Round trip: writing the list back and parsing it again gives
		// the same list.
		out := ""
		for _, tag := range tl {
			out += tag.Name + "=" + tag.Value + ";"
		}
		again, err := ParseTagList(out)
		if err != nil {
			t.Fatalf("%q parsed as %q, which does not parse: %v", s, out, err)
		}
		if len(again) != len(tl) {
			t.Fatalf("%q: %v became %v", s, tl, again)
		}
		for i := range tl {
			if tl[i] != again[i] {
				t.Fatalf("%q: %v became %v", s, tl, again)
			}
		}
	})
}
