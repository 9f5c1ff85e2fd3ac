package inbound

import (
	"bufio"
	"bytes"
	"io"
	"strconv"
	"strings"

	"github.com/mailtrust/mailtrust/internal/arfield"
	"github.com/mailtrust/mailtrust/trust"
)

// Names of the header fields the receiver writes.
const (
	AuthResultsField = "Authentication-Results"
	VerdictField     = "X-Mailtrust-Verdict"
)

// maxVerdictLine keeps the X-Mailtrust-Verdict field within RFC 5322
// §2.1.1's 998 octets a line: reason codes past it are left out.
const maxVerdictLine = 900

// VerdictValue is the value of the X-Mailtrust-Verdict field, without a
// leading space: "LEVEL score=SCORE reasons=CODE,CODE,...", the reason
// codes by weight, as a filter rule or a reader can match them.
func VerdictValue(v *trust.Verdict) string {
	var b strings.Builder
	b.WriteString(string(v.Level))
	b.WriteString(" score=")
	b.WriteString(strconv.FormatFloat(v.Score, 'f', -1, 64))
	if v.Incomplete {
		b.WriteString(" incomplete=yes")
	}
	b.WriteString(" reasons=")
	for i, c := range Codes(v, 0, false) {
		if b.Len()+len(c)+1 > maxVerdictLine {
			break
		}
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(c)
	}
	return b.String()
}

// AuthResultsValue is the value of the verdict's own
// Authentication-Results field, without the name, the colon and a leading
// space.
func AuthResultsValue(v *trust.Verdict) string {
	s := strings.TrimPrefix(v.AuthenticationResults, AuthResultsField+":")
	return strings.TrimLeft(s, " ")
}

// AuthServID is the authserv-id of the verdict's own
// Authentication-Results field: the name under which this receiver
// writes its results, lower-cased.
func AuthServID(v *trust.Verdict) string { return arfield.AuthServID(AuthResultsValue(v)) }

// Remove reports whether an incoming header field must go before the
// receiver adds its own: every X-Mailtrust-Verdict, which only this
// receiver may write, and every Authentication-Results carrying
// authServID (RFC 8601 §5: a receiver must remove, or render unreadable,
// fields claiming its own authserv-id that it did not write, since only
// a forgery could have brought them). name is compared case-insensitively
// (RFC 5322 §1.2.2), authServID as AuthServID returns it.
func Remove(name, value, authServID string) bool {
	name = strings.TrimRight(name, " \t")
	switch {
	case strings.EqualFold(name, VerdictField):
		return true
	case strings.EqualFold(name, AuthResultsField):
		return authServID != "" && arfield.AuthServID(value) == authServID
	}
	return false
}

// Prepend returns the message of r as the receiver delivers it: the
// verdict's Authentication-Results and X-Mailtrust-Verdict fields at the
// top, then r's header without the fields Remove names (and without
// continuation lines before its first field, which continue nothing),
// then the body, every octet else as received. New fields end in CRLF, or in LF when the
// message's first line does. Only the header block is held in memory; the
// body streams from r.
func Prepend(v *trust.Verdict, r io.Reader) io.Reader {
	br := bufio.NewReader(r)
	eol := "\r\n"
	if first, _ := br.Peek(4096); bytes.HasSuffix(first[:bytes.IndexByte(first, '\n')+1], []byte("\n")) &&
		!bytes.HasSuffix(first[:bytes.IndexByte(first, '\n')+1], []byte("\r\n")) {
		eol = "\n"
	}
	id := AuthServID(v)
	var head bytes.Buffer
	head.WriteString(AuthResultsField + ": " + AuthResultsValue(v) + eol)
	head.WriteString(VerdictField + ": " + VerdictValue(v) + eol)
	var field []byte
	flush := func() {
		if field == nil {
			return
		}
		if name, value, ok := bytes.Cut(field, []byte(":")); !ok || !Remove(string(name), string(value), id) {
			head.Write(field)
		}
		field = nil
	}
read:
	for head.Len()+len(field) < maxHeldHeader {
		line, err := readLine(br)
		switch {
		case err == bufio.ErrBufferFull:
			// A line longer than maxHeldHeader: the rest of the message
			// passes as it is.
		case len(line) > 0 && (line[0] == ' ' || line[0] == '\t') && field != nil:
			field = append(field, line...) // a folded continuation
			if err == nil {
				continue
			}
			break read
		case len(line) > 0 && (line[0] == ' ' || line[0] == '\t') && field == nil:
			// A continuation before the first field continues nothing;
			// below the new fields it would continue the verdict's own.
			// message.ReadHeader skips it and reads the fields after it,
			// and so do mail readers: so must the removal.
			if err == nil {
				continue
			}
			break read
		case isFieldLine(line):
			flush()
			field = append([]byte(nil), line...)
			if err == nil {
				continue
			}
			break read
		}
		// The empty line, the end of input, or a line that is no field:
		// the header ends here and the rest is passed on untouched.
		flush()
		head.Write(line)
		break
	}
	flush()
	return io.MultiReader(&head, br)
}

// readLine reads one line, however long, up to maxHeldHeader octets: a
// header line longer than bufio's buffer is still a field, which the
// checks read (up to message.DefaultMaxLineLength) and so must Prepend.
// A longer one is returned in part with bufio.ErrBufferFull.
func readLine(br *bufio.Reader) ([]byte, error) {
	line, err := br.ReadSlice('\n')
	if err != bufio.ErrBufferFull {
		return line, err
	}
	long := append([]byte(nil), line...)
	for err == bufio.ErrBufferFull && len(long) < maxHeldHeader {
		line, err = br.ReadSlice('\n')
		long = append(long, line...)
	}
	return long, err
}

// maxHeldHeader bounds the header held by Prepend; past it, the rest of
// the message passes unfiltered. trust reads no further than its own
// MaxHeaderBytes limit either.
const maxHeldHeader = 4 << 20

// isFieldLine reports whether line starts a header field: a name of
// printable octets other than the colon, then a colon (RFC 5322 §2.2).
func isFieldLine(line []byte) bool {
	i := bytes.IndexByte(line, ':')
	if i <= 0 {
		return false
	}
	for _, c := range bytes.TrimRight(line[:i], " \t") {
		if c <= ' ' || c > '~' {
			return false
		}
	}
	return true
}
