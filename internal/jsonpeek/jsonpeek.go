// Package jsonpeek reads a few values out of a JSON object without parsing
// the rest: it walks the members in order, descends only into the objects on
// the requested paths, skips every other value at byte speed and stops as
// soon as everything asked for is found. The relay uses it to find an event's
// type and dedup key in bodies of any size.
//
// It is a reader of untrusted bytes: malformed input gives "not found", never
// a panic, and skipping uses a depth counter rather than recursion, so no
// nesting is too deep.
package jsonpeek

import (
	"bytes"
	"encoding/json"
)

// Find returns the raw JSON value at each path (a list of member names from
// the top-level object down), or nil for a path that is not there. Values are
// slices of doc.
func Find(doc []byte, paths ...[]string) [][]byte {
	out := make([][]byte, len(paths))
	p := &peeker{doc: doc, paths: paths, out: out, left: len(paths)}
	p.ws()
	p.object(0, allIndexes(len(paths)))
	return out
}

// String returns the string at path, decoded, and whether it was a string.
func String(doc []byte, path ...string) (string, bool) {
	raw := Find(doc, path)[0]
	if len(raw) == 0 || raw[0] != '"' {
		return "", false
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}

type peeker struct {
	doc   []byte
	i     int
	paths [][]string
	out   [][]byte
	left  int // paths not found yet
}

func allIndexes(n int) []int {
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	return idx
}

// object reads the object at p.i, at depth (the member names already
// matched), looking for the paths in want. It returns false when the input
// ends or is malformed, or when everything is found.
func (p *peeker) object(depth int, want []int) bool {
	if !p.eat('{') {
		return false
	}
	p.ws()
	if p.eat('}') {
		return true
	}
	for {
		key, ok := p.key()
		if !ok {
			return false
		}
		p.ws()
		if !p.eat(':') {
			return false
		}
		p.ws()
		var here, deeper []int
		for _, w := range want {
			path := p.paths[w]
			if p.out[w] != nil || path[depth] != key {
				continue
			}
			if len(path) == depth+1 {
				here = append(here, w)
			} else {
				deeper = append(deeper, w)
			}
		}
		start := p.i
		switch {
		case len(deeper) > 0 && p.peek() == '{':
			if !p.object(depth+1, deeper) {
				return false
			}
		case !p.skip():
			return false
		}
		for _, w := range here {
			p.out[w] = p.doc[start:p.i]
			p.left--
		}
		if p.left == 0 {
			return false
		}
		p.ws()
		if p.eat('}') {
			return true
		}
		if !p.eat(',') {
			return false
		}
		p.ws()
	}
}

// key reads a member name. Names without escapes are compared as they are;
// escaped ones are decoded first.
func (p *peeker) key() (string, bool) {
	start := p.i
	if !p.skipString() {
		return "", false
	}
	raw := p.doc[start:p.i]
	inner := raw[1 : len(raw)-1]
	if bytes.IndexByte(inner, '\\') < 0 {
		return string(inner), true
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}

func (p *peeker) peek() byte {
	if p.i < len(p.doc) {
		return p.doc[p.i]
	}
	return 0
}

func (p *peeker) eat(c byte) bool {
	if p.peek() == c {
		p.i++
		return true
	}
	return false
}

func (p *peeker) ws() {
	for p.i < len(p.doc) {
		switch p.doc[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// skipString moves past the string at p.i.
func (p *peeker) skipString() bool {
	if !p.eat('"') {
		return false
	}
	for p.i < len(p.doc) {
		j := bytes.IndexAny(p.doc[p.i:], "\"\\")
		if j < 0 {
			p.i = len(p.doc)
			return false
		}
		p.i += j
		if p.doc[p.i] == '"' {
			p.i++
			return true
		}
		p.i += 2 // a backslash and the character it escapes
	}
	return false
}

// skip moves past one value of any kind. Containers are skipped by counting
// brackets outside strings, not by recursion.
func (p *peeker) skip() bool {
	switch p.peek() {
	case '"':
		return p.skipString()
	case '{', '[':
		depth := 0
		for p.i < len(p.doc) {
			switch p.doc[p.i] {
			case '"':
				if !p.skipString() {
					return false
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					p.i++
					return true
				}
			}
			p.i++
		}
		return false
	case 0:
		return false
	default:
		// A number or a literal: up to the next delimiter.
		start := p.i
		for p.i < len(p.doc) {
			switch p.doc[p.i] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return p.i > start
			}
			p.i++
		}
		return p.i > start
	}
}
