package events_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jasni/jasni-cli/internal/clitest"
	"github.com/jasni/jasni-cli/internal/exampleapp"
	"github.com/jasni/jasni-cli/internal/store"
)

const secret = "whsec_events_test"

func seed(t *testing.T, forwardURL string) (map[string]string, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "history.db")
	body := []byte(`{"event":"email.sent","timestamp":"2024-01-15T10:30:00.000Z","data":{"id":"1"}}`)
	d := &store.Delivery{
		ID: store.NewID(time.Now()), ReceivedAt: time.Now(), Method: "POST", Path: "/webhooks/jasni",
		Header: http.Header{"Content-Type": {"application/json"}, "X-Webhook-Event": {"email.sent"},
			"X-Webhook-Signature": {clitest.JasniSignature(secret, body)}, "X-Forwarded-For": {"1.2.3.4"}},
		Body: body, Event: "email.sent", Verdict: store.VerdictValid, Answer: 502,
		Forward: &store.Attempt{URL: forwardURL, Error: "your app is not running"},
	}
	put(t, path, d)
	// The profile's secret is another one, as after "jasni listen --secret S"
	// with a generated secret in the profile.
	return map[string]string{"JASNI_HISTORY": path, "WEBHOOK_SECRET": "whsec_generated_for_the_profile"}, d.ID
}

func put(t *testing.T, path string, ds ...*store.Delivery) {
	t.Helper()
	h, err := store.Open(path, store.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if err := h.Put(context.Background(), ds...); err != nil {
		t.Fatal(err)
	}
}

func TestListShowResendPrune(t *testing.T) {
	app := exampleapp.New(secret)
	srv := httptest.NewServer(app.Handler())
	defer srv.Close()
	env, id := seed(t, srv.URL+"/webhooks/jasni")

	res := clitest.Run(t, clitest.Options{Env: env}, "events", "list", "--output", "json")
	var list []map[string]any
	if json.Unmarshal([]byte(res.Stdout), &list) != nil || len(list) != 1 || list[0]["id"] != id {
		t.Fatalf("list: %s %s", res.Stdout, res.Stderr)
	}
	res = clitest.Run(t, clitest.Options{Env: env}, "events", "show", "--last")
	for _, want := range []string{"Event      email.sent", "Answered   502", "X-Webhook-Signature: ", `"event": "email.sent"`} {
		if !strings.Contains(res.Stdout, want) {
			t.Errorf("show --last lacks %q:\n%s", want, res.Stdout)
		}
	}

	// --as-is sends the stored headers untouched.
	res = clitest.Run(t, clitest.Options{Env: env}, "events", "resend", id, "--as-is")
	got := app.Received()
	if res.Code != 0 || len(got) != 1 || got[0].Header.Get("X-Webhook-Timestamp") != "" {
		t.Fatalf("resend --as-is: exit %d %s; app got %+v", res.Code, res.Stderr, got)
	}
	// The profile's secret does not verify it, and Jasni signs the body
	// alone: the original signature goes as it was, and the app takes it
	// (re-signing with the profile's secret would get a 401).
	res = clitest.Run(t, clitest.Options{Env: env}, "events", "resend", "--last")
	got = app.Received()
	if res.Code != 0 || len(got) != 2 || !got[1].Verified || !strings.Contains(res.Stderr, "original signature is sent as it was") {
		t.Fatalf("resend: exit %d %s; app got %+v", res.Code, res.Stderr, got)
	}
	if !strings.Contains(res.Stdout, "→ "+srv.URL) {
		t.Errorf("resend does not say where it sent (%s): %s", srv.URL, res.Stdout)
	}
	// With the app's secret configured, it is signed again as a retry: a
	// fresh timestamp, and the forwarding headers are not replayed.
	env2 := map[string]string{"JASNI_HISTORY": env["JASNI_HISTORY"], "JASNI_WEBHOOK_SECRET": "whsec_other", "WEBHOOK_SECRET": secret}
	res = clitest.Run(t, clitest.Options{Env: env2}, "events", "resend", id)
	got = app.Received()
	if res.Code != 0 || len(got) != 3 || !got[2].Verified || got[2].Header.Get("X-Forwarded-For") != "" || got[2].Header.Get("X-Webhook-Timestamp") == "" {
		t.Fatalf("resend with the secret: exit %d %s; app got %+v", res.Code, res.Stderr, got)
	}
	// A --secret is used as asked, with a note that it is not the one.
	res = clitest.Run(t, clitest.Options{Env: env}, "events", "resend", id, "--secret", "whsec_wrong")
	if res.Code != 3 || !strings.Contains(res.Stderr, "does not verify the stored delivery") {
		t.Errorf("resend --secret wrong: exit %d %s", res.Code, res.Stderr)
	}
	res = clitest.Run(t, clitest.Options{Env: env}, "events", "show", id, "--output", "json")
	var shown struct {
		Attempts []struct {
			By     string
			Status int
			Sent   *struct{ Headers http.Header }
		}
	}
	if err := json.Unmarshal([]byte(res.Stdout), &shown); err != nil {
		t.Fatal(err)
	}
	var resends int
	for _, a := range shown.Attempts {
		if a.By == "resend" {
			resends++
		}
	}
	if resends != 4 || shown.Attempts[len(shown.Attempts)-1].Sent == nil {
		t.Errorf("each resend should be an attempt, with what it changed:\n%s", res.Stdout)
	}

	res = clitest.Run(t, clitest.Options{Env: env}, "events", "prune", "--all")
	if res.Code != 0 || !strings.Contains(res.Stderr, "Removed 1 deliveries") {
		t.Errorf("prune: %d %s", res.Code, res.Stderr)
	}
	res = clitest.Run(t, clitest.Options{Env: env}, "events", "list")
	if !strings.Contains(res.Stderr, "No deliveries yet") {
		t.Errorf("empty list: %q", res.Stderr)
	}
}

// An id that names nothing exits 1, as an unknown webhook id does.
func TestUnknownDelivery(t *testing.T) {
	env, _ := seed(t, "")
	for _, verb := range []string{"show", "resend"} {
		res := clitest.Run(t, clitest.Options{Env: env}, "events", verb, "dlv_nope")
		if res.Code != 1 || !strings.Contains(res.Stderr, "no delivery dlv_nope in the history") {
			t.Errorf("events %s: exit %d %q", verb, res.Code, res.Stderr)
		}
	}
}

func TestBadInput(t *testing.T) {
	env, id := seed(t, "")
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"events", "resend", id}, "was not forwarded anywhere: pass --forward"},
		{[]string{"events", "list", "--event", "bounced"}, "did you mean email.bounced?"},
		{[]string{"events", "prune"}, "give --older-than DURATION"},
		{[]string{"events", "resend", id, "--forward", "ftp://x"}, "--forward"},
	}
	for _, tt := range tests {
		res := clitest.Run(t, clitest.Options{Env: env}, tt.args...)
		if res.Code != 2 || !strings.Contains(res.Stderr, tt.want) {
			t.Errorf("%v: exit %d %q; want 2 and %q", tt.args, res.Code, res.Stderr, tt.want)
		}
	}
}

// Resending a Voisnap delivery signs it again the Voisnap way, with a fresh
// timestamp (the old one is outside the window) and the same delivery id.
func TestResendPerProvider(t *testing.T) {
	var gotID string
	var status int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ts := r.Header.Get("X-Webhook-Timestamp")
		n, _ := strconv.ParseInt(ts, 10, 64)
		m := hmac.New(sha256.New, []byte("vs"))
		m.Write([]byte(ts + "." + string(body)))
		switch {
		case time.Since(time.Unix(n, 0)).Abs() > 300*time.Second:
			status = 400
		case r.Header.Get("X-Webhook-Signature") != "sha256="+hex.EncodeToString(m.Sum(nil)):
			status = 401
		default:
			status = 200
		}
		gotID = r.Header.Get("X-Webhook-Delivery-Id")
		w.WriteHeader(status)
	}))
	defer srv.Close()
	path := filepath.Join(t.TempDir(), "history.db")
	d := &store.Delivery{ID: store.NewID(time.Now()), ReceivedAt: time.Now(), Method: "POST", Path: "/webhooks/voisnap",
		Header: http.Header{"X-Webhook-Timestamp": {"1600000000"}, "X-Webhook-Delivery-Id": {"dlv_same"}, "X-Webhook-Signature": {"sha256=00"}},
		Body:   []byte(`{"type":"Error","data":{}}`), Event: "Error", Verdict: store.VerdictValid, Answer: 200,
		Forward: &store.Attempt{URL: srv.URL}}
	put(t, path, d)
	env := map[string]string{"JASNI_HISTORY": path, "WEBHOOK_SECRET": "not-vs"}
	res := clitest.Run(t, clitest.Options{Env: env}, "events", "resend", d.ID, "--provider", "voisnap", "--secret", "vs")
	if res.Code != 0 || status != 200 || gotID != "dlv_same" {
		t.Errorf("exit %d, receiver answered %d with id %q\n%s%s", res.Code, status, gotID, res.Stdout, res.Stderr)
	}
	// Without --secret, no configured secret verifies it, and Voisnap signs
	// the timestamp: nothing is sent rather than a signature known to fail.
	status = 0
	res = clitest.Run(t, clitest.Options{Env: env}, "events", "resend", d.ID, "--provider", "voisnap")
	if res.Code != 1 || status != 0 || !strings.Contains(res.Stderr, "none of the secrets configured (WEBHOOK_SECRET) verifies it") {
		t.Errorf("exit %d, receiver answered %d\n%s", res.Code, status, res.Stderr)
	}
}

// A filter that matches nothing says so, not that the history is empty.
func TestListFilterMatchesNothing(t *testing.T) {
	env, _ := seed(t, "")
	res := clitest.Run(t, clitest.Options{Env: env}, "events", "list", "--event", "email.bounced")
	if res.Code != 0 || !strings.Contains(res.Stderr, "None of the 1 deliveries in the history is email.bounced") || strings.Contains(res.Stderr, "No deliveries yet") {
		t.Errorf("exit %d %q", res.Code, res.Stderr)
	}
}

func TestPruneAndResetJSON(t *testing.T) {
	env, _ := seed(t, "")
	res := clitest.Run(t, clitest.Options{Env: env}, "events", "prune", "--all", "--output", "json")
	var out map[string]any
	if res.Code != 0 || json.Unmarshal([]byte(res.Stdout), &out) != nil || out["removed"] != float64(1) {
		t.Errorf("prune: exit %d %q", res.Code, res.Stdout)
	}
	res = clitest.Run(t, clitest.Options{Env: env}, "events", "reset", "--output", "json")
	if res.Code != 2 || !strings.Contains(res.Stderr, "reads fine (0 deliveries): pass --yes to move it aside all the same") {
		t.Errorf("reset of a history that reads fine, without --yes: exit %d %q", res.Code, res.Stderr)
	}
	res = clitest.Run(t, clitest.Options{Env: env}, "events", "reset", "--yes", "--output", "json")
	if res.Code != 0 || json.Unmarshal([]byte(res.Stdout), &out) != nil || out["moved_to"] == "" {
		t.Errorf("reset: exit %d %q", res.Code, res.Stdout)
	}
}
