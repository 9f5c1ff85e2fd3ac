package message

import (
	"bytes"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/ianaindex"
	"golang.org/x/text/encoding/japanese"
)

// charsetEncoding returns the decoder for an RFC 2047 charset name, or nil
// when none is known. Names are looked up as the WHATWG Encoding Standard
// labels them (htmlindex: the mapping mail readers share with browsers, so
// "gb2312" reads as GBK and "iso-8859-1" as windows-1252), then in the
// IANA charset registry (RFC 2978). RFC 2231 §5 lets a language follow the
// name ("iso-2022-jp*ja"); it is dropped. The WHATWG "replacement"
// encoding, which turns a whole text into U+FFFD (ISO-2022-KR,
// HZ-GB-2312), counts as unknown: nothing is learned from it.
func charsetEncoding(name string) encoding.Encoding {
	name, _, _ = strings.Cut(strings.TrimSpace(name), "*")
	if e, err := htmlindex.Get(name); err == nil && e != nil && e != encoding.Replacement {
		return e
	}
	if e, err := ianaindex.IANA.Encoding(name); err == nil && e != nil && e != encoding.Replacement {
		return e
	}
	return nil
}

// charsetReader is a mime.WordDecoder CharsetReader that decodes every
// charset charsetEncoding knows into UTF-8, and sets FlagCharset in *f for
// the others. The octets of an unknown charset cannot be read: ASCII
// letters stay as written and every other octet, control octets included,
// becomes U+FFFD, so that text nobody here can read is reported as
// unreadable (from.unknown-charset) rather than as an attack.
func charsetReader(f *Flags) func(string, io.Reader) (io.Reader, error) {
	return func(name string, in io.Reader) (io.Reader, error) {
		b, err := io.ReadAll(io.LimitReader(in, MaxAddressListBytes))
		if err != nil {
			return nil, err
		}
		if e := charsetEncoding(name); e != nil {
			out, err := e.NewDecoder().Bytes(b)
			if err == nil {
				return bytes.NewReader(out), nil
			}
			// A decoder refusing its input: read it as unknown.
		}
		*f |= FlagCharset
		var out strings.Builder
		for _, c := range b {
			if c >= ' ' && c < 0x7f {
				out.WriteByte(c)
			} else {
				out.WriteRune(utf8.RuneError)
			}
		}
		return strings.NewReader(out.String()), nil
	}
}

// rawISO2022JP decodes an address-list value written in raw ISO-2022-JP
// (RFC 1468), as older Japanese mailers write display names without
// encoded words, and reports whether it did. Its 0x1B octets are the
// escape sequences that switch character sets, not control characters.
// Only a value whose every ESC starts an RFC 1468 designation (ESC ( B,
// ESC ( J, ESC $ @, ESC $ B) or the half-width katakana one (ESC ( I),
// all of them before the angle-addr, and that decodes cleanly is decoded:
// the address itself is never rewritten.
func rawISO2022JP(s string) (string, bool) {
	if strings.IndexByte(s, 0x1b) < 0 {
		return "", false
	}
	lt := strings.LastIndexByte(s, '<')
	if lt < 0 || strings.IndexByte(s[lt:], '>') < 0 {
		return "", false
	}
	for i := 0; i < len(s); i++ {
		if s[i] != 0x1b {
			continue
		}
		if i+2 >= lt {
			return "", false
		}
		switch s[i+1 : i+3] {
		case "(B", "(J", "$@", "$B", "(I":
		default:
			return "", false
		}
	}
	// Only the text before the angle-addr is decoded: a designation left
	// in force (ESC ( I, half-width katakana) would otherwise turn the
	// address's octets into other characters.
	// The address, left as written, must still be 7-bit as ISO-2022-JP
	// text is (RFC 1468 §2).
	d, err := japanese.ISO2022JP.NewDecoder().String(s[:lt])
	if err != nil || strings.IndexByte(d, 0x1b) >= 0 || strings.ContainsRune(d, utf8.RuneError) || hasHigh(s[lt:]) {
		return "", false
	}
	return d + s[lt:], true
}
