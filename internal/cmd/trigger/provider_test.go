package trigger_test

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jasni/jasni-cli/internal/clitest"
)

// receiver records what a handler written from a provider's docs accepted.
type receiver struct {
	mu       sync.Mutex
	accepted []map[string]any
	ids      []string
}

func (r *receiver) accept(event map[string]any, id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.accepted = append(r.accepted, event)
	r.ids = append(r.ids, id)
}

func hmacHex(key, msg []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write(msg)
	return hex.EncodeToString(m.Sum(nil))
}

// voisnapHandler transcribes the Voisnap guide's FastAPI handler.
func voisnapHandler(secret string, r *receiver) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		signature := req.Header.Get("X-Webhook-Signature")
		timestamp := req.Header.Get("X-Webhook-Timestamp")
		if timestamp == "" {
			timestamp = "0"
		}
		deliveryID := req.Header.Get("X-Webhook-Delivery-Id")
		body, _ := io.ReadAll(req.Body)
		ts, err := strconv.ParseInt(timestamp, 10, 64)
		if err != nil || math.Abs(float64(time.Now().Unix()-ts)) > 300 {
			http.Error(w, `{"detail":"Webhook timestamp too old"}`, http.StatusBadRequest)
			return
		}
		expected := "sha256=" + hmacHex([]byte(secret), []byte(timestamp+"."+string(body)))
		if !hmac.Equal([]byte(expected), []byte(signature)) {
			http.Error(w, `{"detail":"Invalid signature"}`, http.StatusUnauthorized)
			return
		}
		var event map[string]any
		if json.Unmarshal(body, &event) != nil {
			http.Error(w, "bad json", http.StatusBadRequest)
			return
		}
		r.accept(event, deliveryID)
		io.WriteString(w, `{"status":"received"}`)
	})
}

// genericHandler transcribes doc 003's Flask example.
func genericHandler(secret string, r *receiver) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		payload, _ := io.ReadAll(req.Body)
		signature := req.Header.Get("X-Webhook-Signature")
		if !hmac.Equal([]byte(signature), []byte(hmacHex([]byte(secret), payload))) {
			http.Error(w, `{"error":"Invalid signature"}`, http.StatusUnauthorized)
			return
		}
		var event map[string]any
		json.Unmarshal(payload, &event)
		r.accept(event, "")
		io.WriteString(w, `{"status":"received"}`)
	})
}

// standardHandler follows the Standard Webhooks spec's verification.
func standardHandler(secret string, r *receiver) http.Handler {
	key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		id, ts := req.Header.Get("webhook-id"), req.Header.Get("webhook-timestamp")
		n, err := strconv.ParseInt(ts, 10, 64)
		if err != nil || math.Abs(float64(time.Now().Unix()-n)) > 300 {
			http.Error(w, "timestamp", http.StatusBadRequest)
			return
		}
		m := hmac.New(sha256.New, key)
		m.Write([]byte(id + "." + ts + "." + string(body)))
		want := base64.StdEncoding.EncodeToString(m.Sum(nil))
		ok := false
		for _, sig := range strings.Split(req.Header.Get("webhook-signature"), " ") {
			if v, s, found := strings.Cut(sig, ","); found && v == "v1" && hmac.Equal([]byte(s), []byte(want)) {
				ok = true
			}
		}
		if !ok {
			http.Error(w, "signature", http.StatusUnauthorized)
			return
		}
		var event map[string]any
		json.Unmarshal(body, &event)
		r.accept(event, id)
	})
}

func TestTriggerPerProvider(t *testing.T) {
	tests := []struct {
		provider, secret string
		handler          func(string, *receiver) http.Handler
		events           int
		check            func(t *testing.T, ev map[string]any)
	}{
		{"voisnap", "vs_secret", voisnapHandler, 5, func(t *testing.T, ev map[string]any) {
			data, _ := ev["data"].(map[string]any)
			if ev["type"] == "SessionEnded" && (data["conversationId"] == nil || data["durationSeconds"] == nil) {
				t.Errorf("SessionEnded lacks the fields the guide reads: %v", data)
			}
		}},
		{"generic", "gen_secret", genericHandler, 7, func(t *testing.T, ev map[string]any) {
			id, _ := ev["id"].(string)
			if !strings.HasPrefix(id, "evt_") || id == "evt_abc123" {
				t.Errorf("event id %q: want a fresh evt_ id", id)
			}
			if _, ok := ev["previous_data"]; !ok {
				t.Error("no previous_data")
			}
			if _, err := time.Parse(time.RFC3339, ev["created_at"].(string)); err != nil {
				t.Errorf("created_at: %v", err)
			}
		}},
		{"standard", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", standardHandler, 3, func(t *testing.T, ev map[string]any) {
			if ev["type"] == nil || ev["timestamp"] == nil || ev["data"] == nil {
				t.Errorf("not a {type, timestamp, data} payload: %v", ev)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.provider, func(t *testing.T) {
			rec := &receiver{}
			srv := httptest.NewServer(tt.handler(tt.secret, rec))
			defer srv.Close()
			res := clitest.Run(t, clitest.Options{}, "trigger", "--all", "--provider", tt.provider, "--secret", tt.secret, "--url", srv.URL)
			if res.Code != 0 {
				t.Fatalf("exit %d\n%s\n%s", res.Code, res.Stdout, res.Stderr)
			}
			if len(rec.accepted) != tt.events {
				t.Fatalf("the receiver accepted %d events, want %d", len(rec.accepted), tt.events)
			}
			for _, ev := range rec.accepted {
				tt.check(t, ev)
			}
		})
	}
}

// A stale --timestamp is refused by a receiver that checks the window; a
// delivery id is the same on every --repeat copy; the generic provider's
// retries end with what it does in production.
func TestTriggerProviderDetails(t *testing.T) {
	rec := &receiver{}
	srv := httptest.NewServer(voisnapHandler("vs", rec))
	defer srv.Close()
	stale := strconv.FormatInt(time.Now().Add(-10*time.Minute).Unix(), 10)
	res := clitest.Run(t, clitest.Options{}, "trigger", "SessionEnded", "--provider", "voisnap", "--secret", "vs", "--url", srv.URL, "--timestamp", stale)
	if res.Code != 3 || !strings.Contains(res.Stdout, "400") {
		t.Errorf("stale timestamp: exit %d\n%s", res.Code, res.Stdout)
	}
	res = clitest.Run(t, clitest.Options{}, "trigger", "SessionEnded", "--provider", "voisnap", "--secret", "vs", "--url", srv.URL, "--repeat", "3")
	if res.Code != 0 || len(rec.ids) != 3 || rec.ids[0] == "" || rec.ids[0] != rec.ids[1] || rec.ids[1] != rec.ids[2] {
		t.Errorf("--repeat: exit %d ids %v", res.Code, rec.ids)
	}

	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) }))
	defer down.Close()
	res = clitest.Run(t, clitest.Options{}, "trigger", "user.created", "--provider", "generic", "--secret", "g", "--url", down.URL, "--retry-delays", "0,0,0,0,0")
	if res.Code != 3 || !strings.Contains(res.Stderr, "the provider disables the webhook") {
		t.Errorf("all retries failed: exit %d\n%s", res.Code, res.Stderr)
	}
	for _, bad := range []struct {
		args []string
		want string
	}{
		{[]string{"--provider", "voisnap", "email.received"}, "Known events: SessionStarted"},
		{[]string{"--provider", "standard", "--secret", "not-whsec", "--all"}, `starts with "whsec_"`},
		{[]string{"--provider", "voisnap", "--all", "--timestamp", "yesterday"}, "give Unix seconds"},
	} {
		res := clitest.Run(t, clitest.Options{}, append([]string{"trigger", "--url", srv.URL, "--secret", "s"}, bad.args...)...)
		if res.Code != 2 || !strings.Contains(res.Stderr, bad.want) {
			t.Errorf("%v: exit %d %q, want %q", bad.args, res.Code, res.Stderr, bad.want)
		}
	}
}

func TestEventCompletionFollowsTheProvider(t *testing.T) {
	res := clitest.Run(t, clitest.Options{}, "__complete", "trigger", "--provider", "voisnap", "Se")
	if !strings.Contains(res.Stdout, "SessionStarted") || strings.Contains(res.Stdout, "email.") {
		t.Errorf("voisnap completion:\n%s", res.Stdout)
	}
	res = clitest.Run(t, clitest.Options{}, "__complete", "listen", "--provider", "generic", "--events", "user.created,pay")
	if !strings.Contains(res.Stdout, "user.created,payment.succeeded") {
		t.Errorf("--events completion:\n%s", res.Stdout)
	}
}

// --secret twice, during a key rotation: a Standard Webhooks delivery
// carries a signature for each, so receivers on either key accept it.
func TestKeyRotation(t *testing.T) {
	const oldKey, newKey = "whsec_b2xkIGtleSBieXRlcw==", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	for _, receiverKey := range []string{oldKey, newKey} {
		rec := &receiver{}
		srv := httptest.NewServer(standardHandler(receiverKey, rec))
		res := clitest.Run(t, clitest.Options{}, "trigger", "invoice.paid", "--provider", "standard", "--secret", oldKey, "--secret", newKey, "--url", srv.URL)
		srv.Close()
		if res.Code != 0 || len(rec.accepted) != 1 {
			t.Errorf("receiver on %s: exit %d\n%s%s", receiverKey[:10], res.Code, res.Stdout, res.Stderr)
		}
	}
}

// A Discord profile keeps its key when WEBHOOK_SECRET holds a Jasni secret
// (no Discord key): trigger signs with the profile's, and a receiver that
// verifies with its public key, as Discord's docs do, accepts it.
func TestEnvironmentSecretOfAnotherProviderIsSetAside(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	config := filepath.Join(t.TempDir(), "config.toml")
	os.WriteFile(config, []byte("[d]\nprovider = 'discord'\nwebhook_secret = '"+hex.EncodeToString(priv)+"'\n"), 0o600)
	var verified atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		sig, _ := hex.DecodeString(r.Header.Get("X-Signature-Ed25519"))
		verified.Store(ed25519.Verify(pub, append([]byte(r.Header.Get("X-Signature-Timestamp")), body...), sig))
		w.Write([]byte(`{"type":1}`))
	}))
	defer srv.Close()
	env := map[string]string{"JASNI_CONFIG": config, "WEBHOOK_SECRET": "whsec_demo"}
	res := clitest.Run(t, clitest.Options{Env: env}, "trigger", "PING", "--profile", "d", "--url", srv.URL)
	if res.Code != 0 || !verified.Load() {
		t.Errorf("exit %d, verified %v\n%s%s", res.Code, verified.Load(), res.Stdout, res.Stderr)
	}
	// Without a key of its own, the profile's provider's, it says what to do.
	res = clitest.Run(t, clitest.Options{Env: env}, "trigger", "PING", "--provider", "discord", "--url", srv.URL)
	if res.Code != 2 || !strings.Contains(res.Stderr, "Pass --secret with Discord's key") {
		t.Errorf("exit %d\n%s", res.Code, res.Stderr)
	}
}
