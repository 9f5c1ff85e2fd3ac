package dkim

import (
	"context"
	"crypto"
	"crypto/sha256"
	"strings"
	"testing"
	"time"

	gmdkim "github.com/emersion/go-msgauth/dkim"
)

// benchBody is n octets of text shaped like mail: 76-character lines,
// each with a double space and a tab for relaxed to rewrite.
func benchBody(n int) []byte {
	return repeatLine("The quick brown fox jumps over the lazy dog, and  then\tsome more words here.\r\n", n)
}

// plainBody is like benchBody, with lines relaxed leaves as they are.
func plainBody(n int) []byte {
	return repeatLine("The quick brown fox jumps over the lazy dog, and then some more words here.\r\n", n)
}

func repeatLine(line string, n int) []byte {
	return []byte(strings.Repeat(line, n/len(line)+1)[:n])
}

var benchSizes = []struct {
	name string
	n    int
}{{"10KB", 10 << 10}, {"1MB", 1 << 20}}

// The baseline: a bare SHA-256 of the same octets.
func BenchmarkSHA256(b *testing.B) {
	for _, s := range benchSizes {
		body := benchBody(s.n)
		b.Run(s.name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				h := sha256.New()
				for p := body; len(p) > 0; p = p[min(len(p), 32<<10):] {
					h.Write(p[:min(len(p), 32<<10)])
				}
				h.Sum(nil)
			}
		})
	}
}

func BenchmarkBodyHasher(b *testing.B) {
	for _, c := range []struct {
		name string
		c    Canonicalization
		body func(int) []byte
	}{{"simple", Simple, benchBody}, {"relaxed", Relaxed, benchBody}, {"relaxed-plain", Relaxed, plainBody}} {
		for _, s := range benchSizes {
			body := c.body(s.n)
			b.Run(c.name+"/"+s.name, func(b *testing.B) {
				b.SetBytes(int64(len(body)))
				for b.Loop() {
					h := NewBodyHasher(c.c, crypto.SHA256, -1)
					for p := body; len(p) > 0; p = p[min(len(p), 32<<10):] {
						h.Write(p[:min(len(p), 32<<10)])
					}
					h.Sum()
				}
			})
		}
	}
}

// BenchmarkVerifier is the whole verification of one message with one
// rsa-2048 relaxed/relaxed signature: header, key (from the zone), body,
// header hash and RSA.
func BenchmarkVerifier(b *testing.B) {
	k := keys(b)
	z := testZone(b)
	for _, s := range benchSizes {
		msg := sign(b, testHeader+"\r\n"+string(benchBody(s.n)), gm(k.rsaA, "rsa1", gmdkim.CanonicalizationRelaxed, gmdkim.CanonicalizationRelaxed))
		b.Run(s.name, func(b *testing.B) {
			b.SetBytes(int64(s.n))
			for b.Loop() {
				r, err := Verify(context.Background(), z, strings.NewReader(msg), &Options{Time: time.Now()})
				if err != nil || r[0].Status != StatusPass {
					b.Fatal(err, r)
				}
			}
		})
	}
}
