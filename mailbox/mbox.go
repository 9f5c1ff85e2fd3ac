// Package mailbox reads messages out of the stores mail is kept in: an
// mbox file (mboxo and mboxrd), a Maildir, and a folder of .eml files.
// Each store yields its messages one at a time, as a stream, with a stable
// id; memory does not grow with the number of messages or their size.
//
// Only regular files are opened, and a folder's messages stay inside it:
// symbolic links are not followed (a FIFO, device or link in a mail folder
// is skipped, never opened, so that it can neither hang the reader nor lead
// it outside).
package mailbox

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"

	"github.com/mailtrust/mailtrust/message"
)

// Message is one message of a store.
type Message struct {
	// ID names the message within its store, the same on every read of
	// it: the path relative to the folder ("cur/1700000000.M1P2.host:2,S")
	// for a Maildir or .eml folder, NAME#N (N from 1) for the N-th message
	// of the mbox NAME.
	ID string
	// Body is the raw message, valid until the next call to Next.
	Body io.Reader
}

// Store yields the messages of a mail store in a fixed order.
type Store interface {
	// Next returns the next message, or io.EOF after the last. An error
	// about one message (a file that vanished) is a *MessageError; the
	// store can go on after it.
	Next() (Message, error)
	Close() error
}

// MessageError reports a message that could not be read.
type MessageError struct {
	ID  string
	Err error
}

// Error names the message and the problem.
func (e *MessageError) Error() string { return fmt.Sprintf("mailbox: %s: %v", e.ID, e.Err) }

// Unwrap returns the underlying error.
func (e *MessageError) Unwrap() error { return e.Err }

// fromLine is the mbox separator (RFC 4155): "From " sender asctime-date.
// Inside the file a line that message.IsMboxFrom calls a separator counts
// as one only after an empty line, or when it has this form: a body line
// that begins "From " and was not escaped by an mboxo writer rarely has a
// date after an address.
var fromLine = regexp.MustCompile(`^From \S+\s+(Mon|Tue|Wed|Thu|Fri|Sat|Sun) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ 0-9]\d [0-9:]+ `)

// Mbox reads an mbox (RFC 4155): messages each introduced by a "From "
// line (message.IsMboxFrom). A body line ">From ", ">>From ", ... loses one ">" (mboxrd, which
// reads mboxo correctly wherever mboxo could be read at all). The empty
// line that ends each message in the file is the format's, not the
// message's, and is dropped.
type Mbox struct {
	name   string
	br     *bufio.Reader
	closer io.Closer
	n      int
	cur    *mboxMessage
	// started: the first separator has been read; sep: a separator line
	// was read and its message not yet returned; eof: the input ended.
	started, sep, eof bool
	err               error
}

// maxMboxLine is the read buffer; a longer line is passed on in parts.
const maxMboxLine = 64 << 10

// NewMbox reads an mbox from r; name is the id prefix (the file name).
func NewMbox(r io.Reader, name string) *Mbox {
	return &Mbox{name: name, br: bufio.NewReaderSize(r, maxMboxLine)}
}

// OpenMbox opens the mbox file at path (a regular file); ids are
// base(path)#N unless name is given.
func OpenMbox(path, name string) (*Mbox, error) {
	f, err := OpenRegular(path)
	if err != nil {
		return nil, err
	}
	if name == "" {
		name = filepath.Base(path)
	}
	m := NewMbox(f, name)
	m.closer = f
	return m, nil
}

// Close closes the file OpenMbox opened.
func (m *Mbox) Close() error {
	if m.closer != nil {
		return m.closer.Close()
	}
	return nil
}

// ErrNotMbox is returned when the input does not begin with a "From "
// line (message.IsMboxFrom): "From :" is a header field, not a separator.
var ErrNotMbox = errors.New("mailbox: not an mbox: no \"From \" line at the start")

// Next returns the next message; the previous one is skipped if unread.
func (m *Mbox) Next() (Message, error) {
	if m.cur != nil {
		if _, err := io.Copy(io.Discard, m.cur); err != nil {
			m.err = err
		}
		m.cur = nil
	}
	if m.err != nil {
		return Message{}, m.err
	}
	if !m.started {
		m.started = true
		line, err := m.br.ReadSlice('\n')
		if !message.IsMboxFrom(line) {
			if err != nil && len(line) == 0 {
				return Message{}, io.EOF // an empty file holds no messages
			}
			m.err = ErrNotMbox
			return Message{}, m.err
		}
		for errors.Is(err, bufio.ErrBufferFull) { // an overlong separator line
			_, err = m.br.ReadSlice('\n')
		}
		m.sep = true
	}
	if !m.sep {
		return Message{}, io.EOF
	}
	m.sep = false
	m.n++
	m.cur = &mboxMessage{m: m, atStart: true}
	return Message{ID: m.name + "#" + strconv.Itoa(m.n), Body: m.cur}, nil
}

// mboxMessage streams one message, line by line, holding back an empty
// line until it knows whether a separator follows.
type mboxMessage struct {
	m       *Mbox
	out     []byte // ready to be read
	blank   []byte // an empty line held back
	atStart bool   // the next read starts a line
	done    bool
}

func (mm *mboxMessage) Read(p []byte) (int, error) {
	for len(mm.out) == 0 {
		if mm.done {
			return 0, io.EOF
		}
		mm.fill()
	}
	n := copy(p, mm.out)
	mm.out = mm.out[n:]
	return n, nil
}

// fill reads one line or line part into out.
func (mm *mboxMessage) fill() {
	m := mm.m
	line, err := m.br.ReadSlice('\n')
	start := mm.atStart
	mm.atStart = err == nil // a full line ends in LF; a part does not
	if len(line) == 0 && err != nil {
		if !errors.Is(err, io.EOF) {
			m.err = err
		}
		m.eof, mm.done = true, true
		mm.blank = nil // the final empty line is the format's
		return
	}
	if start && message.IsMboxFrom(line) && (mm.blank != nil || fromLine.Match(line)) {
		for errors.Is(err, bufio.ErrBufferFull) {
			_, err = m.br.ReadSlice('\n')
		}
		m.sep, mm.done = true, true
		mm.blank = nil
		return
	}
	mm.out = mm.out[:0]
	if mm.blank != nil {
		mm.out = append(mm.out, mm.blank...)
		mm.blank = nil
	}
	if start && (bytes.Equal(line, []byte("\n")) || bytes.Equal(line, []byte("\r\n"))) {
		mm.blank = append(mm.blank[:0], line...)
		return
	}
	if start && isEscapedFrom(line) {
		line = line[1:]
	}
	mm.out = append(mm.out, line...)
}

// isEscapedFrom reports a line ">From ", ">>From ", ...: mboxrd's escape.
func isEscapedFrom(line []byte) bool {
	i := 0
	for i < len(line) && line[i] == '>' {
		i++
	}
	return i > 0 && bytes.HasPrefix(line[i:], []byte("From "))
}

// OpenRegular opens path for reading when it is a regular file, and
// refuses anything else (a FIFO would block the reader, a device never
// end) without blocking on it.
func OpenRegular(path string) (*os.File, error) {
	st, err := os.Lstat(path)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("mailbox: %s: %w", path, ErrNotRegular)
	}
	f, err := openNoFollow(path)
	if err != nil {
		return nil, err
	}
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("mailbox: %s: %w", path, ErrNotRegular)
	}
	return f, nil
}

// ErrNotRegular is returned for a path that is not a regular file: a
// directory, FIFO, device, socket or symbolic link.
var ErrNotRegular = errors.New("not a regular file")
