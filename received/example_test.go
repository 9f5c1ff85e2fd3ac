package received_test

import (
	"fmt"

	"github.com/mailtrust/mailtrust/received"
)

// The facts of a message delivered by the receiver's MX and then its
// mailbox server: the MX's field is the boundary.
func ExampleFromHeader() {
	rcv, _ := received.ParseReceiver("mx1.example.net,imap.example.net,10.0.0.0/8")
	s := received.FromHeader([]received.HeaderField{
		{"Return-Path", "<bounce@example.org>"},
		{"Delivered-To", "user@example.net"},
		{"Received", "from mx1.example.net by imap.example.net with LMTP id 1; Thu, 15 Jan 2026 10:00:01 +0000"},
		{"Received", "from mail.example.org (mail.example.org [192.0.2.10]) by mx1.example.net (Postfix) with ESMTPS id 2 for <user@example.net>; Thu, 15 Jan 2026 10:00:00 +0000"},
		{"Received", "from sender.example.org by mail.example.org; Thu, 15 Jan 2026 09:59:00 +0000"},
	}, rcv)
	fmt.Println(s.Boundary, s.IP, s.HELO, s.MailFrom, s.RcptTo, s.Time)
	// Output: 3 192.0.2.10 mail.example.org bounce@example.org [user@example.net] 2026-01-15 10:00:00 +0000 UTC
}
