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
// A client that is one of the receiver's own relays (Options.Relays) is not
// judged as the sender: with Options.Trace the first outside hop is read
// from the trace fields; without it the client's address and HELO are left
// unknown. Behind a proxy that speaks XCLIENT, Postfix gives the milter the
// real client, which then needs neither. XFORWARD does not reach milters:
// after a content filter that hands mail back with it, the client is the
// filter, which belongs among the Relays.
//
// It does not deliver, quarantine or rewrite the body.
package milter
