//go:build !unix

package mailbox

import "os"

// openNoFollow opens path; the caller's Lstat and Stat checks stand in
// for the flags this system lacks.
func openNoFollow(path string) (*os.File, error) {
	return os.Open(path)
}
