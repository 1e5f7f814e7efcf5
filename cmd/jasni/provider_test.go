package main_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestListenPerProvider: listen verifies each provider's deliveries the way
// that provider's docs tell a receiver to, forwards them, and refuses a
// delivery signed the Jasni way or outside the provider's time window. The
// signatures here are computed as the docs show, not with jasni's code.
func TestListenPerProvider(t *testing.T) {
	var mu sync.Mutex
	var got []string
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, string(b))
		mu.Unlock()
	}))
	defer app.Close()
	hexMAC := func(key []byte, s string) string {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(s))
		return hex.EncodeToString(m.Sum(nil))
	}
	b64MAC := func(key []byte, s string) string {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(s))
		return base64.StdEncoding.EncodeToString(m.Sum(nil))
	}
	now := time.Now().Unix()
	ts := strconv.FormatInt(now, 10)
	stale := strconv.FormatInt(now-600, 10)
	stdKey, _ := base64.StdEncoding.DecodeString("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")

	type delivery struct {
		name    string
		headers map[string]string
		want    int
	}
	tests := []struct {
		provider, secret, path, body string
		deliveries                   func(body string) []delivery
	}{
		{"voisnap", "vs_secret", "/webhooks/voisnap", `{"type":"SessionEnded","data":{"conversationId":"c1","durationSeconds":12}}`, func(body string) []delivery {
			return []delivery{
				{"as the guide signs", map[string]string{"X-Webhook-Signature": "sha256=" + hexMAC([]byte("vs_secret"), ts+"."+body), "X-Webhook-Timestamp": ts, "X-Webhook-Delivery-Id": "d1"}, 200},
				{"signed the Jasni way", map[string]string{"X-Webhook-Signature": hexMAC([]byte("vs_secret"), body), "X-Webhook-Timestamp": ts}, 401},
				{"ten minutes old", map[string]string{"X-Webhook-Signature": "sha256=" + hexMAC([]byte("vs_secret"), stale+"."+body), "X-Webhook-Timestamp": stale}, 401},
			}
		}},
		{"standard", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "/webhooks/standard", `{"type":"invoice.paid","timestamp":"2025-03-04T09:30:00Z","data":{"id":"inv_1"}}`, func(body string) []delivery {
			return []delivery{
				{"as the spec signs", map[string]string{"webhook-id": "msg_1", "webhook-timestamp": ts, "webhook-signature": "v1,bm90IGl0 v1," + b64MAC(stdKey, "msg_1."+ts+"."+body)}, 200},
				{"signed the Jasni way", map[string]string{"webhook-signature": hexMAC([]byte("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"), body)}, 401},
			}
		}},
		{"generic", "gen_secret", "/webhooks/generic", `{"id":"evt_1","type":"user.created","created_at":"2025-02-18T10:30:00Z","data":{"object":{"id":"usr_1"}},"previous_data":null}`, func(body string) []delivery {
			return []delivery{
				{"as doc 003 signs", map[string]string{"X-Webhook-Signature": hexMAC([]byte("gen_secret"), body)}, 200},
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.provider, func(t *testing.T) {
			env := []string{"XDG_STATE_HOME=" + t.TempDir(), "XDG_CONFIG_HOME=" + t.TempDir()}
			l := runListen(t, env, "--provider", tt.provider, "--secret", tt.secret, "--forward", app.URL+"/hook")
			for _, d := range tt.deliveries(tt.body) {
				req, _ := http.NewRequest(http.MethodPost, l.url+tt.path, bytes.NewReader([]byte(tt.body)))
				for k, v := range d.headers {
					req.Header.Set(k, v)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != d.want {
					t.Errorf("%s: answered %d, want %d", d.name, resp.StatusCode, d.want)
				}
			}
			out, errOut, _ := l.stop()
			if !strings.Contains(errOut, "Verifying ") || !strings.Contains(out, "\tvalid\t") {
				t.Errorf("listen output:\n%s\n%s", errOut, out)
			}
		})
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 3 {
		t.Errorf("the app got %d deliveries, want the 3 correctly signed ones: %v", len(got), got)
	}
}

// TestProviderFolder: a provider that exists only as a folder (GitHub's
// scheme, in testdata/github, the README's worked example) round-trips:
// trigger signs, a receiver written from GitHub's docs accepts, and listen
// verifies and forwards.
func TestProviderFolder(t *testing.T) {
	const secret = "gh_secret"
	var mu sync.Mutex
	var events []string
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		m := hmac.New(sha256.New, []byte(secret))
		m.Write(body)
		if !hmac.Equal([]byte("sha256="+hex.EncodeToString(m.Sum(nil))), []byte(r.Header.Get("X-Hub-Signature-256"))) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		mu.Lock()
		events = append(events, r.Header.Get("X-GitHub-Event")+" "+r.Header.Get("X-GitHub-Delivery"))
		mu.Unlock()
	}))
	defer app.Close()
	env := []string{"XDG_STATE_HOME=" + t.TempDir(), "XDG_CONFIG_HOME=" + t.TempDir()}

	if out, errOut, code := jasni(t, env, "trigger", "--all", "--provider", "./testdata/github", "--secret", secret, "--url", app.URL); code != 0 {
		t.Fatalf("trigger: exit %d\n%s%s", code, out, errOut)
	}
	l := runListen(t, env, "--provider", "./testdata/github", "--secret", secret, "--forward", app.URL)
	if out, errOut, code := jasni(t, env, "trigger", "push", "--provider", "./testdata/github", "--secret", secret, "--url", l.url+"/webhooks/github"); code != 0 {
		t.Fatalf("trigger through listen: exit %d\n%s%s", code, out, errOut)
	}
	out, _, _ := l.stop()
	if !strings.Contains(out, "push") || !strings.Contains(out, "\tvalid\t") {
		t.Errorf("listen output:\n%s", out)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(events) != 3 || !strings.HasPrefix(events[0], "ping msg_") || !strings.HasPrefix(events[2], "push msg_") {
		t.Errorf("the app got %v", events)
	}
}

// TestStandardWebhooksLibrary: every Standard Webhooks event jasni sends is
// accepted by the reference verifier library, installed from npm here.
func TestStandardWebhooksLibrary(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed")
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		t.Skip("npm is not installed")
	}
	dir := t.TempDir()
	install := exec.Command(npm, "install", "--no-audit", "--no-fund", "--silent", "--prefix", dir, "standardwebhooks@1.1.1")
	if out, err := install.CombinedOutput(); err != nil {
		t.Skipf("could not install standardwebhooks from npm: %v\n%s", err, out)
	}
	script, _ := filepath.Abs("testdata/standardwebhooks.js")
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	recv := exec.Command(node, script)
	recv.Env = append(os.Environ(), "WEBHOOK_SECRET="+secret, "NODE_PATH="+filepath.Join(dir, "node_modules"))
	url, lines := startReceiver(t, recv)
	if stdout, stderr, code := jasni(t, nil, "trigger", "--all", "--provider", "standard", "--secret", secret, "--url", url); code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"user.created", "invoice.paid", "subscription.cancelled"} {
		if !lines.Scan() || lines.Text() != "verified "+want {
			t.Errorf("the library said %q, want %q", lines.Text(), "verified "+want)
		}
	}
	stale := strconv.FormatInt(time.Now().Add(-10*time.Minute).Unix(), 10)
	if _, _, code := jasni(t, nil, "trigger", "invoice.paid", "--provider", "standard", "--secret", secret, "--url", url, "--timestamp", stale); code != 3 || !lines.Scan() || !strings.HasPrefix(lines.Text(), "rejected") {
		t.Errorf("a ten-minute-old timestamp: exit %d, the library said %q", code, lines.Text())
	}
}

// --no-signature-check is what --skip-verify was (that name now warns: in
// other CLIs it means skipping TLS checks), and --forward-insecure forwards
// to an app with a self-signed certificate.
func TestSignatureAndTLSFlags(t *testing.T) {
	var got int
	var mu sync.Mutex
	app := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got++
		mu.Unlock()
	}))
	defer app.Close()
	env := []string{"XDG_STATE_HOME=" + t.TempDir(), "XDG_CONFIG_HOME=" + t.TempDir()}
	l := runListen(t, env, "--skip-verify", "--forward-insecure", "--forward", app.URL)
	resp, err := http.Post(l.url+"/webhooks/jasni", "application/json", strings.NewReader(`{"event":"email.sent"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	_, errOut, _ := l.stop()
	if resp.StatusCode != 200 || got != 1 {
		t.Errorf("unsigned delivery to a self-signed app: %d, app got %d", resp.StatusCode, got)
	}
	if !strings.Contains(errOut, "--skip-verify is now --no-signature-check") {
		t.Errorf("no deprecation note:\n%s", errOut)
	}
}
