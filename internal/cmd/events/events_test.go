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
			"X-Webhook-Signature": {"0000"}, "X-Forwarded-For": {"1.2.3.4"}},
		Body: body, Event: "email.sent", Verdict: store.VerdictValid, Answer: 502,
		Forward: &store.Forward{URL: forwardURL, Error: "your app is not running"},
	}
	put(t, path, d)
	return map[string]string{"JASNI_HISTORY": path, "WEBHOOK_SECRET": secret}, d.ID
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
	res = clitest.Run(t, clitest.Options{Env: env}, "events", "show", id)
	for _, want := range []string{"Event      email.sent", "Answered   502", "X-Webhook-Signature: 0000", `"event": "email.sent"`} {
		if !strings.Contains(res.Stdout, want) {
			t.Errorf("show lacks %q:\n%s", want, res.Stdout)
		}
	}

	// --as-is keeps the stored (wrong) signature: the app refuses it.
	res = clitest.Run(t, clitest.Options{Env: env}, "events", "resend", id, "--as-is")
	if res.Code != 3 {
		t.Errorf("resend --as-is: exit %d, want 3 (the stored signature is wrong)", res.Code)
	}
	// Re-signed with the current secret: accepted, and the forwarding headers are not replayed.
	res = clitest.Run(t, clitest.Options{Env: env}, "events", "resend", id)
	got := app.Received()
	if res.Code != 0 || len(got) != 2 || !got[1].Verified || got[1].Header.Get("X-Forwarded-For") != "" {
		t.Fatalf("resend: exit %d %s; app got %+v", res.Code, res.Stderr, got)
	}
	if ts := got[1].Header.Get("X-Webhook-Timestamp"); ts == "" {
		t.Error("no fresh timestamp")
	}
	res = clitest.Run(t, clitest.Options{Env: env}, "events", "show", id, "--output", "json")
	if !strings.Contains(res.Stdout, `"resends"`) {
		t.Errorf("resend not recorded:\n%s", res.Stdout)
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
		Forward: &store.Forward{URL: srv.URL}}
	put(t, path, d)
	res := clitest.Run(t, clitest.Options{Env: map[string]string{"JASNI_HISTORY": path}}, "events", "resend", d.ID, "--provider", "voisnap", "--secret", "vs")
	if res.Code != 0 || status != 200 || gotID != "dlv_same" {
		t.Errorf("exit %d, receiver answered %d with id %q\n%s%s", res.Code, status, gotID, res.Stdout, res.Stderr)
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
	if res.Code != 0 || json.Unmarshal([]byte(res.Stdout), &out) != nil || out["moved_to"] == "" {
		t.Errorf("reset: exit %d %q", res.Code, res.Stdout)
	}
}
