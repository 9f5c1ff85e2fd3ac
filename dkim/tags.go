package dkim

import (
	"errors"
	"fmt"
	"strings"
)

// Tag is one tag=value pair of a tag list (RFC 6376 §3.2).
type Tag struct {
	// Name is the tag name, case-sensitive ("bh", "d").
	Name string
	// Value is the tag value with the whitespace around it removed.
	// Whitespace inside the value (folding in b=, bh=, p=, h=) is kept;
	// each tag's own syntax says whether it is significant.
	Value string
}

// TagList is a parsed tag list, in the order written.
type TagList []Tag

// ErrTagList is wrapped by every error ParseTagList returns.
var ErrTagList = errors.New("dkim: malformed tag list")

// ParseTagList parses an RFC 6376 §3.2 tag list, as found in a
// DKIM-Signature (or ARC) header field value or a key record:
//
//	tag-list  =  tag-spec *( ";" tag-spec ) [ ";" ]
//	tag-spec  =  [FWS] tag-name [FWS] "=" [FWS] tag-value [FWS]
//	tag-name  =  ALPHA *ALNUMPUNC
//
// Folding whitespace (SP, HTAB, CR, LF) around names and values is removed.
// An empty tag list, an empty tag-spec other than after a final ";", a
// tag-spec without "=", an invalid tag name and a duplicate tag name are
// errors: RFC 6376 §3.2 "if a tag name does occur more than once, the
// entire tag-list is invalid". Values are not checked against VALCHAR:
// each tag's own validation (resolver.CheckName for d= and s=, base64 for
// b=) reports a bad octet precisely, instead of losing the tag.
func ParseTagList(s string) (TagList, error) {
	list := make(TagList, 0, strings.Count(s, ";")+1) // one allocation
	rest := s
	for {
		spec, tail, more := strings.Cut(rest, ";")
		if trimFWS(spec) == "" {
			if more {
				// "a=1;;b=2" or a leading ";": an empty tag-spec.
				return nil, fmt.Errorf("%w: empty tag-spec", ErrTagList)
			}
			if len(list) == 0 {
				return nil, fmt.Errorf("%w: empty", ErrTagList)
			}
			return list, nil // RFC 6376 §3.2: an optional final ";"
		}
		name, value, ok := strings.Cut(spec, "=")
		if !ok {
			return nil, fmt.Errorf("%w: %q has no \"=\"", ErrTagList, trimFWS(spec))
		}
		name = trimFWS(name)
		if !validTagName(name) {
			return nil, fmt.Errorf("%w: invalid tag name %q", ErrTagList, name)
		}
		for _, t := range list {
			if t.Name == name {
				return nil, fmt.Errorf("%w: duplicate tag %q", ErrTagList, name)
			}
		}
		list = append(list, Tag{Name: name, Value: trimFWS(value)})
		if !more {
			return list, nil
		}
		rest = tail
	}
}

// Get returns the value of the tag named name (case-sensitive, RFC 6376
// §3.2) and whether it is present. A present tag may have an empty value,
// which is not the same as an absent one.
func (t TagList) Get(name string) (string, bool) {
	for _, tag := range t {
		if tag.Name == name {
			return tag.Value, true
		}
	}
	return "", false
}

// validTagName: ALPHA *ALNUMPUNC, ALNUMPUNC = ALPHA / DIGIT / "_".
func validTagName(n string) bool {
	if n == "" || !isAlpha(n[0]) {
		return false
	}
	for i := 1; i < len(n); i++ {
		c := n[i]
		if !isAlpha(c) && !(c >= '0' && c <= '9') && c != '_' {
			return false
		}
	}
	return true
}

func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// isFWS reports whether c may be part of folding whitespace.
func isFWS(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

func trimFWS(s string) string {
	i, j := 0, len(s)
	for i < j && isFWS(s[i]) {
		i++
	}
	for j > i && isFWS(s[j-1]) {
		j--
	}
	return s[i:j]
}

// stripFWS removes all folding whitespace, for values whose grammar allows
// FWS anywhere (base64 in b=, bh=, p=; RFC 6376 §3.5, §3.6.1).
func stripFWS(s string) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if isFWS(s[i]) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	b := make([]byte, 0, len(s)-n)
	for i := 0; i < len(s); i++ {
		if !isFWS(s[i]) {
			b = append(b, s[i])
		}
	}
	return string(b)
}

// splitColonList splits a colon-separated list (h= of a signature, h=, s=
// and t= of a key) and trims FWS around each element (RFC 6376 §3.5 h=:
// "Folding whitespace (FWS) MAY be included on either side of the colon
// separator").
func splitColonList(s string) []string {
	parts := strings.Split(s, ":")
	for i, p := range parts {
		parts[i] = trimFWS(p)
	}
	return parts
}
