package cmdutil

import (
	"strings"
	"testing"

	"golang.org/x/net/http/httpguts"
)

// FuzzParseHeader: any --header value is refused or gives a name with no
// space in it; the name and value never carry a line break into a request.
func FuzzParseHeader(f *testing.F) {
	for _, s := range []string{"X-Test: 1", "nocolon", ":v", "A:", "A B: c", "X: a:b", "X:\r\ny", "\x00:\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		name, value, err := ParseHeader(s)
		if err != nil {
			return
		}
		if name == "" || strings.ContainsAny(name, " \t\r\n") {
			t.Fatalf("ParseHeader(%q) gave name %q", s, name)
		}
		if !httpguts.ValidHeaderFieldName(name) || !httpguts.ValidHeaderFieldValue(value) {
			t.Fatalf("ParseHeader(%q) accepted %q: %q, which HTTP cannot send", s, name, value)
		}
	})
}
