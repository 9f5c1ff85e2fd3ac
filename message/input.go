package message

import (
	"bytes"
	"strings"
)

// NotAMessage says why input is not an Internet message (RFC 5322 §2.1: a
// header of fields, then optionally a body), or "" when it may be one. h
// is what ReadHeader returned with a nil error or ErrNoHeader; head is the
// input's first octets (a few hundred suffice), peeked before reading.
//
// Input is not a message when it is empty, when it holds no header field
// (its first line is no field: a text file, or binary data, told apart by
// NUL and other control octets in head), or when none of its fields is one
// that messages carry (RFC 5322 §3.6, trace fields, MIME, DKIM, ARC): a
// line such as "Note: buy milk" parses as a field but makes no message.
// A header cut at a limit is not judged here: it is a message too large.
func NotAMessage(h *Header, head []byte) string {
	if len(bytes.TrimSpace(head)) == 0 && (h == nil || len(h.Fields) == 0) {
		return "empty input"
	}
	if h == nil || len(h.Fields) == 0 {
		if isBinary(head) {
			return "binary data, no header fields"
		}
		return "no header fields: the first line is not a field"
	}
	for _, f := range h.Fields {
		if messageField(f.Key) {
			return ""
		}
	}
	if isBinary(head) {
		return "binary data, no field that messages carry"
	}
	return "no field that messages carry (From, Date, Received, Message-ID, ...)"
}

// isBinary reports octets that text never holds: NUL, and controls other
// than HTAB, LF, FF and CR.
func isBinary(b []byte) bool {
	for _, c := range b {
		if c < ' ' && c != '\t' && c != '\n' && c != '\f' && c != '\r' || c == 0x7f {
			return true
		}
	}
	return false
}

// messageField reports the field names (lower case) of messages: RFC 5322
// §3.6 and its trace fields, MIME (RFC 2045 §3), DKIM (RFC 6376), ARC (RFC
// 8617), Authentication-Results (RFC 8601), the list fields (RFC 2369,
// RFC 2919) and the delivery fields MTAs add.
func messageField(key string) bool {
	switch key {
	case "date", "from", "sender", "reply-to", "to", "cc", "bcc", "message-id", "in-reply-to",
		"references", "subject", "comments", "keywords", "return-path", "received",
		"mime-version", "dkim-signature", "authentication-results", "delivered-to",
		"x-original-to", "list-id", "list-unsubscribe", "list-post", "auto-submitted", "precedence":
		return true
	}
	for _, p := range []string{"resent-", "content-", "arc-"} {
		if strings.HasPrefix(key, p) {
			return true
		}
	}
	return false
}
