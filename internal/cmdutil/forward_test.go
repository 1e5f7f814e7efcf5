package cmdutil_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/jasni/jasni-cli/internal/cmdutil"
	"github.com/jasni/jasni-cli/internal/relay"
)

func TestParseForward(t *testing.T) {
	tests := []struct{ in, want, wantErr string }{
		{in: "3000", want: "http://localhost:3000"},
		{in: ":3000", want: "http://localhost:3000"},
		{in: "localhost:3000", want: "http://localhost:3000"},
		{in: "127.0.0.1:8080/webhooks/jasni", want: "http://127.0.0.1:8080/webhooks/jasni"},
		{in: "https://app.example.com/hook", want: "https://app.example.com/hook"},
		{in: "", wantErr: "empty"},
		{in: "ftp://x", wantErr: "scheme must be http or https"},
		{in: "localhost:99999", wantErr: "port must be a number from 1 to 65535"},
		{in: "http://", wantErr: "no host"},
		{in: "http://[::1", wantErr: "not a URL"},
		{in: "http://user:pw@localhost:3000", wantErr: "credentials in the URL"},
		{in: "localhost:3000/hook#frag", want: "http://localhost:3000/hook"},
		{in: "htp:/x y", wantErr: "it has a space"},
		{in: "htp:/x", wantErr: "the scheme is mistyped"},
		{in: "http:/localhost:3000", wantErr: "the scheme is mistyped"},
		{in: "localhost:", wantErr: "a colon with no port after it"},
		{in: "localhost:3000/a b", wantErr: "it has a space"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			u, err := cmdutil.ParseForward(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || u.String() != tt.want {
				t.Errorf("ParseForward(%q) = %v, %v; want %s", tt.in, u, err, tt.want)
			}
		})
	}
}

// FuzzParseForward: any --forward value is refused with a message or gives
// a URL that makes a request for every delivery path.
func FuzzParseForward(f *testing.F) {
	for _, s := range []string{"3000", ":3000", "localhost:3000", "http://[::1]:3000/x?y=1", "https://a.b/c#d", "ftp://x", "http://[::1", "localhost:99999", "u:p@h:1", "%", " ", "http://h:0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := cmdutil.ParseForward(s)
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
