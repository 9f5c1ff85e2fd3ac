package automated

import (
	"bufio"
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mailtrust/mailtrust/message"
)

// A person's message to a person: the benign base of the tables.
const personMsg = `Received: from mail.origin.example (mail.origin.example [192.0.2.10])
 by mx.receiver.example with ESMTPS id abc for <bob@receiver.example>;
 Thu, 15 Jan 2026 09:00:05 +0000
Received: from [10.0.0.5] by mail.origin.example with ESMTPSA id def;
 Thu, 15 Jan 2026 09:00:01 +0000
From: Alice <alice@origin.example>
To: Bob <bob@receiver.example>
Subject: Lunch?
Date: Thu, 15 Jan 2026 09:00:00 +0000
Message-ID: <l1@origin.example>

Shall we?
`

func codes(s []Signal) []Code {
	out := []Code{}
	for _, x := range s {
		out = append(out, x.Code)
	}
	return out
}

func crlf(s string) []byte {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return []byte(strings.ReplaceAll(s, "\n", "\r\n"))
}

func split(t *testing.T, msg []byte) (*message.Header, []byte) {
	t.Helper()
	br := bufio.NewReader(bytes.NewReader(msg))
	h, err := message.ReadHeader(br, message.Limits{})
	require.NoError(t, err)
	var body bytes.Buffer
	_, err = body.ReadFrom(br)
	require.NoError(t, err)
	return h, body.Bytes()
}
