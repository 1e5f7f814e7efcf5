package api

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/jasni/jasni-cli/internal/jsonpeek"
)

// Webhook is a registration. Secret is only ever set by CreateWebhook.
type Webhook struct {
	ID     string   `json:"id"`
	URL    string   `json:"url"`
	Events []string `json:"events"`
	Secret string   `json:"secret,omitempty"`
	// Active is nil when the API does not say (the 003 guide's answers
	// are not documented): unknown, not paused.
	Active      *bool  `json:"active"`
	Description string `json:"description"`
	// Status is the API's own word for the webhook's state, when it has
	// one (a webhook disabled after failed deliveries).
	Status string `json:"status,omitempty"`
}

// IsActive reports whether the API said the webhook is active.
func (w *Webhook) IsActive() bool { return w.Active != nil && *w.Active }

// CreateParams is the body of a create request. Secret is set only for an
// API where the client chooses the secret.
type CreateParams struct {
	URL         string   `json:"url"`
	Events      []string `json:"events"`
	Description string   `json:"description,omitempty"`
	Secret      string   `json:"secret,omitempty"`
}

// UpdateParams is the body of PATCH /api/v1/webhooks/{id}; nil fields are
// left as they are.
type UpdateParams struct {
	URL         *string  `json:"url,omitempty"`
	Events      []string `json:"events,omitempty"`
	Description *string  `json:"description,omitempty"`
	Active      *bool    `json:"active,omitempty"`
}

// Contract is how one provider's API manages webhook registrations:
// where, how the key is sent, and where the webhook sits in an answer.
type Contract struct {
	// Path is the webhooks collection; PATH/{id} updates and deletes.
	Path string
	// Auth is "bearer" (Authorization: Bearer KEY) or "header:NAME".
	Auth         string
	UpdateMethod string
	// Object and List are where the webhook, and the list, may sit in an
	// answer, tried in turn: dotted paths from the top, "" the top itself.
	Object, List []string
	// TestPath, when set, asks for a test delivery.
	TestPath string
}

// JasniContract is Jasni's API: answers are {"success", "data": {...}}.
var JasniContract = Contract{
	Path: "/api/v1/webhooks", Auth: "bearer", UpdateMethod: http.MethodPatch,
	Object: []string{"data.webhook"}, List: []string{"data.webhooks", "data"},
}

// whole asks do for the answer as a whole, its errors checked. With
// anyBody, a 2xx answer that is empty or not JSON is taken as it is; with
// verbatim, any 2xx answer is, whatever it says.
type whole struct {
	raw      json.RawMessage
	status   int
	anyBody  bool
	verbatim bool
}

// pick finds the first of paths in raw that holds a value of kind ('{'
// for an object, '[' for a list).
func pick(raw json.RawMessage, paths []string, kind byte) (json.RawMessage, bool) {
	for _, p := range paths {
		v := raw
		if p != "" {
			v = jsonpeek.Find(raw, strings.Split(p, "."))[0]
		}
		if t := bytes.TrimSpace(v); len(t) > 0 && t[0] == kind {
			return t, true
		}
	}
	return nil, false
}

// webhookIn reads the webhook out of an answer, where the contract says.
func (c *Client) webhookIn(w whole, needID bool) (*Webhook, error) {
	where := strings.Join(c.Contract.Object, " or ")
	raw, ok := pick(w.raw, c.Contract.Object, '{')
	if !ok {
		return nil, fmt.Errorf("the answer has no webhook (looked at %s)", cmp.Or(where, "the top level"))
	}
	var hook Webhook
	if err := json.Unmarshal(raw, &hook); err != nil {
		return nil, fmt.Errorf("the webhook in the answer is not one: %v", err)
	}
	if needID && hook.ID == "" {
		return nil, fmt.Errorf("the webhook in the answer has no id (looked at %s)", cmp.Or(where, "the top level"))
	}
	return &hook, nil
}

// CreateWebhook registers a webhook. When the client chose the secret
// (p.Secret), a 2xx answer means the webhook exists with it, so an answer
// without the webhook is not an error: the webhook is what was asked for,
// with no id, and the secret is the one sent unless the API says another.
func (c *Client) CreateWebhook(ctx context.Context, p CreateParams) (*Webhook, error) {
	w := whole{anyBody: p.Secret != ""}
	if err := c.do(ctx, http.MethodPost, c.Contract.Path, p, &w); err != nil {
		return nil, fmt.Errorf("create webhook: %w", err)
	}
	hook, err := c.webhookIn(w, p.Secret == "")
	switch {
	case err != nil && p.Secret == "":
		return nil, fmt.Errorf("create webhook: %w", err)
	case err != nil:
		hook = &Webhook{URL: p.URL, Events: p.Events, Description: p.Description}
	}
	if p.Secret != "" && hook.Secret == "" {
		hook.Secret = p.Secret
	}
	if t := bytes.TrimSpace(w.raw); len(t) > 0 && t[0] == '<' {
		// A web page, not the API: a proxy, or a wrong --api-url.
		return hook, &UnconfirmedError{Reason: "the API answered " + strconv.Itoa(w.status) + " with an HTML page, not JSON (is the API URL right?)"}
	}
	return hook, nil
}

// UnconfirmedError is a create that may not have happened: the answer was
// 2xx but not the API's. The webhook returned with it holds the secret
// that was sent, in case it did.
type UnconfirmedError struct{ Reason string }

func (e *UnconfirmedError) Error() string {
	return "create webhook: " + e.Reason + "; the webhook may not exist"
}

// ListWebhooks reads the list where the contract says: Jasni's docs do not
// spell the list out, so data.webhooks and data are both read.
func (c *Client) ListWebhooks(ctx context.Context) ([]Webhook, error) {
	var w whole
	if err := c.do(ctx, http.MethodGet, c.Contract.Path, nil, &w); err != nil {
		return nil, fmt.Errorf("list webhooks: %w", err)
	}
	raw, ok := pick(w.raw, c.Contract.List, '[')
	if !ok {
		return nil, fmt.Errorf("list webhooks: the answer has no list of webhooks (looked at %s)", strings.Join(c.Contract.List, " or "))
	}
	var list []Webhook
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, fmt.Errorf("list webhooks: the list in the answer is not one of webhooks: %v", err)
	}
	for i := range list {
		list[i].Secret = "" // shown once, at creation, even by an API that repeats it
	}
	return list, nil
}

// GetWebhook finds one webhook. The documented API has no endpoint for one
// webhook, so it is looked up in the list.
func (c *Client) GetWebhook(ctx context.Context, id string) (*Webhook, error) {
	all, err := c.ListWebhooks(ctx)
	if err != nil {
		return nil, fmt.Errorf("get webhook: %w", err)
	}
	for i := range all {
		if all[i].ID == id {
			return &all[i], nil
		}
	}
	return nil, fmt.Errorf("get webhook: %w", &Error{Kind: KindNotFound, Status: http.StatusNotFound, Resource: "webhook " + id, Provider: c.Provider})
}

// UpdateWebhook changes what p holds. An API that answers the change
// without the webhook (204, or a word of its own) is asked for it again,
// so the caller always shows the webhook as it now is.
func (c *Client) UpdateWebhook(ctx context.Context, id string, p UpdateParams) (*Webhook, error) {
	w := whole{anyBody: true}
	if err := c.do(ctx, cmp.Or(c.Contract.UpdateMethod, http.MethodPatch), c.Contract.Path+"/"+pathEscape(id), p, &w); err != nil {
		return nil, fmt.Errorf("update webhook: %w", withResource(err, id))
	}
	hook, err := c.webhookIn(w, false)
	if err != nil {
		if hook, err = c.GetWebhook(ctx, id); err != nil {
			return nil, fmt.Errorf("the webhook was updated, but reading it back failed: %w", err)
		}
	}
	hook.Secret = ""
	return hook, nil
}

func (c *Client) DeleteWebhook(ctx context.Context, id string) error {
	if err := c.do(ctx, http.MethodDelete, c.Contract.Path+"/"+pathEscape(id), nil, nil); err != nil {
		return fmt.Errorf("delete webhook: %w", withResource(err, id))
	}
	return nil
}

// TestResult is what the API answered a request for a test delivery.
type TestResult struct {
	Status int
	// Answer is the API's answer as it came: JSON, text or nothing.
	Answer []byte
}

// Failed reports whether the answer, though 2xx, says the test delivery
// failed ("success": false, "delivered": false, "ok": false, or an
// "error"), and the API's words for why.
func (r *TestResult) Failed() (bool, string) {
	var a struct {
		Success, Delivered, OK *bool
		Error                  json.RawMessage
		Message                string
	}
	if json.Unmarshal(r.Answer, &a) != nil {
		return false, ""
	}
	no := func(b *bool) bool { return b != nil && !*b }
	why := errorMessage(envelope{Error: a.Error, Message: a.Message})
	hasError := len(a.Error) > 0 && string(a.Error) != "null" && string(a.Error) != `""` && string(a.Error) != "false"
	if no(a.Success) || no(a.Delivered) || no(a.OK) || hasError {
		return true, why
	}
	return false, ""
}

// ErrNoTestEndpoint is returned by TestWebhook for an API without one.
var ErrNoTestEndpoint = errors.New("the API has no endpoint for test deliveries")

// TestWebhook asks the API to send webhook id a test delivery of event,
// with the body the 003 guide documents: {"webhook_id", "event_type"}.
func (c *Client) TestWebhook(ctx context.Context, id, event string) (*TestResult, error) {
	if c.Contract.TestPath == "" {
		return nil, ErrNoTestEndpoint
	}
	w := whole{anyBody: true, verbatim: true}
	body := struct {
		WebhookID string `json:"webhook_id"`
		EventType string `json:"event_type"`
	}{id, event}
	if err := c.do(ctx, http.MethodPost, c.Contract.TestPath, body, &w); err != nil {
		return nil, fmt.Errorf("test webhook: %w", withResource(err, id))
	}
	return &TestResult{Status: w.status, Answer: w.raw}, nil
}

func withResource(err error, id string) error {
	var e *Error
	if errors.As(err, &e) && e.Kind == KindNotFound {
		e.Resource = "webhook " + id
	}
	return err
}
