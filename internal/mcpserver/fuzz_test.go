package mcpserver

import (
	"net"
	"net/url"
	"strings"
	"testing"
)

// FuzzTarget: whatever URL an agent passes, the sending tools reach only
// a loopback address or localhost when nothing else was allowed. What is
// let through must parse to that same host in the HTTP client's eyes.
func FuzzTarget(f *testing.F) {
	for _, seed := range []string{
		"http://localhost:3000/webhooks/jasni", "http://127.0.0.1:1/x", "http://[::1]:80/", "https://app.example.com/h",
		"http://127.0.0.1@evil.com/", "http://evil.com#@127.0.0.1/", "http://0.0.0.0/", "http://[::ffff:127.0.0.1]/",
		"http://127.1/", "http://2130706433/", "http://localhost.evil.com/", "HTTP://LOCALHOST/", "http://%6c%6fcalhost/",
		"http://127.0.0.1%2f@evil.com/", "http://[::1%25eth0]/", "http://127.0.0.1:80\\@evil.com/",
	} {
		f.Add(seed)
	}
	s := &Server{}
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := s.target(raw)
		if err != nil {
			return
		}
		host := u.Hostname()
		ip := net.ParseIP(host)
		if !strings.EqualFold(host, "localhost") && (ip == nil || !ip.IsLoopback()) {
			t.Fatalf("%q let through to host %q", raw, host)
		}
		again, err := url.Parse(u.String())
		if err != nil || again.Hostname() != host {
			t.Fatalf("%q: its string %q names another host", raw, u.String())
		}
	})
}
