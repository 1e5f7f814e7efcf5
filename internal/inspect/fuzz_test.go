package inspect_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// FuzzAPI sends whatever a page (or anything that got the token) could ask:
// the inspector answers each with a JSON error or what was asked, never a
// panic or a 500 of its own making.
func FuzzAPI(f *testing.F) {
	f.Add("GET", "/api/deliveries?status=5xx&limit=3&before=dlv_x", "")
	f.Add("POST", "/api/deliveries/ID/replay", `{"body":"x","headers":{"X-A":["1"]},"sign":"wrong"}`)
	f.Add("POST", "/api/deliveries/ID/replay", `{"body_base64":"!!","sign":"as-is"}`)
	f.Add("GET", "/api/export.har?ids=ID,ID", "")
	f.Add("GET", "/static/../../etc/passwd", "")
	r := newRig(f)
	r.send(f, `{"event":"email.received","timestamp":"2024-01-15T10:30:00.000Z","data":{}}`)
	id := r.kept(f, 1)[0].ID
	f.Fuzz(func(t *testing.T, method, path, body string) {
		if method != "GET" && method != "POST" {
			method = "GET"
		}
		if !strings.HasPrefix(path, "/") {
			path = "/" + path
		}
		path = strings.ReplaceAll(path, "ID", id)
		req, err := http.NewRequest(method, r.url+path, strings.NewReader(body))
		if err != nil {
			return // not a URL net/http would send
		}
		req.Header.Set("X-Jasni-Token", r.token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 500 && resp.StatusCode != http.StatusBadGateway {
			t.Errorf("%s %s %q: %d", method, path, body, resp.StatusCode)
		}
		// A replay reached the app: let the rig take the next one.
		select {
		case <-r.arrived:
		default:
		}
	})
}
