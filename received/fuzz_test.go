package received

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"
)

// fuzzSeeds are Received field values as MTAs write them, and hostile ones.
var fuzzSeeds = []string{
	"from mail.example.org (mail.example.org [192.0.2.10])\r\n\tby mx1.example.net (Postfix) with ESMTPS id 4F3A21C0123\r\n\tfor <user@example.net>; Thu, 15 Jan 2026 10:00:00 +0000 (UTC)",
	"from mail.example.org (mail.example.org [IPv6:2001:db8::10]) by mx1.example.net (Postfix) with ESMTP id 1A2B; Thu, 15 Jan 2026 10:00:00 +0000",
	"from ptr.example.org ([192.0.2.12]:45678 helo=helo.example.org)\r\n\tby mx.example.net with esmtps  (TLS1.3) tls TLS_AES_256_GCM_SHA384\r\n\t(Exim 4.96)\r\n\t(envelope-from <bounce@example.org>)\r\n\tid 1rABCD-000123-4E\r\n\tfor user@example.net; Thu, 15 Jan 2026 10:00:00 +0000",
	"from [2001:db8::12] (port=51234 helo=mail.example.org) by mx.example.net with esmtp (Exim 4.96) id 1rABCF-0002 for user@example.net; Thu, 15 Jan 2026 10:00:00 +0000",
	"from helo.example (user@ptr.example.org [198.51.100.7] (may be forged)) by mx.example.net (8.17.1/8.17.1) with SMTP id 40FB; Thu, 15 Jan 2026 05:00:00 -0500",
	"from unknown (HELO mail.example.org) (192.0.2.10)\r\n  by mx.example.net with SMTP; 15 Jan 2026 10:00:00 -0000",
	"(qmail 12345 invoked from network); 15 Jan 2026 10:00:00 -0000",
	"from EUR01-HE1-obe.outbound.protection.outlook.com (198.51.100.20) by AM0PR01MB1234.eurprd01.prod.outlook.com (10.0.0.5) with Microsoft SMTP Server (version=TLS1_2, cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id 15.20.7000.1; Thu, 15 Jan 2026 10:00:00 +0000",
	"from mail-sor-f41.google.com (mail-sor-f41.google.com. [209.85.220.41])\r\n        by mx.google.com with SMTPS id a1sor123.2026.01.15.02.00.00\r\n        for <user@gmail.com>\r\n        (Google Transport Security);\r\n        Thu, 15 Jan 2026 02:00:00 -0800 (PST)",
	"from helo.example.org ([::ffff:192.0.2.1]) by courier.example.net with ESMTP; Thu, 15 Jan 2026 10:00:00 +0000\r\n  id 0001ABCD.6789ABCD.00001234",
	"from [fe80::1%eth0] (x [fe80::1%25eth0]) by mx.example.net; x",
	"from ((((((((((((((((((((((((((((((((((((((((((((((",
	"from \"quoted ; by evil.example\" by [[[[[[[[[[[[[[[[ ;;;; ; Thu, 15 Jan 2026",
	"by by by by from from for for id id ; ; ;",
	strings.Repeat("from x (y [192.0.2.1]) ", 300),
	strings.Repeat("[", 5000),
	strings.Repeat("(\\", 3000),
	"from [IPv6:2001:db8::1] (helo=x) by y; z id q",
}

// checkAddr asserts that an address read from a field is either invalid
// (absent) or a plain address: no zone, IPv4-mapped ones unmapped.
func checkAddr(t *testing.T, what string, ip netip.Addr) {
	t.Helper()
	if !ip.IsValid() {
		if ip != (netip.Addr{}) {
			t.Fatalf("%s: invalid address that is not the zero value: %#v", what, ip)
		}
		return
	}
	if ip.Zone() != "" || ip.Is4In6() {
		t.Fatalf("%s: address %v has a zone or is IPv4-mapped", what, ip)
	}
}

// FuzzParse: Parse is deterministic and bounded, reads only the first
// MaxFieldBytes, gives valid addresses or none, and no field part longer
// than its input.
func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		start := time.Now()
		got := Parse(v)
		if d := time.Since(start); d > time.Second {
			t.Fatalf("Parse of %d octets took %v", len(v), d)
		}
		if again := Parse(v); !reflect.DeepEqual(got, again) {
			t.Fatalf("Parse is not deterministic: %+v then %+v", got, again)
		}
		if len(v) > MaxFieldBytes {
			if cut := Parse(v[:MaxFieldBytes]); !reflect.DeepEqual(got, cut) {
				t.Fatalf("Parse read past MaxFieldBytes: %+v, cut %+v", got, cut)
			}
		}
		checkAddr(t, "From.IP", got.From.IP)
		checkAddr(t, "ByIP", got.ByIP)
		limit := min(len(v), MaxFieldBytes)
		for name, s := range map[string]string{
			"HELO": got.From.HELO, "PTR": got.From.PTR, "By": got.By,
			"Via": got.Via, "With": got.With, "ID": got.ID, "For": got.For,
		} {
			if len(s) > limit {
				t.Fatalf("%s is %d octets, longer than the %d read", name, len(s), limit)
			}
		}
		if got.By != lowerASCII(got.By) {
			t.Fatalf("By %q is not lower case", got.By)
		}
		if got.From.PTR != "" && (got.From.PTR != lowerASCII(got.From.PTR) || !strings.Contains(got.From.PTR, ".") ||
			strings.ContainsAny(got.From.PTR, "[]=:") || strings.EqualFold(got.From.PTR, "unknown")) {
			t.Fatalf("PTR %q is not a lower-case host name", got.From.PTR)
		}
		if _, err := netip.ParseAddr(got.From.PTR); err == nil {
			t.Fatalf("PTR %q is an address", got.From.PTR)
		}
		if !got.Date.IsZero() && got.Date.Location() != time.UTC {
			t.Fatalf("Date %v not in UTC", got.Date)
		}
		if !got.HasFrom && got.From != (From{}) {
			t.Fatalf("From %+v without a from-clause", got.From)
		}
	})
}

// splitFields reads "Name: value" lines (continuations folded in) as
// header fields, top first.
func splitFields(s string) []HeaderField {
	var out []HeaderField
	for _, line := range strings.SplitAfter(s, "\n") {
		if line == "" {
			continue
		}
		if (line[0] == ' ' || line[0] == '\t') && len(out) > 0 {
			out[len(out)-1].Value += line
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		out = append(out, HeaderField{Name: name, Value: value})
	}
	return out
}

// hostileTail is what a sender can put below the boundary: fields that
// would give other facts if they were read.
var hostileTail = []HeaderField{
	{"Return-Path", " <forger@attacker.example>"},
	{"Delivered-To", " victim@attacker.example"},
	{"X-Original-To", " other@attacker.example"},
	{"Received", " from [203.0.113.66] (x [203.0.113.66]) by mx1.example.net with ESMTP for <a@attacker.example>; Thu, 15 Jan 2026 10:00:00 +0000"},
	{"Received", " from mx1.example.net ([127.0.0.1]) by mx1.example.net; Thu, 15 Jan 2026 10:00:00 +0000"},
	{"Received", " from attacker.example (attacker.example [192.0.2.99]) by relay.example.net; Fri, 16 Jan 2026 10:00:00 +0000"},
}

// FuzzFromHeader: the boundary is a Received field a receiver host wrote
// on accepting the message from outside; every known fact comes from it
// or the fields above it, so that no field below the boundary, whatever
// it says, changes the session; an address fact is a valid address.
func FuzzFromHeader(f *testing.F) {
	const trace = "Return-Path: <bounce@example.org>\n" +
		"Delivered-To: user@example.net\n" +
		"Received: from mx1.example.net (mx1.example.net [192.0.2.2]) by mda.example.net with LMTP id 1; Thu, 15 Jan 2026 10:00:02 +0000\n" +
		"Received: from mail.example.org (mail.example.org [192.0.2.10])\n\tby mx1.example.net (Postfix) with ESMTPS id 4F3A\n\tfor <user@example.net>; Thu, 15 Jan 2026 10:00:00 +0000 (UTC)\n" +
		"Received: from [198.51.100.5] by mail.example.org; Thu, 15 Jan 2026 09:59:00 +0000\n" +
		"From: a@example.org\n"
	f.Add(trace, "mx1.example.net,mda.example.net,192.0.2.2/32")
	f.Add(trace, "*.example.net")
	f.Add(trace, "192.0.2.0/24")
	f.Add("Received: from x by mx1.example.net\nReceived: by mx1.example.net\n", "mx1.example.net")
	f.Add("X-Original-To: a@example.net\nReceived: from unknown (HELO h.example) (192.0.2.10) by mx.example.net with SMTP; 15 Jan 2026 10:00:00 -0000\n", ".example.net")
	f.Add("Received: from h ([IPv6:::ffff:198.51.100.1]) by localhost; x\n", "::1")
	for _, s := range fuzzSeeds[:6] {
		f.Add("Received:"+s+"\n", "mx1.example.net,mx.example.net")
	}
	fallback := Receiver{Names: []string{"mx1.example.net", "*.example.net"}, Networks: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/28")}}
	f.Fuzz(func(t *testing.T, header, receiver string) {
		r, err := ParseReceiver(receiver)
		if err != nil || r.IsZero() {
			r = fallback
		}
		fields := splitFields(header)
		start := time.Now()
		s := FromHeader(fields, r)
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("FromHeader of %d fields took %v", len(fields), d)
		}
		checkAddr(t, "IP", s.IP)
		if s.Boundary < 0 {
			if s.Known != 0 || s.IP.IsValid() || s.HELO != "" || s.MailFrom != "" || len(s.RcptTo) > 0 || !s.Time.IsZero() {
				t.Fatalf("facts without a boundary: %+v", s)
			}
			if s.Reason == "" {
				t.Fatal("no boundary and no reason")
			}
			return
		}
		if s.Boundary >= len(fields) || !strings.EqualFold(fields[s.Boundary].Name, "received") {
			t.Fatalf("boundary %d is not a Received field of %d", s.Boundary, len(fields))
		}
		bf := Parse(fields[s.Boundary].Value)
		if !reflect.DeepEqual(bf, s.Field) {
			t.Fatalf("boundary field %+v, parsed %+v", s.Field, bf)
		}
		if !r.wrote(bf) || !bf.HasFrom || r.internal(bf.From) {
			t.Fatalf("boundary field %+v is not a receiver host accepting from outside", bf)
		}
		for _, hf := range fields[:s.Boundary] {
			if strings.EqualFold(hf.Name, "received") {
				if p := Parse(hf.Value); (p.HasFrom || p.By != "") && !r.wrote(p) {
					t.Fatalf("a Received field above the boundary not by the receiver: %+v", p)
				}
			}
		}
		if s.Known.Has(FactIP) != s.IP.IsValid() || s.IP != bf.From.IP {
			t.Fatalf("IP %v (known %v), boundary field says %v", s.IP, s.Known.Has(FactIP), bf.From.IP)
		}
		if s.Known.Has(FactHELO) != (s.HELO != "") || s.HELO != bf.From.HELO {
			t.Fatalf("HELO %q (known %v), boundary field says %q", s.HELO, s.Known.Has(FactHELO), bf.From.HELO)
		}
		if s.Known.Has(FactTime) != !s.Time.IsZero() || !s.Time.Equal(bf.Date) {
			t.Fatalf("time %v, boundary field says %v", s.Time, bf.Date)
		}
		if s.Known.Has(FactRcptTo) != (len(s.RcptTo) > 0) {
			t.Fatalf("rcpt %v known %v", s.RcptTo, s.Known.Has(FactRcptTo))
		}
		longest := 0
		for _, hf := range fields[:s.Boundary+1] {
			longest = max(longest, len(hf.Value))
		}
		for _, a := range append([]string{s.MailFrom}, s.RcptTo...) {
			if len(a) > longest {
				t.Fatalf("fact %q longer than every field it could come from", a)
			}
		}
		// Facts are never taken from below the boundary: without the
		// fields below it, or with a sender's fields there instead, the
		// session is the same.
		above := fields[: s.Boundary+1 : s.Boundary+1]
		for _, tail := range [][]HeaderField{nil, hostileTail, fields[s.Boundary:]} {
			got := FromHeader(append(above, tail...), r)
			if !reflect.DeepEqual(got, s) {
				t.Fatalf("fields below the boundary changed the session:\n%+v\nwith tail %v:\n%+v", s, tail, got)
			}
		}
	})
}
