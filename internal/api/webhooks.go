package api

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/jasni/jasni-cli/internal/jsonpeek"
)

// Webhook is a registration. Secret is only ever set by CreateWebhook.
type Webhook struct {
	ID          string   `json:"id"`
	URL         string   `json:"url"`
	Events      []string `json:"events"`
	Secret      string   `json:"secret,omitempty"`
	Active      bool     `json:"active"`
	Description string   `json:"description"`
}

// CreateParams is the body of POST /api/v1/webhooks.
type CreateParams struct {
	URL         string   `json:"url"`
	Events      []string `json:"events"`
	Description string   `json:"description,omitempty"`
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

// whole asks do for the answer as a whole, its errors checked.
type whole struct{ raw json.RawMessage }

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

func (c *Client) CreateWebhook(ctx context.Context, p CreateParams) (*Webhook, error) {
	var w whole
	if err := c.do(ctx, http.MethodPost, c.Contract.Path, p, &w); err != nil {
		return nil, fmt.Errorf("create webhook: %w", err)
	}
	hook, err := c.webhookIn(w, true)
	if err != nil {
		return nil, fmt.Errorf("create webhook: %w", err)
	}
	return hook, nil
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
	return nil, fmt.Errorf("get webhook: %w", &Error{Kind: KindNotFound, Status: http.StatusNotFound, Resource: "webhook " + id})
}

func (c *Client) UpdateWebhook(ctx context.Context, id string, p UpdateParams) (*Webhook, error) {
	var w whole
	if err := c.do(ctx, cmp.Or(c.Contract.UpdateMethod, http.MethodPatch), c.Contract.Path+"/"+pathEscape(id), p, &w); err != nil {
		return nil, fmt.Errorf("update webhook: %w", withResource(err, id))
	}
	hook, err := c.webhookIn(w, false)
	if err != nil {
		return nil, fmt.Errorf("update webhook: %w", err)
	}
	return hook, nil
}

func (c *Client) DeleteWebhook(ctx context.Context, id string) error {
	if err := c.do(ctx, http.MethodDelete, c.Contract.Path+"/"+pathEscape(id), nil, nil); err != nil {
		return fmt.Errorf("delete webhook: %w", withResource(err, id))
	}
	return nil
}

func withResource(err error, id string) error {
	var e *Error
	if errors.As(err, &e) && e.Kind == KindNotFound {
		e.Resource = "webhook " + id
	}
	return err
}
