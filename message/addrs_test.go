package message

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mailtrust/mailtrust/internal/domain"
)

func TestAddresses(t *testing.T) {
	type P = []Problem
	tests := []struct {
		name  string
		block string
		key   string
		addrs []string
		want  P
	}{
		{"to list", "To: a@example.com, B <b@Example.ORG>", "to", []string{"a@example.com", "b@example.org"}, nil},
		{"cc any case", "cc: a@example.com\nFrom: x@example.net", "Cc", []string{"a@example.com"}, nil},
		{"group members", "To: undisclosed:;\nCc: team: a@example.com, b@example.com;", "cc", []string{"a@example.com", "b@example.com"}, nil},
		{"empty group", "To: undisclosed-recipients:;", "to", nil, nil},
		{"absent", "From: a@example.com", "to", nil, nil},
		{"resent-from repeats", "Resent-From: a@example.com\nResent-From: b@example.com", "resent-from", []string{"a@example.com", "b@example.com"}, nil},
		{"reply-to twice", "Reply-To: a@example.com\nReply-To: b@evil.example", "reply-to", []string{"a@example.com", "b@evil.example"}, P{AddrMultipleFields}},
		{"sender twice", "Sender: a@example.com\nsender: a@example.com", "sender", []string{"a@example.com", "a@example.com"}, P{AddrMultipleFields}},
		{"unparsable keeps earlier", "To: a@example.com, <b@example.com", "to", []string{"a@example.com"}, P{AddrUnparsable}},
		{"control", "Reply-To: a@example.com\x00", "reply-to", nil, P{AddrControlBytes, AddrUnparsable}},
		{"control in quoted", "Reply-To: \"a\x01\" <a@example.com>", "reply-to", []string{"a@example.com"}, P{AddrControlBytes}},
		{"route", "Reply-To: <@a.example:b@evil.example>", "reply-to", []string{"b@evil.example"}, P{AddrRoute}},
		{"no domain", "To: alice, <>", "to", []string{"alice", ""}, P{AddrNoDomain}},
		{"bad domain", "To: a@exa_mple.com, b@[192.0.2.1]", "to", []string{"a@exa_mple.com", "b@[192.0.2.1]"}, P{AddrBadDomain}},
		{"encoded", "Reply-To: =?utf-8?q?a?=@evil.example", "reply-to", []string{"=?utf-8?q?a?=@evil.example"}, P{AddrEncodedAddress}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			boxes, ps := Addresses(header(t, tc.block), tc.key)
			var got []string
			for _, b := range boxes {
				got = append(got, b.Address)
			}
			assert.Equal(t, tc.addrs, got)
			assert.Equal(t, tc.want, ps)
		})
	}
	boxes, ps := Addresses(nil, "to")
	assert.Nil(t, boxes)
	assert.Nil(t, ps)
}

func TestAddressesBounded(t *testing.T) {
	var b strings.Builder
	for range 3 {
		b.WriteString("To: " + strings.Repeat("a@example.com,", MaxMailboxes-1) + "a@example.com\n")
	}
	boxes, _ := Addresses(header(t, strings.TrimSuffix(b.String(), "\n")), "to")
	assert.Len(t, boxes, MaxMailboxes)
}

func TestCheckEnvelope(t *testing.T) {
	type P = []Problem
	long := strings.Repeat("a", 64) + "@" + strings.Repeat("b", 60) + "." + strings.Repeat("c", 60) + "." + strings.Repeat("d", 60) + ".example"
	tests := []struct {
		mailFrom, helo string
		want           P
	}{
		{"", "mail.example.com", nil},
		{"<>", "mail.example.com", nil},
		{"bounce@example.com", "mail.example.com", nil},
		{"<bounce@example.com>", "mail.example.com", nil},
		{"Bounce+Tag@Example.COM", "[192.0.2.1]", nil},
		{`"a b"@example.com`, "x", nil},
		{`"a\"b"@example.com`, "x", nil},
		{"josé@example.com", "x", nil},
		{"SRS0=HHH=TT=example.org=alice@forwarder.example", "x", nil},
		{"a@[192.0.2.1]", "x", nil},
		{"a@[IPv6:2001:db8::1]", "x", nil},
		{"@relay.example:a@example.com", "x", nil},
		{"@r1.example,@r2.example:a@example.com", "x", nil},
		{long[:250], "x", nil},
		{"a@example.com\x00", "x", P{EnvelopeControlBytes, EnvelopeMailFromSyntax}},
		{"a@example.com", "mail.example.com\x00evil", P{EnvelopeControlBytes}},
		{"a@example.com", "mail\r\nRCPT TO:<x@y>", P{EnvelopeControlBytes}},
		{"a\r\n@example.com", "x", P{EnvelopeControlBytes, EnvelopeMailFromSyntax}},
		{"alice", "x", P{EnvelopeMailFromSyntax}},
		{"@example.com", "x", P{EnvelopeMailFromSyntax}},
		{"a@", "x", P{EnvelopeMailFromSyntax}},
		{"a@b@example.com", "x", P{EnvelopeMailFromSyntax}},
		{"a b@example.com", "x", P{EnvelopeMailFromSyntax}},
		{"a..b@example.com", "x", P{EnvelopeMailFromSyntax}},
		{"a@example.com.", "x", P{EnvelopeMailFromSyntax}},
		{"a@exa_mple.com", "x", P{EnvelopeMailFromSyntax}},
		{"<a@example.com", "x", P{EnvelopeMailFromSyntax}},
		{"Alice <a@example.com>", "x", P{EnvelopeMailFromSyntax}},
		{"a@[192.0.2.256]", "x", P{EnvelopeMailFromSyntax}},
		{"a@[IPv6:192.0.2.1]", "x", P{EnvelopeMailFromSyntax}},
		{`"a"b"@example.com`, "x", P{EnvelopeMailFromSyntax}},
		{"=?utf-8?q?a?=@=?utf-8?q?b?=", "x", P{EnvelopeMailFromSyntax}},
		{"@relay.example:", "x", P{EnvelopeMailFromSyntax}},
		{"relay.example:a@example.com", "x", P{EnvelopeMailFromSyntax}},
		{long, "x", P{EnvelopeMailFromSyntax}},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, CheckEnvelope(tc.mailFrom, tc.helo), "MAIL FROM %q HELO %q", tc.mailFrom, tc.helo)
	}
}

// TestDomainValid covers domain.Valid, which this package added for
// ParseFrom.
func TestDomainValid(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"example.com", true},
		{"Example.COM.", true},
		{"xn--bcher-kva.example", true},
		{"a-b.example", true},
		{"localhost", true},
		{"123.example", true},
		{strings.Repeat("a", 63) + ".example", true},
		{strings.Repeat("a.", 126) + "b", true},
		{"", false},
		{".", false},
		{"example..com", false},
		{".example.com", false},
		{"example.com..", false},
		{strings.Repeat("a", 64) + ".example", false},
		{strings.Repeat("a.", 126) + "bc", false},
		{"-a.example", false},
		{"a-.example", false},
		{"ex_ample.com", false},
		{"exa mple.com", false},
		{"example.com\x00.evil", false},
		{"bücher.example", false},
		{"=?utf-8?q?x?=", false},
		{"192.0.2.1", false},
		{"[192.0.2.1]", false},
	} {
		err := domain.Valid(tc.name)
		if tc.ok {
			assert.NoError(t, err, tc.name)
		} else {
			require.ErrorIs(t, err, domain.ErrInvalid, tc.name)
		}
	}
}
