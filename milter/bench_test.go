package milter

import (
	"bytes"
	"context"
	"testing"

	gomilter "github.com/emersion/go-milter"

	"github.com/mailtrust/mailtrust/trust"
)

// BenchmarkMessage is one corpus message through the milter protocol on
// loopback, one connection, against BenchmarkEvaluate, the same message
// given to the evaluator directly: the difference is the milter's cost.
func BenchmarkMessage(b *testing.B) {
	ev := trust.New(&trust.Options{Resolver: corpusZone(b), AuthServID: authServID})
	_, c := start(b, Options{Evaluator: ev})
	msg := corpusMessage(b, "legit-rsa.eml")
	names, values, body := fields(b, msg)
	s, err := c.Session()
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	s.Conn("mail.example.com", gomilter.FamilyInet, 25, "192.0.2.10")
	s.Helo("mail.example.com")
	b.SetBytes(int64(len(msg)))
	b.ResetTimer()
	for range b.N {
		s.Mail("<bounce@example.com>", nil)
		s.Rcpt("<support@helpdesk.example>", nil)
		for i := range names {
			s.HeaderField(names[i], values[i])
		}
		s.HeaderEnd()
		s.BodyChunk(body)
		if _, act, err := s.End(); err != nil || act.Code != gomilter.ActContinue {
			b.Fatal(err, act)
		}
	}
}

func BenchmarkEvaluate(b *testing.B) {
	ev := trust.New(&trust.Options{Resolver: corpusZone(b), AuthServID: authServID})
	msg := corpusMessage(b, "legit-rsa.eml")
	b.SetBytes(int64(len(msg)))
	for range b.N {
		if _, err := ev.Evaluate(context.Background(), legit.conn(), bytes.NewReader(msg)); err != nil {
			b.Fatal(err)
		}
	}
}
