// Package dmarc implements DMARC policy discovery and evaluation (RFC 7489):
// it finds the policy record of a message's From domain and decides whether
// an SPF- or DKIM-authenticated identifier aligns with that domain.
//
// The work is split in two so that the DNS lookup can run while SPF and DKIM
// are still being checked: [Lookup] performs policy discovery (RFC 7489
// §6.6.3) and returns a [Discovery]; [Evaluate] combines it with the
// authenticated identifiers (§3.1, §6.6.2) and the pct= sampling (§6.6.4)
// into a [Result], which renders as an RFC 8601 Authentication-Results
// entry.
//
// What it does not do: it does not extract the From domain from the message
// (package message does), verify SPF or DKIM (it takes their outcomes), decide
// whether the From domain exists (np= of RFC 9091 is parsed, not applied),
// send aggregate or failure reports (rua= and ruf= are only parsed), or act
// on the disposition: it reports facts, the caller weighs them.
package dmarc

import "errors"

// Status is a DMARC result, spelled as the RFC 8601 §2.7.1 / RFC 7489 §11.2
// result words.
type Status string

// DMARC results.
const (
	// StatusPass: an identifier that passed SPF or DKIM aligns with the
	// From domain.
	StatusPass Status = "pass"
	// StatusFail: a policy record exists and no passing identifier aligns.
	StatusFail Status = "fail"
	// StatusNone: no policy record applies (none published, or several).
	StatusNone Status = "none"
	// StatusTemperror: a temporary failure (DNS) left the result undecided;
	// a later attempt may conclude.
	StatusTemperror Status = "temperror"
	// StatusPermerror: a permanent error, such as an unusable policy record
	// or From domain.
	StatusPermerror Status = "permerror"
)

// Errors, classified with errors.Is. Discovery.Err and Result.Err wrap them.
var (
	// ErrNotDMARC: the text does not start with v=DMARC1; discovery
	// discards such TXT records (RFC 7489 §6.6.3).
	ErrNotDMARC = errors.New("dmarc: not a DMARC record")
	// ErrNoPolicy: the record has no valid p= (or has an invalid sp=) and
	// no valid rua= to fall back on (RFC 7489 §6.6.3 step 6).
	ErrNoPolicy = errors.New("dmarc: record has no valid policy")
	// ErrSyntax: the record cannot be read at all (a tag given twice).
	ErrSyntax = errors.New("dmarc: malformed record")
	// ErrNoRecord: no DMARC record at the From domain or its
	// organizational domain.
	ErrNoRecord = errors.New("dmarc: no DMARC record")
	// ErrMultipleRecords: several DMARC records at one name; policy
	// discovery ends without a policy (RFC 7489 §6.6.3 step 5).
	ErrMultipleRecords = errors.New("dmarc: multiple DMARC records")
	// ErrDNS: the record lookup failed; the cause tells whether temporarily.
	ErrDNS = errors.New("dmarc: DNS lookup failed")
	// ErrNoFromDomain: the message has no From domain DMARC can use.
	ErrNoFromDomain = errors.New("dmarc: no usable From domain")
	// ErrAuthTemporary: no identifier passed with alignment, and the check
	// of one that would have aligned failed temporarily.
	ErrAuthTemporary = errors.New("dmarc: an aligned SPF or DKIM check failed temporarily")
)
