package arc

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/mailtrust/mailtrust/dkim"
	"github.com/mailtrust/mailtrust/internal/arfield"
	"github.com/mailtrust/mailtrust/message"
)

// ErrSealOptions is wrapped by Seal's errors about its options.
var ErrSealOptions = errors.New("arc: invalid seal options")

// SealOptions describe the ARC set Seal adds.
type SealOptions struct {
	// Domain and Selector name the sealer's key (d= and s= of the
	// ARC-Seal and ARC-Message-Signature).
	Domain, Selector string
	// Signer is the private key: an *rsa.PrivateKey (rsa-sha256) or an
	// ed25519.PrivateKey (ed25519-sha256, RFC 8463).
	Signer crypto.Signer
	// AuthServID is the sealer's authserv-id, written in the
	// ARC-Authentication-Results.
	AuthServID string
	// AuthResults are the results the sealer recorded on arrival, one
	// RFC 8601 resinfo each ("spf=pass smtp.mailfrom=example.org"). Nil
	// means: consolidate them from the message's Authentication-Results
	// fields whose authserv-id is AuthServID, in order (RFC 8617 §4.1.1:
	// one AAR holds all of the ADMD's results).
	AuthResults []string
	// ChainStatus is the validation status of the chain as it arrived
	// (cv=, RFC 8617 §5.1 step 4.3): the Status of Verify on the
	// message before sealing. Empty means none, which only a message
	// without ARC sets may have. With Fail the seal covers only the new
	// set (RFC 8617 §5.1.2).
	ChainStatus Status
	// Headers are the header fields the ARC-Message-Signature signs (h=).
	// Nil means DefaultSealHeaders(), each as many times as it occurs. ARC
	// fields and Authentication-Results may not be signed (RFC 8617
	// §4.1.2).
	Headers []string
	// Canonicalization is the ARC-Message-Signature's c=. Empty means
	// "relaxed/relaxed".
	Canonicalization string
	// Time is written as t= of both signatures; zero writes no t=.
	Time time.Time
	// Expiration is written as x= of the ARC-Message-Signature (RFC 6376
	// §3.5); zero writes no x=. It must be after Time.
	Expiration time.Time
}

// DefaultSealHeaders returns the fields an ARC-Message-Signature signs
// when SealOptions.Headers is nil, those present in the message.
func DefaultSealHeaders() []string {
	return []string{
		"from", "sender", "reply-to", "subject", "date", "message-id", "to", "cc",
		"in-reply-to", "references", "mime-version", "content-type",
		"content-transfer-encoding", "list-id", "list-post", "list-unsubscribe",
		"dkim-signature",
	}
}

// Seal adds an ARC set to a message (RFC 8617 §5.1): it returns the
// ARC-Seal, ARC-Message-Signature and ARC-Authentication-Results fields,
// in that order, CRLF-terminated, to be put on top of the header h. body is
// the message body; Seal reads it to the end.
//
// A message whose newest seal already says cv=fail is not sealed again
// (RFC 8617 §5.1 step 2): the error wraps ErrChainFailed. A chain of 50
// sets cannot grow (ErrTooManySets).
func Seal(h *message.Header, body io.Reader, opts SealOptions) ([]byte, error) {
	if _, err := dkim.KeyName(opts.Selector, opts.Domain); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSealOptions, err)
	}
	if opts.Signer == nil {
		return nil, fmt.Errorf("%w: no signer", ErrSealOptions)
	}
	if strings.TrimSpace(opts.AuthServID) == "" || strings.ContainsAny(opts.AuthServID, "; \t\r\n()") {
		return nil, fmt.Errorf("%w: authserv-id %q", ErrSealOptions, opts.AuthServID)
	}
	var algo string
	switch opts.Signer.Public().(type) {
	case *rsa.PublicKey:
		algo = "rsa-sha256"
	case ed25519.PublicKey:
		algo = "ed25519-sha256"
	default:
		return nil, fmt.Errorf("%w: key type %T", ErrSealOptions, opts.Signer.Public())
	}
	canon := opts.Canonicalization
	if canon == "" {
		canon = "relaxed/relaxed"
	}
	hc, bc, err := dkim.ParseCanonicalization(canon)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSealOptions, err)
	}

	// The chain so far.
	fields, tooMany := collectARC(h, 3*DefaultMaxSets)
	if tooMany {
		return nil, fmt.Errorf("%w: more than %d sets", ErrTooManySets, DefaultMaxSets)
	}
	n := 0
	for _, f := range fields {
		n = max(n, f.instance)
	}
	for _, f := range fields {
		if f.key == keyAS && f.instance == n && f.err == nil {
			if cv, _ := f.tags.Get("cv"); strings.EqualFold(cv, string(Fail)) {
				return nil, fmt.Errorf("%w: ARC-Seal i=%d says cv=fail; RFC 8617 §5.1 step 2 stops here", ErrChainFailed, n)
			}
		}
	}
	i := n + 1
	if i > DefaultMaxSets {
		return nil, fmt.Errorf("%w: the chain has %d sets", ErrTooManySets, n)
	}
	cv := opts.ChainStatus
	switch {
	case cv == "":
		cv = None
		fallthrough
	case cv == None:
		if n > 0 {
			return nil, fmt.Errorf("%w: chain status none for a message with %d ARC sets", ErrSealOptions, n)
		}
	case cv == Pass:
		if n == 0 {
			return nil, fmt.Errorf("%w: chain status pass for a message without ARC sets", ErrSealOptions)
		}
	case cv == Fail:
	default:
		return nil, fmt.Errorf("%w: chain status %q", ErrSealOptions, cv)
	}
	// RFC 8617 §5.1.1: the seal covers every earlier set, in order; with
	// cv=fail only the new one (§5.1.2).
	var prior [][]byte
	if cv != Fail {
		sets := make([][3][]byte, n)
		for _, f := range fields {
			if f.err != nil || f.instance < 1 || f.instance > n {
				return nil, fmt.Errorf("%w: %s unreadable; validate the chain (cv=fail) before sealing", ErrStructure, f.field.Name)
			}
			k := map[string]int{keyAAR: 0, keyAMS: 1, keyAS: 2}[f.key]
			if sets[f.instance-1][k] != nil {
				return nil, fmt.Errorf("%w: two %s with i=%d", ErrStructure, f.field.Name, f.instance)
			}
			sets[f.instance-1][k] = f.field.Raw
		}
		for j, s := range sets {
			if s[0] == nil || s[1] == nil || s[2] == nil {
				return nil, fmt.Errorf("%w: set i=%d incomplete", ErrStructure, j+1)
			}
			prior = append(prior, s[0], s[1], s[2])
		}
	}

	// ARC-Authentication-Results (RFC 8617 §4.1.1).
	results := opts.AuthResults
	if results == nil {
		for _, f := range h.Get("authentication-results") {
			id, items := arfield.Items(f.Value())
			if strings.EqualFold(id, opts.AuthServID) {
				results = append(results, items...)
			}
		}
	}
	if len(results) == 0 {
		results = []string{"none"} // RFC 8601 §2.2: no results
	}
	aar := foldAAR(i, opts.AuthServID, results)

	// ARC-Message-Signature (RFC 8617 §4.1.2).
	names := opts.Headers
	if names == nil {
		for _, name := range DefaultSealHeaders() {
			c := h.Count(name)
			if name == "from" && c == 0 {
				c = 1
			}
			for k := 0; k < c; k++ {
				names = append(names, name)
			}
		}
	}
	for k, name := range names {
		name = strings.ToLower(strings.TrimSpace(name))
		if name == "" || strings.ContainsAny(name, ": \t\r\n") {
			return nil, fmt.Errorf("%w: header name %q", ErrSealOptions, name)
		}
		switch name {
		case keyAAR, keyAMS, keyAS, "authentication-results":
			return nil, fmt.Errorf("%w: an ARC-Message-Signature may not sign %s (RFC 8617 §4.1.2)", ErrSealOptions, name)
		}
		names[k] = name
	}
	bh := dkim.NewBodyHasher(bc, crypto.SHA256, -1)
	if _, err := io.Copy(bh, body); err != nil {
		return nil, fmt.Errorf("arc: reading body: %w", err)
	}
	ts := ""
	if !opts.Time.IsZero() {
		ts = strconv.FormatInt(opts.Time.Unix(), 10)
	}
	d, s := strings.ToLower(opts.Domain), opts.Selector
	amsTags := [][2]string{{"a", algo}, {"b", ""}, {"bh", base64.StdEncoding.EncodeToString(bh.Sum())},
		{"c", string(hc) + "/" + string(bc)}, {"d", d}, {"h", strings.Join(names, ":")},
		{"i", strconv.Itoa(i)}, {"s", s}}
	if ts != "" {
		amsTags = append(amsTags, [2]string{"t", ts})
	}
	if !opts.Expiration.IsZero() {
		if !opts.Time.IsZero() && !opts.Expiration.After(opts.Time) {
			return nil, fmt.Errorf("%w: expiration not after time", ErrSealOptions)
		}
		amsTags = append(amsTags, [2]string{"x", strconv.FormatInt(opts.Expiration.Unix(), 10)})
	}
	amsPre := foldSig("ARC-Message-Signature", amsTags, "")
	hh := crypto.SHA256.New()
	for _, f := range dkim.SelectHeaders(h, names) {
		hh.Write(dkim.CanonicalHeader(hc, f.Raw))
	}
	hh.Write(bytes.TrimSuffix(dkim.CanonicalHeader(hc, []byte(amsPre)), []byte("\r\n")))
	amsSig, err := signDigest(opts.Signer, hh.Sum(nil))
	if err != nil {
		return nil, err
	}
	ams := foldSig("ARC-Message-Signature", amsTags, amsSig)

	// ARC-Seal (RFC 8617 §4.1.3, §5.1.1).
	asTags := [][2]string{{"a", algo}, {"b", ""}, {"cv", string(cv)}, {"d", d}, {"i", strconv.Itoa(i)}, {"s", s}}
	if ts != "" {
		asTags = append(asTags, [2]string{"t", ts})
	}
	asPre := foldSig("ARC-Seal", asTags, "")
	parts := append(prior, []byte(aar), []byte(ams), []byte(asPre))
	sealSig, err := signDigest(opts.Signer, sealDigest(&arcSig{hash: crypto.SHA256}, parts))
	if err != nil {
		return nil, err
	}
	as := foldSig("ARC-Seal", asTags, sealSig)
	return []byte(as + ams + aar), nil
}

// signDigest signs a SHA-256 digest: PKCS #1 v1.5 for RSA (RFC 6376
// §3.3.1), Ed25519 over the digest itself for ed25519-sha256 (RFC 8463 §3).
func signDigest(k crypto.Signer, digest []byte) (string, error) {
	var opt crypto.SignerOpts = crypto.SHA256
	if _, ok := k.Public().(ed25519.PublicKey); ok {
		opt = crypto.Hash(0)
	}
	sig, err := k.Sign(rand.Reader, digest, opt)
	if err != nil {
		return "", fmt.Errorf("arc: signing: %w", err)
	}
	return base64.StdEncoding.EncodeToString(sig), nil
}

// lineWidth is where fields are folded (RFC 5322 §2.1.1 recommends 78).
const lineWidth = 78

// foldSig writes a signature field with its tags in order, folded at tag
// boundaries (and h= at colons). b= always starts a line and ends its
// line, unfolded, so that the field with b= emptied (the signed form) is the field
// with the value removed, byte for byte, whatever the value's length
// (RFC 6376 §3.7), under simple as under relaxed canonicalization.
func foldSig(name string, tags [][2]string, b string) string {
	var out strings.Builder
	line := name + ":"
	flush := func() {
		out.WriteString(line)
		out.WriteString("\r\n")
		line = "\t"
	}
	add := func(text string) {
		switch {
		case line == "\t":
			line += text
		case len(line)+1+len(text) > lineWidth:
			flush()
			line += text
		default:
			line += " " + text
		}
	}
	for k, t := range tags {
		last := k == len(tags)-1
		sep := ";"
		if last {
			sep = ""
		}
		switch t[0] {
		case "b":
			if line != "\t" {
				flush()
			}
			// The value is not folded: relaxed canonicalization would turn
			// a fold into a space inside the value, which later seals sign
			// (harmless, but it differs from the usual unfolded form). A
			// 4096-bit signature still fits the 998-octet line limit.
			line += "b=" + b
			line += sep
			if !last {
				flush()
			}
		case "h":
			// h= may fold around its colons (RFC 6376 §3.5).
			elems := strings.Split(t[1], ":")
			if len(elems) == 1 {
				add("h=" + elems[0] + sep)
				continue
			}
			add("h=" + elems[0])
			for j, e := range elems[1:] {
				if j == len(elems)-2 {
					e += sep
				}
				if len(line)+1+len(e) > lineWidth {
					line += ":"
					flush()
					line += e
				} else {
					line += ":" + e
				}
			}
		default:
			add(t[0] + "=" + t[1] + sep)
		}
	}
	out.WriteString(line)
	out.WriteString("\r\n")
	return out.String()
}

// foldAAR writes an ARC-Authentication-Results field, one result a line.
func foldAAR(instance int, authServID string, results []string) string {
	var out strings.Builder
	fmt.Fprintf(&out, "ARC-Authentication-Results: i=%d; %s", instance, authServID)
	for _, r := range results {
		out.WriteString(";\r\n\t")
		out.WriteString(r)
	}
	out.WriteString("\r\n")
	return out.String()
}
