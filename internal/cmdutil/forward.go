package cmdutil

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/jasni/jasni-cli/internal/relay"
)

// ParseForward reads --forward: 3000, :3000, localhost:3000, host:port/path
// or a full URL.
func ParseForward(s string) (*url.URL, error) {
	bad := func(why string) error {
		return FlagErrorf("--forward %q: %s (try 3000, localhost:3000 or http://localhost:3000/webhooks/jasni)", s, why)
	}
	raw := strings.TrimSpace(s)
	if raw == "" {
		return nil, bad("empty")
	}
	if strings.ContainsAny(raw, " \t\r\n") {
		return nil, bad("it has a space (quote nothing inside the URL; encode a space in a path as %20)")
	}
	if scheme, rest, ok := strings.Cut(raw, ":"); ok && !strings.HasPrefix(rest, "//") && strings.HasPrefix(rest, "/") && !strings.ContainsAny(scheme, "./") {
		return nil, bad("the scheme is mistyped: write it as http:// or https://")
	}
	if _, err := strconv.Atoi(strings.TrimPrefix(raw, ":")); err == nil {
		raw = "localhost:" + strings.TrimPrefix(raw, ":")
	}
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, bad("not a URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, bad("the scheme must be http or https")
	}
	if u.Hostname() == "" {
		return nil, bad("no host")
	}
	if strings.HasSuffix(u.Host, ":") {
		return nil, bad("a colon with no port after it")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, bad("the port must be a number from 1 to 65535")
		}
	}
	if u.User != nil {
		return nil, bad("credentials in the URL would be sent with every delivery; use --header \"Authorization: ...\" instead")
	}
	u.Fragment, u.RawFragment = "", ""
	// Whatever passes here must make a request for any delivery, so a bad
	// value fails now rather than at the first delivery.
	if _, err := http.NewRequestWithContext(context.Background(), http.MethodPost, relay.Target(u, &url.URL{Path: relay.DefaultPath}).String(), nil); err != nil {
		return nil, bad("not usable as a URL (" + err.Error() + ")")
	}
	return u, nil
}
