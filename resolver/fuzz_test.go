package resolver_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/mailtrust/mailtrust/resolver"
)

// FuzzZone: any master file either fails to parse or gives a Zone whose
// answers, recorded and written back, load again into a Zone giving the
// same answers. Nothing panics or hangs.
func FuzzZone(f *testing.F) {
	f.Add(testZoneText)
	f.Add("$ORIGIN example.\n* 60 IN TXT \"x\"\na 60 IN CNAME *.b\n")
	f.Add("a.example. IN CNAME a.example.\n; timeout: b.example.\n")
	f.Fuzz(func(t *testing.T, text string) {
		z := resolver.NewZone()
		z.Timeout = 1 // a timeout fault must not slow the fuzzer
		if err := z.ReadMasterFile(strings.NewReader(text), ".", "fuzz"); err != nil {
			return
		}
		// Ask every owner name (and a child of it) for a few types.
		zp := dns.NewZoneParser(strings.NewReader(text), ".", "fuzz")
		var names []string
		for rr, ok := zp.Next(); ok && len(names) < 50; rr, ok = zp.Next() {
			names = append(names, rr.Header().Name, "x."+rr.Header().Name)
		}
		rec := resolver.NewRecorder(z)
		ctx := context.Background()
		type q struct {
			name  string
			qtype uint16
		}
		var qs []q
		for _, n := range names {
			for _, qt := range []uint16{dns.TypeA, dns.TypeTXT, dns.TypeCNAME} {
				qs = append(qs, q{n, qt})
				rec.Lookup(ctx, n, qt)
			}
		}
		var b bytes.Buffer
		if _, err := rec.WriteTo(&b); err != nil {
			t.Fatal(err)
		}
		recorded := b.String() // the reader below drains b
		replay := resolver.NewZone()
		replay.Timeout = 1
		if err := replay.ReadMasterFile(&b, ".", "recorded"); err != nil {
			t.Fatalf("recorded file does not load: %v\n%s", err, recorded)
		}
		for _, q := range qs {
			a1, err1 := z.Lookup(ctx, q.name, q.qtype)
			a2, err2 := replay.Lookup(ctx, q.name, q.qtype)
			if kind(err1) != kind(err2) || describe(a1) != describe(a2) {
				t.Fatalf("%s %d: live %v %q, replay %v %q\n%s", q.name, q.qtype, err1, describe(a1), err2, describe(a2), recorded)
			}
		}
	})
}
