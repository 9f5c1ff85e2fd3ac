package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mailtrust/mailtrust/internal/corpus"
)

// TestMailboxUpToDate: testdata/mailbox is what writeMailbox makes of the
// shipped corpus, file for file (run go run ./internal/cmd/gencorpus when
// this fails).
func TestMailboxUpToDate(t *testing.T) {
	const corpusDir, shipped = "../../../testdata/corpus", "../../../testdata/mailbox"
	cases, errs, err := corpus.ReadFile(filepath.Join(corpusDir, "cases.jsonl"))
	require.NoError(t, err)
	require.Empty(t, errs)
	dir := filepath.Join(t.TempDir(), "mailbox")
	require.NoError(t, writeMailbox(corpusDir, dir, cases))
	n := 0
	require.NoError(t, filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		want, err := os.ReadFile(p)
		require.NoError(t, err)
		got, err := os.ReadFile(filepath.Join(shipped, rel))
		require.NoError(t, err, rel)
		assert.Equal(t, string(want), string(got), rel)
		n++
		return nil
	}))
	msgs := 0
	for _, c := range cases {
		if len(c.TrustedForwarders) == 0 {
			msgs++
		}
	}
	// eml/ and Maildir/ hold each message, beside all.mbox, cases.jsonl,
	// zone.txt and Maildir/tmp/.keep.
	assert.Equal(t, 2*msgs+4, n)
}
