package dkim

import (
	"bytes"
	"crypto"
	"fmt"
	"hash"
	"math"
	"strings"

	"github.com/mailtrust/mailtrust/message"
)

// Canonicalization is a header or body canonicalization algorithm
// (RFC 6376 §3.4).
type Canonicalization string

// The canonicalization algorithms of RFC 6376 §3.4.
const (
	Simple  Canonicalization = "simple"
	Relaxed Canonicalization = "relaxed"
)

// ParseCanonicalization parses the value of a c= tag (RFC 6376 §3.5):
// "header/body", or "header" alone, in which case the body algorithm is
// simple. An empty value (c= absent) is simple/simple. Names are compared
// case-insensitively; an unknown name is an error wrapping ErrUnsupported.
func ParseCanonicalization(c string) (header, body Canonicalization, err error) {
	if c == "" {
		return Simple, Simple, nil
	}
	h, b, hasBody := strings.Cut(c, "/")
	header, err = canonName(h)
	if err != nil {
		return "", "", err
	}
	body = Simple
	if hasBody {
		if body, err = canonName(b); err != nil {
			return "", "", err
		}
	}
	return header, body, nil
}

func canonName(s string) (Canonicalization, error) {
	switch strings.ToLower(s) {
	case "simple":
		return Simple, nil
	case "relaxed":
		return Relaxed, nil
	}
	return "", fmt.Errorf("%w: canonicalization %q", ErrUnsupported, s)
}

// CanonicalHeader returns the header field raw canonicalized with c
// (RFC 6376 §3.4.1, §3.4.2). raw is a whole field as message.Field.Raw
// holds it: name, colon, value, folded lines, CRLF-terminated. The result
// ends with CRLF. With Simple the result is raw itself (not a copy); an
// unknown c is treated as Simple.
func CanonicalHeader(c Canonicalization, raw []byte) []byte {
	if c != Relaxed {
		return raw
	}
	return appendRelaxedHeader(make([]byte, 0, len(raw)), raw)
}

// appendRelaxedHeader appends the relaxed form of raw to dst
// (RFC 6376 §3.4.2): field name in lower case, no WSP around the colon,
// lines unfolded, WSP runs reduced to one SP, WSP at the ends of the value
// removed, CRLF appended.
func appendRelaxedHeader(dst, raw []byte) []byte {
	colon := -1
	for i, c := range raw {
		if c == ':' {
			colon = i
			break
		}
	}
	name, value := raw, []byte(nil)
	if colon >= 0 {
		name, value = raw[:colon], raw[colon+1:]
	}
	// The name: lower case, WSP before the colon removed (the obsolete
	// "Name :" syntax, RFC 5322 §4.5.3).
	for len(name) > 0 && (name[len(name)-1] == ' ' || name[len(name)-1] == '\t') {
		name = name[:len(name)-1]
	}
	for _, c := range name {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	dst = append(dst, ':')
	start := len(dst)
	space := false
	for i := 0; i < len(value); i++ {
		c := value[i]
		switch {
		case c == '\r' && i+1 < len(value) && value[i+1] == '\n':
			// Unfolding removes the CRLF; the WSP after it stays and
			// counts as WSP.
			i++
		case c == '\n':
			// A bare LF is read as CRLF, as everywhere else here.
		case c == ' ' || c == '\t':
			space = true
		default:
			if space && len(dst) > start {
				dst = append(dst, ' ')
			}
			space = false
			dst = append(dst, c)
		}
	}
	return append(dst, '\r', '\n')
}

// StripSignatureValue returns a copy of raw, a whole DKIM-Signature (or
// ARC-Message-Signature, ARC-Seal) header field, with the value of its b=
// tag removed together with the whitespace around it (RFC 6376 §3.7: "with
// the value of the "b=" tag (including all surrounding whitespace)
// deleted"). Everything else, including "b=" itself, folding elsewhere and
// the final CRLF, is kept byte for byte. A field without b= is returned
// unchanged.
func StripSignatureValue(raw []byte) []byte {
	out := make([]byte, 0, len(raw))
	colon := -1
	for i, c := range raw {
		if c == ':' {
			colon = i
			break
		}
	}
	if colon < 0 {
		return append(out, raw...)
	}
	end := len(raw)
	if end-colon > 2 && raw[end-2] == '\r' && raw[end-1] == '\n' {
		end -= 2 // the CRLF that ends the field is not part of the value
	}
	out = append(out, raw[:colon+1]...)
	pos := colon + 1
	for pos <= end {
		semi := pos
		for semi < end && raw[semi] != ';' {
			semi++
		}
		spec := raw[pos:semi]
		eq := -1
		for i, c := range spec {
			if c == '=' {
				eq = i
				break
			}
		}
		if eq >= 0 && trimFWS(string(spec[:eq])) == "b" {
			out = append(out, spec[:eq+1]...)
		} else {
			out = append(out, spec...)
		}
		if semi < end {
			out = append(out, ';')
		}
		pos = semi + 1
	}
	return append(out, raw[end:]...)
}

// SelectHeaders returns the header fields a signature's h= list signs, in
// h= order (RFC 6376 §5.4.2): for each name, compared case-insensitively,
// the next instance not yet taken, starting from the bottom of the header.
// A name with no instance left contributes nothing (RFC 6376 §3.5 h=:
// "nonexistent header fields do not contribute to the signature
// computation"), which is how oversigning protects against added fields.
// The fields point into h.
func SelectHeaders(h *message.Header, names []string) []*message.Field {
	if len(names)*len(h.Fields) > 4096 {
		return selectHeadersIndexed(h, names) // linear, whatever the input
	}
	// A small header and h= (the usual): a search from the bottom per
	// name costs less than the index. The fields taken so far: a bit set
	// on the stack, a slice beyond 256 fields.
	var small [4]uint64
	var large []bool
	if len(h.Fields) > 64*len(small) {
		large = make([]bool, len(h.Fields))
	}
	taken := func(i int) bool {
		if large != nil {
			return large[i]
		}
		return small[i/64]&(1<<(i%64)) != 0
	}
	take := func(i int) {
		if large != nil {
			large[i] = true
		} else {
			small[i/64] |= 1 << (i % 64)
		}
	}
	out := make([]*message.Field, 0, len(names))
	for _, n := range names {
		k := trimFWS(n)
		for i := len(h.Fields) - 1; i >= 0; i-- {
			if !taken(i) && strings.EqualFold(h.Fields[i].Key, k) {
				take(i)
				out = append(out, &h.Fields[i])
				break
			}
		}
	}
	return out
}

// selectHeadersIndexed is SelectHeaders through an index of the positions
// of each asked name.
func selectHeadersIndexed(h *message.Header, names []string) []*message.Field {
	// Positions of each asked name, top to bottom; taken from the end.
	pos := make(map[string][]int, len(names))
	for _, n := range names {
		pos[strings.ToLower(trimFWS(n))] = nil
	}
	for i := range h.Fields {
		if p, ok := pos[h.Fields[i].Key]; ok {
			pos[h.Fields[i].Key] = append(p, i)
		}
	}
	out := make([]*message.Field, 0, len(names))
	for _, n := range names {
		k := strings.ToLower(trimFWS(n))
		p := pos[k]
		if len(p) == 0 {
			continue
		}
		out = append(out, &h.Fields[p[len(p)-1]])
		pos[k] = p[:len(p)-1]
	}
	return out
}

// bodyBufSize is the size of the buffer that gathers canonical body octets
// before they are hashed, so that short runs (words, in relaxed) do not
// each cost a hash call.
const bodyBufSize = 4096

// crlfRun is 64 CRLFs.
const crlfRun = "\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n" +
	"\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n" +
	"\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n" +
	"\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n"

// BodyHasher canonicalizes a message body as it is written and hashes it
// (RFC 6376 §3.4.3, §3.4.4, §3.7), in constant memory. Line endings may be
// CRLF or a bare LF, which is read as CRLF (RFC 6376 §5.3 lets a verifier
// convert a message to the network form); a bare CR is an ordinary octet.
//
// A BodyHasher is not safe for concurrent use.
type BodyHasher struct {
	h   hash.Hash
	alg crypto.Hash // what h computes
	bodyState

	buf     [bodyBufSize]byte // octets 0 to n: canonical, not yet hashed
	crlfs64 [128]byte         // 64 CRLFs to emit withheld line ends from
}

// bodyState is what a BodyHasher knows of the body written so far: a
// reused hasher (BodyHashers.Reset) starts again from a zero bodyState
// and a reset h.
type bodyState struct {
	relaxed bool
	limit   int64 // octets to hash, < 0: all (no l=)
	hashed  int64 // octets given to h
	total   int64 // canonical octets, hashed or not

	crlfs    int64 // line ends withheld: they may be trailing empty lines
	cr       bool  // the last octet written was a CR, maybe half a CRLF
	wsp      bool  // relaxed: WSP withheld inside the current line
	lineOpen bool  // the current line has canonical content
	emitted  bool  // some canonical content was produced
	sum      []byte

	n int // octets of buf in use

	cut   error // why the body stopped before its end (Cut)
	keep  bool  // asked for through BodyHashers.Hasher: hashed to the end
	users int   // DKIM signatures of the set that use it
	drops int   // of those, the ones whose key failed
}

// NewBodyHasher returns a BodyHasher for canonicalization c (Simple for
// anything but Relaxed) and hash h, which must be available (crypto.SHA256
// or crypto.SHA1). limit is the l= value: only the first limit octets of the
// canonical body are hashed; limit < 0 means no l= (the whole body).
func NewBodyHasher(c Canonicalization, h crypto.Hash, limit int64) *BodyHasher {
	b := &BodyHasher{h: h.New(), alg: h, bodyState: bodyState{relaxed: c == Relaxed, limit: limit}}
	copy(b.crlfs64[:], crlfRun)
	return b
}

// reuse makes b a new hasher for canonicalization c and limit, of the hash
// it was made for: nothing of the body it hashed before remains (sum is
// dropped, not overwritten, so a result that kept it stays intact).
func (b *BodyHasher) reuse(c Canonicalization, limit int64) {
	b.h.Reset()
	b.bodyState = bodyState{relaxed: c == Relaxed, limit: limit}
}

// Write canonicalizes and hashes p. It never fails; after Sum it does
// nothing.
func (b *BodyHasher) Write(p []byte) (int, error) {
	n := len(p)
	if b.sum != nil || b.cut != nil || b.idle() {
		return n, nil
	}
	if b.cr && len(p) > 0 {
		b.cr = false
		if p[0] == '\n' {
			b.lineEnd()
			p = p[1:]
		} else {
			b.content(b.crlfs64[:1]) // a lone CR
		}
	}
	ws := wspIndex{tab: -1, spaces: -1}
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			if p[len(p)-1] == '\r' {
				b.cr = true
				p = p[:len(p)-1]
			}
			b.content(p)
			break
		}
		if !b.lineOpen && !b.wsp && b.plain(p, i, &ws) {
			// At a line start (b.cr is false here), and the line is one
			// the canonicalization leaves alone: so may the next ones be.
			k := b.plainRun(p, i, &ws)
			ws.consumed(k)
			p = p[k:]
			continue
		}
		line := p[:i]
		if i > 0 && p[i-1] == '\r' {
			line = p[:i-1]
		}
		b.content(line)
		b.lineEnd()
		ws.consumed(i + 1)
		p = p[i+1:]
	}
	return n, nil
}

// wspIndex remembers where the next HTAB and the next run of two SP are in
// the rest of one Write's input, so that finding them costs one vectorized
// search per occurrence, not one per line. Offsets are from the start of
// the rest; a negative one is to be searched again, noWSP means none.
type wspIndex struct {
	tab, spaces int
}

const noWSP = math.MaxInt

// consumed moves the start of the rest k octets on.
func (w *wspIndex) consumed(k int) {
	w.tab -= k
	w.spaces -= k
}

// clear reports whether p[:e], the rest up to e, holds no HTAB and no two
// SP in a row.
func (w *wspIndex) clear(p []byte, e int) bool {
	if w.tab < 0 {
		if w.tab = bytes.IndexByte(p, '\t'); w.tab < 0 {
			w.tab = noWSP
		}
	}
	if w.tab < e {
		return false
	}
	if w.spaces < 0 {
		if w.spaces = bytes.Index(p, []byte("  ")); w.spaces < 0 {
			w.spaces = noWSP
		}
	}
	return w.spaces >= e
}

// plain reports whether the line p[:e+1], starting at offset 0 of the rest
// and ending with the LF at e, is one the canonicalization does not
// change: it has content and ends in CRLF, and in relaxed it has no HTAB,
// no two SP in a row and no WSP before its CRLF (RFC 6376 §3.4.4). A bare
// CR is an ordinary octet in both algorithms.
func (b *BodyHasher) plain(p []byte, e int, ws *wspIndex) bool {
	if e < 2 || p[e-1] != '\r' {
		return false
	}
	if b.relaxed {
		if c := p[e-2]; c == ' ' || c == '\t' {
			return false
		}
		return ws.clear(p, e)
	}
	return true
}

// plainRun hashes as one piece the run of plain lines at the start of p,
// the first of which ends with the LF at e, and returns the octets it
// took. The run's last CRLF is withheld like any line end, so that
// trailing empty lines are still dropped.
func (b *BodyHasher) plainRun(p []byte, e int, ws *wspIndex) int {
	end, i := e-1, e+1
	for {
		j := bytes.IndexByte(p[i:], '\n')
		if j < 0 {
			break
		}
		// The line is judged from the rest as plain sees it.
		rest := p[i:]
		ws.consumed(i)
		ok := b.plain(rest, j, ws)
		ws.consumed(-i)
		if !ok {
			break
		}
		end, i = i+j-1, i+j+1
	}
	b.flushCRLFs()
	b.emit(p[:end])
	b.crlfs, b.lineOpen, b.emitted = 1, false, true
	return i
}

// Sum ends the body and returns its hash: trailing empty lines are not
// hashed, a last line without CRLF gets one, and an empty body is a single
// CRLF in simple and nothing in relaxed (RFC 6376 §3.4.3, §3.4.4). Later
// calls return the same hash.
func (b *BodyHasher) Sum() []byte {
	if b.sum != nil {
		return b.sum
	}
	if b.cut != nil {
		// A body cut short has no end to canonicalize: its hash is of
		// no use (Err says why), only final.
		b.sum = b.h.Sum(nil)
		return b.sum
	}
	if b.cr {
		b.cr = false
		b.content(b.crlfs64[:1]) // a lone CR
	}
	switch {
	case b.lineOpen || b.emitted:
		// The last non-empty line's CRLF (or one added to an unterminated
		// last line); the empty lines after it are dropped.
		b.crlfs = 1
		b.flushCRLFs()
	case !b.relaxed:
		b.crlfs = 1 // RFC 6376 §3.4.3: an empty body is one CRLF
		b.flushCRLFs()
	}
	b.flushBuf()
	b.sum = b.h.Sum(nil)
	return b.sum
}

// Cut ends the body before its end: nothing more is hashed, and Err
// reports err from now on, unless the hash needs no more octets (an l=
// already reached: the cut is then ignored). The first cut is kept.
func (b *BodyHasher) Cut(err error) {
	if b.cut == nil && b.sum == nil && !(b.limit >= 0 && b.hashed >= b.limit) {
		b.cut = err
	}
}

// Err reports why the hash does not cover what it should: the error of
// Cut, when the body was cut before the hash had every octet it needs;
// nil otherwise.
func (b *BodyHasher) Err() error { return b.cut }

// idle reports whether every user of a shared hasher dropped it: nobody
// will read its hash, so hashing stops.
func (b *BodyHasher) idle() bool { return !b.keep && b.users > 0 && b.drops >= b.users }

// Length returns the number of octets of the canonical body written so far,
// including those beyond the limit; after Sum, the length of the whole
// canonical body. Length minus the limit is what l= leaves unsigned.
func (b *BodyHasher) Length() int64 { return b.total }

// content handles octets of one line, without its line ending.
func (b *BodyHasher) content(p []byte) {
	if len(p) == 0 {
		return
	}
	if !b.relaxed {
		b.flushCRLFs()
		b.emit(p)
		b.lineOpen = true
		return
	}
	// RFC 6376 §3.4.4: WSP runs become one SP, WSP at the end of a line
	// goes. A run is withheld until a non-WSP octet follows it.
	k := 0
	for k < len(p) && (p[k] == ' ' || p[k] == '\t') {
		k++
	}
	if k == len(p) {
		b.wsp = true
		return
	}
	b.flushCRLFs()
	b.lineOpen = true
	wsp := b.wsp || k > 0
	p = p[k:]
	for len(p) > 0 {
		// Canonicalize straight into the buffer: the output of a piece is
		// at most one octet longer than the piece.
		piece := p[:min(len(p), len(b.buf)/2)]
		p = p[len(piece):]
		if len(b.buf)-b.n < len(piece)+1 {
			b.flushBuf()
		}
		out := b.buf[b.n:]
		w := 0
		for _, c := range piece {
			if c == ' ' || c == '\t' {
				wsp = true
				continue
			}
			if wsp {
				out[w] = ' '
				w++
				wsp = false
			}
			out[w] = c
			w++
		}
		b.commit(w)
	}
	b.wsp = wsp
}

func (b *BodyHasher) lineEnd() {
	b.crlfs++
	b.wsp = false
	if b.lineOpen {
		b.emitted = true
	}
	b.lineOpen = false
}

// flushCRLFs emits the line ends withheld: they were not trailing.
func (b *BodyHasher) flushCRLFs() {
	for b.crlfs > 0 {
		k := min(b.crlfs, int64(len(b.crlfs64)/2))
		b.emit(b.crlfs64[:2*k])
		b.crlfs -= k
	}
}

// commit accounts for w octets written into the buffer at b.n: they are
// kept up to the limit and count in Length regardless.
func (b *BodyHasher) commit(w int) {
	b.total += int64(w)
	if b.limit >= 0 {
		w = int(max(0, min(int64(w), b.limit-b.hashed)))
	}
	b.hashed += int64(w)
	b.n += w
	if b.n == len(b.buf) {
		b.flushBuf()
	}
}

func (b *BodyHasher) flushBuf() {
	if b.n > 0 {
		b.h.Write(b.buf[:b.n])
		b.n = 0
	}
}

// emit hashes canonical octets, up to the limit.
func (b *BodyHasher) emit(p []byte) {
	b.total += int64(len(p))
	if b.limit >= 0 {
		room := b.limit - b.hashed
		if room <= 0 {
			return
		}
		if int64(len(p)) > room {
			p = p[:room]
		}
	}
	b.hashed += int64(len(p))
	if len(p) >= len(b.buf)/2 {
		// Long runs go to the hash as they are: copying them into the
		// buffer would cost more than the call it saves.
		b.flushBuf()
		b.h.Write(p)
		return
	}
	for len(p) > 0 {
		k := copy(b.buf[b.n:], p)
		b.n += k
		p = p[k:]
		if b.n == len(b.buf) {
			b.h.Write(b.buf[:])
			b.n = 0
		}
	}
}

// BodyHashers is the set of body hashers of one message, one per distinct
// (body canonicalization, hash, l=), which the verifiers of the message
// share (Options.BodyHashers, and ARC's): the body is then canonicalized
// and hashed once for every DKIM signature and ARC-Message-Signature that
// agree on the three. Get every hasher before the first Write. The zero
// value is ready; a BodyHashers is not safe for concurrent use.
type BodyHashers struct {
	keys      []hasherKey // a message has few: a list beats a map
	list      []*BodyHasher
	verifiers []*Verifier   // told before each Write to drop failed keys' hashers
	spare     []*BodyHasher // kept by Reset for the next message
}

// maxSpareHashers bounds the hashers Reset keeps: a message with many
// distinct (canonicalization, hash, l=) does not make the set hold them
// all for every message after it. Most messages need one or two.
const maxSpareHashers = 4

// Reset empties the set for the body of another message. The hashers it
// made (about 5 KiB each) are kept, up to a few, and reused, reset, when
// the next message asks for the same hash: a server evaluating many
// messages then allocates none. Call it only once every verifier given
// the set is done (Results returned); a hasher taken from the set before
// must not be used after.
func (s *BodyHashers) Reset() {
	for _, b := range s.list {
		if len(s.spare) < maxSpareHashers {
			s.spare = append(s.spare, b)
		}
	}
	clear(s.list)
	clear(s.verifiers)
	s.keys, s.list, s.verifiers = s.keys[:0], s.list[:0], s.verifiers[:0]
}

type hasherKey struct {
	c      Canonicalization
	h      crypto.Hash
	length int64
}

// Hasher returns the set's hasher for body canonicalization c (Simple for
// anything but Relaxed), hash h and limit (l=, < 0 for none), made on
// first use. A hasher asked for through Hasher is hashed to the end; the
// DKIM verifiers of the set stop hashing one that only signatures whose
// key failed still use.
func (s *BodyHashers) Hasher(c Canonicalization, h crypto.Hash, limit int64) *BodyHasher {
	b := s.get(c, h, limit)
	b.keep = true
	return b
}

// hasher is Hasher for a DKIM signature, which drops the hasher when its
// key fails (see BodyHasher.idle).
func (s *BodyHashers) hasher(c Canonicalization, h crypto.Hash, limit int64) *BodyHasher {
	b := s.get(c, h, limit)
	b.users++
	return b
}

func (s *BodyHashers) get(c Canonicalization, h crypto.Hash, limit int64) *BodyHasher {
	if c != Relaxed {
		c = Simple
	}
	k := hasherKey{c, h, max(limit, -1)}
	for i, have := range s.keys {
		if have == k {
			return s.list[i]
		}
	}
	var b *BodyHasher
	for i, sp := range s.spare {
		if sp.alg == h {
			b = sp
			last := len(s.spare) - 1
			s.spare[i], s.spare[last] = s.spare[last], nil
			s.spare = s.spare[:last]
			b.reuse(c, limit)
			break
		}
	}
	if b == nil {
		b = NewBodyHasher(c, h, limit)
	}
	s.keys = append(s.keys, k)
	s.list = append(s.list, b)
	return b
}

// Len returns the number of distinct hashers in the set.
func (s *BodyHashers) Len() int { return len(s.list) }

// Write streams body octets to every hasher of the set. It never fails.
// Before each write it lets the set's DKIM verifiers drop the hashers of
// signatures whose key failed.
func (s *BodyHashers) Write(p []byte) (int, error) {
	for _, v := range s.verifiers {
		v.prune()
	}
	for _, b := range s.list {
		_, _ = b.Write(p)
	}
	return len(p), nil
}

// Cut ends the body of every hasher of the set before its end (see
// BodyHasher.Cut): at a size limit, or when the deadline came.
func (s *BodyHashers) Cut(err error) {
	for _, b := range s.list {
		b.Cut(err)
	}
}

// WriteScan is s.Write(p) and scan.Write(p) in one pass over the lines of
// p: the runs of whole CRLF lines the scanner takes
// (message.SmugglingScanner.WriteLines) need no search for line ends or
// bare CRs by the hashers, only for what relaxed canonicalization changes
// (HTAB, two SP in a row, SP before CRLF); the other lines go to both
// Writes.
func (s *BodyHashers) WriteScan(p []byte, scan *message.SmugglingScanner) {
	for len(p) > 0 {
		if k, wspEnd := scan.WriteLines(p); k > 0 {
			for _, b := range s.list {
				b.writeLines(p[:k], wspEnd)
			}
			p = p[k:]
			if len(p) == 0 {
				return
			}
		}
		end := len(p)
		if j := bytes.IndexByte(p, '\n'); j >= 0 {
			end = j + 1
		}
		_, _ = scan.Write(p[:end])
		for _, b := range s.list {
			_, _ = b.Write(p[:end])
		}
		p = p[end:]
	}
}

// writeLines is Write for run, which ends the line in progress, if any,
// and holds whole lines after it, each ended by CRLF, with no other CR or
// LF; wspEnd is the offset of the first line starting in run that ends
// with SP or HTAB before its CRLF, or -1.
func (b *BodyHasher) writeLines(run []byte, wspEnd int) {
	if b.sum != nil {
		return
	}
	first := 0
	if b.cr || b.lineOpen || b.wsp {
		// The rest of the line in progress.
		first = bytes.IndexByte(run, '\n') + 1
		_, _ = b.Write(run[:first])
	}
	run = run[first:]
	if !b.relaxed {
		b.lines(run) // RFC 6376 §3.4.3: CRLF lines are their own canonical form
		return
	}
	// RFC 6376 §3.4.4: the lines before the first HTAB, two SP in a row or
	// WSP before a CRLF are their own canonical form; from the line that
	// holds it on, Write canonicalizes (and finds plain lines on its own).
	q := len(run)
	if wspEnd >= first {
		q = wspEnd - first
	}
	if i := bytes.IndexByte(run[:q], '\t'); i >= 0 {
		q = i
	}
	if i := bytes.Index(run[:q], []byte("  ")); i >= 0 {
		q = i
	}
	ls := bytes.LastIndexByte(run[:q], '\n') + 1 // the start of q's line
	b.lines(run[:ls])
	if ls < len(run) {
		_, _ = b.Write(run[ls:])
	}
}

// lines hashes run, whole lines ended by CRLF that canonicalization leaves
// as they are, at a line start: all but the trailing empty lines, which
// are withheld.
func (b *BodyHasher) lines(run []byte) {
	e, m := len(run), int64(0)
	for e >= 2 && (e == 2 || run[e-3] == '\n') {
		e, m = e-2, m+1
	}
	if e == 0 {
		b.crlfs += m
		return
	}
	b.flushCRLFs()
	b.emit(run[:e-2])
	b.crlfs, b.lineOpen, b.wsp, b.emitted = 1+m, false, false, true
}
