package main_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestListenKeepsTheAppsAnswer: an app that refuses a delivery with an
// error message is understood without opening it: listen's line shows the
// message, `events show -o json` holds the status, headers and body, and
// `listen -o json` starts with a ready object, then a line per delivery.
func TestListenKeepsTheAppsAnswer(t *testing.T) {
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Request-Id", "req_42")
		w.WriteHeader(http.StatusInternalServerError)
		io.WriteString(w, `{"error":"boom"}`)
	}))
	defer app.Close()
	env := []string{"WEBHOOK_SECRET=whsec_answer", "XDG_STATE_HOME=" + t.TempDir(), "XDG_CONFIG_HOME=" + t.TempDir()}

	for _, mode := range []string{"text", "json"} {
		t.Run(mode, func(t *testing.T) {
			args := []string{"--forward", app.URL}
			if mode == "json" {
				args = append(args, "--output", "json")
			}
			l := runListen(t, env, args...)
			if _, _, code := jasni(t, env, "trigger", "email.received", "--url", l.url+"/webhooks/jasni"); code != 3 {
				t.Errorf("trigger exit %d, want 3 (the app answered 500)", code)
			}
			out, errOut, _ := l.stop()
			if mode == "text" {
				if !strings.Contains(out, "500") || !strings.Contains(out, "boom") {
					t.Errorf("listen's line lacks the app's status and message:\n%s%s", out, errOut)
				}
				return
			}
			lines := strings.Split(strings.TrimSpace(out), "\n")
			var ready, delivery map[string]any
			if len(lines) != 2 || json.Unmarshal([]byte(lines[0]), &ready) != nil || json.Unmarshal([]byte(lines[1]), &delivery) != nil {
				t.Fatalf("want a ready line and a delivery line:\n%s", out)
			}
			if ready["type"] != "ready" || ready["url"] != l.url+"/webhooks/jasni" || ready["path"] != "/webhooks/jasni" {
				t.Errorf("ready object %v", ready)
			}
			if delivery["type"] != "delivery" || delivery["answer"] != float64(500) {
				t.Errorf("delivery object %v", delivery)
			}
		})
	}

	out, errOut, code := jasni(t, env, "events", "show", "--last", "--output", "json")
	var shown struct {
		Forward struct {
			Status int
			Body   json.RawMessage
		}
		Attempts []struct {
			Status  int
			Headers http.Header
			Body    json.RawMessage
		}
	}
	if code != 0 || json.Unmarshal([]byte(out), &shown) != nil || len(shown.Attempts) != 1 {
		t.Fatalf("events show -o json: exit %d\n%s%s", code, out, errOut)
	}
	a := shown.Attempts[0]
	var body bytes.Buffer
	json.Compact(&body, a.Body)
	if a.Status != 500 || a.Headers.Get("X-Request-Id") != "req_42" || body.String() != `{"error":"boom"}` {
		t.Errorf("the kept answer: %+v", a)
	}
	var forwardBody bytes.Buffer
	json.Compact(&forwardBody, shown.Forward.Body)
	if shown.Forward.Status != 500 || forwardBody.String() != body.String() {
		t.Errorf("forward %+v says other than listen's attempt", shown.Forward)
	}
	out, _, _ = jasni(t, env, "events", "show", "--last")
	for _, want := range []string{"Attempt 1 (listen", "500 Internal Server Error", "X-Request-Id: req_42", `"error": "boom"`} {
		if !strings.Contains(out, want) {
			t.Errorf("events show lacks %q:\n%s", want, out)
		}
	}
}
