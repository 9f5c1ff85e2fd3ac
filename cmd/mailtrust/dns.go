package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/mailtrust/mailtrust/resolver"
)

// dnsFlags select where DNS answers come from.
type dnsFlags struct {
	zone   string
	server string
	record string
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
// between the cache and the source, and flush writes what it saw.
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
		src = z
	case d.server != "":
		src = &resolver.Client{Servers: []string{d.server}}
	case fallbackZone != "":
		z, err := resolver.LoadZone(fallbackZone)
		if err != nil {
			return nil, nil, err
		}
		src = z
	default:
		src = resolver.NewSystem()
	}
	flush = func() error { return nil }
	if d.record != "" {
		rec := resolver.NewRecorder(src)
		src = rec
		path := d.record
		flush = func() error {
			f, err := os.Create(path)
			if err != nil {
				return err
			}
			if _, err := rec.WriteTo(f); err != nil {
				f.Close()
				return err
			}
			if err := f.Close(); err != nil {
				return fmt.Errorf("writing %s: %w", path, err)
			}
			return nil
		}
	}
	return resolver.NewCache(src), flush, nil
}
