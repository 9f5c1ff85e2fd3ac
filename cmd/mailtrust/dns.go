package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/mailtrust/mailtrust/resolver"
)

// dnsFlags select where DNS answers come from.
type dnsFlags struct {
	zone   string
	server string
	record string
	force  bool // -record may overwrite an existing file
}

// replayFaultTimeout is how long a "; timeout:" fault of a zone file
// waits: a recorded timeout is a fact about the past, not worth real
// seconds again.
const replayFaultTimeout = 50 * time.Millisecond

// checkRecord refuses, before any work, to overwrite a record file
// without -force.
func (d dnsFlags) checkRecord() error {
	if d.record == "" || d.force {
		return nil
	}
	if _, err := os.Lstat(d.record); err == nil {
		return fmt.Errorf("%s exists: give -force to overwrite it", d.record)
	}
	return nil
}

// exclusive reports flags that exclude each other: a usage error.
func (d dnsFlags) exclusive() error {
	if d.zone != "" && d.server != "" {
		return errors.New("-zone and -dns exclude each other")
	}
	return nil
}

// open returns the resolver the flags ask for; fallbackZone is used when
// neither -zone nor -dns is given (replay: zone.txt beside the cases), and
// when it is empty too, the system resolver. With -record, a Recorder sits
// between the cache and the source, and flush writes what it saw: to a
// temporary file renamed into place, so that a reader never sees half a
// zone; when most questions failed, flush says so and fails.
func (d dnsFlags) open(fallbackZone string) (r resolver.Resolver, flush func() error, err error) {
	if err := d.exclusive(); err != nil {
		return nil, nil, err
	}
	var src resolver.Resolver
	switch {
	case d.zone != "":
		z, err := resolver.LoadZone(d.zone)
		if err != nil {
			return nil, nil, err
		}
		z.Timeout = replayFaultTimeout
		src = z
	case d.server != "":
		src = &resolver.Client{Servers: []string{d.server}}
	case fallbackZone != "":
		z, err := resolver.LoadZone(fallbackZone)
		if err != nil {
			return nil, nil, err
		}
		z.Timeout = replayFaultTimeout
		src = z
	default:
		src = resolver.NewSystem()
	}
	flush = func() error { return nil }
	if d.record != "" {
		cnt := &counting{Resolver: src}
		rec := resolver.NewRecorder(cnt)
		src = rec
		path := d.record
		flush = func() error {
			if err := writeAtomic(path, rec); err != nil {
				return err
			}
			asked, failed := cnt.asked.Load(), cnt.failed.Load()
			if asked > 0 && failed*2 > asked {
				return fmt.Errorf("%s: %d of %d DNS questions failed temporarily: the file records an outage, not the DNS", path, failed, asked)
			}
			return nil
		}
	}
	return resolver.NewCache(src), flush, nil
}

// writeAtomic writes rec to a temporary file beside path and renames it
// into place.
func writeAtomic(path string, rec *resolver.Recorder) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	if _, err := rec.WriteTo(f); err != nil {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// counting counts the questions asked and those that failed temporarily.
type counting struct {
	resolver.Resolver
	asked, failed atomic.Int64
}

func (c *counting) Lookup(ctx context.Context, name string, qtype uint16) (*resolver.Answer, error) {
	a, err := c.Resolver.Lookup(ctx, name, qtype)
	c.asked.Add(1)
	if err != nil && resolver.IsTemporary(err) {
		c.failed.Add(1)
	}
	return a, err
}
