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
// is not a valid case is reported in errs with its line number, and the
// others are still returned.
func Read(r io.Reader) (cases []Case, errs []error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), MaxLine)
	n := 0
	for sc.Scan() {
		n++
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var c Case
		dec := json.NewDecoder(bytes.NewReader(line))
		if err := dec.Decode(&c); err != nil {
			errs = append(errs, &LineError{n, err})
			continue
		}
		if c.ID == "" || c.Message == "" {
			errs = append(errs, &LineError{n, errors.New("case needs id and message")})
			continue
		}
		c.Line = n
		cases = append(cases, c)
	}
	if err := sc.Err(); err != nil {
		errs = append(errs, &LineError{n + 1, err})
	}
	return cases, errs
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
