package message

import (
	"strings"
	"testing"
)

// TestDisplayNameCharsets decodes display names in each charset mail
// uses. The encoded words were written by another implementation (Python's
// codecs), so the expected text is not this package's own output. Honest
// names in these charsets are benign twins of from.control-bytes: the
// escape sequences of ISO-2022-JP are 0x1B octets, not control characters
// of the text.
func TestDisplayNameCharsets(t *testing.T) {
	tests := []struct{ charset, word, want string }{
		{"iso-2022-jp", "=?iso-2022-jp?B?GyRCOzNFREJATzobKEI=?=", "山田太郎"},
		{"ISO-2022-JP upper case", "=?ISO-2022-JP?B?GyRCOzNFREJATzobKEI=?=", "山田太郎"},
		{"iso-2022-jp q", "=?iso-2022-jp?Q?=1B=24B=3B3EDB=40O=3A=1B=28B?=", "山田太郎"},
		{"iso-2022-jp language", "=?iso-2022-jp*ja?B?GyRCOzNFREJATzobKEI=?=", "山田太郎"},
		{"shift_jis", "=?shift_jis?B?jlKTY5G+mFk=?=", "山田太郎"},
		{"euc-jp", "=?euc-jp?B?u7PFxMLAz7o=?=", "山田太郎"},
		{"gb2312", "=?gb2312?B?zfXQocP3?=", "王小明"},
		{"gbk", "=?gbk?B?zfXQocP3?=", "王小明"},
		{"gb18030", "=?gb18030?B?zfXQocP3?=", "王小明"},
		{"big5", "=?big5?B?s6+kaqTl?=", "陳大文"},
		{"euc-kr", "=?euc-kr?B?sejDtrz2?=", "김철수"},
		{"ks_c_5601-1987", "=?ks_c_5601-1987?B?sejDtrz2?=", "김철수"},
		{"koi8-r", "=?koi8-r?B?6dfBziDwxdTSz9c=?=", "Иван Петров"},
		{"koi8-u", "=?koi8-u?B?t9bByw==?=", "Їжак"},
		{"windows-1250", "=?windows-1250?B?o3VrYXN6?=", "Łukasz"},
		{"windows-1251", "=?windows-1251?B?yOLg7Q==?=", "Иван"},
		{"windows-1252", "=?windows-1252?B?UmVu6SCTWm/rlA==?=", "René “Zoë”"},
		{"windows-1256", "=?windows-1256?B?483jzw==?=", "محمد"},
		{"iso-8859-1", "=?iso-8859-1?Q?Ren=E9?=", "René"},
		{"iso-8859-2", "=?iso-8859-2?B?o3VrYXN6IK9haw==?=", "Łukasz Żak"},
		{"iso-8859-5", "=?iso-8859-5?B?uNLQ3Q==?=", "Иван"},
		{"iso-8859-7", "=?iso-8859-7?B?w+n+8ePv8g==?=", "Γιώργος"},
		{"iso-8859-8", "=?iso-8859-8?B?4+Xj?=", "דוד"},
		{"iso-8859-15", "=?iso-8859-15?B?Q2Fm6SCk?=", "Café €"},
		{"us-ascii", "=?us-ascii?Q?Alice?=", "Alice"},
	}
	for _, tt := range tests {
		t.Run(tt.charset, func(t *testing.T) {
			f := ParseFrom(header(t, "From: "+tt.word+" <taro@example.jp>"))
			if f.DisplayName != tt.want {
				t.Errorf("display name %q, want %q", f.DisplayName, tt.want)
			}
			if len(f.Problems) != 0 {
				t.Errorf("problems %v, want none", f.Problems)
			}
			if f.Address != "taro@example.jp" {
				t.Errorf("address %q", f.Address)
			}
		})
	}
}

// TestDisplayNameCharsetAttacks: decoding first does not hide controls
// that are characters of the decoded text, and an unknown charset is
// reported as unreadable, not as an attack.
func TestDisplayNameCharsetAttacks(t *testing.T) {
	type P = []Problem
	tests := []struct {
		name, from string
		want       P
	}{
		{"nul inside iso-2022-jp", "=?iso-2022-jp?Q?a=00b?= <a@example.com>", P{FromControlBytes}},
		{"escape outside a designation, windows-1252", "=?windows-1252?B?YRtbMkpi?= <a@example.com>", P{FromControlBytes}},
		{"address hidden in gbk", "=?gbk?Q?ceo=40bank.example?= <a@evil.example>", P{FromDisplayAddress}},
		{"unknown charset with escapes", "=?x-unknown?B?GyRCOzNFREJATzobKEI=?= <a@example.com>", P{FromUnknownCharset}},
		{"utf-7 is not decoded", "=?utf-7?Q?+ZeVnLIqe-?= <a@example.com>", P{FromUnknownCharset}},
		{"replacement encoding", "=?iso-2022-kr?B?GyQpQ2E=?= <a@example.com>", P{FromUnknownCharset}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := ParseFrom(header(t, "From: "+tt.from))
			if strings.Join(toStrings(f.Problems), ",") != strings.Join(toStrings(tt.want), ",") {
				t.Errorf("problems %v (%v), want %v", f.Problems, f.Details, tt.want)
			}
		})
	}
}

func toStrings(ps []Problem) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = string(p)
	}
	return out
}

// TestRawISO2022JP: display names written in raw ISO-2022-JP, as older
// Japanese mailers write them, are read as text; escapes anywhere else, or
// that designate no RFC 1468 charset, stay control octets.
func TestRawISO2022JP(t *testing.T) {
	type P = []Problem
	tests := []struct {
		name, from string
		want       P
		display    string
	}{
		{"raw name", "\x1b$B;3EDB@O:\x1b(B <taro@example.jp>", nil, "山田太郎"},
		{"raw quoted name", "\"\x1b$B;3EDB@O:\x1b(B\" <taro@example.jp>", nil, "山田太郎"},
		{"raw name, JIS X 0201 Roman back", "\x1b$B;3ED\x1b(J Taro <taro@example.jp>", nil, "山田 Taro"},
		{"escape inside the address", "Taro <taro\x1b(B@example.jp>", P{FromControlBytes, FromUnparsable}, ""},
		{"escape that designates nothing", "\x1b[2J <taro@example.jp>", P{FromControlBytes, FromUnparsable}, ""},
		{"NUL beside a raw name", "\x1b$B;3ED\x1b(B\x00 <taro@example.jp>", P{FromControlBytes, FromUnparsable}, ""},
		{"no angle-addr", "\x1b$B;3ED\x1b(B taro@example.jp", P{FromControlBytes, FromUnparsable}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := ParseFrom(header(t, "From: "+tt.from))
			if strings.Join(toStrings(f.Problems), ",") != strings.Join(toStrings(tt.want), ",") {
				t.Errorf("problems %v (%v), want %v", f.Problems, f.Details, tt.want)
			}
			if f.DisplayName != tt.display {
				t.Errorf("display name %q, want %q", f.DisplayName, tt.display)
			}
		})
	}
}
