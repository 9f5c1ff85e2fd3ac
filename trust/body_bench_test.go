package trust

import (
	"bufio"
	"bytes"
	"context"
	"crypto"
	"crypto/sha256"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/mailtrust/mailtrust/dkim"
	"github.com/mailtrust/mailtrust/message"
)

// BenchmarkBodyPass is the cost per body octet of what Evaluate does with
// a body (feedBody: relaxed canonicalization, SHA-256 and the smuggling
// scan) against a bare SHA-256 of the same octets, interleaved in one
// benchmark: x-sha256 is the ratio of the two, body-ns/B and sha-ns/B the
// costs per octet, in CPU time of the benchmark's thread (on Linux), which
// other load on the machine does not inflate. The body is 1 MiB of lines
// (plain: those of the trust benchmarks, which relaxed leaves alone; wsp:
// with a double space and an HTAB in each line), read in 32 KiB chunks
// through a bufio.Reader as Evaluate reads it.
func BenchmarkBodyPass(b *testing.B) {
	for _, c := range []struct {
		name string
		line string
	}{
		{"plain", "The quick brown fox jumps over the lazy dog, and then some more words here.\r\n"},
		{"wsp", "The quick brown fox jumps over the lazy dog, and  then\tsome more words here.\r\n"},
	} {
		body := []byte(strings.Repeat(c.line, (1<<20)/len(c.line)))
		b.Run(c.name, func(b *testing.B) {
			br := bufio.NewReaderSize(nil, readerSize)
			buf := make([]byte, readerSize)
			var pass, sha time.Duration
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			for b.Loop() {
				t0 := threadCPU()
				var bodies dkim.BodyHashers
				h := bodies.Hasher(dkim.Relaxed, crypto.SHA256, -1)
				var scan message.SmugglingScanner
				br.Reset(bytes.NewReader(body))
				if _, err := feedBody(context.Background(), br, &bodies, &scan, 1<<62); err != nil {
					b.Fatal(err)
				}
				h.Sum()
				if scan.Result().CRLF == 0 {
					b.Fatal("no lines")
				}
				t1 := threadCPU()
				s := sha256.New()
				r := bytes.NewReader(body)
				for {
					n, _ := r.Read(buf)
					if n == 0 {
						break
					}
					s.Write(buf[:n])
				}
				s.Sum(nil)
				pass += t1 - t0
				sha += threadCPU() - t1
			}
			octets := float64(b.N) * float64(len(body))
			b.ReportMetric(0, "ns/op")
			b.ReportMetric(float64(pass)/octets, "body-ns/B")
			b.ReportMetric(float64(sha)/octets, "sha-ns/B")
			b.ReportMetric(float64(pass)/float64(sha), "x-sha256")
		})
	}
}
