// Package dkim verifies DomainKeys Identified Mail signatures: RFC 6376,
// with ed25519-sha256 (RFC 8463) and the crypto requirements of RFC 8301
// (no rsa-sha1, no RSA key under 1024 bits).
//
// A [Verifier] is built from a message's header block; it starts every
// key lookup at once, takes the body as a stream through one [BodyHasher]
// per distinct canonicalization, hash and l=, and reports one [Result] per
// DKIM-Signature field. The time of receipt is an input ([Options].Time):
// expiry is judged against it, never against the clock. [Verify] is the
// one-call form.
//
// The building blocks are exported for ARC (RFC 8617), whose signatures
// share DKIM's tag lists, canonicalization and keys: [ParseTagList],
// [ParseCanonicalization], [CanonicalHeader], [BodyHasher],
// [StripSignatureValue], [SelectHeaders], [ParseKeyRecord], [LookupKey],
// [KeyCache], [Key.Verify] and [HashFor].
//
// What it does not do: decide whether the signing domain has anything to
// do with the author (DMARC alignment, RFC 7489), weigh results, or sign.
// A signature that passes says only that d= took responsibility for the
// signed fields and body; Result.UnsignedAbove and Result.UnsignedBodyBytes
// say what it does not cover.
package dkim
