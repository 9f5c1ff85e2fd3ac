// Package corpus reads replay corpora: a cases.jsonl file of SMTP session
// facts and expectations, the messages it names, and the zone.txt that holds
// the DNS as it was (the format of docs/CORPUS.md).
package corpus

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"time"
)

// Case is one line of cases.jsonl.
type Case struct {
	ID                string   `json:"id"`
	Message           string   `json:"message"`
	IP                string   `json:"ip"`
	HELO              string   `json:"helo"`
	MailFrom          string   `json:"mail_from"`
	RcptTo            []string `json:"rcpt_to"`
	Time              string   `json:"time"`
	Authenticated     bool     `json:"authenticated,omitempty"`
	TrustedForwarders []string `json:"trusted_forwarders,omitempty"`
	Expect            *Expect  `json:"expect,omitempty"`

	// Line is the 1-based line number in the cases file.
	Line int `json:"-"`
}

// Expect holds reference outcomes, in the RFC result words.
type Expect struct {
	SPF       string   `json:"spf,omitempty"`
	DKIM      []string `json:"dkim,omitempty"`
	DMARC     string   `json:"dmarc,omitempty"`
	ARC       string   `json:"arc,omitempty"`
	PTR       string   `json:"ptr,omitempty"`
	HELO      string   `json:"helo,omitempty"`
	Trusted   *bool    `json:"trusted,omitempty"`
	Forwarded *bool    `json:"forwarded,omitempty"`
	Automated *bool    `json:"automated,omitempty"`
}

// Parsed returns the session facts in typed form.
func (c *Case) Parsed() (ip netip.Addr, t time.Time, err error) {
	ip, err = netip.ParseAddr(c.IP)
	if err != nil {
		return ip, t, fmt.Errorf("case %s: ip: %w", c.ID, err)
	}
	if c.Time != "" {
		t, err = time.Parse(time.RFC3339, c.Time)
		if err != nil {
			return ip, t, fmt.Errorf("case %s: time: %w", c.ID, err)
		}
	}
	return ip, t, nil
}

// LineError reports a cases line that could not be read.
type LineError struct {
	Line int
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }
func (e *LineError) Unwrap() error { return e.Err }

// MaxLine bounds one cases line.
const MaxLine = 1 << 20

// Read reads every case of r. Lines that are blank are skipped; a line that
// is not a valid case, or longer than MaxLine, is reported in errs with its
// line number, and the others are still returned.
func Read(r io.Reader) (cases []Case, errs []error) {
	cr := NewReader(r)
	for {
		c, err := cr.Next()
		if errors.Is(err, io.EOF) {
			return cases, errs
		}
		var le *LineError
		if errors.As(err, &le) {
			errs = append(errs, err)
			continue
		}
		if err != nil {
			errs = append(errs, &LineError{cr.n + 1, err})
			return cases, errs
		}
		cases = append(cases, c)
	}
}

// Reader reads cases one at a time, in flat memory.
type Reader struct {
	br  *bufio.Reader
	n   int
	buf []byte
}

// NewReader reads the cases of r.
func NewReader(r io.Reader) *Reader { return &Reader{br: bufio.NewReaderSize(r, 64<<10)} }

// ErrLineTooLong reports a cases line longer than MaxLine; the reader goes
// on with the next line.
var ErrLineTooLong = fmt.Errorf("corpus: line longer than %d bytes", MaxLine)

// Next returns the next case, io.EOF after the last, a *LineError for a
// line that is not a case (the reader can go on), or a read error.
func (cr *Reader) Next() (Case, error) {
	for {
		cr.buf = cr.buf[:0]
		long := false
		var err error
		for {
			var frag []byte
			frag, err = cr.br.ReadSlice('\n')
			if !long {
				if len(cr.buf)+len(frag) > MaxLine+2 {
					long = true
					cr.buf = cr.buf[:0]
				} else {
					cr.buf = append(cr.buf, frag...)
				}
			}
			if !errors.Is(err, bufio.ErrBufferFull) {
				break
			}
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return Case{}, err
		}
		if len(cr.buf) == 0 && !long && errors.Is(err, io.EOF) {
			return Case{}, io.EOF
		}
		cr.n++
		if long {
			return Case{}, &LineError{cr.n, ErrLineTooLong}
		}
		line := bytes.TrimSpace(cr.buf)
		if len(line) == 0 {
			continue
		}
		var c Case
		if err := json.Unmarshal(line, &c); err != nil {
			return Case{}, &LineError{cr.n, err}
		}
		if c.ID == "" || c.Message == "" {
			return Case{}, &LineError{cr.n, errors.New("case needs id and message")}
		}
		c.Line = cr.n
		return c, nil
	}
}

// ReadFile reads a cases file.
func ReadFile(path string) ([]Case, []error, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	cases, errs := Read(f)
	return cases, errs, nil
}

// MessagePath resolves a case's message relative to the cases file.
func MessagePath(casesFile string, c *Case) string {
	if filepath.IsAbs(c.Message) {
		return c.Message
	}
	return filepath.Join(filepath.Dir(casesFile), c.Message)
}
