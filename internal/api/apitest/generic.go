package apitest

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"
)

// GenericEventTypes are the events of the 003 guide's table.
var GenericEventTypes = []string{
	"resource.created", "resource.updated", "resource.deleted",
	"user.created", "user.updated", "payment.succeeded", "payment.failed",
}

// Shape is where the generic API puts a webhook, and a list, in its
// answers: the guide shows requests only, so the client must read each.
type Shape int

const (
	ShapeTop     Shape = iota // the webhook itself; a bare array
	ShapeData                 // {"data": webhook}; {"data": [...]}
	ShapeWebhook              // {"webhook": webhook}; {"webhooks": [...]}
)

// Delivery is a test delivery the generic API sent, with the answer.
type Delivery struct {
	URL, Signature string
	Body           []byte
	Status         int
	Err            error
}

type genericState struct {
	shape      Shape
	client     *http.Client
	deliveries []Delivery
	failures   map[string]int
}

// genericView is a webhook as the generic API shows it: its state as a
// status, as a webhook disabled after failed deliveries is described.
type genericView struct {
	ID          string   `json:"id"`
	URL         string   `json:"url"`
	Events      []string `json:"events"`
	Description string   `json:"description,omitempty"`
	Status      string   `json:"status"`
}

func view(wh *Webhook) genericView {
	status := "active"
	if !wh.Active {
		status = "disabled"
	}
	return genericView{ID: wh.ID, URL: wh.URL, Events: wh.Events, Description: wh.Description, Status: status}
}

// NewGeneric starts the generic REST API of the 003 guide: a bearer token;
// POST /v1/webhooks with the client's secret; GET to list; PATCH and DELETE
// /v1/webhooks/{id}; POST /v1/webhooks/test, which sends a signed test
// delivery (hex HMAC-SHA256 of the body in X-Webhook-Signature) to the
// webhook's URL and disables the webhook after 5 failed attempts.
func NewGeneric(shape Shape, keys ...string) *Server {
	s := newServer(genericFail, keys)
	s.generic = &genericState{shape: shape, client: &http.Client{Timeout: 5 * time.Second}, failures: map[string]int{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/webhooks", s.genericCreate)
	mux.HandleFunc("GET /v1/webhooks", s.genericList)
	mux.HandleFunc("PATCH /v1/webhooks/{id}", s.genericUpdate)
	mux.HandleFunc("DELETE /v1/webhooks/{id}", s.genericDelete)
	mux.HandleFunc("POST /v1/webhooks/test", s.genericTest)
	s.Server = httptest.NewServer(s.middleware(mux))
	return s
}

// Deliveries returns the test deliveries sent so far.
func (s *Server) Deliveries() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Delivery(nil), s.generic.deliveries...)
}

func genericFail(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]string{"message": msg, "code": http.StatusText(status)}})
}

func (s *Server) answer(w http.ResponseWriter, status int, one *genericView, list []genericView) {
	var v any
	switch {
	case one != nil && s.generic.shape == ShapeData:
		v = map[string]any{"data": one}
	case one != nil && s.generic.shape == ShapeWebhook:
		v = map[string]any{"webhook": one}
	case one != nil:
		v = one
	case s.generic.shape == ShapeData:
		v = map[string]any{"data": list}
	case s.generic.shape == ShapeWebhook:
		v = map[string]any{"webhooks": list}
	default:
		v = list
	}
	writeJSON(w, status, v)
}

func (s *Server) genericCreate(w http.ResponseWriter, r *http.Request) {
	var b struct {
		URL         string   `json:"url"`
		Events      []string `json:"events"`
		Secret      string   `json:"secret"`
		Description string   `json:"description"`
	}
	switch err := json.NewDecoder(r.Body).Decode(&b); {
	case err != nil:
		genericFail(w, http.StatusBadRequest, "invalid JSON body")
		return
	case checkURL(b.URL) != "":
		genericFail(w, http.StatusBadRequest, "url: "+checkURL(b.URL))
		return
	case len(b.Events) == 0 || checkEvents(b.Events, GenericEventTypes) != "":
		genericFail(w, http.StatusBadRequest, "events: "+checkEvents(b.Events, GenericEventTypes))
		return
	case b.Secret == "":
		genericFail(w, http.StatusBadRequest, "secret is required")
		return
	}
	s.mu.Lock()
	s.nextID++
	wh := &Webhook{ID: fmt.Sprintf("wh_%s%d", randomHex(6), s.nextID), URL: b.URL, Events: b.Events, Secret: b.Secret, Active: true, Description: b.Description}
	s.webhooks = append(s.webhooks, wh)
	v := view(wh)
	s.mu.Unlock()
	s.answer(w, http.StatusCreated, &v, nil)
}

func (s *Server) genericList(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	list := make([]genericView, 0, len(s.webhooks))
	for _, wh := range s.webhooks {
		list = append(list, view(wh))
	}
	s.mu.Unlock()
	s.answer(w, http.StatusOK, nil, list)
}

func (s *Server) genericUpdate(w http.ResponseWriter, r *http.Request) {
	var b struct {
		URL         *string   `json:"url"`
		Events      *[]string `json:"events"`
		Description *string   `json:"description"`
		Active      *bool     `json:"active"`
	}
	if err := json.NewDecoder(r.Body).Decode(&b); err != nil {
		genericFail(w, http.StatusBadRequest, "invalid JSON body")
		return
	}
	if b.URL != nil && checkURL(*b.URL) != "" {
		genericFail(w, http.StatusBadRequest, "url: "+checkURL(*b.URL))
		return
	}
	if b.Events != nil && (len(*b.Events) == 0 || checkEvents(*b.Events, GenericEventTypes) != "") {
		genericFail(w, http.StatusBadRequest, "events: "+checkEvents(*b.Events, GenericEventTypes))
		return
	}
	s.mu.Lock()
	wh := s.find(r.PathValue("id"))
	if wh == nil {
		s.mu.Unlock()
		genericFail(w, http.StatusNotFound, "webhook not found")
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
	v := view(wh)
	s.mu.Unlock()
	s.answer(w, http.StatusOK, &v, nil)
}

func (s *Server) genericDelete(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := r.PathValue("id")
	for i, wh := range s.webhooks {
		if wh.ID == id {
			s.webhooks = append(s.webhooks[:i], s.webhooks[i+1:]...)
			w.WriteHeader(http.StatusNoContent)
			return
		}
	}
	genericFail(w, http.StatusNotFound, "webhook not found")
}

// genericTest sends the test delivery the guide's "Manual Testing" asks
// for, with the payload of its "Webhook Payload", and answers with how it
// went.
func (s *Server) genericTest(w http.ResponseWriter, r *http.Request) {
	var b struct {
		WebhookID string `json:"webhook_id"`
		EventType string `json:"event_type"`
	}
	if err := json.NewDecoder(r.Body).Decode(&b); err != nil || b.WebhookID == "" || b.EventType == "" {
		genericFail(w, http.StatusBadRequest, "webhook_id and event_type are required")
		return
	}
	if msg := checkEvents([]string{b.EventType}, GenericEventTypes); msg != "" {
		genericFail(w, http.StatusBadRequest, "event_type: "+msg)
		return
	}
	s.mu.Lock()
	wh := s.find(b.WebhookID)
	var target Webhook
	if wh != nil {
		target = *wh
	}
	s.mu.Unlock()
	if wh == nil {
		genericFail(w, http.StatusNotFound, "webhook not found")
		return
	}
	body, _ := json.Marshal(map[string]any{
		"id": "evt_" + randomHex(6), "type": b.EventType, "created_at": time.Now().UTC().Format(time.RFC3339),
		"data":          map[string]any{"object": map[string]any{"id": "res_" + randomHex(4), "name": "Test Resource", "status": "active"}},
		"previous_data": nil,
	})
	mac := hmac.New(sha256.New, []byte(target.Secret))
	mac.Write(body)
	d := Delivery{URL: target.URL, Signature: hex.EncodeToString(mac.Sum(nil)), Body: body}
	d.Status, d.Err = s.send(r.Context(), d)

	s.mu.Lock()
	s.generic.deliveries = append(s.generic.deliveries, d)
	if d.Err != nil || d.Status < 200 || d.Status > 299 {
		s.generic.failures[wh.ID]++
		if s.generic.failures[wh.ID] >= 5 {
			wh.Active = false
		}
	} else {
		s.generic.failures[wh.ID] = 0
	}
	s.mu.Unlock()
	result := map[string]any{"webhook_id": b.WebhookID, "event_type": b.EventType, "delivered": d.Err == nil, "response_status": d.Status}
	writeJSON(w, http.StatusOK, result)
}

func (s *Server) send(ctx context.Context, d Delivery) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.URL, bytes.NewReader(d.Body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Webhook-Signature", d.Signature)
	resp, err := s.generic.client.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}
