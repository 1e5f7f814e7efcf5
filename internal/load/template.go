// Package load sends deliveries as a load generator does: many at once,
// at a rate or flat out, each one fresh and correctly signed, and sums up
// how the endpoint answered.
package load

import (
	"bytes"
	"math/rand/v2"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/jasni/jasni-cli/internal/payload"
)

// Template is a built delivery body with the places that change from one
// copy to the next: ids are rewritten with new random characters of the
// same kind, the envelope timestamp with the time of sending. Making a
// copy is a copy and a few writes, not a JSON parse.
type Template struct {
	Event string
	Body  []byte
	spans []span
	// stampOnly marks an event with no id to make new (Jasni's
	// domain.verified): its timestamp alone tells copies apart, so no two
	// copies get the same millisecond; last is the latest one given.
	stampOnly bool
	last      atomic.Int64
}

type span struct {
	off, n int
	stamp  string // the timestamp's layout ("unix" for seconds, "unixms"); "" for an id
}

// NewTemplate finds ev's fresh values in its body.
func NewTemplate(ev *payload.Event) *Template {
	t := &Template{Event: ev.Type, Body: ev.Body}
	for _, f := range ev.Fresh {
		quoted := []byte(`"` + f.Value + `"`)
		if f.Stamp && (f.Layout == "unix" || f.Layout == "unixms") {
			quoted = []byte(f.Value) // a number, unquoted
		}
		for from := 0; ; {
			i := bytes.Index(t.Body[from:], quoted)
			if i < 0 {
				break
			}
			off := from + i
			if quoted[0] == '"' {
				off++
			}
			s := span{off: off, n: len(f.Value)}
			if f.Stamp {
				s.stamp = f.Layout
			}
			t.spans = append(t.spans, s)
			from += i + len(quoted)
		}
	}
	t.stampOnly = true
	for _, s := range t.spans {
		if s.stamp == "" {
			t.stampOnly = false
		}
	}
	return t
}

// uniqueStamp is now, or a millisecond after the last copy's stamp when
// that is not earlier: under load many copies share a millisecond.
func (t *Template) uniqueStamp(now time.Time) time.Time {
	for {
		last := t.last.Load()
		ms := max(now.UnixMilli(), last+1)
		if t.last.CompareAndSwap(last, ms) {
			return time.UnixMilli(ms)
		}
	}
}

const hexDigits = "0123456789abcdef"

// Fill writes a fresh copy into dst (reusing its memory) and returns it.
func (t *Template) Fill(dst []byte, now time.Time, rng *rand.ChaCha8) []byte {
	dst = append(dst[:0], t.Body...)
	if t.stampOnly {
		now = t.uniqueStamp(now)
	}
	var stamp []byte
	for _, s := range t.spans {
		field := dst[s.off : s.off+s.n]
		if s.stamp != "" {
			switch s.stamp {
			case "unix":
				stamp = strconv.AppendInt(stamp[:0], now.Unix(), 10)
			case "unixms":
				stamp = strconv.AppendInt(stamp[:0], now.UnixMilli(), 10)
			default:
				stamp = now.UTC().AppendFormat(stamp[:0], s.stamp)
			}
			if len(stamp) == s.n {
				copy(field, stamp)
			}
			continue
		}
		// Keep the id's shape: digits stay digits (no leading zero), hex
		// stays hex, the rest (a Message-ID's <, @ and domain) as it was.
		var bits uint64
		left, digits := 0, allDigits(field)
		for i, c := range field {
			if left == 0 {
				bits, left = rng.Uint64(), 16
			}
			r := byte(bits & 0xf)
			bits >>= 4
			left--
			switch {
			case digits:
				field[i] = '0' + r%10
				if i == 0 && field[i] == '0' {
					field[i] = '1'
				}
			case c >= '0' && c <= '9' || c >= 'a' && c <= 'f':
				field[i] = hexDigits[r]
			}
		}
		if i := bytes.IndexByte(field, '@'); i > 0 && field[0] == '<' {
			// The domain was rewritten too if it held hex letters: put it back.
			copy(field[i:], t.Body[s.off+i:s.off+s.n])
		}
	}
	return dst
}

func allDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return len(b) > 0
}
