// Package message reads the header block of an Internet message (RFC 5322)
// once, bounded, keeping each field's raw bytes for DKIM and ARC
// canonicalization (RFC 6376 §3.4) and the anomalies an attacker relies on
// (bare CR or LF, NUL, obsolete "Name :" syntax), and extracts addresses the
// way a reader's mail client shows them. Every check that looks at headers
// uses it, so that they all read the same message the same way.
package message

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
)

// Limits bound the work spent on a header block. Zero fields take the
// defaults.
type Limits struct {
	// MaxHeaderBytes bounds the whole header block. Default 1 MiB.
	MaxHeaderBytes int
	// MaxFields bounds the number of fields. Default 1000.
	MaxFields int
	// MaxLineLength bounds one physical line. RFC 5322 §2.1.1 allows
	// 998 octets; default 64 KiB, since real mail exceeds the RFC.
	MaxLineLength int
}

// Defaults for Limits.
const (
	DefaultMaxHeaderBytes = 1 << 20
	DefaultMaxFields      = 1000
	DefaultMaxLineLength  = 64 << 10
)

func (l Limits) withDefaults() Limits {
	if l.MaxHeaderBytes <= 0 {
		l.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if l.MaxFields <= 0 {
		l.MaxFields = DefaultMaxFields
	}
	if l.MaxLineLength <= 0 {
		l.MaxLineLength = DefaultMaxLineLength
	}
	return l
}

// Errors of ReadHeader. The header read up to the limit is still returned.
var (
	ErrHeaderTooLarge = errors.New("message: header block exceeds size limit")
	ErrTooManyFields  = errors.New("message: too many header fields")
	ErrLineTooLong    = errors.New("message: header line exceeds length limit")
	ErrNoHeader       = errors.New("message: no header fields")
)

// Field is one header field as received.
type Field struct {
	// Name is the field name as written, without the colon and any
	// whitespace before it.
	Name string
	// Key is Name in lower case: the name fields are compared by
	// (RFC 5322 §1.2.2).
	Key string
	// Raw is the whole field as received: name, colon, value and folded
	// continuation lines, each line ending in CRLF (a bare LF line ending is
	// read as CRLF, RFC 5322 §2.3 and RFC 6376 §5.3 let a receiver do so).
	Raw []byte
	// ObsColon reports whitespace between the name and the colon, the
	// obsolete syntax of RFC 5322 §4.5.3 that some clients still accept.
	ObsColon bool
}

// Value is the raw field body after the colon, without the final CRLF;
// folding is kept.
func (f *Field) Value() string {
	i := bytes.IndexByte(f.Raw, ':')
	v := f.Raw[i+1:]
	v = bytes.TrimSuffix(v, []byte("\r\n"))
	return string(v)
}

// Unfolded is the field body unfolded (RFC 5322 §2.2.3) and trimmed.
func (f *Field) Unfolded() string {
	v := f.Value()
	v = strings.ReplaceAll(v, "\r\n", "")
	return strings.TrimSpace(v)
}

// Anomalies are irregularities in the header block. None of them stops the
// reading; they are reported so that a verdict can say why it distrusts.
type Anomalies struct {
	BareLF    int // lines ended by LF alone
	BareCR    int // CR not followed by LF inside a line
	NUL       int // NUL octets
	EightBit  int // octets above 0x7f (legal in RFC 6532 headers)
	Malformed int // lines that were neither a field nor a continuation
}

// Header is a message's header block.
type Header struct {
	Fields    []Field
	Anomalies Anomalies
	// Size is the number of octets read, including the empty line.
	Size int
}

// Get returns the fields named key (any case), top to bottom.
func (h *Header) Get(key string) []*Field {
	var out []*Field
	for i := range h.Fields {
		if strings.EqualFold(h.Fields[i].Key, key) {
			out = append(out, &h.Fields[i])
		}
	}
	return out
}

// First returns the topmost field named key, or nil.
func (h *Header) First(key string) *Field {
	for i := range h.Fields {
		if strings.EqualFold(h.Fields[i].Key, key) {
			return &h.Fields[i]
		}
	}
	return nil
}

// Count returns how many fields are named key.
func (h *Header) Count(key string) int {
	n := 0
	for i := range h.Fields {
		if strings.EqualFold(h.Fields[i].Key, key) {
			n++
		}
	}
	return n
}

// ReadHeader reads the header block from r up to and including the empty
// line that ends it, leaving r at the first octet of the body. A message
// with no empty line is all header. A line that is neither a field nor a
// continuation ends the header block there (it is counted as Malformed and
// left to the body), as most mail software does.
//
// On a limit, the fields read so far are returned with the error; r is
// then left inside the header block.
func ReadHeader(r *bufio.Reader, lim Limits) (*Header, error) {
	lim = lim.withDefaults()
	h := &Header{}
	var cur []byte // the field being assembled
	flush := func() error {
		if cur == nil {
			return nil
		}
		if len(h.Fields) >= lim.MaxFields {
			cur = nil
			return ErrTooManyFields
		}
		h.Fields = append(h.Fields, newField(cur))
		cur = nil
		return nil
	}
	for {
		line, err := readLine(r, lim.MaxLineLength)
		if errors.Is(err, ErrLineTooLong) {
			return h, err
		}
		if len(line) == 0 && err != nil {
			if err == io.EOF {
				if ferr := flush(); ferr != nil {
					return h, ferr
				}
				if len(h.Fields) == 0 {
					return h, ErrNoHeader
				}
				return h, nil
			}
			return h, err
		}
		// Peeked-but-not-consumed lines are handled below by Malformed.
		h.Size += len(line)
		if h.Size > lim.MaxHeaderBytes {
			_ = flush()
			return h, ErrHeaderTooLarge
		}
		body, ending := splitEnding(line)
		if ending == "\n" {
			h.Anomalies.BareLF++
		}
		h.scan(body)
		if len(body) == 0 { // the empty line: end of header
			if ferr := flush(); ferr != nil {
				return h, ferr
			}
			if len(h.Fields) == 0 {
				return h, ErrNoHeader
			}
			return h, nil
		}
		if body[0] == ' ' || body[0] == '\t' {
			if cur != nil {
				cur = append(cur, body...)
				cur = append(cur, '\r', '\n')
				continue
			}
			h.Anomalies.Malformed++ // continuation with nothing to continue
			continue
		}
		if !isFieldStart(body) {
			h.Anomalies.Malformed++
			if ferr := flush(); ferr != nil {
				return h, ferr
			}
			// The rest, this line included, is body. We cannot unread
			// the line, so the header ends after it; the caller loses a
			// line of a body that was malformed anyway.
			if len(h.Fields) == 0 {
				return h, ErrNoHeader
			}
			return h, nil
		}
		if ferr := flush(); ferr != nil {
			return h, ferr
		}
		cur = make([]byte, 0, len(body)+2)
		cur = append(cur, body...)
		cur = append(cur, '\r', '\n')
		if err != nil { // EOF after a line without ending
			continue
		}
	}
}

func (h *Header) scan(b []byte) {
	for i, c := range b {
		switch {
		case c == 0:
			h.Anomalies.NUL++
		case c == '\r' && (i+1 >= len(b) || b[i+1] != '\n'):
			h.Anomalies.BareCR++
		case c >= 0x80:
			h.Anomalies.EightBit++
		}
	}
}

// readLine reads one line including its ending, bounded by max octets.
func readLine(r *bufio.Reader, max int) ([]byte, error) {
	var line []byte
	for {
		frag, err := r.ReadSlice('\n')
		line = append(line, frag...)
		if len(line) > max {
			return line[:max], ErrLineTooLong
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		return line, err
	}
}

// splitEnding separates a line from its CRLF or LF ending.
func splitEnding(line []byte) ([]byte, string) {
	if bytes.HasSuffix(line, []byte("\r\n")) {
		return line[:len(line)-2], "\r\n"
	}
	if bytes.HasSuffix(line, []byte("\n")) {
		return line[:len(line)-1], "\n"
	}
	return line, ""
}

// isFieldStart reports whether line starts a field: a name of printable
// US-ASCII except colon (RFC 5322 §2.2), optional WSP (obsolete syntax,
// §4.5.3), then a colon.
func isFieldStart(line []byte) bool {
	i := 0
	for i < len(line) && line[i] > ' ' && line[i] < 0x7f && line[i] != ':' {
		i++
	}
	if i == 0 {
		return false
	}
	for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
		i++
	}
	return i < len(line) && line[i] == ':'
}

func newField(raw []byte) Field {
	i := bytes.IndexByte(raw, ':')
	name := raw[:i]
	trimmed := bytes.TrimRight(name, " \t")
	return Field{
		Name:     string(trimmed),
		Key:      strings.ToLower(string(trimmed)),
		Raw:      raw,
		ObsColon: len(trimmed) != len(name),
	}
}
