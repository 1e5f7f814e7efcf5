package inspect_test

import (
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/jasni/jasni-cli/internal/inspect"
)

func TestGuard(t *testing.T) {
	r := newRig(t)
	r.send(t, `{"event":"email.received","timestamp":"2024-01-15T10:30:00.000Z","data":{"id":"1"}}`)
	id := r.kept(t, 1)[0].ID
	replay := "/api/deliveries/" + id + "/replay"
	tests := []struct {
		name   string
		method string
		path   string
		host   string
		origin string
		token  string
		want   int
		code   string
	}{
		{"page", "GET", "/", "", "", "", 200, ""},
		{"list", "GET", "/api/deliveries", "", "", "", 200, ""},
		{"localhost by name", "GET", "/api/info", "localhost:4040", "", "", 200, ""},
		{"foreign host (DNS rebinding)", "GET", "/api/deliveries", "evil.example", "", "", 403, "forbidden_host"},
		{"foreign host with a port", "GET", "/", "evil.example:4040", "", "", 403, "forbidden_host"},
		{"a name that only starts like localhost", "GET", "/", "localhost.evil.example", "", "", 403, "forbidden_host"},
		{"a port that is not a number", "GET", "/", "127.0.0.1:4041.evil.example", "", "", 403, "forbidden_host"},
		{"localhost with a name for a port", "GET", "/", "localhost:evil", "", "", 403, "forbidden_host"},
		{"the page's template is not a file", "GET", "/static/index.html", "", "", "", 404, ""},
		{"no listing of the files", "GET", "/static/", "", "", "", 404, ""},
		{"unknown verdict", "GET", "/api/deliveries?verdict=maybe", "", "", "", 400, "bad_query"},
		{"replay without the token", "POST", replay, "", "", "", 403, "missing_token"},
		{"replay with a wrong token", "POST", replay, "", "", "0123", 403, "missing_token"},
		{"replay from a foreign origin", "POST", replay, "", "http://evil.example", "TOKEN", 403, "forbidden_origin"},
		{"replay with foreign host and token", "POST", replay, "evil.example", "", "TOKEN", 403, "forbidden_host"},
		{"replay from the page", "POST", replay, "", "SELF", "TOKEN", 200, ""},
		{"replay of no delivery", "POST", "/api/deliveries/dlv_nope/replay", "", "", "TOKEN", 404, "not_found"},
		{"bad filter", "GET", "/api/deliveries?status=abc", "", "", "", 400, "bad_query"},
		{"bad limit", "GET", "/api/deliveries?limit=100000", "", "", "", 400, "bad_query"},
		{"export without ids", "GET", "/api/export.har", "", "", "", 400, "bad_query"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, r.url+tt.path, strings.NewReader(`{}`))
			if tt.host != "" {
				req.Host = tt.host
			}
			switch tt.origin {
			case "SELF":
				req.Header.Set("Origin", r.url)
			case "":
			default:
				req.Header.Set("Origin", tt.origin)
			}
			if tt.token == "TOKEN" {
				req.Header.Set("X-Jasni-Token", r.token)
			} else if tt.token != "" {
				req.Header.Set("X-Jasni-Token", tt.token)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.want, body)
			}
			if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe") {
				t.Errorf("Content-Security-Policy %q", csp)
			}
			if tt.code != "" {
				var e struct{ Error string }
				if json.Unmarshal(body, &e); e.Error != tt.code {
					t.Errorf("error %q, want %q: %s", e.Error, tt.code, body)
				}
			}
		})
	}
}

func TestPageCarriesToken(t *testing.T) {
	r := newRig(t)
	resp, err := http.Get(r.url + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	page, _ := io.ReadAll(resp.Body)
	m := tokenMeta.FindSubmatch(page)
	if m == nil || string(m[1]) != r.token {
		t.Fatalf("the page does not carry the run's token in <meta name=\"jasni-token\">")
	}
	if strings.Contains(string(page), "<script>") || inlineHandler.Match(page) {
		t.Error("the page has inline script, which its CSP forbids")
	}
}

var inlineHandler = regexp.MustCompile(`\son[a-z]+=`)

func TestParseFlag(t *testing.T) {
	tests := []struct {
		in      string
		addr    string
		off     bool
		wantErr string
	}{
		{"", "", false, ""},
		{"true", "", false, ""},
		{"false", "", true, ""},
		{"off", "", true, ""},
		{"4041", "4041", false, ""},
		{"127.0.0.1:4041", "127.0.0.1:4041", false, ""},
		{"localhost:0", "localhost:0", false, ""},
		{"[::1]:4041", "[::1]:4041", false, ""},
		{"0.0.0.0:4041", "", false, "loopback only"},
		{"192.168.1.2:4041", "", false, "loopback only"},
		{"example.com:4041", "", false, "loopback only"},
		{"127.0.0.1:http", "", false, "not a number"},
		{"nonsense", "", false, "want a port"},
	}
	for _, tt := range tests {
		addr, off, err := inspect.ParseFlag(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseFlag(%q) error %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || addr != tt.addr || off != tt.off {
			t.Errorf("ParseFlag(%q) = %q, %v, %v; want %q, %v", tt.in, addr, off, err, tt.addr, tt.off)
		}
	}
}
