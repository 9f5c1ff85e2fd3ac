// Package milter puts mailtrust into the mail flow of an MTA that speaks
// the milter protocol (Postfix smtpd_milters, Sendmail INPUT_MAIL_FILTER),
// on github.com/emersion/go-milter.
//
// For each message the MTA hands over the session facts (the client's
// address, HELO, MAIL FROM, every RCPT TO, the {auth_authen} macro of an
// authenticated client, the queue id {i} for the logs) and then the
// message, which is streamed into one shared trust.Evaluator while it
// arrives. The header is taken exactly as received: the MTA is asked to
// keep the space after each colon (SMFIP_HDR_LEADSPC), and folded lines are
// restored to CRLF, so that a c=simple DKIM signature verifies here as it
// does on the delivered file. (This needs an MTA that honours
// SMFIP_HDR_LEADSPC, as Postfix and Sendmail 8.14 do. Postfix passes the
// client's header without the Received field it adds itself, so the
// verdict is the one `mailtrust check` gives for the message as sent.) At the end of the message the milter removes
// every Authentication-Results field that already carries its authserv-id
// (RFC 8601 §5) and every incoming X-Mailtrust-Verdict, adds its own two
// fields at the top, and answers as the inbound.Policy says.
//
// A client that is one of the receiver's own hosts (Options.Receiver: its
// address, or the host name the MTA verified) is not judged as the sender:
// the Evaluator gets the session's MAIL FROM, RCPT TO and time with the
// client's address and HELO unknown, and, configured with the same
// Receiver (trust.Options.Receiver), reads them from the Received field
// that the outermost of the receiver's hosts wrote on accepting the
// message from outside (RFC 5321 §4.4). A trace that does not say so
// leaves them unknown, and the verdict at most neutral. A client outside
// is judged as itself, whatever Received fields its message carries.
// Behind a proxy that speaks XCLIENT, Postfix gives the milter the real
// client, which then needs none of this. XFORWARD does not reach milters:
// after a content filter that hands mail back with it, the client is the
// filter, which belongs in the Receiver.
//
// It does not deliver, quarantine or rewrite the body.
package milter
