// Package arc verifies and seals Authenticated Received Chains (RFC 8617).
//
// [NewVerifier] and [Verify] validate a chain as RFC 8617 §5.2 says,
// building on package dkim's tag lists, canonicalization and keys (and
// sharing the message's body hashers with its DKIM verifier, so the body is
// read once). [Seal] adds a set (RFC 8617 §5.1), so that forwarded test
// messages can be made; a receiver does not need it.
//
// What this package does not do: it does not decide whether a sealer is
// trusted or use what a chain recorded (package forward does, with the
// receiver's configuration), and it computes no oldest-pass (RFC 8617 §5.2
// step 5 is optional).
package arc
