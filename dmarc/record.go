package dmarc

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Policy is the handling a Domain Owner requests for mail that fails DMARC
// (RFC 7489 §6.3, p= and sp=).
type Policy string

// Policies, spelled as in the record.
const (
	PolicyNone       Policy = "none"
	PolicyQuarantine Policy = "quarantine"
	PolicyReject     Policy = "reject"
)

// Alignment is an identifier alignment mode (RFC 7489 §3.1, adkim= and aspf=).
type Alignment string

// Alignment modes.
const (
	// AlignmentRelaxed: the identifier and the From domain share an
	// organizational domain (RFC 7489 §3.1.1, §3.1.2).
	AlignmentRelaxed Alignment = "r"
	// AlignmentStrict: the identifier is the From domain exactly.
	AlignmentStrict Alignment = "s"
)

// Defaults of the optional tags (RFC 7489 §6.3).
const (
	DefaultPercent        = 100
	DefaultFailureOptions = "0"
	DefaultReportFormat   = "afrf"
	DefaultReportInterval = 86400 * time.Second
)

// Record is a parsed DMARC policy record (RFC 7489 §6.3). ParseRecord fills
// every field that has a default, so a Record never needs defaults applied
// by its reader.
type Record struct {
	// Policy is p=. When the record had no valid p= (or an invalid sp=) but
	// a valid rua=, it is PolicyNone (RFC 7489 §6.6.3 step 6).
	Policy Policy
	// SubdomainPolicy is sp=, "" when absent: subdomains then get Policy
	// (RFC 7489 §6.3).
	SubdomainPolicy Policy
	// NonExistentPolicy is np= (RFC 9091 §4.1), "" when absent. It is
	// parsed for callers that decide whether the From domain exists; this
	// package does not apply it.
	NonExistentPolicy Policy
	// Percent is pct=, 0 to 100; default 100.
	Percent int
	// DKIMAlignment is adkim=; default relaxed.
	DKIMAlignment Alignment
	// SPFAlignment is aspf=; default relaxed.
	SPFAlignment Alignment
	// FailureOptions is fo=, its options in lower case joined by ":";
	// default "0".
	FailureOptions string
	// ReportFormats is rf=, lower case; default ["afrf"].
	ReportFormats []string
	// ReportInterval is ri=; default 86400 seconds.
	ReportInterval time.Duration
	// ReportURIs is rua=: the syntactically valid URIs, each as written
	// (with any "!size" suffix).
	ReportURIs []string
	// FailureReportURIs is ruf=, like ReportURIs.
	FailureReportURIs []string
	// Raw is the record text as published.
	Raw string
	// Warnings lists what the parser ignored or replaced by a default
	// (RFC 7489 §6.3: syntax errors in the remainder of the record are
	// discarded in favour of defaults). Unknown tags are not warnings: they
	// are how the format is extended.
	Warnings []string
}

// ParseRecord parses a DMARC record (RFC 7489 §6.3, §6.4).
//
// The record must start with "v=DMARC1" (the tag name in any case, the
// value exactly as the ABNF's %x string spells it); otherwise the error
// wraps ErrNotDMARC and policy discovery discards the record (§6.6.3).
// Tag names and the values of p, sp, np, adkim, aspf, fo and rf are
// case-insensitive (RFC 5234 §2.3: quoted ABNF strings); whitespace around
// tags, "=" and list separators is ignored.
//
// p= may follow other tags, as long as v= comes first (§6.3: "v" and "p"
// appear "in that order"); a warning notes it. An invalid value of an
// optional tag is replaced by its default with a warning. A record without
// a valid p=, or with an invalid sp=, is read as p=none when it has at
// least one valid rua= URI, and is otherwise refused with ErrNoPolicy
// (§6.6.3 step 6). A tag given twice makes the record invalid, ErrSyntax
// (RFC 6376 §3.2, whose tag-list syntax DMARC uses).
func ParseRecord(txt string) (*Record, error) {
	rest, ok := cutVersion(txt)
	if !ok {
		return nil, fmt.Errorf("%w: does not start with v=DMARC1", ErrNotDMARC)
	}
	r := &Record{
		Percent:        DefaultPercent,
		DKIMAlignment:  AlignmentRelaxed,
		SPFAlignment:   AlignmentRelaxed,
		FailureOptions: DefaultFailureOptions,
		ReportFormats:  []string{DefaultReportFormat},
		ReportInterval: DefaultReportInterval,
		Raw:            txt,
	}
	seen := map[string]bool{"v": true}
	var (
		havePolicy bool
		badPolicy  string // why p= or sp= is unusable
		pos        int
	)
	for spec := range strings.SplitSeq(rest, ";") {
		spec = trimWSP(spec)
		if spec == "" {
			continue // RFC 6376 §3.2: a trailing ";" is allowed
		}
		pos++
		name, value, ok := strings.Cut(spec, "=")
		name = strings.ToLower(trimWSP(name))
		value = trimWSP(value)
		if !ok || !validTagName(name) {
			r.warnf("ignored %q: not a tag=value pair", spec)
			continue
		}
		if seen[name] {
			return nil, fmt.Errorf("%w: tag %q appears more than once", ErrSyntax, name)
		}
		seen[name] = true
		switch name {
		case "p":
			p, ok := parsePolicy(value)
			if !ok {
				badPolicy = fmt.Sprintf("p=%q is not none, quarantine or reject", value)
				break
			}
			r.Policy, havePolicy = p, true
			if pos != 1 {
				r.warnf("p= is not the tag after v= (RFC 7489 §6.4)")
			}
		case "sp":
			p, ok := parsePolicy(value)
			if !ok {
				badPolicy = fmt.Sprintf("sp=%q is not none, quarantine or reject", value)
				break
			}
			r.SubdomainPolicy = p
		case "np":
			p, ok := parsePolicy(value)
			if !ok {
				r.warnf("ignored np=%q: not none, quarantine or reject", value)
				break
			}
			r.NonExistentPolicy = p
		case "adkim", "aspf":
			a, ok := parseAlignment(value)
			if !ok {
				r.warnf("%s=%q is not r or s: using r", name, value)
				break
			}
			if name == "adkim" {
				r.DKIMAlignment = a
			} else {
				r.SPFAlignment = a
			}
		case "pct":
			// RFC 7489 §6.4: 1*3DIGIT, and §6.3: 0 to 100.
			n, err := strconv.Atoi(value)
			if err != nil || !allDigits(value) || len(value) > 3 || n > 100 {
				r.warnf("pct=%q is not an integer from 0 to 100: using 100", value)
				break
			}
			r.Percent = n
		case "fo":
			fo, ok := parseList(value, ":", func(s string) bool {
				return s == "0" || s == "1" || s == "d" || s == "s"
			})
			if !ok {
				r.warnf("fo=%q is not a list of 0, 1, d, s: using 0", value)
				break
			}
			r.FailureOptions = strings.Join(fo, ":")
		case "rf":
			rf, ok := parseList(value, ":", validKeyword)
			if !ok {
				r.warnf("rf=%q is not a list of format names: using afrf", value)
				break
			}
			r.ReportFormats = rf
		case "ri":
			n, err := strconv.ParseUint(value, 10, 32)
			if err != nil || !allDigits(value) {
				r.warnf("ri=%q is not a number of seconds: using 86400", value)
				break
			}
			r.ReportInterval = time.Duration(n) * time.Second
		case "rua":
			r.ReportURIs = r.parseURIs(name, value)
		case "ruf":
			r.FailureReportURIs = r.parseURIs(name, value)
		}
		// RFC 7489 §6.3: unknown tags MUST be ignored.
	}
	if !havePolicy && badPolicy == "" {
		badPolicy = "no p= tag"
	}
	if badPolicy != "" {
		// RFC 7489 §6.6.3 step 6: with a valid rua=, act as if the record
		// were "v=DMARC1; p=none"; otherwise apply no DMARC processing.
		if len(r.ReportURIs) == 0 {
			return nil, fmt.Errorf("%w: %s and no valid rua= URI", ErrNoPolicy, badPolicy)
		}
		r.warnf("%s: read as p=none because rua= is valid (RFC 7489 §6.6.3)", badPolicy)
		r.Policy, r.SubdomainPolicy = PolicyNone, ""
	}
	return r, nil
}

// String writes the record back in canonical form: v=DMARC1 and p= first,
// then the tags whose values differ from their defaults. ParseRecord of
// the result yields the same record, except for Raw and Warnings.
func (r *Record) String() string {
	var b strings.Builder
	b.WriteString("v=DMARC1; p=")
	b.WriteString(string(r.Policy))
	add := func(tag, value string) {
		b.WriteString("; ")
		b.WriteString(tag)
		b.WriteByte('=')
		b.WriteString(value)
	}
	if r.SubdomainPolicy != "" {
		add("sp", string(r.SubdomainPolicy))
	}
	if r.NonExistentPolicy != "" {
		add("np", string(r.NonExistentPolicy))
	}
	if r.DKIMAlignment != "" && r.DKIMAlignment != AlignmentRelaxed {
		add("adkim", string(r.DKIMAlignment))
	}
	if r.SPFAlignment != "" && r.SPFAlignment != AlignmentRelaxed {
		add("aspf", string(r.SPFAlignment))
	}
	if r.Percent != DefaultPercent {
		add("pct", strconv.Itoa(r.Percent))
	}
	if r.FailureOptions != "" && r.FailureOptions != DefaultFailureOptions {
		add("fo", r.FailureOptions)
	}
	if len(r.ReportFormats) > 0 && !(len(r.ReportFormats) == 1 && r.ReportFormats[0] == DefaultReportFormat) {
		add("rf", strings.Join(r.ReportFormats, ":"))
	}
	if r.ReportInterval != DefaultReportInterval {
		add("ri", strconv.FormatInt(int64(r.ReportInterval/time.Second), 10))
	}
	if len(r.ReportURIs) > 0 {
		add("rua", strings.Join(r.ReportURIs, ","))
	}
	if len(r.FailureReportURIs) > 0 {
		add("ruf", strings.Join(r.FailureReportURIs, ","))
	}
	return b.String()
}

func (r *Record) warnf(format string, args ...any) {
	r.Warnings = append(r.Warnings, fmt.Sprintf(format, args...))
}

// cutVersion reports whether txt starts with the tag v=DMARC1 and returns
// what follows it. RFC 7489 §6.4: dmarc-version = "v" *WSP "=" *WSP
// %x44.4d.41.52.43.31, followed by a separator or the end.
func cutVersion(txt string) (rest string, ok bool) {
	first, rest, _ := strings.Cut(txt, ";")
	name, value, found := strings.Cut(first, "=")
	if !found || !strings.EqualFold(trimWSP(name), "v") || trimWSP(value) != "DMARC1" {
		return "", false
	}
	return rest, true
}

// isDMARC reports whether txt is a DMARC record rather than some other TXT
// record at the same name (RFC 7489 §6.6.3 steps 2 and 4).
func isDMARC(txt string) bool {
	_, ok := cutVersion(txt)
	return ok
}

func (r *Record) parseURIs(tag, value string) []string {
	var out []string
	for u := range strings.SplitSeq(value, ",") {
		u = trimWSP(u)
		if validURI(u) {
			out = append(out, u)
		} else {
			r.warnf("ignored %s URI %q: not an absolute URI", tag, u)
		}
	}
	return out
}

// validURI checks a dmarc-uri (RFC 7489 §6.4): an absolute URI (RFC 3986
// §4.3) with an optional "!" size limit such as "!10m".
func validURI(s string) bool {
	if i := strings.LastIndexByte(s, '!'); i >= 0 && validSize(s[i+1:]) {
		s = s[:i]
	}
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		// RFC 3986 §2: no spaces, controls, or raw non-ASCII in a URI.
		if c := s[i]; c <= ' ' || c >= 0x7f || c == '"' || c == '<' || c == '>' {
			return false
		}
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" {
		return false
	}
	return u.Opaque != "" || u.Host != "" || u.Path != ""
}

// validSize checks 1*DIGIT [ "k" / "m" / "g" / "t" ].
func validSize(s string) bool {
	if n := len(s); n > 1 {
		switch s[n-1] {
		case 'k', 'm', 'g', 't', 'K', 'M', 'G', 'T':
			s = s[:n-1]
		}
	}
	return allDigits(s)
}

func parsePolicy(s string) (Policy, bool) {
	switch p := Policy(strings.ToLower(s)); p {
	case PolicyNone, PolicyQuarantine, PolicyReject:
		return p, true
	}
	return "", false
}

func parseAlignment(s string) (Alignment, bool) {
	switch a := Alignment(strings.ToLower(s)); a {
	case AlignmentRelaxed, AlignmentStrict:
		return a, true
	}
	return "", false
}

// parseList splits a sep-separated list, trims and lower-cases its items,
// and checks each with valid. An empty list is invalid.
func parseList(s, sep string, valid func(string) bool) ([]string, bool) {
	items := strings.Split(s, sep)
	for i, it := range items {
		it = strings.ToLower(trimWSP(it))
		if !valid(it) {
			return nil, false
		}
		items[i] = it
	}
	return items, true
}

// validKeyword checks an RFC 5321 §4.1.2 Keyword (Ldh-str).
func validKeyword(s string) bool {
	if s == "" || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(isAlpha(c) || c >= '0' && c <= '9' || c == '-' && i > 0) {
			return false
		}
	}
	return true
}

// validTagName checks a tag-name (RFC 6376 §3.2): ALPHA *(ALPHA / DIGIT / "_").
func validTagName(s string) bool {
	if s == "" || !isAlpha(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !(isAlpha(c) || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// trimWSP removes surrounding whitespace: WSP (RFC 5234) and, leniently,
// CR and LF, which some publishers leave in TXT data.
func trimWSP(s string) string {
	return strings.Trim(s, " \t\r\n")
}
