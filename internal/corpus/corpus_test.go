package corpus

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A line over MaxLine is reported, and the cases after it are read.
func TestReadLongLine(t *testing.T) {
	in := `{"id":"a","message":"a.eml"}` + "\n" +
		`{"id":"big","message":"` + strings.Repeat("x", MaxLine+10) + `"}` + "\n" +
		"\n" + `not json` + "\n" +
		`{"id":"b","message":"b.eml"}` + "\n" +
		`{"id":"c","message":"c.eml"}`
	cases, errs := Read(strings.NewReader(in))
	require.Len(t, cases, 3)
	assert.Equal(t, []string{"a", "b", "c"}, []string{cases[0].ID, cases[1].ID, cases[2].ID})
	assert.Equal(t, []int{1, 5, 6}, []int{cases[0].Line, cases[1].Line, cases[2].Line})
	require.Len(t, errs, 2)
	var le *LineError
	require.True(t, errors.As(errs[0], &le))
	assert.Equal(t, 2, le.Line)
	assert.ErrorIs(t, errs[0], ErrLineTooLong)
	require.True(t, errors.As(errs[1], &le))
	assert.Equal(t, 4, le.Line)
	// A line of exactly MaxLine is read.
	exact := `{"id":"e","message":"` + strings.Repeat("y", MaxLine-len(`{"id":"e","message":""}`)) + `"}`
	require.Len(t, exact, MaxLine)
	cases, errs = Read(strings.NewReader(exact + "\n"))
	assert.Empty(t, errs)
	assert.Len(t, cases, 1)
}
