package relay_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jasni/jasni-cli/internal/delivery"
	"github.com/jasni/jasni-cli/internal/provider"
	"github.com/jasni/jasni-cli/internal/relay"
)

// The handshakes providers send before any event are answered by listen
// as each provider's docs require, and never reach the app; a handshake
// that is not signed right is refused like any delivery.
func TestHandshakes(t *testing.T) {
	const hmacSecret = "s3cr3t-token"
	const ed25519Private = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
	tests := []struct {
		provider string
		secret   string
		// check judges the answer as the provider does.
		check func(t *testing.T, ctype string, body []byte)
	}{
		{"slack", hmacSecret, func(t *testing.T, _ string, b []byte) {
			if string(b) != "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" {
				t.Errorf("answer %q, want the challenge", b)
			}
		}},
		{"zoom", hmacSecret, func(t *testing.T, ctype string, b []byte) {
			var a struct{ PlainToken, EncryptedToken string }
			mac := hmac.New(sha256.New, []byte(hmacSecret))
			mac.Write([]byte("qgg8vlvZRS6UYooatFL8Aw"))
			if json.Unmarshal(b, &a) != nil || a.PlainToken != "qgg8vlvZRS6UYooatFL8Aw" || a.EncryptedToken != hex.EncodeToString(mac.Sum(nil)) || !strings.Contains(ctype, "json") {
				t.Errorf("answer %s (%s), want the plainToken and its HMAC", b, ctype)
			}
		}},
		{"discord", ed25519Private, func(t *testing.T, ctype string, b []byte) {
			var a struct{ Type int }
			if json.Unmarshal(b, &a) != nil || a.Type != 1 || !strings.Contains(ctype, "json") {
				t.Errorf("answer %s (%s), want {\"type\":1}", b, ctype)
			}
		}},
		{"twitch", hmacSecret, func(t *testing.T, ctype string, b []byte) {
			if string(b) != "pogchamp-kappa-360noscope-vohiyo" || !strings.HasPrefix(ctype, "text/plain") {
				t.Errorf("answer %q (%s), want the challenge as text", b, ctype)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.provider, func(t *testing.T) {
			p, err := provider.Builtin(tt.provider)
			if err != nil {
				t.Fatal(err)
			}
			k, err := p.ParseKey(tt.secret)
			if err != nil {
				t.Fatal(err)
			}
			app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				t.Errorf("the app got the handshake: %s %s", r.Method, r.URL)
			}))
			defer app.Close()
			h := start(t, relay.Config{Provider: p, Keys: []provider.Key{k}, Secret: tt.secret, Forward: mustURL(app.URL), Paths: []string{"/webhooks/" + p.Name}})
			ev, ok := p.Event(p.Handshake.Event)
			if !ok {
				t.Fatalf("no %s fixture", p.Handshake.Event)
			}
			for _, signed := range []bool{true, false} {
				keys := []provider.Key{k}
				if !signed {
					keys = nil
				}
				req, err := delivery.NewRequest(h.url+"/webhooks/"+p.Name, ev.JSON, ev.Name, delivery.Signing{Provider: p, Keys: keys, Timestamp: time.Now()}, nil, nil)
				if err != nil {
					t.Fatal(err)
				}
				hr, _ := http.NewRequest(http.MethodPost, req.URL, bytes.NewReader(req.Body))
				hr.Header = req.Header
				resp, err := http.DefaultClient.Do(hr)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if !signed {
					if resp.StatusCode != http.StatusUnauthorized {
						t.Errorf("an unsigned handshake: %d, want 401", resp.StatusCode)
					}
					continue
				}
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("status %d: %s", resp.StatusCode, body)
				}
				tt.check(t, resp.Header.Get("Content-Type"), body)
			}
			ds := h.deliveries()
			if len(ds) != 2 || !strings.Contains(ds[0].Forward.Skipped, "handshake, answered by listen") {
				t.Errorf("recorded %+v", ds[0].Forward)
			}
		})
	}
}

// With --no-signature-check, anyone can send: a handshake is not answered
// (Zoom's answer is an HMAC made with the secret, which would sign
// whatever a stranger asked), it is forwarded like any request.
func TestHandshakeNotAnsweredUnverified(t *testing.T) {
	const secret = "s3cr3t-token"
	p, _ := provider.Builtin("zoom")
	k, _ := p.ParseKey(secret)
	got := make(chan string, 1)
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- string(b)
	}))
	defer app.Close()
	h := start(t, relay.Config{Provider: p, Keys: []provider.Key{k}, Secret: secret, SkipVerify: true, Forward: mustURL(app.URL), Paths: []string{"/webhooks/zoom"}})
	forged := `{"payload":{"plainToken":"v0:1700000000:{\"event\":\"meeting.started\"}"},"event_ts":1700000000000,"event":"endpoint.url_validation"}`
	resp, err := http.Post(h.url+"/webhooks/zoom", "application/json", strings.NewReader(forged))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.Contains(string(body), "encryptedToken") {
		t.Fatalf("an unverified handshake was answered with an HMAC of the secret: %s", body)
	}
	if b := <-got; b != forged {
		t.Errorf("the app got %q", b)
	}
}
