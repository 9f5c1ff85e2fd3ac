package main

import (
	"os"
	"path/filepath"
	"testing"

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
