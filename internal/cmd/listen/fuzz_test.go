package listen

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/jasni/jasni-cli/internal/relay"
)

// FuzzParseForward: any --forward value is refused with a message or gives
// a URL that makes a request for every delivery path.
func FuzzParseForward(f *testing.F) {
	for _, s := range []string{"3000", ":3000", "localhost:3000", "http://[::1]:3000/x?y=1", "https://a.b/c#d", "ftp://x", "http://[::1", "localhost:99999", "u:p@h:1", "%", " ", "http://h:0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := ParseForward(s)
		if err != nil {
			return
		}
		for _, path := range []string{"/webhooks/jasni", "/a%20b", "/x?q=1"} {
			in, perr := url.ParseRequestURI(path)
			if perr != nil {
				continue
			}
			if _, err := http.NewRequest(http.MethodPost, relay.Target(u, in).String(), nil); err != nil {
				t.Fatalf("ParseForward(%q) = %s, which cannot make a request: %v", s, u, err)
			}
		}
	})
}
