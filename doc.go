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
//   - arc: ARC chain validation and sealing (RFC 8617);
//   - forward: forwarding detection and trusted forwarders' rescue;
//   - automated: mail a machine sent (RFC 3834);
//   - sender: existence of the sender's and recipients' domains;
//   - message: the one reader of header fields, addresses and the From
//     identity (RFC 5322), on which every check builds.
//
// The checks report facts; only package trust weighs them.
package mailtrust
