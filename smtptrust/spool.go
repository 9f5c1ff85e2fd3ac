package smtptrust

import (
	"bytes"
	"fmt"
	"io"
	"os"
)

// DefaultMaxMemory is the part of a message held in memory when
// Options.MaxMemory is zero.
const DefaultMaxMemory = 4 << 20

// spool holds one message: its first max octets in memory, the rest in a
// temporary file, so that a large attachment costs disk, not memory.
type spool struct {
	max  int
	mem  bytes.Buffer
	file *os.File
	dir  string
}

func (s *spool) Write(p []byte) (int, error) {
	if s.file == nil {
		if room := s.max - s.mem.Len(); len(p) <= room {
			return s.mem.Write(p)
		}
		f, err := os.CreateTemp(s.dir, "smtptrust-*.eml")
		if err != nil {
			return 0, fmt.Errorf("smtptrust: spooling the message: %w", err)
		}
		s.file = f
	}
	n, err := s.file.Write(p)
	if err != nil {
		return n, fmt.Errorf("smtptrust: spooling the message: %w", err)
	}
	return n, nil
}

// reader reads the whole message from its start.
func (s *spool) reader() (io.Reader, error) {
	if s.file == nil {
		return bytes.NewReader(s.mem.Bytes()), nil
	}
	if _, err := s.file.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("smtptrust: spooled message: %w", err)
	}
	return io.MultiReader(bytes.NewReader(s.mem.Bytes()), s.file), nil
}

// close removes the temporary file, if any.
func (s *spool) close() {
	if s.file != nil {
		s.file.Close()
		os.Remove(s.file.Name())
	}
}
