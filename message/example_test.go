package message_test

import (
	"bufio"
	"fmt"
	"strings"

	"github.com/mailtrust/mailtrust/message"
)

func ExampleParseFrom() {
	msg := "From: \"support@bank.example\" <support@bank-example.test>\r\n" +
		"Subject: urgent\r\n\r\nbody\r\n"
	h, err := message.ReadHeader(bufio.NewReader(strings.NewReader(msg)), message.Limits{})
	if err != nil {
		panic(err)
	}
	from := message.ParseFrom(h)
	fmt.Println(from.Domain)
	fmt.Println(from.Problems)
	// Output:
	// bank-example.test
	// [from.display-name-address]
}

func ExampleSmugglingScanner() {
	var s message.SmugglingScanner
	// A second message hides behind "\n.\r\n", in two writes.
	s.Write([]byte("Hi\r\nBye\n."))
	s.Write([]byte("\r\nMAIL FROM:<admin@bank.example>\r\n"))
	r := s.Result()
	fmt.Println(r.Sequences, r.First, r.MixedEndings)
	// Output:
	// 1 7 true
}
