// Package message reads an Internet message (RFC 5322) the way every check
// of mailtrust must read it, once and alike, so that no two components see
// different senders ("Composition Kills", USENIX Security 2020):
//
//   - ReadHeader reads the header block once, bounded, keeping each field's
//     raw bytes for DKIM and ARC canonicalization (RFC 6376 §3.4) and the
//     anomalies an attacker relies on (bare CR or LF, NUL, obsolete
//     "Name :" syntax);
//   - ParseAddressList parses RFC 5322 §3.4 address lists, obsolete syntax
//     (§4.4) and RFC 2047 display names included, flagging what readers
//     disagree on;
//   - ParseFrom gives the From identity DMARC evaluates (RFC 7489 §6.6.1)
//     with stable Problem codes; Addresses does the same for other address
//     fields, CheckEnvelope for MAIL FROM and HELO;
//   - SmugglingScanner scans the streamed body for SMTP smuggling
//     end-of-data sequences.
//
// It reports facts only: it asks no DNS, decides no DMARC result and
// weighs nothing. Display names in charsets other than UTF-8 and Latin-1
// are decoded to their ASCII octets only.
package message

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"sync"
)

// Limits bound the work spent on a header block. Zero fields take the
// defaults.
type Limits struct {
	// MaxHeaderBytes bounds the whole header block. Default 1 MiB.
	MaxHeaderBytes int
	// MaxFields bounds the number of fields. Default 1000.
	MaxFields int
	// MaxLineLength bounds one physical line, not counting its CRLF or
	// LF ending, as RFC 5322 §2.1.1 counts its 998 octets; default 64 KiB,
	// since real mail exceeds the RFC.
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
	i := bytes.IndexByte(f.Raw, ':') // the name holds no colon (RFC 5322 §2.2)
	v := f.Raw[i+1:]
	v = bytes.TrimSuffix(v, []byte("\r\n"))
	return string(v)
}

// Unfolded is the field body unfolded (RFC 5322 §2.2.3) and trimmed of
// leading and trailing WSP. Only WSP is trimmed: a bare CR or other
// control octet at either end stays visible to the caller.
func (f *Field) Unfolded() string {
	return f.unfolded(true)
}

// unfolded is the field body unfolded, in one allocation, and with trim
// set trimmed of WSP at both ends: unfold(f.Value()) when trim is false.
func (f *Field) unfolded(trim bool) string {
	i := bytes.IndexByte(f.Raw, ':')
	v := bytes.TrimSuffix(f.Raw[i+1:], []byte("\r\n"))
	if trim {
		v = bytes.Trim(v, " \t")
	}
	if bytes.Contains(v, []byte("\r\n")) {
		var b strings.Builder
		b.Grow(len(v))
		for len(v) > 0 {
			j := bytes.Index(v, []byte("\r\n"))
			if j < 0 {
				b.Write(v)
				break
			}
			b.Write(v[:j])
			v = v[j+2:]
		}
		if trim {
			return strings.Trim(b.String(), " \t")
		}
		return b.String()
	}
	return string(v)
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

	lists sync.Map // *Field → parsedList, see AddressList
}

type parsedList struct {
	list List
	err  error
}

// AddressList returns ParseAddressList of f's unfolded body (decoded from
// raw ISO-2022-JP, RFC 1468, when written so), parsing each
// field once however many checks read it (From and To are read by the
// identity, forwarding and automated-mail checks alike). f must be a field
// of h, from Get or First. The List is shared: read it, do not change it.
// Safe for concurrent use.
func (h *Header) AddressList(f *Field) (List, error) {
	if p, ok := h.lists.Load(f); ok {
		p := p.(*parsedList)
		return p.list, p.err
	}
	list, err := ParseAddressList(addressText(f))
	p, _ := h.lists.LoadOrStore(f, &parsedList{list, err})
	return p.(*parsedList).list, p.(*parsedList).err
}

// addressText is the text of f that addresses are read from: its body
// unfolded, and decoded when it is raw ISO-2022-JP (rawISO2022JP).
func addressText(f *Field) string {
	v := f.unfolded(false)
	if d, ok := rawISO2022JP(v); ok {
		return d
	}
	return v
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
// continuation ends the header block before it: it is counted as
// Malformed and left unread in r, so that it belongs to the body, as most
// mail software reads it. (The only exception is a line whose name-like
// start is longer than r's buffer: it is consumed, since r cannot look
// that far ahead.) A continuation line before the first field is counted
// as Malformed and skipped.
//
// A leading mbox separator line ("From sender date", RFC 4155) is not part
// of the message: it is skipped and not counted, so that a message saved
// with it reads exactly as without it. ("From :" is the obsolete-syntax
// From field of RFC 5322 §4.5.3 and is read as a field.)
//
// On a limit, the fields read so far are returned with the error; r is
// then left inside the header block. An error of r other than io.EOF is
// returned as is.
func ReadHeader(r *bufio.Reader, lim Limits) (*Header, error) {
	lim = lim.withDefaults()
	h := &Header{Fields: make([]Field, 0, 16)}
	if err := skipMboxFrom(r, lim.MaxLineLength); err != nil {
		return h, err
	}
	// The fields are assembled one after the other in one buffer, so that
	// a header block costs a few allocations, not one per field and line:
	// a field is buf[start:], and its Raw keeps pointing into the array it
	// was assembled in when buf grows.
	buf := make([]byte, 0, 2048)
	start := -1                   // where the field being assembled starts in buf, < 0: none
	line := make([]byte, 0, 1024) // the physical line, reused
	flush := func() error {
		if start < 0 {
			return nil
		}
		raw := buf[start:len(buf):len(buf)]
		start = -1
		if len(h.Fields) >= lim.MaxFields {
			return ErrTooManyFields
		}
		h.Fields = append(h.Fields, newField(raw))
		return nil
	}
	end := func() (*Header, error) {
		if err := flush(); err != nil {
			return h, err
		}
		if len(h.Fields) == 0 {
			return h, ErrNoHeader
		}
		return h, nil
	}
	for {
		kind, err := peekLine(r)
		switch {
		case kind == lineNone && (err == nil || errors.Is(err, io.EOF)):
			return end()
		case kind == lineNone:
			return h, err
		case kind == lineMalformed:
			h.Anomalies.Malformed++
			return end()
		}
		line, err = readLine(r, line[:0], lim.MaxLineLength)
		if err != nil && !errors.Is(err, io.EOF) {
			return h, err // ErrLineTooLong or a read error
		}
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
		if kind == lineLong && !isFieldStart(body) {
			h.Anomalies.Malformed++
			return end()
		}
		switch kind {
		case lineEmpty:
			return end()
		case lineContinuation:
			if start < 0 {
				h.Anomalies.Malformed++ // nothing to continue
				continue
			}
			buf = append(append(buf, body...), '\r', '\n')
		default: // lineField, lineLong
			if ferr := flush(); ferr != nil {
				return h, ferr
			}
			if cap(buf)-len(buf) < len(body)+2 && len(buf) > 0 {
				// The fields before stay in the old array; the new one
				// starts a new array, twice as large, so that growing it
				// copies only this field.
				buf = make([]byte, 0, max(2*cap(buf), len(body)+2))
			}
			start = len(buf)
			buf = append(append(buf, body...), '\r', '\n')
		}
	}
}

func (h *Header) scan(b []byte) {
	if plainASCII(b) {
		return // the usual line: nothing to count
	}
	for _, c := range b {
		switch {
		case c == 0:
			h.Anomalies.NUL++
		case c == '\r':
			// A line's own CR LF ending is cut off before scan, so every
			// CR left inside is bare.
			h.Anomalies.BareCR++
		case c >= 0x80:
			h.Anomalies.EightBit++
		}
	}
}

// lineKind classifies the next line before it is consumed.
type lineKind int

const (
	lineNone         lineKind = iota // no more input
	lineEmpty                        // CRLF or LF alone: end of header
	lineContinuation                 // starts with WSP
	lineField                        // field name, optional WSP, colon
	lineMalformed                    // anything else
	lineLong                         // undecided within the buffer
)

// peekLine classifies the next line by looking at its start without
// consuming it, so that a malformed line can be left to the body.
func peekLine(r *bufio.Reader) (lineKind, error) {
	b, err := r.Peek(1)
	if len(b) == 0 {
		return lineNone, err
	}
	switch b[0] {
	case ' ', '\t':
		return lineContinuation, nil
	case '\n':
		return lineEmpty, nil
	case '\r':
		if b, _ := r.Peek(2); len(b) == 2 && b[1] == '\n' {
			return lineEmpty, nil
		}
		return lineMalformed, nil // a line starting with a bare CR
	}
	// Start with what is buffered, so that a stream is not waited on for
	// octets the answer does not need.
	for n := max(r.Buffered(), 1); ; n *= 2 {
		n = min(n, r.Size())
		b, err := r.Peek(n)
		switch fieldStart(b) {
		case 1:
			return lineField, nil
		case -1:
			return lineMalformed, nil
		}
		if len(b) < n { // the input ends inside a name: no colon
			if err != nil && !errors.Is(err, io.EOF) {
				return lineNone, err
			}
			return lineMalformed, nil
		}
		if n == r.Size() {
			return lineLong, nil
		}
	}
}

// readLine appends one line including its ending to buf. The line may be
// at most max octets without its ending (RFC 5322 §2.1.1 counts the limit
// excluding CRLF); a longer one is cut to max octets with ErrLineTooLong.
func readLine(r *bufio.Reader, buf []byte, max int) ([]byte, error) {
	line := buf
	for {
		frag, err := r.ReadSlice('\n')
		line = append(line, frag...)
		if len(line) > max+2 {
			return line[:max], ErrLineTooLong
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if body, _ := splitEnding(line); len(body) > max {
			return line[:max], ErrLineTooLong
		}
		return line, err
	}
}

// IsMboxFrom reports whether line, a whole line or the start of one, is
// an mbox separator line (RFC 4155: "From " sender date) rather than a
// header field: it begins "From " and is not "From" WSP* ":", the
// obsolete-syntax From field of RFC 5322 §4.5.3. A start of a line that is
// "From" and WSP to its end is not one: what follows could be the colon.
// ReadHeader, package mailbox and the mailtrust command all judge the
// line by it, so that none drops a field another reads.
func IsMboxFrom(line []byte) bool { return mboxFrom(line) == 1 }

// mboxFrom is IsMboxFrom on a prefix of a line: 1 for a separator, -1 for
// none, 0 when the prefix ends before the answer is known.
func mboxFrom(b []byte) int {
	const from = "From "
	if len(b) < len(from) {
		if strings.HasPrefix(from, string(b)) {
			return 0
		}
		return -1
	}
	if string(b[:len(from)]) != from {
		return -1
	}
	for _, c := range b[len("From"):] {
		switch c {
		case ' ', '\t':
		case ':':
			return -1
		default:
			return 1
		}
	}
	return 0
}

// skipMboxFrom consumes a leading mbox "From " line (IsMboxFrom). A line
// whose start is too long to see in r's buffer is left to the field
// reader.
func skipMboxFrom(r *bufio.Reader, max int) error {
	for n := len("From "); ; n++ {
		b, err := r.Peek(n)
		switch mboxFrom(b) {
		case -1:
			return nil
		case 1:
			_, err := readLine(r, nil, max)
			if err != nil && !errors.Is(err, io.EOF) {
				return err
			}
			return nil
		}
		if err != nil || len(b) < n {
			return nil
		}
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
	return fieldStart(line) == 1
}

// fieldStart is isFieldStart on a prefix of a line: 1 for a field, -1 for
// not a field, 0 when the prefix ends before the answer is known.
func fieldStart(b []byte) int {
	i := 0
	for i < len(b) && b[i] > ' ' && b[i] < 0x7f && b[i] != ':' {
		i++
	}
	if i == len(b) {
		return 0
	}
	if i == 0 {
		return -1
	}
	for i < len(b) && (b[i] == ' ' || b[i] == '\t') {
		i++
	}
	switch {
	case i == len(b):
		return 0
	case b[i] == ':':
		return 1
	}
	return -1
}

func newField(raw []byte) Field {
	i := bytes.IndexByte(raw, ':')
	name := raw[:i]
	trimmed := bytes.TrimRight(name, " \t")
	f := Field{Raw: raw, ObsColon: len(trimmed) != len(name)}
	if k, ok := commonFields[string(trimmed)]; ok {
		f.Name, f.Key = k[0], k[1]
		return f
	}
	f.Name = string(trimmed)
	f.Key = strings.ToLower(f.Name)
	return f
}

// commonFields maps the field names most messages hold, spelled as they
// usually are, to their Name and Key: such a field costs no allocation
// for either. Read only.
var commonFields = func() map[string][2]string {
	m := map[string][2]string{}
	for _, n := range []string{
		"From", "To", "Cc", "Subject", "Date", "Message-ID", "Message-Id", "MIME-Version", "Mime-Version",
		"Content-Type", "Content-Transfer-Encoding", "Content-Disposition", "DKIM-Signature", "Received",
		"Return-Path", "Reply-To", "Sender", "In-Reply-To", "References", "List-Id", "List-ID",
		"List-Unsubscribe", "List-Unsubscribe-Post", "Precedence", "Auto-Submitted", "Feedback-ID",
		"Authentication-Results", "ARC-Seal", "ARC-Message-Signature", "ARC-Authentication-Results",
		"Received-SPF", "Delivered-To", "X-Mailer", "X-Original-To", "X-Google-DKIM-Signature",
	} {
		k := strings.ToLower(n)
		m[n] = [2]string{n, k}
		m[k] = [2]string{k, k}
	}
	return m
}()

// plainASCII reports whether b holds no NUL, no CR and no octet above 0x7f,
// looking at eight octets at a time for the high bit.
func plainASCII(b []byte) bool {
	i := 0
	for ; i+8 <= len(b); i += 8 {
		if binary.LittleEndian.Uint64(b[i:])&0x8080808080808080 != 0 {
			return false
		}
	}
	for ; i < len(b); i++ {
		if b[i] >= 0x80 {
			return false
		}
	}
	return bytes.IndexByte(b, 0) < 0 && bytes.IndexByte(b, '\r') < 0
}
