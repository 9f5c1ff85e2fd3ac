package mailbox

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// Dir reads the messages of a folder: a Maildir's cur/ and new/, or every
// .eml file below a folder. Folders are read in name order, one at a time:
// memory holds the names of the folders being walked, never the messages.
type Dir struct {
	root    string
	maildir bool
	stack   []frame
	cur     *os.File
}

type frame struct {
	rel     string // folder relative to root, "" for root
	entries []fs.DirEntry
	i       int
}

// OpenMaildir reads the Maildir at dir: the files of cur/ then new/ (the
// Maildir specification: tmp/ holds messages not yet delivered). Names
// starting with "." are skipped.
func OpenMaildir(dir string) (*Dir, error) {
	d := &Dir{root: dir, maildir: true}
	for _, sub := range []string{"new", "cur"} { // a stack: cur/ is read first
		p := filepath.Join(dir, sub)
		st, err := os.Lstat(p)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			return nil, err
		}
		if !st.IsDir() {
			continue
		}
		es, err := os.ReadDir(p)
		if err != nil {
			return nil, err
		}
		d.stack = append(d.stack, frame{rel: sub, entries: es})
	}
	return d, nil
}

// OpenEMLDir reads every file named *.eml below dir, recursively, in
// name order. Names starting with "." are skipped.
func OpenEMLDir(dir string) (*Dir, error) {
	es, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	return &Dir{root: dir, stack: []frame{{entries: es}}}, nil
}

// IsMaildir reports whether dir looks like a Maildir: it has cur/ or new/.
func IsMaildir(dir string) bool {
	for _, sub := range []string{"cur", "new"} {
		if st, err := os.Lstat(filepath.Join(dir, sub)); err == nil && st.IsDir() {
			return true
		}
	}
	return false
}

// Next returns the next message. A file that is not regular (a FIFO, a
// device, a symbolic link) is skipped; one that cannot be opened is
// returned as a *MessageError.
func (d *Dir) Next() (Message, error) {
	if d.cur != nil {
		d.cur.Close()
		d.cur = nil
	}
	for len(d.stack) > 0 {
		top := &d.stack[len(d.stack)-1]
		if top.i >= len(top.entries) {
			d.stack = d.stack[:len(d.stack)-1]
			continue
		}
		e := top.entries[top.i]
		top.i++
		name := e.Name()
		if strings.HasPrefix(name, ".") {
			continue
		}
		rel := path.Join(top.rel, name)
		full := filepath.Join(d.root, filepath.FromSlash(rel))
		switch t := e.Type(); {
		case t.IsDir():
			if d.maildir {
				continue // Maildir++ subfolders are mailboxes of their own
			}
			es, err := os.ReadDir(full)
			if err != nil {
				return Message{}, &MessageError{ID: rel, Err: err}
			}
			d.stack = append(d.stack, frame{rel: rel, entries: es})
			continue
		case !t.IsRegular():
			continue // symbolic link, FIFO, device, socket
		}
		if !d.maildir && !strings.EqualFold(path.Ext(name), ".eml") {
			continue
		}
		f, err := OpenRegular(full)
		if err != nil {
			return Message{}, &MessageError{ID: rel, Err: err}
		}
		d.cur = f
		return Message{ID: rel, Body: f}, nil
	}
	return Message{}, io.EOF
}

// Close releases the open message file.
func (d *Dir) Close() error {
	if d.cur != nil {
		err := d.cur.Close()
		d.cur = nil
		return err
	}
	return nil
}

// ErrOutside is returned for a path that leads outside its folder.
var ErrOutside = errors.New("path leads outside the folder")

// OpenInside opens rel, a path relative to the folder root, when it stays
// inside root: not absolute, no ".." that climbs out, no symbolic link on
// the way that leads out; and when it is a regular file. With
// allowOutside, only the regular-file rule applies.
func OpenInside(root, rel string, allowOutside bool) (*os.File, error) {
	if allowOutside {
		p := rel
		if !filepath.IsAbs(p) {
			p = filepath.Join(root, rel)
		}
		return openFollowing(p)
	}
	if filepath.IsAbs(rel) || !filepath.IsLocal(rel) {
		return nil, fmt.Errorf("mailbox: %s: %w", rel, ErrOutside)
	}
	full := filepath.Join(root, rel)
	real, err := filepath.EvalSymlinks(full)
	if err != nil {
		return nil, err
	}
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return nil, err
	}
	r, err := filepath.Rel(realRoot, real)
	if err != nil || !filepath.IsLocal(r) {
		return nil, fmt.Errorf("mailbox: %s: %w", rel, ErrOutside)
	}
	return OpenRegular(real)
}

// openFollowing opens p, following links, when it leads to a regular file.
func openFollowing(p string) (*os.File, error) {
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		return nil, err
	}
	return OpenRegular(real)
}
