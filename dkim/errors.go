package dkim

import "errors"

// Errors. A Result's Err wraps one of them (or a resolver error for a
// temporary key lookup failure); classify with errors.Is.
var (
	// ErrMalformed: the signature's tag list is invalid, a required tag
	// is missing or a tag's value does not parse (RFC 6376 §6.1.1).
	ErrMalformed = errors.New("dkim: malformed signature")
	// ErrUnsupported: a version, algorithm, canonicalization or query
	// method this verifier does not know.
	ErrUnsupported = errors.New("dkim: unsupported")
	// ErrInvalidName: d= or s= is not a usable DNS name (empty label,
	// trailing dot, NUL, space, ...).
	ErrInvalidName = errors.New("dkim: invalid domain or selector")
	// ErrFromNotSigned: h= does not name From (RFC 6376 §6.1.1).
	ErrFromNotSigned = errors.New("dkim: From not signed")
	// ErrIdentifierMismatch: the domain of i= is not d= or below it
	// (RFC 6376 §3.5), or not d= itself under a key with t=s (§3.6.1).
	ErrIdentifierMismatch = errors.New("dkim: i= domain not within d=")
	// ErrExpired: the evaluation time is past x= (RFC 6376 §3.5).
	ErrExpired = errors.New("dkim: signature expired")
	// ErrNoTime: the Verifier was given no evaluation time.
	ErrNoTime = errors.New("dkim: no evaluation time (Options.Time)")

	// ErrKeyNotFound: no key record at the selector (NXDOMAIN or NODATA,
	// RFC 6376 §6.1.2), or a permanent DNS failure.
	ErrKeyNotFound = errors.New("dkim: no key for signature")
	// ErrKeyUnavailable: the key lookup failed temporarily; the error
	// also wraps the resolver's, so resolver.IsTemporary reports true.
	ErrKeyUnavailable = errors.New("dkim: key unavailable")
	// ErrKeyRevoked: the key record has an empty p= (RFC 6376 §3.6.1).
	ErrKeyRevoked = errors.New("dkim: key revoked")
	// ErrKeyMalformed: the key record does not parse (RFC 6376 §6.1.2
	// "key syntax error"), including an unknown k=.
	ErrKeyMalformed = errors.New("dkim: key syntax error")
	// ErrKeyAlgorithmMismatch: the key's k= does not fit a= (RFC 6376
	// §6.1.2 "inappropriate key algorithm").
	ErrKeyAlgorithmMismatch = errors.New("dkim: inappropriate key algorithm")
	// ErrHashNotAllowed: the key's h= excludes the hash of a= (RFC 6376
	// §6.1.2 "inappropriate hash algorithm").
	ErrHashNotAllowed = errors.New("dkim: inappropriate hash algorithm")
	// ErrServiceNotAllowed: the key's s= names neither "email" nor "*"
	// (RFC 6376 §3.6.1).
	ErrServiceNotAllowed = errors.New("dkim: key not for email")

	// ErrPolicy: the signature uses something the verifier's policy
	// refuses. ErrWeakHash and ErrKeyTooShort match it too.
	ErrPolicy = errors.New("dkim: refused by policy")
	// ErrWeakHash: rsa-sha1, which RFC 8301 §3.1 forbids verifiers to
	// accept (unless Policy.AllowSHA1). Matches ErrPolicy.
	ErrWeakHash error = &policyError{"dkim: rsa-sha1 not accepted (RFC 8301)"}
	// ErrKeyTooShort: an RSA key shorter than the policy's minimum
	// (RFC 8301 §3.2: never under 1024 bits). Matches ErrPolicy.
	ErrKeyTooShort error = &policyError{"dkim: rsa key too short"}

	// ErrBodyHashMismatch: the body hash does not match bh= (RFC 6376
	// §6.1.3).
	ErrBodyHashMismatch = errors.New("dkim: body hash did not verify")
	// ErrBodyTooShort: the canonical body is shorter than l= (RFC 6376
	// §3.5 l=: "MUST NOT be larger than the actual number of octets in
	// the canonicalized message body"): it was cut since signing.
	// Matches ErrBodyHashMismatch.
	ErrBodyTooShort error = &bodyError{"dkim: body shorter than l="}
	// ErrSignatureMismatch: the signature does not verify (RFC 6376
	// §6.1.3).
	ErrSignatureMismatch = errors.New("dkim: signature did not verify")
	// ErrNotVerified: the signature was beyond Options.MaxSignatures and
	// not looked at (RFC 6376 §6.1 lets a verifier limit its work).
	ErrNotVerified = errors.New("dkim: signature not verified (too many signatures)")
	// ErrBodyLimit: the body is longer than the verifier reads (the
	// caller's limit); a signature whose hash covers more of it is not
	// verified. Matches ErrNotVerified, so the status is neutral.
	ErrBodyLimit error = &notVerifiedError{"dkim: signature not verified (body over the size limit)"}
	// ErrBodyUnread: the body was not read to the end before the context
	// ended; the error also wraps the context's, so resolver.IsTemporary
	// reports true and the status is temperror.
	ErrBodyUnread = errors.New("dkim: body not read before the deadline")
)

// notVerifiedError is a sentinel that also matches ErrNotVerified.
type notVerifiedError struct{ msg string }

func (e *notVerifiedError) Error() string        { return e.msg }
func (e *notVerifiedError) Is(target error) bool { return target == ErrNotVerified }

// policyError is a sentinel that also matches ErrPolicy.
type policyError struct{ msg string }

func (e *policyError) Error() string        { return e.msg }
func (e *policyError) Is(target error) bool { return target == ErrPolicy }

// bodyError is a sentinel that also matches ErrBodyHashMismatch.
type bodyError struct{ msg string }

func (e *bodyError) Error() string        { return e.msg }
func (e *bodyError) Is(target error) bool { return target == ErrBodyHashMismatch }
