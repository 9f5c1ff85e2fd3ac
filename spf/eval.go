package spf

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/miekg/dns"

	"github.com/mailtrust/mailtrust/resolver"
)

// RFC 7208 §4.6.4: "the evaluation of each "MX" record MUST NOT result in
// querying more than 10 address records", and of PTR records only the
// first 10 are used.
const (
	maxMXNames  = 10
	maxPTRNames = 10
	// maxDepth bounds the nesting of include and redirect. Each counts
	// against MaxLookups, so only a raised MaxLookups can come near it; it
	// keeps the recursion's stack small whatever the options say.
	maxDepth = 64
)

// evaluator runs check_host() (RFC 7208 §4) for one check: the arguments
// that stay the same through include and redirect, and the counters of
// RFC 7208 §4.6.4, which are shared by the whole evaluation.
type evaluator struct {
	ctx          context.Context
	r            resolver.Resolver
	ip           netip.Addr // the client, unmapped, without zone
	local        string     // <sender>'s local-part (the l macro)
	senderDomain string     // <sender>'s domain (the o macro)
	helo         string     // the HELO name as given (the h macro)
	records      *RecordCache

	maxLookups, maxVoid int
	lookups, voids      int
	depth               int

	// The client's PTR names, asked at most once per check (for the ptr
	// mechanism and the p macro).
	ptrDone bool
	ptrs    []string // the valid names among the first 10
	ptrVoid bool     // the answer held no PTR record
	ptrErr  error
}

// outcome is the result of one check_host() call.
type outcome struct {
	status Status
	// path leads from the term of this record that decided down to the
	// term that matched; nil when no term matched.
	path       []Step
	record     string // the SPF record of the domain, "" if none
	nxdomain   bool   // for none: the domain does not exist
	permissive bool   // the policy in force ends in +all or ?all
	err        error  // for temperror and permerror
}

// failed returns o ended by err: temperror when err wraps ErrTemporary,
// permerror otherwise.
func failed(o outcome, err error) outcome {
	o.status = StatusPermerror
	if errors.Is(err, ErrTemporary) {
		o.status = StatusTemperror
	}
	o.err = err
	o.path = nil
	return o
}

// checkHost evaluates the record of q, a name as queryName returns it, for
// the client (RFC 7208 §4.4 to §4.7). The path it returns is in reverse
// order, the matching term first, so that each level appends its step.
func (e *evaluator) checkHost(q string) outcome {
	var o outcome
	domain := q[:len(q)-1] // the <domain> of the macros and of the path
	rec, nx, err := e.lookupRecord(q, domain)
	if rec != nil {
		o.record = rec.raw
	}
	if err != nil {
		return failed(o, err)
	}
	if rec == nil {
		o.status, o.nxdomain = StatusNone, nx
		return o
	}
	// RFC 7208 §5.1: mechanisms after "all" are never tested, and a
	// redirect is ignored when the record has an "all".
	all := rec.all()
	o.permissive = all != nil && (all.qual == '+' || all.qual == '?')
	var redirect *term
	for i := range rec.terms {
		t := &rec.terms[i]
		if t.modifier {
			if t.name == "redirect" {
				redirect = t
			}
			// exp= is used only to explain a fail (RFC 7208 §6.2), and
			// unknown modifiers are ignored (§6).
			continue
		}
		ok, sub, err := e.mechanism(t, q, domain)
		if err != nil {
			return failed(o, err)
		}
		if ok {
			// RFC 7208 §4.6.2: the first match decides, with its
			// qualifier.
			o.status = qualifierStatus(t.qual)
			if sub == nil {
				sub = make([]Step, 0, 4)
			}
			o.path = append(sub, Step{Domain: domain, Term: t.raw})
			return o
		}
	}
	if redirect == nil || all != nil {
		// RFC 7208 §4.7: no match and no redirect: neutral.
		o.status = StatusNeutral
		return o
	}
	// RFC 7208 §6.1: the redirect target's result is this record's,
	// except that none is a permerror.
	if err := e.count(); err != nil {
		return failed(o, err)
	}
	tq, valid := e.target(redirect, q, domain)
	child, err := e.nested(tq, valid)
	if err != nil {
		return failed(o, err)
	}
	if child.status == StatusNone {
		return failed(o, fmt.Errorf("%w: %s (RFC 7208 §6.1)", ErrNoRecord, redirect.raw))
	}
	o.status, o.err, o.permissive = child.status, child.err, child.permissive
	if child.path != nil {
		o.path = append(child.path, Step{Domain: domain, Term: redirect.raw})
	}
	return o
}

// nested runs check_host() for an include or redirect target; a target
// that is no valid name has no record (RFC 7208 §4.3).
func (e *evaluator) nested(q string, valid bool) (outcome, error) {
	if !valid {
		return outcome{status: StatusNone, nxdomain: true}, nil
	}
	if e.depth >= maxDepth {
		return outcome{}, fmt.Errorf("%w: include and redirect nested more than %d deep", ErrLookupLimit, maxDepth)
	}
	e.depth++
	o := e.checkHost(q)
	e.depth--
	return o, nil
}

// target is the name a term's domain-spec names, as queryName returns it:
// the current domain q when the term has none, the name parsed with the
// record when it has no macro, the expansion otherwise. valid is false
// when the name is no valid DNS name.
func (e *evaluator) target(t *term, q, domain string) (string, bool) {
	switch {
	case t.value == "":
		return q, true
	case t.query != "":
		return t.query, true
	case strings.IndexByte(t.value, '%') < 0:
		return "", false // parsed already: no valid name
	}
	return queryName(e.expand(t.value, domain))
}

func qualifierStatus(q byte) Status {
	switch q {
	case '-':
		return StatusFail
	case '~':
		return StatusSoftfail
	case '?':
		return StatusNeutral
	}
	return StatusPass
}

// lookupRecord finds the SPF record of domain (RFC 7208 §4.4, §4.5): nil
// without error when there is none (nx tells whether the name does not
// exist), an error wrapping ErrTemporary for a DNS failure (recordFailure),
// and a permerror cause when the records cannot be used.
func (e *evaluator) lookupRecord(q, domain string) (rec *record, nx bool, err error) {
	ans, err := e.r.Lookup(e.ctx, q, dns.TypeTXT)
	if err != nil {
		return nil, false, recordFailure(err)
	}
	if ans.NXDomain() {
		return nil, true, nil
	}
	// RFC 7208 §4.5: records that do not begin with "v=spf1" are
	// discarded; more than one SPF record is a permerror.
	var txt string
	found := 0
	for _, rr := range ans.Records {
		t, ok := rr.(*dns.TXT)
		if !ok || len(t.Txt) == 0 {
			continue
		}
		s := t.Txt[0]
		if len(t.Txt) > 1 {
			// RFC 7208 §3.3: the strings of one record are concatenated.
			s = strings.Join(t.Txt, "")
		}
		if isSPF(s) {
			txt = s
			found++
		}
	}
	switch {
	case found == 0:
		return nil, false, nil
	case found > 1:
		return nil, false, fmt.Errorf("%w at %s (RFC 7208 §4.5)", ErrMultipleRecords, domain)
	}
	rec, err = e.records.parse(txt)
	if err != nil {
		// RFC 7208 §4.6: a syntax error anywhere is a permerror. The
		// record is still reported.
		return &record{raw: txt}, false, fmt.Errorf("%w at %s: %w", ErrSyntax, domain, err)
	}
	return rec, false, nil
}

// mechanism evaluates one directive's mechanism (RFC 7208 §5). For a
// matching include it returns the path inside the included record.
func (e *evaluator) mechanism(t *term, q, domain string) (match bool, sub []Step, err error) {
	switch t.name {
	case "all": // RFC 7208 §5.1
		return true, nil, nil
	case "ip4", "ip6": // RFC 7208 §5.6: an ip4 never matches an IPv6 client, nor ip6 an IPv4 one
		return t.net.Contains(e.ip), nil, nil
	}
	// The others cause DNS lookups (RFC 7208 §4.6.4).
	if err := e.count(); err != nil {
		return false, nil, err
	}
	tq, valid := e.target(t, q, domain)
	switch t.name {
	case "include":
		return e.include(t, tq, valid)
	case "a":
		m, err := e.addrMatch(tq, valid, e.bits(t), true)
		return m, nil, err
	case "mx":
		m, err := e.mx(tq, valid, e.bits(t))
		return m, nil, err
	case "ptr":
		m, err := e.ptr(tq, valid)
		return m, nil, err
	case "exists":
		m, err := e.exists(tq, valid)
		return m, nil, err
	}
	// parseRecord lets no other name through.
	return false, nil, fmt.Errorf("%w: unknown mechanism %q", ErrSyntax, t.name)
}

// include evaluates include (RFC 7208 §5.2) of the target q.
func (e *evaluator) include(t *term, q string, valid bool) (bool, []Step, error) {
	child, err := e.nested(q, valid)
	if err != nil {
		return false, nil, err
	}
	switch child.status {
	case StatusPass:
		return true, child.path, nil
	case StatusFail, StatusSoftfail, StatusNeutral:
		return false, nil, nil
	case StatusNone:
		return false, nil, fmt.Errorf("%w: %s (RFC 7208 §5.2)", ErrNoRecord, t.raw)
	}
	return false, nil, child.err
}

// bits is the prefix length of an a or mx term for the client's family.
func (e *evaluator) bits(t *term) int {
	if e.ip.Is4() {
		return t.cidr4
	}
	return t.cidr6
}

// count counts a term that causes DNS lookups (RFC 7208 §4.6.4): more
// than MaxLookups is a permerror.
func (e *evaluator) count() error {
	e.lookups++
	if e.lookups > e.maxLookups {
		return fmt.Errorf("%w (RFC 7208 §4.6.4): more than %d terms that ask DNS", ErrLookupLimit, e.maxLookups)
	}
	return nil
}

// void counts a term whose lookup found nothing, NXDOMAIN or NODATA (RFC
// 7208 §4.6.4): more than MaxVoidLookups is a permerror.
func (e *evaluator) void() error {
	e.voids++
	if e.voids > e.maxVoid {
		return fmt.Errorf("%w (RFC 7208 §4.6.4): more than %d lookups found nothing", ErrVoidLookupLimit, e.maxVoid)
	}
	return nil
}

// recordFailure classifies a failed lookup of an SPF record, the checked
// domain's or an include or redirect target's. RFC 7208 §4.4: a server
// failure, any other RCODE but 0 and 3 (REFUSED, FORMERR, NOTIMP, ...) or
// a timeout is temperror: the server, not the domain, failed. A failure no
// server reported is permerror: a CNAME loop the resolver found following
// the chain (the domain's operator must fix it, §2.6.7; spf_test.go and
// trust's TestDNSFaults hold it so, as for DKIM and DMARC), or a question
// the evaluation's DNS budget refused (budgetFailure). An invalid name is
// none, decided before any question (queryName, §4.3).
func recordFailure(err error) error {
	var re *resolver.Error
	switch {
	case resolver.IsTemporary(err):
		return fmt.Errorf("%w: %w", ErrTemporary, err)
	case resolver.IsBudget(err):
		return budgetFailure(err)
	case errors.As(err, &re) && re.Rcode >= 0:
		// FORMERR, NOTIMP and the rarer rcodes, which the resolver calls
		// permanent: asking them again will not help, but RFC 7208 §4.4
		// does not blame the domain for them.
		return fmt.Errorf("%w: %w: %w", ErrTemporary, ErrPermanentDNS, err)
	}
	return fmt.Errorf("%w: %w", ErrPermanentDNS, err)
}

// dnsFailure makes a failed lookup of a mechanism a temperror. RFC 7208
// §5: any error other than NXDOMAIN makes check_host() return temperror,
// so a permanent resolver failure (a CNAME loop) met there is one too; a
// recursive server would have answered SERVFAIL. A question the budget
// refused is permerror, as at the record (budgetFailure).
func dnsFailure(err error) error {
	switch {
	case resolver.IsTemporary(err):
		return fmt.Errorf("%w: %w", ErrTemporary, err)
	case resolver.IsBudget(err):
		return budgetFailure(err)
	}
	return fmt.Errorf("%w: %w: %w", ErrTemporary, ErrPermanentDNS, err)
}

// budgetFailure is the permerror of a question refused by the DNS budget
// of the evaluation (resolver.Memo). It is no temporary failure: asked
// again, the same message spends the budget the same way, and a temperror
// would let a message that spends it on purpose turn DMARC fail into
// temperror (RFC 7489 §6.6.2) and be deferred without end.
func budgetFailure(err error) error {
	return fmt.Errorf("%w: %w", ErrPermanentDNS, err)
}

// addrQuestion is the address type compared with the client (RFC 7208
// §5.3): A for an IPv4 client, AAAA for an IPv6 one.
func (e *evaluator) addrQuestion() uint16 {
	if e.ip.Is4() {
		return dns.TypeA
	}
	return dns.TypeAAAA
}

// addrMatch asks the addresses of q of the client's family and reports
// whether one of them lies in the client's network of bits (RFC 7208 §5.3,
// §5.6). NXDOMAIN is no error (§5); countVoid makes an empty answer a
// void lookup.
func (e *evaluator) addrMatch(q string, valid bool, bits int, countVoid bool) (bool, error) {
	if !valid {
		// A name no DNS can hold (RFC 7208 §4.8 leaves the case open) is
		// treated as non-existent.
		if countVoid {
			return false, e.void()
		}
		return false, nil
	}
	ans, err := e.r.Lookup(e.ctx, q, e.addrQuestion())
	if err != nil {
		return false, dnsFailure(err)
	}
	if len(ans.Records) == 0 {
		if countVoid {
			return false, e.void()
		}
		return false, nil
	}
	network := netip.PrefixFrom(e.ip, bits).Masked()
	for _, rr := range ans.Records {
		var ip netip.Addr
		ok := false
		switch v := rr.(type) {
		case *dns.A:
			ip, ok = netip.AddrFromSlice(v.A.To4())
		case *dns.AAAA:
			// An IPv4-mapped AAAA record is no IPv4 address; kept in its
			// 16-octet form it cannot equal the unmapped client.
			ip, ok = netip.AddrFromSlice(v.AAAA.To16())
		default:
			continue
		}
		if ok && network.Contains(ip) {
			return true, nil
		}
	}
	return false, nil
}

// mx evaluates the mx mechanism (RFC 7208 §5.4): the addresses of each MX
// host, at most 10 of them, compared as for a. There is no implicit MX.
func (e *evaluator) mx(q string, valid bool, bits int) (bool, error) {
	if !valid {
		return false, e.void()
	}
	ans, err := e.r.Lookup(e.ctx, q, dns.TypeMX)
	if err != nil {
		return false, dnsFailure(err)
	}
	n := 0
	for _, rr := range ans.Records {
		if _, ok := rr.(*dns.MX); ok {
			n++
		}
	}
	if n == 0 {
		return false, e.void()
	}
	if n > maxMXNames {
		// RFC 7208 §4.6.4: more MX records than that is a permerror.
		return false, fmt.Errorf("%w (RFC 7208 §4.6.4): %d at %s, more than %d", ErrTooManyMX, n, q[:len(q)-1], maxMXNames)
	}
	for _, rr := range ans.Records {
		mx, ok := rr.(*dns.MX)
		if !ok || mx.Mx == "." || mx.Mx == "" {
			continue // RFC 7505: "." is a null MX, no host
		}
		hq, hvalid := queryName(mx.Mx)
		m, err := e.addrMatch(hq, hvalid, bits, false)
		if err != nil || m {
			return m, err
		}
	}
	return false, nil
}

// ptrNames returns the valid names among the client's first 10 PTR
// records (RFC 7208 §4.6.4), as queryName returns them, asked once per
// check.
func (e *evaluator) ptrNames() ([]string, error) {
	if e.ptrDone {
		return e.ptrs, e.ptrErr
	}
	e.ptrDone = true
	ans, err := e.r.Lookup(e.ctx, resolver.ReverseName(e.ip), dns.TypePTR)
	if err != nil {
		e.ptrErr = err
		return nil, err
	}
	seen := 0
	for _, rr := range ans.Records {
		p, ok := rr.(*dns.PTR)
		if !ok {
			continue
		}
		if seen++; seen > maxPTRNames {
			break // RFC 7208 §4.6.4: the others MUST be ignored
		}
		if n, ok := queryName(p.Ptr); ok {
			e.ptrs = append(e.ptrs, n)
		}
	}
	e.ptrVoid = seen == 0
	return e.ptrs, nil
}

// validated reports whether name, a PTR name of the client, has an address
// record that is the client (RFC 7208 §5.5). A DNS error skips the name.
func (e *evaluator) validated(name string) bool {
	m, err := e.addrMatch(name, true, e.ip.BitLen(), false)
	return err == nil && m
}

// ptr evaluates the ptr mechanism (RFC 7208 §5.5): a validated PTR name
// of the client that is target or below it. Only the names below target
// are validated, which gives the same result with fewer questions. A DNS
// error on the PTR question makes the mechanism not match, but a check
// whose context ended is a temperror.
func (e *evaluator) ptr(target string, valid bool) (bool, error) {
	names, err := e.ptrNames()
	if err != nil {
		if ctxErr := e.ctx.Err(); ctxErr != nil {
			return false, dnsFailure(err)
		}
		return false, nil
	}
	if e.ptrVoid {
		return false, e.void()
	}
	for _, n := range names {
		if valid && isBelow(n, target) && e.validated(n) {
			return true, nil
		}
	}
	if err := e.ctx.Err(); err != nil {
		return false, fmt.Errorf("%w: %w", ErrTemporary, err)
	}
	return false, nil
}

// validatedName is the p macro (RFC 7208 §7.3): a validated PTR name of
// the client, domain itself if it is one, else one below domain, else any;
// "unknown" when there is none or DNS fails.
func (e *evaluator) validatedName(domain string) string {
	names, err := e.ptrNames()
	if err != nil {
		return "unknown"
	}
	d, ok := queryName(domain)
	if !ok {
		d = ""
	}
	var state [maxPTRNames]int8 // 0 not asked, 1 validated, -1 not
	check := func(i int) bool {
		if state[i] == 0 {
			state[i] = -1
			if e.validated(names[i]) {
				state[i] = 1
			}
		}
		return state[i] == 1
	}
	for pass := range 3 {
		for i, n := range names {
			var fits bool
			switch pass {
			case 0:
				fits = n == d
			case 1:
				fits = n != d && isBelow(n, d)
			default:
				fits = !isBelow(n, d)
			}
			if fits && check(i) {
				return n[:len(n)-1]
			}
		}
	}
	return "unknown"
}

// exists evaluates exists (RFC 7208 §5.7): an A question, whatever the
// client's family, that matches when it finds any record.
func (e *evaluator) exists(q string, valid bool) (bool, error) {
	if !valid {
		return false, e.void()
	}
	ans, err := e.r.Lookup(e.ctx, q, dns.TypeA)
	if err != nil {
		return false, dnsFailure(err)
	}
	for _, rr := range ans.Records {
		if _, ok := rr.(*dns.A); ok {
			return true, nil
		}
	}
	return false, e.void()
}

// isBelow reports whether name equals parent or lies below it; both are
// as queryName returns them.
func isBelow(name, parent string) bool {
	return name == parent || (len(name) > len(parent) && strings.HasSuffix(name, parent) && name[len(name)-len(parent)-1] == '.')
}

// targetName turns an expanded domain-spec into the <domain> of a nested
// check or the name of a lookup: lower case (ASCII only: names are octet
// strings, RFC 4343 §3), without trailing dot, and cut to 253 octets by
// removing labels on the left (RFC 7208 §7.3).
func targetName(name string) string {
	n := strings.TrimSuffix(name, ".")
	for len(n) > 253 {
		i := strings.IndexByte(n, '.')
		if i < 0 {
			break
		}
		n = n[i+1:]
	}
	return lowerASCII(n)
}

// queryName turns a name into the one asked: as targetName makes it, and
// fully qualified. valid is false for a name that cannot be asked, no
// valid DNS name (an empty label, a label over 63 octets, a space or a NUL
// from a macro expansion): resolver.CheckName refuses it before any
// question, and the caller treats it as non-existent, which never turns a
// sender's typo into a temperror. A name already in that form is returned
// as is.
func queryName(name string) (q string, valid bool) {
	n := targetName(name)
	if n == "" || resolver.CheckName(n) != nil {
		return "", false
	}
	if len(name) == len(n)+1 && name[len(n)] == '.' && name[:len(n)] == n {
		return name, true
	}
	return n + ".", true
}

// lowerASCII lower-cases the ASCII letters of s and leaves other octets
// alone.
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if isUpper(s[i]) {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				b[j] = lower(b[j])
			}
			return string(b)
		}
	}
	return s
}
