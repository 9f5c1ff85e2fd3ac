// Package inbound holds what every place that receives mail does with a
// verdict, so that the milter and the SMTP server adapter decide alike:
// the SMTP reply for a verdict (accept, 550 5.7.1 or 451 4.7.0), the
// header fields added to the message (the verdict's Authentication-Results
// and an X-Mailtrust-Verdict summary), the fields removed from it (RFC 8601
// §5: an Authentication-Results that names this receiver can only be a
// forgery from upstream).
//
// It does not evaluate (package trust does) and it speaks no protocol: the
// milter and smtptrust packages carry its decisions to an MTA. The
// receiver's own hosts are a received.Receiver, read once by
// received.ParseReceiver, and the first outside hop behind them is read
// from the trace by trust (trust.Options.Receiver).
package inbound
