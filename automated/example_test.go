package automated_test

import (
	"bufio"
	"fmt"
	"strings"

	"github.com/mailtrust/mailtrust/automated"
	"github.com/mailtrust/mailtrust/message"
)

func ExampleDetect() {
	msg := "From: Support <support@help.example>\r\nAuto-Submitted: auto-replied\r\nSubject: Re: your ticket\r\n\r\nThanks!\r\n"
	h, _ := message.ReadHeader(bufio.NewReader(strings.NewReader(msg)), message.Limits{})
	a := automated.Detect(h, message.ParseFrom(h), "", nil)
	fmt.Println(a.Automated)
	for _, s := range a.Signals {
		fmt.Println(s.Code, "-", s.Detail)
	}
	// Output:
	// true
	// auto-submitted - auto-replied
	// null-sender - MAIL FROM <>
}
