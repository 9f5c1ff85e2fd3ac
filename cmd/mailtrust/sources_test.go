package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// copyCorpus copies the sample corpus's messages and zone into dir: a
// corpus of its own, since messages must stay inside their folder.
func copyCorpus(t *testing.T, dir string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "msgs"), 0o755))
	es, err := os.ReadDir(filepath.Join(corpusDir, "msgs"))
	require.NoError(t, err)
	for _, e := range es {
		b, err := os.ReadFile(filepath.Join(corpusDir, "msgs", e.Name()))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, "msgs", e.Name()), b, 0o644))
	}
	b, err := os.ReadFile(filepath.Join(corpusDir, "zone.txt"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "zone.txt"), b, 0o644))
}

// TestDetect: a file is an mbox exactly when mailbox.Mbox reads it as one:
// its first line is a separator as message.IsMboxFrom judges it, with
// nothing before it. A message that starts with the obsolete-syntax
// "From :" field is one message, its From field kept.
func TestDetect(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "Maildir", "cur"), 0o755))
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "eml"), 0o755))
	tests := []struct {
		name, content, want string
	}{
		{"m.mbox", "From a@example.org Thu Jan 15 10:00:00 2026\nSubject: x\n\nbody\n", kindMbox},
		{"crlf.mbox", "From a@example.org Thu Jan 15 10:00:00 2026\r\nSubject: x\r\n\r\nbody\r\n", kindMbox},
		{"obs-from.eml", "From : a@example.org\nSubject: x\n\nbody\n", kindMessage},
		{"obs-from-tab.eml", "From\t: a@example.org\nSubject: x\n\nbody\n", kindMessage},
		{"blank-first.eml", "\nFrom a@example.org Thu Jan 15 10:00:00 2026\nSubject: x\n\nbody\n", kindMessage},
		{"space-first.eml", " From a@example.org Thu Jan 15 10:00:00 2026\nSubject: x\n\nbody\n", kindMessage},
		{"plain.eml", "From: a@example.org\nSubject: x\n\nbody\n", kindMessage},
		{"empty.eml", "", kindMessage},
		{"cases", "\n  {\"id\":\"a\"}\n", kindCases},
		{"c.jsonl", "not json", kindCases},
	}
	for _, tt := range tests {
		p := filepath.Join(dir, tt.name)
		require.NoError(t, os.WriteFile(p, []byte(tt.content), 0o644))
		got, err := detect(p)
		require.NoError(t, err, tt.name)
		assert.Equal(t, tt.want, got, tt.name)
	}
	for name, want := range map[string]string{"Maildir": kindMaildir, "eml": kindEMLDir} {
		got, err := detect(filepath.Join(dir, name))
		require.NoError(t, err, name)
		assert.Equal(t, want, got, name)
	}
}
