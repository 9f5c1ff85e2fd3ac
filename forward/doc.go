// Package forward tells what happened to a message between its author and
// us: whether it came through an Authenticated Received Chain (ARC,
// RFC 8617), whether it was forwarded without one (mailing lists,
// RFC 2369/2919 headers; Sender Rewriting Scheme; Resent-* fields,
// RFC 5322 §3.6.6; Received chains through another organization), and
// whether it was sent by a machine rather than a person (Auto-Submitted,
// RFC 3834; delivery reports, RFC 6522; ticketing systems), which matters
// to anyone who answers mail automatically.
//
// ARC verification ([NewARCVerifier], [VerifyARC]) follows RFC 8617 §5.2
// and builds on package dkim's tag lists, canonicalization and keys. An
// ARC sealer ([Seal], RFC 8617 §5.1) is included so that forwarded test
// messages can be made; a receiver does not need it.
//
// [Rescue] applies the receiver's configuration ([Trust]): when a chain
// passes and its sealer is a trusted forwarder, or an upstream
// Authentication-Results header comes from a trusted forwarder that really
// handed the message over, it reports the authentication results recorded
// before forwarding broke SPF and DKIM, so that a DMARC failure caused only
// by the forwarder can be overridden — openly, as RFC 7489 §6.7 and
// RFC 8617 §7.2.1 describe a local policy override.
//
// What this package does not do: it does not decide whether the message is
// trustworthy (package trust weighs these facts), it does not evaluate SPF,
// DKIM or DMARC itself, and its forwarding and automated-mail signals are
// heuristics over headers the sender controls: they describe, they do not
// authenticate.
package forward
