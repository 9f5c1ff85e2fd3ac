package message

import "bytes"

// Smuggling is what SmugglingScanner found in a message body.
//
// SMTP smuggling (SEC Consult, December 2023) hides a second message in
// the body of a first one behind an end-of-data sequence that the sending
// server does not take for one and a receiving server does: "." on a line
// of its own, with a bare LF or a bare CR as one of its line breaks
// instead of CRLF (RFC 5321 §4.1.1.4 allows only CRLF "." CRLF; §2.3.8
// forbids bare CR and LF). Whatever server sits behind the first hop may
// then deliver the hidden message as authenticated by the first one's
// SPF and DKIM. Postfix's smtpd_forbid_bare_newline refuses such input
// for the same reason.
type Smuggling struct {
	// Sequences counts the lines holding only "." whose line break before
	// or after is a bare LF or a bare CR: "\n.\n", "\n.\r\n", "\r\n.\n",
	// "\r.\r", "\r.\r\n", "\r\n.\r", "\n.\r" and so on. "\n.\n" counts only
	// when the body also holds a CR; see LFDotLines.
	Sequences int
	// First is the body offset of the line break that starts the first of
	// Sequences, or -1.
	First int64
	// MixedEndings reports a body with more than one kind of line break
	// (CRLF, bare LF, bare CR). A body stored with LF only is consistent,
	// not mixed.
	MixedEndings bool
	// CRLF, BareLF and BareCR count the line breaks of each kind.
	CRLF, BareLF, BareCR int64
	// DotLines counts CRLF "." CRLF: a line holding only "." after
	// dot-unstuffing (RFC 5321 §4.5.2), legitimate in a received body and
	// not a smuggling sequence.
	DotLines int
	// LFDotLines counts "\n.\n" in a body without any CR: a "." line of a
	// message stored with LF line breaks, benign.
	LFDotLines int
}

// breakKind is the kind of a line break.
type breakKind uint8

const (
	brkStart breakKind = iota // the start of the body
	brkCRLF
	brkLF
	brkCR
)

// lineState is where the scanner is within a line.
type lineState uint8

const (
	atLineStart lineState = iota // right after a line break (or body start)
	afterDot                     // a line start, then "."
	midLine                      // anything else
)

// SmugglingScanner is an io.Writer that scans a message body, written in
// chunks of any size, for SMTP smuggling sequences and line-break
// anomalies. Sequences may straddle Write calls. Its zero value is ready
// for the first octet of a body (the octet after the header's empty
// line). Write never fails and does not allocate. It is not safe for
// concurrent use.
type SmugglingScanner struct {
	off       int64 // body offset of the next octet
	pendingCR bool  // the last octet was a CR not yet known bare or CRLF
	crOff     int64
	state     lineState
	lineKind  breakKind // the break before the current line
	lineOff   int64     // its offset

	crlf, lf, cr int64
	seq, lfDot   int
	seqFirst     int64 // offset+1 of the first, 0 for none
	lfDotFirst   int64 // offset+1
	dotLines     int
}

// Write scans p. It always returns len(p), nil.
//
// Runs of whole CRLF lines go through WriteLines; a line it does not take
// (a "." line, a bare LF or CR, the end of a chunk) goes through the
// octet-wise scan, and WriteLines resumes after it.
func (s *SmugglingScanner) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		k, _ := s.WriteLines(p)
		p = p[k:]
		if len(p) == 0 {
			break
		}
		end := len(p)
		if j := bytes.IndexByte(p, '\n'); j >= 0 {
			end = j + 1
		}
		s.scan(p[:end])
		p = p[end:]
	}
	return n, nil
}

// WriteLines scans the run of whole lines at the start of p that end with
// CRLF, hold no other CR or LF and do not start with "." (nor does the
// line after them), and returns its length n. Such a run changes nothing
// but the CRLF count, so it is scanned with one bytes.IndexByte per line.
// The caller writes the rest of p with Write. A caller that canonicalizes
// the body too (dkim.BodyHashers.WriteScan) takes from the run that every
// line in it ends with CRLF and holds no other CR or LF, and from wspEnd a
// fact the walk finds for free: the offset of the first line of the run
// that starts in p and whose last octet before the CRLF is SP or HTAB
// (relaxed canonicalization removes it, RFC 6376 §3.4.4), or -1.
func (s *SmugglingScanner) WriteLines(p []byte) (n, wspEnd int) {
	if s.pendingCR || s.state == afterDot {
		return 0, -1
	}
	i, lines, last := 0, int64(0), 0
	wspEnd = -1
	// The CRs of each block of lines are counted at once: one that is not
	// the line's CRLF makes the count differ, and the block is then
	// walked again line by line to the first such line.
	const block = 16
	blockStart, blockLines, blockLast := 0, int64(0), 0 // blockLast: the last CR before the block
	mid := s.state == midLine
	for i < len(p) {
		if !mid {
			switch p[i] {
			case '.', '\n':
				goto done
			case '\r':
				if i+1 < len(p) && p[i+1] == '\n' { // an empty line
					lines, blockLines, last, i = lines+1, blockLines+1, i, i+2
					goto next
				}
				goto done
			}
		}
		{
			j := bytes.IndexByte(p[i:], '\n')
			if j < 1 || p[i+j-1] != '\r' {
				break
			}
			if wspEnd < 0 && !mid && j >= 2 && (p[i+j-2] == ' ' || p[i+j-2] == '\t') {
				wspEnd = i
			}
			lines, blockLines, last, i, mid = lines+1, blockLines+1, i+j-1, i+j+1, false
		}
	next:
		if blockLines == block {
			if !s.crOnlyInCRLF(p, blockStart, i, blockLines) {
				i, lines, last = s.walkBack(p, blockStart, lines-blockLines, blockLast)
				goto commit
			}
			blockStart, blockLines, blockLast = i, 0, last
		}
	}
done:
	if blockLines > 0 && !s.crOnlyInCRLF(p, blockStart, i, blockLines) {
		i, lines, last = s.walkBack(p, blockStart, lines-blockLines, blockLast)
	}
commit:
	if lines == 0 {
		return 0, -1
	}
	if wspEnd >= i {
		wspEnd = -1 // beyond the run walkBack kept
	}
	s.crlf += lines
	s.state, s.lineKind, s.lineOff = atLineStart, brkCRLF, s.off+int64(last)
	s.off += int64(i)
	return i, wspEnd
}

// crOnlyInCRLF reports whether p[from:to], lines lines ended by CRLF,
// holds no other CR.
func (s *SmugglingScanner) crOnlyInCRLF(p []byte, from, to int, lines int64) bool {
	return int64(bytes.Count(p[from:to], []byte{'\r'})) == lines
}

// walkBack walks the lines from offset from again, lines already taken
// before it and last the offset of their last CR, and stops at the first
// line that holds a CR before its CRLF. It returns where that line starts,
// the lines taken and the offset of the last CR taken.
func (s *SmugglingScanner) walkBack(p []byte, from int, lines int64, last int) (int, int64, int) {
	i := from
	for {
		j := bytes.IndexByte(p[i:], '\n')
		if bytes.IndexByte(p[i:i+j], '\r') != j-1 {
			return i, lines, last
		}
		lines, last, i = lines+1, i+j-1, i+j+1
	}
}

// scan is the octet-wise scan of p. It looks only at line ends, found
// with bytes.IndexByte; the octet-by-octet path runs at line starts, near
// a CR that is not part of a CRLF, and across chunk boundaries.
func (s *SmugglingScanner) scan(p []byte) {
	base := s.off
	n := len(p)
	for i := 0; i < n; {
		if s.pendingCR || s.state != midLine {
			s.step(p[i], base+int64(i))
			i++
			continue
		}
		// Mid-line, and the octet before i is no pending CR.
		j := bytes.IndexByte(p[i:], '\n')
		if j < 0 {
			k := bytes.IndexByte(p[i:], '\r')
			if k < 0 {
				break
			}
			for i += k; i < n; i++ {
				s.step(p[i], base+int64(i))
			}
			break
		}
		k := bytes.IndexByte(p[i:i+j], '\r')
		switch {
		case k < 0:
			s.lineBreak(brkLF, base+int64(i+j))
			i += j + 1
		case k == j-1:
			s.lineBreak(brkCRLF, base+int64(i+j-1))
			i += j + 1
		default: // a bare CR inside the line
			end := i + j
			for i += k; i <= end; i++ {
				s.step(p[i], base+int64(i))
			}
		}
	}
	s.off = base + int64(n)
}

// step advances the scanner by one octet c at offset off.
func (s *SmugglingScanner) step(c byte, off int64) {
	if s.pendingCR {
		s.pendingCR = false
		if c == '\n' {
			s.lineBreak(brkCRLF, s.crOff)
			return
		}
		s.lineBreak(brkCR, s.crOff)
	}
	switch c {
	case '\r':
		s.pendingCR, s.crOff = true, off
	case '\n':
		s.lineBreak(brkLF, off)
	case '.':
		if s.state == atLineStart {
			s.state = afterDot
		} else {
			s.state = midLine
		}
	default:
		s.state = midLine
	}
}

// lineBreak records a line break of kind k at offset off, and the "."
// line it may end.
func (s *SmugglingScanner) lineBreak(k breakKind, off int64) {
	switch k {
	case brkCRLF:
		s.crlf++
	case brkLF:
		s.lf++
	case brkCR:
		s.cr++
	}
	if s.state == afterDot {
		before := s.lineKind
		switch {
		case (before == brkCRLF || before == brkStart) && k == brkCRLF:
			s.dotLines++
		case (before == brkLF || before == brkStart) && k == brkLF:
			if s.lfDotFirst == 0 {
				s.lfDotFirst = s.lineOff + 1
			}
			s.lfDot++
		default:
			if s.seqFirst == 0 {
				s.seqFirst = s.lineOff + 1
			}
			s.seq++
		}
	}
	s.state, s.lineKind, s.lineOff = atLineStart, k, off
}

// Result returns what was found so far, taking the body to end here: a CR
// that ends the input is a bare CR. The scanner may go on after Result.
func (s *SmugglingScanner) Result() Smuggling {
	c := *s
	if c.pendingCR {
		c.pendingCR = false
		c.lineBreak(brkCR, c.crOff)
	}
	r := Smuggling{
		Sequences: c.seq,
		First:     c.seqFirst - 1,
		CRLF:      c.crlf,
		BareLF:    c.lf,
		BareCR:    c.cr,
		DotLines:  c.dotLines,
	}
	if c.crlf == 0 && c.cr == 0 {
		r.LFDotLines = c.lfDot // a body stored with LF
	} else if c.lfDot > 0 {
		r.Sequences += c.lfDot
		if r.First < 0 || c.lfDotFirst-1 < r.First {
			r.First = c.lfDotFirst - 1
		}
	}
	kinds := 0
	for _, n := range []int64{c.crlf, c.lf, c.cr} {
		if n > 0 {
			kinds++
		}
	}
	r.MixedEndings = kinds > 1
	return r
}
