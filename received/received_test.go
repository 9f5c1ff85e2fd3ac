package received

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func ip(s string) netip.Addr { return netip.MustParseAddr(s) }

var jan15 = time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC)

// TestParse reads fields as each MTA writes them (formats from their
// sources and from mail they delivered; names and addresses replaced by
// example and documentation ones).
func TestParse(t *testing.T) {
	tests := []struct {
		mta  string
		in   string
		want Field
	}{
		{"postfix", "from mail.example.org (mail.example.org [192.0.2.10])\r\n\tby mx1.example.net (Postfix) with ESMTPS id 4F3A21C0123\r\n\tfor <user@example.net>; Thu, 15 Jan 2026 10:00:00 +0000 (UTC)",
			Field{From: From{HELO: "mail.example.org", PTR: "mail.example.org", IP: ip("192.0.2.10")}, HasFrom: true, By: "mx1.example.net", With: "ESMTPS", ID: "4F3A21C0123", For: "user@example.net", Date: jan15}},
		{"postfix-no-ptr-tls", "from helo.example.org (unknown [192.0.2.11]) (using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256) (No client certificate requested) by mx1.example.net (Postfix) with ESMTPS id 4F3A2; Thu, 15 Jan 2026 11:00:00 +0100 (CET)",
			Field{From: From{HELO: "helo.example.org", IP: ip("192.0.2.11")}, HasFrom: true, By: "mx1.example.net", With: "ESMTPS", ID: "4F3A2", Date: jan15}},
		{"postfix-ipv6", "from mail.example.org (mail.example.org [IPv6:2001:db8::10]) by mx1.example.net (Postfix) with ESMTP id 1A2B; Thu, 15 Jan 2026 10:00:00 +0000",
			Field{From: From{HELO: "mail.example.org", PTR: "mail.example.org", IP: ip("2001:db8::10")}, HasFrom: true, By: "mx1.example.net", With: "ESMTP", ID: "1A2B", Date: jan15}},
		{"postfix-literal-helo", "from [198.51.100.99] (unknown [203.0.113.5]) by mx1.example.net (Postfix) with ESMTP id 4F3A3; Thu, 15 Jan 2026 10:00:00 +0000",
			Field{From: From{HELO: "[198.51.100.99]", IP: ip("203.0.113.5")}, HasFrom: true, By: "mx1.example.net", With: "ESMTP", ID: "4F3A3", Date: jan15}},
		// A HELO holding a parenthesized literal: the address is the MTA's,
		// from the last comment.
		{"postfix-helo-with-comment", "from a.example([127.0.0.1]) (unknown [203.0.113.5]) by mx1.example.net (Postfix) with ESMTP id 4F3A5; Thu, 15 Jan 2026 10:00:00 +0000",
			Field{From: From{HELO: "a.example", IP: ip("203.0.113.5")}, HasFrom: true, By: "mx1.example.net", With: "ESMTP", ID: "4F3A5", Date: jan15}},
		{"postfix-literal-helo-ipv6", "from [IPv6:2001:db8::99] (unknown [IPv6:2001:db8:5::5]) by mx1.example.net (Postfix) with ESMTP id 4F3A4; Thu, 15 Jan 2026 10:00:00 +0000",
			Field{From: From{HELO: "[IPv6:2001:db8::99]", IP: ip("2001:db8:5::5")}, HasFrom: true, By: "mx1.example.net", With: "ESMTP", ID: "4F3A4", Date: jan15}},
		{"postfix-local", "by mx1.example.net (Postfix, from userid 1000) id 9C8B7; Thu, 15 Jan 2026 10:00:00 +0000 (UTC)",
			Field{By: "mx1.example.net", ID: "9C8B7", Date: jan15}},
		{"exim-ptr-differs", "from ptr.example.org ([192.0.2.12]:45678 helo=helo.example.org)\r\n\tby mx.example.net with esmtps  (TLS1.3) tls TLS_AES_256_GCM_SHA384\r\n\t(Exim 4.96)\r\n\t(envelope-from <bounce@example.org>)\r\n\tid 1rABCD-000123-4E\r\n\tfor user@example.net; Thu, 15 Jan 2026 10:00:00 +0000",
			Field{From: From{HELO: "helo.example.org", PTR: "ptr.example.org", IP: ip("192.0.2.12")}, HasFrom: true, By: "mx.example.net", With: "esmtps", ID: "1rABCD-000123-4E", For: "user@example.net", Date: jan15}},
		{"exim-same", "from mail.example.org ([192.0.2.10]) by mx.example.net with esmtp (Exim 4.96) id 1rABCE-0001; Thu, 15 Jan 2026 10:00:00 +0000",
			Field{From: From{HELO: "mail.example.org", IP: ip("192.0.2.10")}, HasFrom: true, By: "mx.example.net", With: "esmtp", ID: "1rABCE-0001", Date: jan15}},
		{"exim-no-ptr-ipv6", "from [2001:db8::12] (port=51234 helo=mail.example.org) by mx.example.net with esmtp (Exim 4.96) (envelope-from <a@example.org>) id 1rABCF-0002 for user@example.net; Thu, 15 Jan 2026 10:00:00 +0000",
			Field{From: From{HELO: "mail.example.org", IP: ip("2001:db8::12")}, HasFrom: true, By: "mx.example.net", With: "esmtp", ID: "1rABCF-0002", For: "user@example.net", Date: jan15}},
		{"sendmail", "from mail.example.org (mail.example.org [192.0.2.10])\r\n\tby mx.example.net (8.17.1/8.17.1) with ESMTPS id 40FA0000123456\r\n\t(version=TLSv1.3 cipher=TLS_AES_256_GCM_SHA384 bits=256 verify=NOT)\r\n\tfor <user@example.net>; Thu, 15 Jan 2026 10:00:00 GMT",
			Field{From: From{HELO: "mail.example.org", PTR: "mail.example.org", IP: ip("192.0.2.10")}, HasFrom: true, By: "mx.example.net", With: "ESMTPS", ID: "40FA0000123456", For: "user@example.net", Date: jan15}},
		{"sendmail-forged-ident", "from helo.example (user@ptr.example.org [198.51.100.7] (may be forged)) by mx.example.net (8.17.1/8.17.1) with SMTP id 40FB; Thu, 15 Jan 2026 05:00:00 -0500",
			Field{From: From{HELO: "helo.example", IP: ip("198.51.100.7")}, HasFrom: true, By: "mx.example.net", With: "SMTP", ID: "40FB", Date: jan15}},
		{"sendmail-may-be-forged", "from mx2.example.net (mx2.example.net [203.0.113.6] (may be forged)) by mx1.example.net (8.17.1/8.17.1) with ESMTP id 40FD; Thu, 15 Jan 2026 10:00:00 +0000",
			Field{From: From{HELO: "mx2.example.net", IP: ip("203.0.113.6")}, HasFrom: true, By: "mx1.example.net", With: "ESMTP", ID: "40FD", Date: jan15}},
		{"sendmail-literal-helo", "from [127.0.0.1] (ptr.example.org [203.0.113.7]) by mx.example.net (8.17.1/8.17.1) with ESMTP id 40FE; Thu, 15 Jan 2026 10:00:00 +0000",
			Field{From: From{HELO: "[127.0.0.1]", PTR: "ptr.example.org", IP: ip("203.0.113.7")}, HasFrom: true, By: "mx.example.net", With: "ESMTP", ID: "40FE", Date: jan15}},
		{"sendmail-no-ptr", "from helo.example ([198.51.100.8]) by mx.example.net (8.17.1/8.17.1) with ESMTP id 40FC; Thu, 15 Jan 2026 10:00:00 +0000",
			Field{From: From{HELO: "helo.example", IP: ip("198.51.100.8")}, HasFrom: true, By: "mx.example.net", With: "ESMTP", ID: "40FC", Date: jan15}},
		{"qmail", "from unknown (HELO mail.example.org) (192.0.2.10)\r\n  by mx.example.net with SMTP; 15 Jan 2026 10:00:00 -0000",
			Field{From: From{HELO: "mail.example.org", IP: ip("192.0.2.10")}, HasFrom: true, By: "mx.example.net", With: "SMTP", Date: jan15}},
		{"qmail-ptr-ident", "from ptr.example.org (HELO helo.example.org) (someone@192.0.2.13) by mx.example.net with ESMTPS; 15 Jan 2026 10:00:00 -0000",
			Field{From: From{HELO: "helo.example.org", PTR: "ptr.example.org", IP: ip("192.0.2.13")}, HasFrom: true, By: "mx.example.net", With: "ESMTPS", Date: jan15}},
		{"qmail-local", "(qmail 12345 invoked from network); 15 Jan 2026 10:00:00 -0000",
			Field{Date: jan15}},
		{"exchange-onprem", "from mail.example.org (192.0.2.10) by EX01.corp.example.net (10.0.0.5) with Microsoft SMTP Server id 14.3.123.3; Thu, 15 Jan 2026 10:00:00 +0000",
			Field{From: From{HELO: "mail.example.org", IP: ip("192.0.2.10")}, HasFrom: true, By: "ex01.corp.example.net", ByIP: ip("10.0.0.5"), With: "Microsoft", ID: "14.3.123.3", Date: jan15}},
		{"m365-edge", "from mail.example.org (2001:db8:1::25) by DB5PEPF00000001.mail.protection.outlook.example (2001:db8:2::1) with Microsoft SMTP Server (version=TLS1_3, cipher=TLS_AES_256_GCM_SHA384) id 15.20.7918.13 via Frontend Transport; Thu, 15 Jan 2026 10:00:00 +0000",
			Field{From: From{HELO: "mail.example.org", IP: ip("2001:db8:1::25")}, HasFrom: true, By: "db5pepf00000001.mail.protection.outlook.example", ByIP: ip("2001:db8:2::1"), Via: "Frontend", With: "Microsoft", ID: "15.20.7918.13", Date: jan15}},
		{"gmail", "from mail.example.org (mail.example.org. [192.0.2.10])\r\n        by mx.google.example with ESMTPS id a1-20020a05600c000000b0040e0si1234567wmq.123.2026.01.15.02.00.00\r\n        for <user@example.com>\r\n        (version=TLS1_3 cipher=TLS_AES_256_GCM_SHA384 bits=256/256);\r\n        Thu, 15 Jan 2026 02:00:00 -0800 (PST)",
			Field{From: From{HELO: "mail.example.org", PTR: "mail.example.org", IP: ip("192.0.2.10")}, HasFrom: true, By: "mx.google.example", With: "ESMTPS", ID: "a1-20020a05600c000000b0040e0si1234567wmq.123.2026.01.15.02.00.00", For: "user@example.com", Date: jan15}},
		{"gmail-internal", "by 2001:db8:3::5 with SMTP id u12csp123456; Thu, 15 Jan 2026 02:00:00 -0800 (PST)",
			Field{By: "2001:db8:3::5", With: "SMTP", ID: "u12csp123456", Date: jan15}},
		{"courier", "from mail.example.org (mail.example.org [::ffff:192.0.2.10])\r\n  (TLS: TLSv1.3,256bits,TLS_AES_256_GCM_SHA384)\r\n  by mx.example.net with ESMTPS; Thu, 15 Jan 2026 10:00:00 +0000\r\n  id 00000000006A0001.0000000065A5000C.00001234",
			Field{From: From{HELO: "mail.example.org", PTR: "mail.example.org", IP: ip("192.0.2.10")}, HasFrom: true, By: "mx.example.net", With: "ESMTPS", ID: "00000000006A0001.0000000065A5000C.00001234", Date: jan15}},
		{"courier-auth", "from [198.51.100.9] ([198.51.100.9]) (AUTH: LOGIN user, TLS: TLSv1.3,256bits,TLS_AES_256_GCM_SHA384) by mx.example.net with ESMTPSA; Thu, 15 Jan 2026 10:00:00 +0000 id 0000000000AB.0001",
			Field{From: From{HELO: "[198.51.100.9]", IP: ip("198.51.100.9")}, HasFrom: true, By: "mx.example.net", With: "ESMTPSA", ID: "0000000000AB.0001", Date: jan15}},
		{"courier-id-after-quoted-semicolon", "from mail.example.org (mail.example.org [192.0.2.10]) by mx.example.net with ESMTPS; Thu, 15 Jan 2026 10:00:00 +0000 id 00AB.0002 \"a;b\"",
			Field{From: From{HELO: "mail.example.org", PTR: "mail.example.org", IP: ip("192.0.2.10")}, HasFrom: true, By: "mx.example.net", With: "ESMTPS", ID: "00AB.0002", Date: jan15}},
		{"courier-id-escaped-paren", "from mail.example.org (mail.example.org [192.0.2.10]) by mx.example.net with ESMTPS; Thu, 15 Jan 2026 10:00:00 +0000 id 00AB.0003 (note \\) ; id FAKE)",
			Field{From: From{HELO: "mail.example.org", PTR: "mail.example.org", IP: ip("192.0.2.10")}, HasFrom: true, By: "mx.example.net", With: "ESMTPS", ID: "00AB.0003", Date: jan15}},
		{"dovecot-lmtp", "from mx1.example.net by imap.example.net with LMTP id kBx9AeAApWXUfQAA for <user@example.net>; Thu, 15 Jan 2026 10:00:00 +0000",
			Field{From: From{HELO: "mx1.example.net"}, HasFrom: true, By: "imap.example.net", With: "LMTP", ID: "kBx9AeAApWXUfQAA", For: "user@example.net", Date: jan15}},
		{"no-date", "from a.example (a.example [192.0.2.1]) by b.example",
			Field{From: From{HELO: "a.example", PTR: "a.example", IP: ip("192.0.2.1")}, HasFrom: true, By: "b.example"}},
		{"bad-date", "from a.example by b.example; not a date at all",
			Field{From: From{HELO: "a.example"}, HasFrom: true, By: "b.example"}},
		{"unclosed-comment", "from a.example (a.example [192.0.2.1] by b.example; Thu, 15 Jan 2026 10:00:00 +0000",
			Field{From: From{HELO: "a.example", PTR: "a.example", IP: ip("192.0.2.1")}, HasFrom: true}},
		{"garbage", "))((;;[[", Field{}},
		{"empty", "", Field{}},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, Parse(tt.in), tt.mta)
	}
}

func TestParseBounded(t *testing.T) {
	long := "from a.example (" + strings.Repeat("(", 100000) + " by b.example; x"
	f := Parse(long)
	assert.Equal(t, "a.example", f.From.HELO)
	assert.Equal(t, "", f.By)
}

func TestParseReceiver(t *testing.T) {
	r, err := ParseReceiver(" mx1.example.net. ,*.relay.example.net,192.0.2.0/24, 2001:db8::/32,198.51.100.25")
	require.NoError(t, err)
	assert.Equal(t, []string{"mx1.example.net", "*.relay.example.net"}, r.Names)
	assert.Equal(t, "mx1.example.net,*.relay.example.net,192.0.2.0/24,2001:db8::/32,198.51.100.25/32", r.String())
	tests := []struct {
		host string
		want bool
	}{
		{"MX1.example.net.", true},
		{"a.relay.example.net", true},
		{"relay.example.net", false},
		{"mx2.example.net", false},
		{"localhost", true},
		{"", false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, r.HasName(tt.host), tt.host)
	}
	for _, tt := range []struct {
		ip   string
		want bool
	}{{"192.0.2.77", true}, {"::ffff:192.0.2.1", true}, {"2001:db8:5::1", true}, {"198.51.100.25", true}, {"198.51.100.26", false}, {"127.0.0.1", true}, {"::1", true}, {"203.0.113.1", false}} {
		assert.Equal(t, tt.want, r.HasIP(ip(tt.ip)), tt.ip)
	}
	assert.False(t, r.HasIP(netip.Addr{}))
	for _, bad := range []string{"192.0.2.0/33", "user@example.net", "[192.0.2.1]", "a b"} {
		_, err := ParseReceiver(bad)
		assert.Error(t, err, bad)
	}
	z, err := ParseReceiver(" , ")
	require.NoError(t, err)
	assert.True(t, z.IsZero())
}

// TestReceiverHosts: "is this client one of ours", as the milter and
// smtptrust ask it, for every form a -receiver list takes: names (any
// case, final dot), exact addresses (IPv4, IPv6, IPv4-mapped) and CIDR
// networks. The zero Receiver names nothing, loopback and localhost
// included.
func TestReceiverHosts(t *testing.T) {
	r, err := ParseReceiver("mx1.helpdesk.example, 192.0.2.0/24,2001:db8::25,MX2.Helpdesk.Example.,198.51.100.7")
	require.NoError(t, err)
	for _, tt := range []struct {
		ip, name string
		want     bool
	}{
		{"192.0.2.77", "", true},
		{"::ffff:192.0.2.1", "", true},
		{"198.51.100.7", "", true},
		{"::ffff:198.51.100.7", "", true},
		{"198.51.100.8", "", false},
		{"2001:db8::25", "", true},
		{"2001:db8::26", "", false},
		{"203.0.113.5", "mx1.helpdesk.example.", true},
		{"203.0.113.5", "mx2.helpdesk.example", true},
		{"203.0.113.5", "mx3.helpdesk.example", false},
		{"", "unknown", false},
		{"", "", false},
	} {
		a, _ := netip.ParseAddr(tt.ip)
		assert.Equal(t, tt.want, r.HasIP(a) || r.HasName(tt.name), "%s %q", tt.ip, tt.name)
	}
	var zero Receiver
	for _, a := range []string{"127.0.0.1", "::1", "192.0.2.1"} {
		assert.False(t, zero.HasIP(ip(a)), "zero Receiver has %s", a)
	}
	assert.False(t, zero.HasName("localhost"))
	assert.False(t, zero.HasName("mx1.helpdesk.example"))
	for _, bad := range []string{"192.0.2.0/33", "2001:db8::/129"} {
		_, err := ParseReceiver(bad)
		assert.Error(t, err, bad)
	}
}

func hdr(lines ...string) []HeaderField {
	var out []HeaderField
	for _, l := range lines {
		name, value, _ := strings.Cut(l, ":")
		out = append(out, HeaderField{name, value})
	}
	return out
}

func TestFromHeader(t *testing.T) {
	rcv, err := ParseReceiver("mx1.example.net,mx2.example.net,imap.example.net,10.0.0.0/8")
	require.NoError(t, err)
	edge := "Received: from mail.example.org (mail.example.org [192.0.2.10]) by mx1.example.net (Postfix) with ESMTPS id A1 for <user@example.net>; Thu, 15 Jan 2026 10:00:00 +0000"
	below := "Received: from internal.example.org (internal.example.org [198.51.100.1]) by mail.example.org with ESMTP id B2 for <forged@example.net>; Thu, 15 Jan 2026 09:59:00 +0000"
	lmtp := "Received: from mx1.example.net by imap.example.net with LMTP id C3 for <user@example.net>; Thu, 15 Jan 2026 10:00:01 +0000"
	hop := "Received: from mx2.example.net (mx2.example.net [10.1.2.3]) by mx1.example.net (Postfix) with ESMTP id D4; Thu, 15 Jan 2026 10:00:00 +0000"
	all := FactIP | FactHELO | FactMailFrom | FactRcptTo | FactTime

	tests := []struct {
		name     string
		fields   []HeaderField
		boundary int
		known    Facts
		ip       string
		helo     string
		mailFrom string
		rcpt     []string
	}{
		{"edge only, for-clause", hdr(edge, below), 0, FactIP | FactHELO | FactTime | FactRcptTo, "192.0.2.10", "mail.example.org", "", []string{"user@example.net"}},
		{"delivery fields above", hdr("Return-Path: <bounce@example.org>", "Delivered-To: user@example.net", lmtp, edge, below),
			3, all, "192.0.2.10", "mail.example.org", "bounce@example.org", []string{"user@example.net"}},
		{"x-original-to wins", hdr("Return-Path: <>", "Delivered-To: mailbox@example.net", "X-Original-To: alias@example.net", edge),
			3, all, "192.0.2.10", "mail.example.org", "", []string{"alias@example.net"}},
		{"internal hop skipped", hdr("Return-Path: <b@example.org>", lmtp, hop, edge, below), 3, all, "192.0.2.10", "mail.example.org", "b@example.org", []string{"user@example.net"}},
		{"return-path below boundary ignored", hdr(edge, "Return-Path: <forged@example.org>", below), 0, FactIP | FactHELO | FactTime | FactRcptTo, "192.0.2.10", "mail.example.org", "", []string{"user@example.net"}},
		{"qmail note skipped", hdr("Received: (qmail 1 invoked from network); 15 Jan 2026 10:00:00 -0000", edge), 1, FactIP | FactHELO | FactTime | FactRcptTo, "192.0.2.10", "mail.example.org", "", []string{"user@example.net"}},
		{"top not the receiver's", hdr(below, edge), -1, 0, "", "", "", nil},
		{"no received", hdr("Return-Path: <a@example.org>", "From: a@example.org"), -1, 0, "", "", "", nil},
		{"only internal hops", hdr(lmtp, hop), -1, 0, "", "", "", nil},
		{"local submission", hdr("Received: by mx1.example.net (Postfix, from userid 1000) id 9; Thu, 15 Jan 2026 10:00:00 +0000"), -1, 0, "", "", "", nil},
		{"helo claims a receiver host", hdr("Received: from mx2.example.net (unknown [203.0.113.5]) by mx1.example.net (Postfix) with ESMTP id E5; Thu, 15 Jan 2026 10:00:00 +0000"),
			0, FactIP | FactHELO | FactTime, "203.0.113.5", "mx2.example.net", "", nil},
		{"boundary without address", hdr("Received: from outside.example.org by mx1.example.net with SMTP; Thu, 15 Jan 2026 10:00:00 +0000"),
			0, FactHELO | FactTime, "", "outside.example.org", "", nil},
		// A client whose HELO is a loopback literal is still the client
		// at 203.0.113.5: the field below it is its own, not the boundary.
		{"loopback literal helo", hdr("Received: from [127.0.0.1] (unknown [203.0.113.5]) by mx1.example.net (Postfix) with ESMTP id E6 for <user@example.net>; Thu, 15 Jan 2026 10:00:00 +0000",
			"Received: from spoof.example.org (spoof.example.org [198.51.100.7]) by mx1.example.net (Postfix) with ESMTPSA id E7 for <forged@example.net>; Thu, 15 Jan 2026 09:59:00 +0000"),
			0, FactIP | FactHELO | FactTime | FactRcptTo, "203.0.113.5", "[127.0.0.1]", "", []string{"user@example.net"}},
		{"receiver-network literal helo", hdr("Received: from [10.1.2.3] (unknown [203.0.113.5]) by mx1.example.net (Postfix) with ESMTP id E8; Thu, 15 Jan 2026 10:00:00 +0000", hop),
			0, FactIP | FactHELO | FactTime, "203.0.113.5", "[10.1.2.3]", "", nil},
		{"may-be-forged ptr of a receiver host", hdr("Received: from mx2.example.net (mx2.example.net [203.0.113.6] (may be forged)) by mx1.example.net (8.17.1/8.17.1) with ESMTP id F7; Thu, 15 Jan 2026 10:00:00 +0000"),
			0, FactIP | FactHELO | FactTime, "203.0.113.6", "mx2.example.net", "", nil},
		{"unparseable date", hdr("Received: from a.example.org (a.example.org [192.0.2.3]) by mx1.example.net; someday"),
			0, FactIP | FactHELO, "192.0.2.3", "a.example.org", "", nil},
	}
	for _, tt := range tests {
		s := FromHeader(tt.fields, rcv)
		assert.Equal(t, tt.boundary, s.Boundary, tt.name)
		assert.Equal(t, tt.known, s.Known, tt.name)
		if tt.ip != "" {
			assert.Equal(t, ip(tt.ip), s.IP, tt.name)
		} else {
			assert.False(t, s.IP.IsValid(), tt.name)
		}
		assert.Equal(t, tt.helo, s.HELO, tt.name)
		assert.Equal(t, tt.mailFrom, s.MailFrom, tt.name)
		assert.Equal(t, tt.rcpt, s.RcptTo, tt.name)
		if tt.boundary < 0 {
			assert.NotEmpty(t, s.Reason, tt.name)
		}
		if s.Known.Has(FactTime) {
			assert.Equal(t, jan15, s.Time, tt.name)
		}
	}
	assert.Equal(t, -1, FromHeader(hdr(edge), Receiver{}).Boundary, "no receiver configured")
	for with, want := range map[string]bool{"ESMTPSA": true, "esmtpa": true, "UTF8SMTPSA": true, "LMTPA": true, "ESMTPS": false, "SMTP": false, "": false} {
		f := "Received: from a.example.org (a.example.org [192.0.2.3]) by mx1.example.net"
		if with != "" {
			f += " with " + with
		}
		assert.Equal(t, want, FromHeader(hdr(f+"; Thu, 15 Jan 2026 10:00:00 +0000"), rcv).Authenticated, with)
	}
	var many []string
	for i := 0; i < MaxFields+1; i++ {
		many = append(many, hop)
	}
	assert.Equal(t, -1, FromHeader(hdr(append(many, edge)...), rcv).Boundary, "bounded")
}

func TestHostName(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"MX.Example.ORG.", "mx.example.org"},
		{"mail.example.org", "mail.example.org"},
		{"unknown", ""},
		{"localhost", ""},
		{"[192.0.2.1]", ""},
		{"192.0.2.1", ""},
		{"2001:db8::1", ""},
		{"[IPv6:2001:db8::1]", ""},
		{"port=25", ""},
		{"", ""},
		{".", ""},
		{"Caf\xe9.Example", "caf\xe9.example"},
	} {
		assert.Equal(t, tt.want, HostName(tt.in), tt.in)
	}
}
