// Package termsafe makes text that came from the network safe to show on a
// terminal. A webhook body, a header value or an error echoed by a server can
// carry escape sequences that retitle or clear the terminal, write to the
// clipboard (OSC 52), or print a fake line; bidi controls can reorder what is
// shown. Everything of that kind is replaced by a visible escape such as
// \x1b or \u202e, so the user sees what was sent and the terminal obeys none
// of it.
package termsafe

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Line returns s fit for one line of output: every control character,
// newlines and tabs included, is escaped.
func Line(s string) string { return clean(s, false) }

// Text returns s fit for several lines: newlines and tabs are kept, every
// other control character is escaped.
func Text(s string) string { return clean(s, true) }

// dangerous reports runes that a terminal acts on or that change how the
// rest of a line reads: C0 and C1 controls, DEL, the bidi controls, and the
// Unicode line and paragraph separators.
func dangerous(r rune) bool {
	switch {
	case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f:
		return true
	case r == 0x061c, r == 0x200e, r == 0x200f, r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	case r == 0x2028, r == 0x2029:
		return true
	}
	return false
}

func needsWork(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			return true
		}
	}
	return false
}

func clean(s string, multiline bool) string {
	if !needsWork(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case multiline && (r == '\n' || r == '\t'):
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x80 && dangerous(r):
			fmt.Fprintf(&b, `\x%02x`, r)
		case dangerous(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// JSON makes encoded JSON safe for a terminal while keeping it valid and
// equal in meaning: encoding/json already escapes C0 controls, so this
// escapes DEL, C1 controls, bidi controls and the separators as \uXXXX, and
// replaces bytes that are not UTF-8 (which a json.RawMessage can carry) by
// \ufffd. In valid JSON all of these can only occur inside strings.
func JSON(doc []byte) []byte {
	clean := true
	for _, c := range doc {
		if c == 0x7f || c >= 0x80 {
			clean = false
			break
		}
	}
	if clean {
		return doc
	}
	var b bytes.Buffer
	b.Grow(len(doc) + 16)
	for i := 0; i < len(doc); {
		r, size := utf8.DecodeRune(doc[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			b.WriteString(`\ufffd`)
		case r >= 0x7f && dangerous(r): // below, only the encoder's own whitespace
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.Write(doc[i : i+size])
		}
		i += size
	}
	return b.Bytes()
}
