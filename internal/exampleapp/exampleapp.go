// Package exampleapp is a webhook receiver written from the Jasni docs'
// Express and Flask examples: it reads the raw body, computes the hex
// HMAC-SHA256 with the secret, compares in constant time, answers 401 on a
// mismatch and 200 "OK" otherwise. It stands in for the user's app in the
// README's tour and in end-to-end tests, so it deliberately does not use
// jasni's own signature package: it checks jasni against the docs.
package exampleapp

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
)

// Delivery is one request the app received.
type Delivery struct {
	Event     string      `json:"event"`
	Header    http.Header `json:"-"`
	Body      []byte      `json:"-"`
	Verified  bool        `json:"verified"`
	Timestamp string      `json:"timestamp"`
}

// App handles POST /webhooks/jasni.
type App struct {
	Secret string
	// Log, when set, gets one line per delivery.
	Log io.Writer

	mu       sync.Mutex
	received []Delivery
}

func New(secret string) *App {
	return &App{Secret: secret}
}

// Handler routes the webhook path.
func (a *App) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /webhooks/jasni", a.webhook)
	return mux
}

func (a *App) webhook(w http.ResponseWriter, r *http.Request) {
	payload, err := io.ReadAll(io.LimitReader(r.Body, 10<<20))
	if err != nil {
		http.Error(w, "read error", http.StatusBadRequest)
		return
	}
	signature := r.Header.Get("X-Webhook-Signature")
	mac := hmac.New(sha256.New, []byte(a.Secret))
	mac.Write(payload)
	expected := hex.EncodeToString(mac.Sum(nil))
	verified := hmac.Equal([]byte(signature), []byte(expected))

	var event struct {
		Event     string `json:"event"`
		Timestamp string `json:"timestamp"`
	}
	_ = json.Unmarshal(payload, &event)
	d := Delivery{Event: event.Event, Timestamp: event.Timestamp, Header: r.Header.Clone(), Body: payload, Verified: verified}
	a.record(d)

	if !verified {
		if a.Log != nil {
			fmt.Fprintf(a.Log, "rejected %s: invalid signature\n", event.Event)
		}
		http.Error(w, "Invalid signature", http.StatusUnauthorized)
		return
	}
	if a.Log != nil {
		fmt.Fprintf(a.Log, "Received: %s\n", event.Event)
	}
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, "OK")
}

func (a *App) record(d Delivery) {
	a.mu.Lock()
	a.received = append(a.received, d)
	a.mu.Unlock()
}

// Received returns every delivery so far.
func (a *App) Received() []Delivery {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]Delivery(nil), a.received...)
}
