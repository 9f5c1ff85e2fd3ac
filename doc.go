// Package mailtrust answers, for every inbound email, how much to trust
// where it came from, and why.
//
// The entry point is [github.com/mailtrust/mailtrust/trust.Evaluator]:
// configured once, it judges each message from its SMTP facts (connecting
// IP, HELO, MAIL FROM, RCPT TO, time of receipt) and its raw bytes, and
// returns a weighted verdict with machine-readable reasons, every check's
// result in its RFC's own words, and an Authentication-Results header.
//
// The checks are packages of their own, each with one job:
//
//   - resolver: the DNS layer every check shares (system resolver, wire
//     client, cache, RFC 1035 zone files for offline replay, recorder);
//   - ptr: forward-confirmed reverse DNS (RFC 8601 §3 iprev), residential
//     pool names;
//   - helo: the HELO/EHLO name (RFC 5321 §2.3.5, §4.1.4);
//   - spf: SPF (RFC 7208) of the MAIL FROM and HELO identities;
//   - dkim: DKIM signatures (RFC 6376, RFC 8463, RFC 8301);
//   - dmarc: DMARC policy discovery and alignment (RFC 7489);
//   - forward: ARC (RFC 8617), trusted forwarders, forwarding and
//     automated-mail signals (RFC 3834).
//
// The checks report facts; only package trust weighs them.
package mailtrust
