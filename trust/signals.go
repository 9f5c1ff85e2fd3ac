package trust

import (
	"cmp"
	"slices"
	"strings"

	"github.com/mailtrust/mailtrust/message"
)

// Code is the stable name of a signal: a reason a verdict gives, and a
// feature a classifier can use. Codes never change meaning; new ones may be
// added.
type Code string

// Group gathers signals of one family, so that a family's total can be
// capped and cannot dominate the score on its own.
type Group string

// Groups.
const (
	GroupAuth       Group = "auth"       // SPF, DKIM, DMARC and their combinations
	GroupConnection Group = "connection" // PTR and HELO: low trust at most
	GroupSender     Group = "sender"     // existence of the sender's and recipients' domains
	GroupSpoof      Group = "spoof"      // the reader would see someone else than was authenticated
	GroupForward    Group = "forward"    // ARC and upstream results carried across forwarding
	GroupMessage    Group = "message"    // malformed or over-limit input
	GroupInfo       Group = "info"       // facts reported with no weight by default
)

// Signal describes one code: its default weight and why.
type Signal struct {
	Code   Code
	Group  Group
	Weight float64 // default; positive = suspicious, negative = trustworthy
	// Doc says what the signal means, and the reason for its weight.
	Doc string
	// NotFor says what the signal deliberately does not fire on: the
	// ordinary practice it could be confused with, and which code, if
	// any, reports that instead. Empty when there is nothing to say.
	NotFor string
}

// LookupSignal returns the default table's entry for c, and whether there
// is one: the explanation of a Reason, for reports.
func LookupSignal(c Code) (Signal, bool) {
	for _, s := range Signals() {
		if s.Code == c {
			return s, true
		}
	}
	return Signal{}, false
}

// Doc is the default table's explanation of r's code: what it means and
// why it weighs what it weighs; "" for a code the table does not know.
func (r Reason) Doc() string {
	s, _ := LookupSignal(r.Code)
	return s.Doc
}

// Signal codes. The table in [Signals] gives each its default weight and
// rationale; docs/WEIGHTS.md is the same table for readers.
const (
	// Authentication.
	DMARCPass          Code = "dmarc.pass"
	DMARCFail          Code = "dmarc.fail"
	DMARCNone          Code = "dmarc.none"
	DMARCTempError     Code = "dmarc.temperror"
	DMARCPermError     Code = "dmarc.permerror"
	DMARCFailForwarded Code = "dmarc.fail-forwarded"
	AlignedPass        Code = "auth.aligned-pass"
	FromUnaligned      Code = "auth.from-unaligned"
	NoAuthentication   Code = "auth.none"
	DKIMFailSPFFail    Code = "auth.dkim-fail-spf-fail"
	SPFPass            Code = "spf.pass"
	SPFFail            Code = "spf.fail"
	SPFSoftfail        Code = "spf.softfail"
	SPFNeutral         Code = "spf.neutral"
	SPFNone            Code = "spf.none"
	SPFTempError       Code = "spf.temperror"
	SPFPermError       Code = "spf.permerror"
	SPFPermissive      Code = "spf.permissive"
	DKIMPass           Code = "dkim.pass"
	DKIMFail           Code = "dkim.fail"
	DKIMPermError      Code = "dkim.permerror"
	DKIMPolicy         Code = "dkim.policy"
	DKIMTempError      Code = "dkim.temperror"
	DKIMFromUnsigned   Code = "dkim.from-unsigned"
	DKIMUnsignedAbove  Code = "dkim.unsigned-header-above"
	DKIMBodyLength     Code = "dkim.body-length-unsigned"
	DKIMIdentifier     Code = "dkim.identifier-outside-domain"
	DKIMBadName        Code = "dkim.invalid-name"
	DKIMNotSigned      Code = "dkim.header-not-signed"
	SPFFailForwarded   Code = "spf.fail-forwarded"

	// Connection.
	PTRPass        Code = "ptr.pass"
	PTRFail        Code = "ptr.fail"
	PTRNone        Code = "ptr.none"
	PTRTempError   Code = "ptr.temperror"
	PTRGeneric     Code = "ptr.generic"
	PTRRelated     Code = "ptr.related"
	HELOPass       Code = "helo.pass"
	HELOFail       Code = "helo.fail"
	HELOInvalid    Code = "helo.invalid"
	HELONone       Code = "helo.none"
	HELOTempError  Code = "helo.temperror"
	HELOOtherOrg   Code = "helo.other-org"
	HELOMX         Code = "helo.mx"
	HostClaimOther Code = "conn.claims-other-org"
	// Session facts not known (Conn.Missing): the checks that need them
	// did not run.
	ConnIPUnknown       Code = "conn.ip-unknown"
	ConnHELOUnknown     Code = "conn.helo-unknown"
	ConnMailFromUnknown Code = "conn.mail-from-unknown"
	// UnknownCapped is given when a verdict that scored as trusted is
	// reported as neutral because a session fact was unknown.
	UnknownCapped Code = "conn.unknown-capped"
	// DMARCUndecided: DMARC found no aligned DKIM pass, and SPF could not
	// be checked for want of a session fact, so it did not fail.
	DMARCUndecided Code = "dmarc.undecided"

	// Sender and recipient domains.
	FromNXDomain      Code = "sender.from-nxdomain"
	MailFromNXDomain  Code = "sender.mailfrom-nxdomain"
	RcptNXDomain      Code = "sender.rcpt-nxdomain"
	Authenticated     Code = "conn.authenticated"
	EnvelopeControl        = Code(message.EnvelopeControlBytes)
	EnvelopeSyntax         = Code(message.EnvelopeMailFromSyntax)
	NullReversePathID Code = "envelope.null-reverse-path"

	// What the reader sees: package message finds these, and names them.
	FromMissing             = Code(message.FromMissing)
	FromMultiple            = Code(message.FromMultiple)
	FromObsColon            = Code(message.FromObsColon)
	FromMultipleAddrs       = Code(message.FromMultipleAddresses)
	FromEmpty               = Code(message.FromEmpty)
	FromGroup               = Code(message.FromGroup)
	FromUnparsable          = Code(message.FromUnparsable)
	FromRoute               = Code(message.FromRoute)
	FromRouteSameOrg        = Code(message.FromRouteSameOrg)
	FromUnknownCharset      = Code(message.FromUnknownCharset)
	FromNoDomain            = Code(message.FromNoDomain)
	FromBadDomain           = Code(message.FromBadDomain)
	FromDisplayAddress      = Code(message.FromDisplayAddress)
	FromDisplayBidi         = Code(message.FromDisplayBidi)
	FromDisplayDomain       = Code(message.FromDisplayDomain)
	FromMixedScript         = Code(message.FromMixedScript)
	FromEncodedAddress      = Code(message.FromEncodedAddress)
	FromControlBytes        = Code(message.FromControlBytes)
	Smuggling          Code = "body.smtp-smuggling"

	// Forwarding.
	ARCPass         Code = "arc.pass"
	ARCFail         Code = "arc.fail"
	ARCTrusted      Code = "arc.trusted-forwarder"
	ARCUntrusted    Code = "arc.untrusted-sealer"
	ARCTempError    Code = "arc.temperror"
	UpstreamTrusted Code = "upstream.trusted-results"
	UpstreamForged  Code = "upstream.forged-results"
	Forwarded       Code = "forward.detected"
	Automated       Code = "automated.detected"

	// Message.
	// NotAMessage is given, first and alone, to input that is not an
	// Internet message: empty, binary, or without header fields.
	NotAMessage Code = "input.not-a-message"
	HeaderLimit Code = "message.header-limit"
	BodyLimit   Code = "message.body-limit"
	// NoHeader is the former name of NotAMessage.
	//
	// Deprecated: message.no-header is no longer given; input without
	// header fields gets input.not-a-message.
	NoHeader       = NotAMessage
	Malformed Code = "message.malformed-lines"
	HeaderNUL Code = "message.header-nul"
	DNSBudget Code = "dns.budget-exhausted"
	Deadline  Code = "eval.deadline"
	// IncompleteCapped is given when an incomplete verdict that scored as
	// trusted is reported as neutral.
	IncompleteCapped Code = "eval.incomplete-capped"
	TooManyDKIM      Code = "dkim.too-many-signatures"
	TooManyARC       Code = "arc.too-many-sets"
	BareCRHeader     Code = "message.header-bare-cr"
)

// Signals returns the table of every signal with its default weight, in a
// fresh slice (callers may keep or change it). The weights follow how
// rspamd (conf/scores.d) and SpamAssassin weigh the same facts, rescaled so
// that authentication decides and connection hygiene only lowers trust.
func Signals() []Signal {
	rows := []struct {
		code   Code
		group  Group
		weight float64
		doc    string
	}{
		{DMARCPass, GroupAuth, -3.0, "The From domain is authenticated by aligned SPF or DKIM (RFC 7489 §4.2): the strongest evidence that the visible sender is genuine (rspamd DMARC_POLICY_ALLOW -0.5 combined with R_DKIM_ALLOW/R_SPF_ALLOW)."},
		{DMARCFail, GroupAuth, 6.5, "The From domain publishes DMARC and nothing aligns: the visible sender is not the one authenticated; receivers treat it as spoofed whatever p= says (rspamd DMARC_POLICY_REJECT 2.0 plus the SPF/DKIM failures it implies)."},
		{DMARCNone, GroupAuth, 0.5, "No DMARC record: the owner states no policy, so nothing ties SPF or DKIM to the From domain; slightly suspicious (rspamd DMARC_NA 0)."},
		{DMARCTempError, GroupAuth, 0, "DMARC is undecided by a temporary failure: the policy lookup, a would-be aligned SPF or DKIM result, or the ARC chain of a trusted forwarder that may carry the original pass. Weighs nothing; the verdict is incomplete."},
		{DMARCPermError, GroupAuth, 2.0, "The From header gives no single usable domain (RFC 7489 §6.6.1) or the policy is broken: DMARC cannot protect the reader."},
		{DMARCFailForwarded, GroupForward, 0, "DMARC failed only because a trusted forwarder changed the message; the original result was pass. Reported, not counted."},
		{AlignedPass, GroupAuth, -2.0, "With no DMARC record, SPF or DKIM still authenticates a domain aligned with From (relaxed, RFC 7489 §3.1)."},
		{FromUnaligned, GroupAuth, 2.0, "With no DMARC record, neither SPF nor DKIM authenticates a domain aligned with From: whoever sent it, nothing vouches for the sender the reader sees (mail sent through a provider without alignment lands here too, hence a moderate weight)."},
		{NoAuthentication, GroupAuth, 5.0, "No SPF record and no valid DKIM signature: nothing authenticates the sender; receivers' documentation calls such mail a spoofed sender (SpamAssassin SPF_NONE + DKIM absence)."},
		{DKIMFailSPFFail, GroupAuth, 2.0, "An invalid DKIM signature together with an SPF fail: both mechanisms contradict the sender (receivers: 'invalid DKIM signature plus SPF fail' is untrusted)."},
		{SPFPass, GroupAuth, -1.0, "The connecting IP is authorized by the MAIL FROM (or HELO) domain (RFC 7208 §8.3; rspamd R_SPF_ALLOW -0.2, scaled)."},
		{SPFFail, GroupAuth, 3.0, "The domain says the IP is not authorized (RFC 7208 §8.4; rspamd R_SPF_FAIL 1.0, SpamAssassin SPF_FAIL 0.9, scaled)."},
		{SPFSoftfail, GroupAuth, 1.5, "Not authorized, weakly stated (RFC 7208 §8.5; rspamd R_SPF_SOFTFAIL 0)."},
		{SPFNeutral, GroupAuth, 0.5, "The domain makes no assertion about the IP (RFC 7208 §8.2)."},
		{SPFNone, GroupAuth, 1.0, "No SPF record for the checked domain (RFC 7208 §8.1; SpamAssassin SPF_NONE)."},
		{SPFFailForwarded, GroupForward, 0, "SPF fails or softfails at a forwarder (RFC 7208 §9.1, RFC 7960 §3.1) while the author's aligned DKIM signature passes and DMARC counts it: the path changed, the content did not. Reported, not counted."},
		{SPFTempError, GroupAuth, 0, "SPF undecided by a temporary DNS failure: weighs nothing, verdict incomplete."},
		{SPFPermError, GroupAuth, 1.5, "The SPF record is broken (RFC 7208 §8.7): the domain cannot be authorized (rspamd R_SPF_PERMFAIL)."},
		{SPFPermissive, GroupAuth, 2.0, "The SPF record ends in +all or ?all: anyone may send for the domain, so its SPF pass means nothing (sender misconfiguration, rspamd R_SPF_PLUSALL 4.0, halved since DKIM may still hold)."},
		{DKIMPass, GroupAuth, -0.5, "A valid DKIM signature by a domain not aligned with From: someone vouches for the message, not for the sender."},
		{DKIMFail, GroupAuth, 2.0, "A DKIM signature does not verify (body or header changed, or forged): RFC 6376 §6.3; rspamd R_DKIM_REJECT 1.0, scaled."},
		{DKIMPermError, GroupAuth, 0.5, "A DKIM signature cannot be checked (key missing or revoked, expired, malformed); RFC 6376 §6.1 treats it as no signature."},
		{DKIMPolicy, GroupAuth, 0.5, "A signature uses rsa-sha1 or a short key, refused by RFC 8301."},
		{DKIMTempError, GroupAuth, 0, "A DKIM key lookup failed temporarily: weighs nothing, verdict incomplete."},
		{DKIMFromUnsigned, GroupSpoof, 1.0, "A DKIM signature does not cover From (RFC 6376 §5.4): it authenticates no sender, and anything can be put above it."},
		{DKIMUnsignedAbove, GroupSpoof, 8.5, "From, Subject, To, Cc, Reply-To, Date or Message-ID occurs more often than the signature covers: an unsigned instance was added and is the one a reader sees."},
		{DKIMBodyLength, GroupSpoof, 8.5, "A signature with l= leaves content after the signed part unsigned: an attacker can append to a genuinely signed message."},
		{DKIMIdentifier, GroupSpoof, 1.0, "i= is outside d= (RFC 6376 §3.5): the signature is invalid and the identity claimed is not the signer's."},
		{DKIMBadName, GroupSpoof, 2.0, "d= or s= is not a valid DNS name (NUL, spaces, empty labels): a parser confusion attempt, never looked up."},
		{DKIMNotSigned, GroupInfo, 0, "A passing signature whose h= never names Date, Message-ID, To, Cc, Reply-To or Subject although the message has them (RFC 6376 §5.4 requires only From): those fields are unsigned, a weakness of the signature rather than a field added above a signed one."},
		{PTRPass, GroupConnection, -0.5, "The IP has a PTR name that resolves back to it (forward-confirmed reverse DNS, RFC 8601 §3 iprev)."},
		{PTRFail, GroupConnection, 1.5, "PTR names exist but none resolves back to the IP: receivers' 'PTR does not match'."},
		{PTRNone, GroupConnection, 1.5, "The IP has no PTR record: receivers' documentation gives such senders low trust (SpamAssassin RDNS_NONE 0.8, rspamd RDNS_NONE 2.0)."},
		{PTRTempError, GroupConnection, 0, "Reverse lookup failed temporarily: weighs nothing, verdict incomplete."},
		{PTRGeneric, GroupConnection, 1.5, "The PTR name looks like a residential or dynamic pool (embeds the IP, dyn, dsl, cable...): such hosts should relay through their provider (rspamd RDNS_DYNAMIC / HFILTER_HOSTNAME_*)."},
		{PTRRelated, GroupConnection, -0.5, "The confirmed PTR name is in the sender's organizational domain: the good case in receivers' documentation."},
		{HELOPass, GroupConnection, -0.25, "The HELO name resolves to the connecting IP."},
		{HELOFail, GroupConnection, 0.5, "The HELO name resolves, but not to the connecting IP (common behind NAT and load balancers: weak)."},
		{HELOInvalid, GroupConnection, 2.0, "The HELO is not a usable FQDN (localhost, bare IP, single label, unknown TLD, bad syntax; RFC 5321 §2.3.5, §4.1.4): rspamd HFILTER_HELO_* up to 4.5."},
		{HELONone, GroupConnection, 1.5, "The HELO name does not resolve (rspamd HFILTER_HELO_NORES_A_OR_MX)."},
		{HELOTempError, GroupConnection, 0, "HELO lookup failed temporarily: weighs nothing, verdict incomplete."},
		{HELOOtherOrg, GroupConnection, 0.5, "The HELO names another organization than the sender's domain (weak: shared infrastructure is common)."},
		{HELOMX, GroupConnection, -0.25, "The HELO is one of the sender domain's MX hosts, as receivers' documentation asks."},
		{HostClaimOther, GroupSpoof, 3.0, "The PTR or HELO claims a host in the sender's organization that does not resolve back to the connecting IP."},
		{ConnIPUnknown, GroupInfo, 0, "The connecting IP is not known (not given, not in the receiver's trace): PTR, HELO and SPF are not checked, and the level is at most neutral."},
		{ConnHELOUnknown, GroupInfo, 0, "The HELO name is not known: the HELO check does not run, and the level is at most neutral."},
		{ConnMailFromUnknown, GroupInfo, 0, "MAIL FROM is not known (an unknown reverse-path is not the null one): SPF does not run, and the level is at most neutral."},
		{UnknownCapped, GroupInfo, 0, "The score reads trusted, but a session fact was unknown and the checks needing it did not run: the level is held at neutral."},
		{DMARCUndecided, GroupInfo, 0, "No aligned DKIM pass, and SPF could not be checked for want of the IP or MAIL FROM: DMARC might have passed on SPF, so it is not counted as failing (RFC 7489 §4.2)."},
		{FromNXDomain, GroupSender, 6.5, "The From domain does not exist: nobody can own it, so no reply can reach it (receivers: untrusted)."},
		{MailFromNXDomain, GroupSender, 3.0, "The MAIL FROM domain does not exist (a bounce cannot be delivered; RFC 5321 §4.1.4 expects a usable reverse-path)."},
		{RcptNXDomain, GroupSender, 6.5, "A recipient header domain (To/Cc) does not exist: receivers treat such mail as untrusted."},
		{Authenticated, GroupSender, -10.0, "The client authenticated (SMTP AUTH on a connector): the receiver's configuration trusts it whatever PTR, HELO or SPF say; those checks are reported but not weighed, while the reader-view signals still count."},
		{EnvelopeControl, GroupSpoof, 8.5, "NUL or control bytes in MAIL FROM or HELO: malformed input that components may truncate differently."},
		{EnvelopeSyntax, GroupSpoof, 2.0, "MAIL FROM is not a valid address (RFC 5321 §4.1.2)."},
		{NullReversePathID, GroupInfo, 0, "Null reverse-path: the HELO identity stands for SPF and for DMARC's SPF alignment (RFC 7208 §2.4, RFC 7489 §3.1.2)."},
		{FromMissing, GroupSpoof, 4.0, "No From header (RFC 5322 §3.6 requires exactly one): no sender can be authenticated."},
		{FromMultiple, GroupSpoof, 8.5, "More than one From header (including 'From :' and case variants): DMARC and the reader may pick different ones (RFC 7489 §6.6.1)."},
		{FromObsColon, GroupSpoof, 2.0, "From written with whitespace before the colon (obsolete, RFC 5322 §4.5.3): parsed differently by different software."},
		{FromMultipleAddrs, GroupSpoof, 6.5, "From holds several addresses: which one DMARC checks and which one the reader sees is undefined (RFC 7489 §6.6.1)."},
		{FromEmpty, GroupSpoof, 4.0, "From is empty or a group with no address: no sender to authenticate."},
		{FromGroup, GroupSpoof, 2.0, "From is a group (RFC 5322 §3.4): not a sender."},
		{FromUnparsable, GroupSpoof, 4.0, "From cannot be parsed as an address: what a reader sees cannot be authenticated."},
		{FromRoute, GroupSpoof, 8.5, "From uses obsolete route syntax <@a:user@b> (RFC 5322 §4.4) whose route names another organization: clients that show the route show another domain than the one authenticated, as a display name holding an address does, and weigh the same."},
		{FromRouteSameOrg, GroupSpoof, 0.5, "From uses obsolete route syntax (RFC 5322 §4.4) within the address's own organization: obsolete, but whatever a client shows is the same sender."},
		{FromUnknownCharset, GroupSpoof, 0.5, "The From display name is in a charset not known here (RFC 2047 §2): it cannot be read, so it cannot be checked for another organization's address. Reported, nearly unweighed: an unreadable name is not an attack."},
		{FromNoDomain, GroupSpoof, 4.0, "From has no domain part."},
		{FromBadDomain, GroupSpoof, 4.0, "The From domain is not a valid DNS name (NUL, spaces, empty labels, encoded words)."},
		{FromDisplayAddress, GroupSpoof, 8.5, "The display name, a comment or the quoted local part holds an address in another organization: the reader sees that address, DMARC checks the real one."},
		{FromDisplayBidi, GroupSpoof, 8.5, "A bidirectional override (U+202D, U+202E) in the display name, a comment or the local part: the reader sees the characters in another order than software reads them (Unicode TR 9 §2.2)."},
		{FromDisplayDomain, GroupSpoof, 2.0, "The display name names a domain of another organization (\"PayPal.com\" <x@evil.example>). Weak: lists and services sending on behalf of others write such names too."},
		{FromMixedScript, GroupSpoof, 8.5, "A label of the From domain mixes scripts that Unicode TS 39 §5.2 keeps apart (Latin with Cyrillic or Greek): a homograph that shows as another organization's name, and authenticates as its own."},
		{FromEncodedAddress, GroupSpoof, 8.5, "An encoded-word inside the address itself (RFC 2047 §5 forbids it): decoding clients show another address."},
		{FromControlBytes, GroupSpoof, 8.5, "NUL or control bytes in From: components truncate it differently."},
		{Smuggling, GroupSpoof, 8.5, "The body holds an end-of-data sequence made with a bare LF or CR: how a second, unauthenticated message rides inside an authenticated one (SMTP smuggling, 2023)."},
		{ARCPass, GroupInfo, 0, "The ARC chain validates (RFC 8617 §5.2); it carries weight only when its sealer is trusted."},
		{ARCFail, GroupForward, 0.5, "The ARC chain is broken (RFC 8617 §5.2): a forwarding claim that does not hold."},
		{ARCTrusted, GroupForward, -1.0, "A trusted forwarder sealed a passing chain; the original authentication it recorded (RFC 8617 §7.2) stands for the message."},
		{ARCUntrusted, GroupInfo, 0, "The chain validates but its sealer is not a trusted forwarder: it rescues nothing."},
		{ARCTempError, GroupForward, 0, "An ARC key lookup failed temporarily: weighs nothing, verdict incomplete."},
		{UpstreamTrusted, GroupForward, -1.0, "A trusted relay's own Authentication-Results, on a message it really handed over, carries the original verdict (RFC 8601 §5)."},
		{UpstreamForged, GroupSpoof, 8.5, "An Authentication-Results header names a trusted authserv-id but the connection is not from that forwarder: a forgery (RFC 8601 §5)."},
		{Forwarded, GroupInfo, 0, "The message was forwarded (list, SRS, Resent-*, other organization's relay): explains SPF or DKIM failures."},
		{Automated, GroupInfo, 0, "Automated mail (RFC 3834 Auto-Submitted, bulk, helpdesk mailers): do not auto-reply. Not a trust signal."},
		{NotAMessage, GroupMessage, 6.5, "The input is not an Internet message (RFC 5322 §2.1): empty, binary, or without a header field before the body. Nothing else is checked or weighed: there is no sender to judge."},
		{HeaderLimit, GroupMessage, 3.0, "The header block exceeds a configured limit (size, fields or line length): evaluated on what was read."},
		{BodyLimit, GroupMessage, 1.0, "The body exceeds Limits.MaxBodyBytes: the rest is not read, and a DKIM signature (or ARC-Message-Signature) whose hash covers it is not verified (neutral)."},
		{Malformed, GroupMessage, 1.0, "Header lines that are neither fields nor continuations."},
		{HeaderNUL, GroupMessage, 2.0, "NUL bytes in the header block."},
		{BareCRHeader, GroupMessage, 1.0, "Bare CR in the header block: components split lines differently."},
		{DNSBudget, GroupMessage, 1.0, "The message required more DNS questions than the configured budget."},
		{Deadline, GroupInfo, 0, "The evaluation deadline ended some checks: the verdict is partial and incomplete."},
		{IncompleteCapped, GroupInfo, 0, "The score reads trusted, but a temporary DNS failure left a result open that could turn it (DMARC did not pass): the level is held at neutral until the message is evaluated again."},
		{TooManyDKIM, GroupMessage, 0.5, "More DKIM signatures than the verification cap."},
		{TooManyARC, GroupMessage, 1.0, "More ARC sets than RFC 8617 §4.2.1 allows (50)."},
	}
	notFor := notFor()
	s := make([]Signal, len(rows))
	for i, r := range rows {
		s[i] = Signal{Code: r.code, Group: r.group, Weight: r.weight, Doc: r.doc, NotFor: notFor[r.code]}
	}
	return s
}

// notFor says, per code, what the signal deliberately does not fire on
// (Signal.NotFor): the benign twins the tests hold for each.
func notFor() map[Code]string {
	const conn = "Not weighed for an authenticated client (conn.authenticated); the connection group adds at most 4.0."
	return map[Code]string{
		DMARCPass:          "A pass by a domain not aligned with From (dkim.pass), a permissive SPF record's pass (spf.permissive), or a From that components could read two ways (several From fields or mailboxes: dmarc.permerror).",
		DMARCFail:          "A domain without a DMARC record (dmarc.none); a message a trusted forwarder changed after recording the original pass (dmarc.fail-forwarded); a trusted forwarder's chain that could not be checked (dmarc.temperror).",
		DMARCNone:          "A policy lookup that failed temporarily (dmarc.temperror).",
		DMARCPermError:     "A policy lookup that failed temporarily (dmarc.temperror).",
		AlignedPass:        "A permissive SPF record's pass, or a DKIM signature that does not sign From.",
		FromUnaligned:      "A domain that publishes DMARC (dmarc.pass or dmarc.fail decide), or a message without a usable From domain.",
		NoAuthentication:   "A message with a valid DKIM signature that signs From, or that DMARC passes; an SPF lookup that failed temporarily.",
		DKIMFailSPFFail:    "An invalid signature with an SPF softfail, or a signature whose key is missing or broken (dkim.permerror).",
		SPFPass:            "A record ending in +all or ?all (spf.permissive).",
		SPFFail:            "Forwarded mail whose author's aligned DKIM signature passes and DMARC counts it (spf.fail-forwarded, 0); an authenticated client.",
		SPFSoftfail:        "As for spf.fail: forwarded mail whose aligned DKIM DMARC counts (spf.fail-forwarded); an authenticated client.",
		SPFNeutral:         "A record whose ?all lets anyone send (spf.permissive).",
		SPFNone:            "An SPF lookup that failed temporarily (spf.temperror).",
		SPFPermError:       "An SPF lookup that failed temporarily (spf.temperror).",
		SPFPermissive:      "Records ending in -all or ~all, however broad their mechanisms.",
		DKIMPass:           "A signature aligned with From: DMARC (or auth.aligned-pass) counts it once.",
		DKIMFail:           "A key that is missing, revoked or broken (dkim.permerror), or that could not be fetched (dkim.temperror).",
		DKIMPermError:      "A signature that does not sign From (dkim.from-unsigned) or names no valid domain or selector (dkim.invalid-name).",
		DKIMPolicy:         "rsa-sha256 with a key of 1024 bits or more, and ed25519-sha256 (RFC 8463).",
		DKIMFromUnsigned:   "Signatures beyond the verification cap, which are reported unverified (dkim.too-many-signatures).",
		DKIMUnsignedAbove:  "A field h= never names (unsigned as the signer chose: dkim.header-not-signed, 0); over-signing, h= naming a field more often than it occurs; a signature that fails.",
		DKIMBodyLength:     "An l= that covers the whole body; a signature that fails.",
		DKIMIdentifier:     "An i= in d= or a subdomain of it.",
		DKIMBadName:        "Names in other letter case, or internationalized names written as A-labels.",
		DKIMNotSigned:      "From, which a signature must sign (dkim.from-unsigned otherwise); fields the message does not hold.",
		PTRFail:            conn,
		PTRNone:            "A reverse lookup that failed temporarily (ptr.temperror). " + conn,
		PTRGeneric:         conn,
		HELOFail:           conn,
		HELOInvalid:        conn,
		HELONone:           conn,
		HELOOtherOrg:       conn,
		HostClaimOther:     "A host name in the sender's organization that resolves back to the connecting IP; an IP that organization vouches for (its SPF record passes it, or its PTR is confirmed in the organization), whatever its HELO resolves to, as behind NAT; a HELO naming another organization (helo.other-org); an authenticated client.",
		FromNXDomain:       "A lookup that failed temporarily (the verdict is then incomplete); a name that is not a valid DNS name, which is never asked.",
		MailFromNXDomain:   "The null reverse-path; a lookup that failed temporarily.",
		RcptNXDomain:       "Envelope recipients (only To and Cc, at most 5 domains, are asked); a lookup that failed temporarily.",
		EnvelopeControl:    "HTAB, and 8-bit octets of internationalized addresses.",
		EnvelopeSyntax:     "The null reverse-path <>, and the obsolete source route before the mailbox (RFC 5321 §4.1.2).",
		FromMissing:        "A From written in other letter case or as 'From :' (from.obs-colon), which counts as From.",
		FromMultiple:       "One From and an over-signing DKIM signature (h= naming From twice); Sender, Resent-From or X-Original-From beside From.",
		FromObsColon:       "'From:' with whitespace after the colon.",
		FromMultipleAddrs:  "One mailbox with a comment or a display name holding a comma in quotes.",
		FromEmpty:          "A group that holds a mailbox (from.group).",
		FromGroup:          "Groups in To or Cc ('undisclosed-recipients:;'), where RFC 5322 §3.6.3 allows them.",
		FromUnparsable:     "Obsolete syntax readers accept and this parser reads: quoted words, comments, 8-bit names, a trailing dot.",
		FromRoute:          "A route that stays within the address's own organization (from.route-same-org, 0.5).",
		FromRouteSameOrg:   "A route naming another organization (from.route, 8.5).",
		FromNoDomain:       "A domain with a trailing dot or in upper case, which is normalized.",
		FromBadDomain:      "A trailing dot or upper case (normalized); an internationalized domain, checked as its A-label (RFC 5890).",
		FromDisplayAddress: "A display name that repeats the address or names an address of the same organization; '@handle' without a domain of two labels; an address followed by an honorific ('alice@example.com様').",
		FromDisplayBidi:    "Embeddings, isolates and marks (U+202A-U+202C, U+2066-U+2069, U+200E, U+200F), which right-to-left names use and which cannot reverse Latin letters.",
		FromDisplayDomain:  "A display name naming the sender's own organization; names under newer generic TLDs ('Mr.Green', 'Dr.House'); a bare public suffix ('co.uk').",
		FromMixedScript:    "A domain in one script (пример.рф), or Latin with Han and Kana, which Unicode TS 39 §5.2 allows together.",
		FromEncodedAddress: "Encoded words in the display name, where RFC 2047 allows them.",
		FromControlBytes:   "The escape sequences of ISO-2022-JP and other charsets: encoded words are decoded into Unicode first and only the decoded text is looked at, and so is a display name written in raw ISO-2022-JP (RFC 1468) before the angle-addr; words in a charset not known here (from.unknown-charset).",
		FromUnknownCharset: "Any charset the WHATWG Encoding Standard or the IANA registry names and golang.org/x/text decodes: ISO-2022-JP, Shift_JIS, EUC-JP, GB2312, GBK, GB18030, Big5, EUC-KR, KOI8-R, KOI8-U, windows-125x, ISO-8859-x; UTF-8 and US-ASCII.",
		Smuggling:          "A message stored with LF line endings throughout; a line holding only '.' ended by CRLF, which SMTP dot-stuffing escapes.",
		ARCFail:            "No chain at all (arc=none); a key lookup that failed temporarily (arc.temperror).",
		ARCTrusted:         "A sealer that is not among Options.TrustedForwarders (arc.untrusted-sealer, 0); a chain that fails.",
		UpstreamTrusted:    "Results whose authserv-id is not a trusted forwarder's, or that arrive on a connection that is not the forwarder's.",
		UpstreamForged:     "Results whose authserv-id is not a trusted forwarder's (ignored, RFC 8601 §5); results a trusted forwarder wrote on a message it really handed over (upstream.trusted-results).",
		SPFFailForwarded:   "A DMARC pass by SPF alone, or no DMARC pass; SPF failing with no forwarding trace (list fields, SRS, Resent-*, a provider's forwarding field, or the connecting relay's Received field naming another organization's host beside the DKIM-pass/SPF-fail mark). A replayed signed message is not told from an alias by this code: DMARC counts its signature either way.",
		NotAMessage:        "A header cut at a limit (message.header-limit); a header holding any field messages carry, however bare (a lone Subject or Received).",
		HeaderLimit:        "A header exactly at a limit: limits are inclusive.",
		BodyLimit:          "A body exactly at Limits.MaxBodyBytes, or a signature whose l= ends before the limit: limits are inclusive, and what was hashed is verified.",
		HeaderNUL:          "8-bit octets of UTF-8 header fields (RFC 6532).",
		Malformed:          "Folded continuation lines (RFC 5322 §2.2.3).",
		BareCRHeader:       "CRLF or bare LF line endings.",
		DNSBudget:          "A question asked twice, which counts once.",
		TooManyDKIM:        "Exactly as many signatures as the cap.",
		TooManyARC:         "Exactly 50 sets.",
	}
}

// defaultCaps bounds group totals: connection hygiene alone can make a
// message suspicious, never untrusted.
func defaultCaps() map[Group]float64 {
	return map[Group]float64{GroupConnection: 4.0}
}

// sortReasons orders reasons by descending absolute weight, then code.
func sortReasons(r []Reason) {
	slices.SortStableFunc(r, func(a, b Reason) int {
		if aa, ab := abs(a.Weight), abs(b.Weight); aa != ab {
			return cmp.Compare(ab, aa)
		}
		return strings.Compare(string(a.Code), string(b.Code))
	})
}

func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}
