// Package forward tells whether a message was forwarded on its way from
// its author to us, and what a trusted forwarder recorded before
// forwarding broke the author's authentication.
//
// [Detect] looks for forwarding without ARC: mailing lists (RFC 2369,
// RFC 2919 headers), the Sender Rewriting Scheme, Resent-* fields
// (RFC 5322 §3.6.6), forwarding headers of common providers, Received
// chains through another organization's mailbox, and authentication that
// survived in the content but not in the path (RFC 7960 §3.1).
//
// [Rescue] applies the receiver's configuration ([Trust]): when an ARC
// chain (package arc) passes and its sealer is a trusted forwarder, or an
// upstream Authentication-Results header comes from a trusted forwarder
// that really handed the message over, it reports the authentication
// results recorded before forwarding broke SPF and DKIM, so that a DMARC
// failure caused only by the forwarder can be overridden — openly, as
// RFC 7489 §6.7 and RFC 8617 §7.2.1 describe a local policy override.
//
// Every function takes the author identity the caller holds
// (message.ParseFrom), so that the forwarding facts are about the same
// sender as DMARC's; a message without a single usable From domain is
// never rescued.
//
// What this package does not do: it does not decide whether the message is
// trustworthy (package trust weighs these facts), it does not evaluate SPF,
// DKIM, DMARC or ARC itself, and its forwarding signals are heuristics over
// headers the sender controls: they describe, they do not authenticate.
package forward
