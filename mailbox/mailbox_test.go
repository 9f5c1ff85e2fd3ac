//go:build unix

package mailbox

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// all reads every message of s as id → content.
func all(t *testing.T, s Store) ([]string, []string) {
	t.Helper()
	var ids, bodies []string
	for {
		m, err := s.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		b, err := io.ReadAll(m.Body)
		require.NoError(t, err)
		ids = append(ids, m.ID)
		bodies = append(bodies, string(b))
	}
	require.NoError(t, s.Close())
	return ids, bodies
}

func TestMbox(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"two", "From a@example.org Thu Jan 15 10:00:00 2026\nSubject: 1\n\nbody\n\nFrom b@example.org Thu Jan 15 10:00:01 2026\nSubject: 2\n\nbody2\n",
			[]string{"Subject: 1\n\nbody\n", "Subject: 2\n\nbody2\n"}},
		{"mboxrd unescape", "From a@example.org Thu Jan 15 10:00:00 2026\nSubject: 1\n\n>From me\n>>From you\n> From not\nFrom unescaped but no date\n\n",
			[]string{"Subject: 1\n\nFrom me\n>From you\n> From not\nFrom unescaped but no date\n"}},
		{"crlf kept", "From a@example.org Thu Jan 15 10:00:00 2026\r\nSubject: 1\r\n\r\nbody\r\n\r\nFrom b@example.org Thu Jan 15 10:00:01 2026\r\nSubject: 2\r\n\r\nx\r\n",
			[]string{"Subject: 1\r\n\r\nbody\r\n", "Subject: 2\r\n\r\nx\r\n"}},
		{"separator without blank line, dated", "From a@example.org Thu Jan 15 10:00:00 2026\nSubject: 1\n\nx\nFrom b@example.org Thu Jan  5 10:00:01 2026\nSubject: 2\n\ny\n",
			[]string{"Subject: 1\n\nx\n", "Subject: 2\n\ny\n"}},
		{"blank lines kept inside", "From a@example.org Thu Jan 15 10:00:00 2026\nS: 1\n\n\n\nx\n\n\n",
			[]string{"S: 1\n\n\n\nx\n\n"}},
		{"no final newline", "From a Thu Jan 15 10:00:00 2026\nS: 1\n\nx", []string{"S: 1\n\nx"}},
		{"obsolete From field after a blank line", "From a@example.org Thu Jan 15 10:00:00 2026\nS: 1\n\nx\n\nFrom : b@example.org\nS: 2\n",
			[]string{"S: 1\n\nx\n\nFrom : b@example.org\nS: 2\n"}},
		{"empty file", "", nil},
	}
	for _, tt := range tests {
		ids, bodies := all(t, NewMbox(strings.NewReader(tt.in), "box"))
		assert.Equal(t, tt.want, bodies, tt.name)
		for i, id := range ids {
			assert.Equal(t, "box#"+string(rune('1'+i)), id, tt.name)
		}
	}
	for _, in := range []string{
		"Subject: no separator\n\n",
		"From : a@example.org\nSubject: x\n\nbody\n", // the obsolete-syntax From field
		"From\t: a@example.org\n\n",
		" From a@example.org Thu Jan 15 10:00:00 2026\nS: 1\n\n",
	} {
		_, err := NewMbox(strings.NewReader(in), "x").Next()
		assert.ErrorIs(t, err, ErrNotMbox, "%q", in)
	}
}

func TestMboxSkipsUnreadAndLongLines(t *testing.T) {
	long := strings.Repeat("a", 3*maxMboxLine)
	in := "From a Thu Jan 15 10:00:00 2026\nS: 1\n\n" + long + "\nFrom inside a long line? no\n\nFrom b Thu Jan 15 10:00:00 2026\nS: 2\n\nz\n"
	m := NewMbox(strings.NewReader(in), "b")
	first, err := m.Next()
	require.NoError(t, err)
	assert.Equal(t, "b#1", first.ID)
	second, err := m.Next() // the first is skipped unread
	require.NoError(t, err)
	b, _ := io.ReadAll(second.Body)
	assert.Equal(t, "S: 2\n\nz\n", string(b))
	_, err = m.Next()
	assert.ErrorIs(t, err, io.EOF)

	_, bodies := all(t, NewMbox(strings.NewReader(in), "b"))
	require.Len(t, bodies, 2)
	assert.Equal(t, "S: 1\n\n"+long+"\nFrom inside a long line? no\n", bodies[0])
}

func write(t *testing.T, p, s string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
	require.NoError(t, os.WriteFile(p, []byte(s), 0o644))
}

// withFIFO makes a FIFO at p; nothing ever writes it, so opening it for
// reading would block forever.
func withFIFO(t *testing.T, p string) {
	t.Helper()
	require.NoError(t, syscall.Mkfifo(p, 0o644))
}

func noHang(t *testing.T, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { f(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("reader hung")
	}
}

func TestMaildir(t *testing.T) {
	dir := t.TempDir()
	outside := filepath.Join(t.TempDir(), "secret.eml")
	write(t, outside, "From: secret@example.org\n\n")
	write(t, filepath.Join(dir, "cur", "2.host:2,S"), "S: cur2\n\n")
	write(t, filepath.Join(dir, "cur", "1.host:2,S"), "S: cur1\n\n")
	write(t, filepath.Join(dir, "new", "3.host"), "S: new3\n\n")
	write(t, filepath.Join(dir, "tmp", "4.host"), "S: tmp\n\n")
	write(t, filepath.Join(dir, "cur", ".hidden"), "S: hidden\n\n")
	require.NoError(t, os.Symlink(outside, filepath.Join(dir, "cur", "5.link")))
	withFIFO(t, filepath.Join(dir, "new", "6.fifo"))
	assert.True(t, IsMaildir(dir))
	noHang(t, func() {
		d, err := OpenMaildir(dir)
		require.NoError(t, err)
		ids, bodies := all(t, d)
		assert.Equal(t, []string{"cur/1.host:2,S", "cur/2.host:2,S", "new/3.host"}, ids)
		assert.Equal(t, []string{"S: cur1\n\n", "S: cur2\n\n", "S: new3\n\n"}, bodies)
	})
}

func TestEMLDir(t *testing.T) {
	dir := t.TempDir()
	outside := filepath.Join(t.TempDir(), "secret.eml")
	write(t, outside, "From: secret@example.org\n\n")
	write(t, filepath.Join(dir, "b.eml"), "S: b\n\n")
	write(t, filepath.Join(dir, "a", "z.EML"), "S: az\n\n")
	write(t, filepath.Join(dir, "a", "notes.txt"), "not mail")
	write(t, filepath.Join(dir, ".git", "x.eml"), "S: hidden\n\n")
	require.NoError(t, os.Symlink(outside, filepath.Join(dir, "link.eml")))
	require.NoError(t, os.Symlink(filepath.Dir(outside), filepath.Join(dir, "linkdir")))
	withFIFO(t, filepath.Join(dir, "fifo.eml"))
	assert.False(t, IsMaildir(dir))
	noHang(t, func() {
		d, err := OpenEMLDir(dir)
		require.NoError(t, err)
		ids, bodies := all(t, d)
		assert.Equal(t, []string{"a/z.EML", "b.eml"}, ids)
		assert.Equal(t, []string{"S: az\n\n", "S: b\n\n"}, bodies)
	})
}

func TestOpenInside(t *testing.T) {
	root := t.TempDir()
	other := t.TempDir()
	write(t, filepath.Join(root, "msgs", "ok.eml"), "ok")
	write(t, filepath.Join(other, "secret.eml"), "secret")
	require.NoError(t, os.Symlink(filepath.Join(other, "secret.eml"), filepath.Join(root, "msgs", "link.eml")))
	require.NoError(t, os.Symlink("ok.eml", filepath.Join(root, "msgs", "inner.eml")))
	withFIFO(t, filepath.Join(root, "msgs", "fifo.eml"))
	tests := []struct {
		rel     string
		allow   bool
		want    string
		wantErr error
	}{
		{"msgs/ok.eml", false, "ok", nil},
		{"msgs/inner.eml", false, "ok", nil},
		{"msgs/../msgs/ok.eml", false, "ok", nil},
		{"../" + filepath.Base(other) + "/secret.eml", false, "", ErrOutside},
		{filepath.Join(other, "secret.eml"), false, "", ErrOutside},
		{"msgs/link.eml", false, "", ErrOutside},
		{"msgs/fifo.eml", false, "", ErrNotRegular},
		{"msgs", false, "", ErrNotRegular},
		{filepath.Join(other, "secret.eml"), true, "secret", nil},
		{"msgs/link.eml", true, "secret", nil},
		{"msgs/fifo.eml", true, "", ErrNotRegular},
	}
	for _, tt := range tests {
		noHang(t, func() {
			f, err := OpenInside(root, tt.rel, tt.allow)
			if tt.wantErr != nil {
				assert.ErrorIs(t, err, tt.wantErr, tt.rel)
				return
			}
			require.NoError(t, err, tt.rel)
			b, _ := io.ReadAll(f)
			f.Close()
			assert.Equal(t, tt.want, string(b), tt.rel)
		})
	}
}

func TestOpenRegular(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "box"), "From a Thu Jan 15 10:00:00 2026\nS: 1\n\n")
	withFIFO(t, filepath.Join(dir, "fifo"))
	noHang(t, func() {
		_, err := OpenMbox(filepath.Join(dir, "fifo"), "fifo")
		assert.ErrorIs(t, err, ErrNotRegular)
		m, err := OpenMbox(filepath.Join(dir, "box"), "box")
		require.NoError(t, err)
		ids, _ := all(t, m)
		assert.Equal(t, []string{"box#1"}, ids)
	})
}
