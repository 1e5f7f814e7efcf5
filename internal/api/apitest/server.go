// Package apitest holds in-memory APIs that follow their documents: Jasni's
// (New: bearer keys, the {"success","data"} envelope, validation errors, the
// secret returned only at creation, 404 for unknown ids) and the generic
// REST API of the 003 guide (NewGeneric). Switches inject the failures a
// client must survive: 429 and 5xx, slow and malformed answers.
package apitest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"time"
)

// EventTypes are the types the API accepts in "events".
var EventTypes = []string{
	"email.received", "email.sent", "email.delivered", "email.bounced",
	"email.spam", "email.rejected", "email.deleted", "domain.verified",
}

// Webhook as stored; the secret is kept but only shown at creation.
type Webhook struct {
	ID          string   `json:"id"`
	URL         string   `json:"url"`
	Events      []string `json:"events"`
	Secret      string   `json:"secret,omitempty"`
	Active      bool     `json:"active"`
	Description string   `json:"description"`
}

// Request is one request the server saw, for assertions.
type Request struct {
	Method, Path, Authorization, UserAgent string
	Body                                   string
}

// Fault is an injected failure for the next matching requests.
type Fault struct {
	Status     int           // answer with this status (429, 500, 503...)
	RetryAfter string        // Retry-After header value, if any
	Body       string        // raw body to send instead of the envelope
	Delay      time.Duration // wait this long (or until the client gives up) first
	Times      int           // how many requests it applies to; 0 means 1
}

// Server is the fake API.
type Server struct {
	*httptest.Server

	mu       sync.Mutex
	keys     map[string]bool
	webhooks []*Webhook
	faults   []Fault
	requests []Request
	nextID   int
	// fail answers an error in the API's own shape.
	fail func(w http.ResponseWriter, status int, msg string)
	// generic holds what only the generic API has.
	generic *genericState
}

// New starts a fake API that accepts the given keys.
func New(keys ...string) *Server {
	s := newServer(fail, keys)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/webhooks", s.create)
	mux.HandleFunc("GET /api/v1/webhooks", s.list)
	mux.HandleFunc("PATCH /api/v1/webhooks/{id}", s.update)
	mux.HandleFunc("DELETE /api/v1/webhooks/{id}", s.delete)
	s.Server = httptest.NewServer(s.middleware(mux))
	return s
}

func newServer(fail func(http.ResponseWriter, int, string), keys []string) *Server {
	s := &Server{keys: map[string]bool{}, fail: fail}
	for _, k := range keys {
		s.keys[k] = true
	}
	return s
}

// Inject queues a fault for the next requests.
func (s *Server) Inject(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.Times == 0 {
		f.Times = 1
	}
	s.faults = append(s.faults, f)
}

// Requests returns every request so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Webhooks returns the stored webhooks, secrets included.
func (s *Server) Webhooks() []Webhook {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Webhook, len(s.webhooks))
	for i, w := range s.webhooks {
		out[i] = *w
	}
	return out
}

// Seed stores a webhook directly, as if created earlier.
func (s *Server) Seed(w Webhook) {
	s.mu.Lock()
	defer s.mu.Unlock()
	copied := w
	s.webhooks = append(s.webhooks, &copied)
}

func (s *Server) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body := readBody(r)
		s.mu.Lock()
		s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Authorization: r.Header.Get("Authorization"), UserAgent: r.Header.Get("User-Agent"), Body: body})
		var fault *Fault
		if len(s.faults) > 0 {
			f := s.faults[0]
			fault = &f
			s.faults[0].Times--
			if s.faults[0].Times <= 0 {
				s.faults = s.faults[1:]
			}
		}
		s.mu.Unlock()

		if fault != nil {
			if fault.Delay > 0 {
				select {
				case <-time.After(fault.Delay):
				case <-r.Context().Done():
					return
				}
			}
			if fault.Status != 0 || fault.Body != "" {
				if fault.RetryAfter != "" {
					w.Header().Set("Retry-After", fault.RetryAfter)
				}
				status := fault.Status
				if status == 0 {
					status = http.StatusOK
				}
				if fault.Body != "" {
					if strings.HasPrefix(strings.TrimSpace(fault.Body), "<") {
						w.Header().Set("Content-Type", "text/html")
					}
					w.WriteHeader(status)
					fmt.Fprint(w, fault.Body)
					return
				}
				s.fail(w, status, http.StatusText(status))
				return
			}
		}

		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || token == "" {
			s.fail(w, http.StatusUnauthorized, "Missing API key")
			return
		}
		s.mu.Lock()
		valid := s.keys[token]
		s.mu.Unlock()
		if !valid {
			s.fail(w, http.StatusUnauthorized, "Invalid API key")
			return
		}
		r.Body = readerOf(body)
		next.ServeHTTP(w, r)
	})
}

type createBody struct {
	URL         *string  `json:"url"`
	Events      []string `json:"events"`
	Description string   `json:"description"`
}

func (s *Server) create(w http.ResponseWriter, r *http.Request) {
	var b createBody
	if err := json.NewDecoder(r.Body).Decode(&b); err != nil {
		fail(w, http.StatusBadRequest, "Invalid JSON body")
		return
	}
	if b.URL == nil || *b.URL == "" {
		fail(w, http.StatusBadRequest, "url is required")
		return
	}
	if msg := checkURL(*b.URL); msg != "" {
		fail(w, http.StatusBadRequest, msg)
		return
	}
	if len(b.Events) == 0 {
		fail(w, http.StatusBadRequest, "events must be a non-empty array")
		return
	}
	if msg := checkEvents(b.Events, EventTypes); msg != "" {
		fail(w, http.StatusBadRequest, msg)
		return
	}
	s.mu.Lock()
	s.nextID++
	wh := &Webhook{
		ID:          fmt.Sprintf("wh_%s%d", randomHex(6), s.nextID),
		URL:         *b.URL,
		Events:      b.Events,
		Secret:      "whsec_" + randomHex(16),
		Active:      true,
		Description: b.Description,
	}
	s.webhooks = append(s.webhooks, wh)
	created := *wh
	s.mu.Unlock()
	ok(w, http.StatusCreated, map[string]any{"webhook": created})
}

func (s *Server) list(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	out := make([]Webhook, len(s.webhooks))
	for i, wh := range s.webhooks {
		out[i] = *wh
		out[i].Secret = ""
	}
	s.mu.Unlock()
	ok(w, http.StatusOK, map[string]any{"webhooks": out})
}

func (s *Server) find(id string) *Webhook {
	for _, wh := range s.webhooks {
		if wh.ID == id {
			return wh
		}
	}
	return nil
}

func (s *Server) update(w http.ResponseWriter, r *http.Request) {
	var b struct {
		URL         *string   `json:"url"`
		Events      *[]string `json:"events"`
		Description *string   `json:"description"`
		Active      *bool     `json:"active"`
	}
	if err := json.NewDecoder(r.Body).Decode(&b); err != nil {
		fail(w, http.StatusBadRequest, "Invalid JSON body")
		return
	}
	if b.URL != nil {
		if msg := checkURL(*b.URL); msg != "" {
			fail(w, http.StatusBadRequest, msg)
			return
		}
	}
	if b.Events != nil {
		if len(*b.Events) == 0 {
			fail(w, http.StatusBadRequest, "events must be a non-empty array")
			return
		}
		if msg := checkEvents(*b.Events, EventTypes); msg != "" {
			fail(w, http.StatusBadRequest, msg)
			return
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	wh := s.find(r.PathValue("id"))
	if wh == nil {
		fail(w, http.StatusNotFound, "Webhook not found")
		return
	}
	if b.URL != nil {
		wh.URL = *b.URL
	}
	if b.Events != nil {
		wh.Events = *b.Events
	}
	if b.Description != nil {
		wh.Description = *b.Description
	}
	if b.Active != nil {
		wh.Active = *b.Active
	}
	out := *wh
	out.Secret = ""
	ok(w, http.StatusOK, map[string]any{"webhook": out})
}

func (s *Server) delete(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := r.PathValue("id")
	for i, wh := range s.webhooks {
		if wh.ID == id {
			s.webhooks = append(s.webhooks[:i], s.webhooks[i+1:]...)
			ok(w, http.StatusOK, map[string]any{"deleted": true, "id": id})
			return
		}
	}
	fail(w, http.StatusNotFound, "Webhook not found")
}

func checkURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "url must be a valid http(s) URL"
	}
	return ""
}

func checkEvents(events, types []string) string {
	for _, e := range events {
		known := false
		for _, k := range types {
			known = known || e == k
		}
		if !known {
			return "Invalid event type: " + e
		}
	}
	return ""
}

func ok(w http.ResponseWriter, status int, data any) {
	writeJSON(w, status, map[string]any{"success": true, "data": data})
}

func fail(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"success": false, "error": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
