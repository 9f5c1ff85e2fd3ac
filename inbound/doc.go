// Package inbound holds what every place that receives mail does with a
// verdict, so that the milter and the SMTP server adapter decide alike:
// the SMTP reply for a verdict (accept, 550 5.7.1 or 451 4.7.0), the
// header fields added to the message (the verdict's Authentication-Results
// and an X-Mailtrust-Verdict summary), the fields removed from it (RFC 8601
// §5: an Authentication-Results that names this receiver can only be a
// forgery from upstream), and the receiver's own relays, which are never
// judged as the sender.
//
// It does not evaluate (package trust does) and it speaks no protocol: the
// milter and smtptrust packages carry its decisions to an MTA. Reading the
// first outside hop from the receiver's own Received fields is left to a
// Trace function the caller supplies.
package inbound
