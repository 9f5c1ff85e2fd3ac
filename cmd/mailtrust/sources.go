package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/mailtrust/mailtrust/internal/corpus"
	"github.com/mailtrust/mailtrust/mailbox"
	"github.com/mailtrust/mailtrust/message"
)

// item is one message to judge, from any source.
type item struct {
	seq int
	id  string
	// c is the case for a cases.jsonl line; nil for a mailbox message,
	// which comes with no session facts.
	c *corpus.Case
	// body holds an mbox message (read before the next one); path a file
	// to open in the worker; err why the item cannot be judged.
	body []byte
	path string
	dir  string // the cases file's folder, for OpenInside
	err  error
}

// Source kinds.
const (
	kindCases   = "cases"
	kindMbox    = "mbox"
	kindMaildir = "maildir"
	kindEMLDir  = "eml"
	kindMessage = "message"
)

// detect says what kind of source path is: a folder is a Maildir when it
// has cur/ or new/, else a folder of .eml files; a file is a cases file
// when it is named *.jsonl or starts with "{" (after white space), an mbox
// when its first line is an mbox separator as message.IsMboxFrom and
// mailbox.Mbox judge it (not "From :", the obsolete-syntax From field, and
// nothing before it), else one message.
func detect(path string) (string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	if st.IsDir() {
		if mailbox.IsMaildir(path) {
			return kindMaildir, nil
		}
		return kindEMLDir, nil
	}
	if strings.HasSuffix(path, ".jsonl") {
		return kindCases, nil
	}
	f, err := mailbox.OpenRegular(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	head := make([]byte, 512)
	n, _ := io.ReadFull(f, head)
	head = head[:n]
	switch {
	case bytes.HasPrefix(bytes.TrimLeft(head, " \t\r\n"), []byte("{")):
		return kindCases, nil
	case message.IsMboxFrom(head):
		return kindMbox, nil
	}
	return kindMessage, nil
}

// shard selects the messages of shard K of N by a hash of their id, so
// that N processes with no coordinator split a run between them.
type shard struct{ k, n uint64 }

func parseShard(s string) (shard, error) {
	if s == "" {
		return shard{0, 1}, nil
	}
	a, b, ok := strings.Cut(s, "/")
	k, err1 := strconv.ParseUint(a, 10, 32)
	n, err2 := strconv.ParseUint(b, 10, 32)
	if !ok || err1 != nil || err2 != nil || n == 0 || k >= n {
		return shard{}, fmt.Errorf("-shard %q: want K/N with 0 <= K < N", s)
	}
	return shard{k, n}, nil
}

func (s shard) has(id string) bool {
	if s.n <= 1 {
		return true
	}
	h := fnv.New64a()
	h.Write([]byte(id))
	return h.Sum64()%s.n == s.k
}

// maxMessage bounds an mbox message held in memory for a worker.
const maxMessage = 64 << 20

// sourceOpts are the flags that shape reading.
type sourceOpts struct {
	allowOutside bool
	shard        shard
}

// produce sends every message of the sources, in order, to out; emit
// returns false when the run is to stop. Problems with a source as a whole
// are returned; problems with one message travel as items with err set.
func produce(ctx context.Context, paths []string, o sourceOpts, emit func(item) bool, warn func(string)) error {
	seq := 0
	send := func(it item) bool {
		if !o.shard.has(it.id) {
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		it.seq = seq
		seq++
		return emit(it)
	}
	for _, p := range paths {
		kind, err := detect(p)
		if err != nil {
			return err
		}
		var ok bool
		switch kind {
		case kindCases:
			ok, err = produceCases(p, o, send, warn)
		case kindMbox:
			ok, err = produceMbox(p, send)
		case kindMaildir, kindEMLDir:
			ok, err = produceDir(p, kind, send)
		case kindMessage:
			ok = send(item{id: filepath.Base(p), path: p})
		}
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		if !ok {
			return nil
		}
	}
	return nil
}

func produceCases(path string, o sourceOpts, send func(item) bool, warn func(string)) (bool, error) {
	f, err := mailbox.OpenRegular(path)
	if err != nil {
		return true, err
	}
	defer f.Close()
	cr := corpus.NewReader(f)
	dir := filepath.Dir(path)
	for {
		c, err := cr.Next()
		if errors.Is(err, io.EOF) {
			return true, nil
		}
		var le *corpus.LineError
		if errors.As(err, &le) {
			warn(fmt.Sprintf("%s: %v", path, err))
			continue
		}
		if err != nil {
			return true, err
		}
		if !send(item{id: c.ID, c: &c, path: c.Message, dir: dir}) {
			return false, nil
		}
	}
}

func produceMbox(path string, send func(item) bool) (bool, error) {
	m, err := mailbox.OpenMbox(path, "")
	if err != nil {
		return true, err
	}
	defer m.Close()
	for {
		msg, err := m.Next()
		if errors.Is(err, io.EOF) {
			return true, nil
		}
		if err != nil {
			return true, err
		}
		b, err := io.ReadAll(io.LimitReader(bufio.NewReader(msg.Body), maxMessage+1))
		it := item{id: msg.ID, body: b, err: err}
		if len(b) > maxMessage {
			it.body, it.err = nil, fmt.Errorf("message over %d bytes", maxMessage)
		}
		if !send(it) {
			return false, nil
		}
	}
}

func produceDir(path, kind string, send func(item) bool) (bool, error) {
	var d *mailbox.Dir
	var err error
	if kind == kindMaildir {
		d, err = mailbox.OpenMaildir(path)
	} else {
		d, err = mailbox.OpenEMLDir(path)
	}
	if err != nil {
		return true, err
	}
	defer d.Close()
	for {
		msg, err := d.Next()
		if errors.Is(err, io.EOF) {
			return true, nil
		}
		var me *mailbox.MessageError
		if errors.As(err, &me) {
			if !send(item{id: me.ID, err: me.Err}) {
				return false, nil
			}
			continue
		}
		if err != nil {
			return true, err
		}
		// The worker opens the file again: the walk moves on meanwhile.
		if !send(item{id: msg.ID, path: filepath.Join(path, filepath.FromSlash(msg.ID)), dir: path}) {
			return false, nil
		}
	}
}

// open returns the message of it.
func (it *item) open(allowOutside bool) (io.ReadCloser, error) {
	switch {
	case it.body != nil:
		return io.NopCloser(bytes.NewReader(it.body)), nil
	case it.c != nil:
		return mailbox.OpenInside(it.dir, it.path, allowOutside)
	case it.dir != "":
		rel, err := filepath.Rel(it.dir, it.path)
		if err != nil {
			return nil, err
		}
		return mailbox.OpenInside(it.dir, rel, false)
	}
	return mailbox.OpenRegular(it.path)
}

// flagGiven reports whether the flag name was set on the command line.
func flagGiven(fs *flag.FlagSet, name string) bool {
	given := false
	fs.Visit(func(f *flag.Flag) {
		if f.Name == name {
			given = true
		}
	})
	return given
}
