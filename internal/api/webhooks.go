package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
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

const webhooksPath = "/api/v1/webhooks"

type webhookData struct {
	Webhook *Webhook `json:"webhook"`
}

func (c *Client) CreateWebhook(ctx context.Context, p CreateParams) (*Webhook, error) {
	var d webhookData
	if err := c.do(ctx, http.MethodPost, webhooksPath, p, &d); err != nil {
		return nil, fmt.Errorf("create webhook: %w", err)
	}
	if d.Webhook == nil || d.Webhook.ID == "" {
		return nil, errors.New(`create webhook: the answer has no "webhook" with an id`)
	}
	return d.Webhook, nil
}

// ListWebhooks accepts the list as data.webhooks or as data itself: the
// Jasni docs do not spell the list out, so both plausible shapes are read.
func (c *Client) ListWebhooks(ctx context.Context) ([]Webhook, error) {
	var raw json.RawMessage
	if err := c.do(ctx, http.MethodGet, webhooksPath, nil, &raw); err != nil {
		return nil, fmt.Errorf("list webhooks: %w", err)
	}
	var wrapped struct {
		Webhooks []Webhook `json:"webhooks"`
	}
	if json.Unmarshal(raw, &wrapped) == nil && wrapped.Webhooks != nil {
		return wrapped.Webhooks, nil
	}
	var bare []Webhook
	if err := json.Unmarshal(raw, &bare); err != nil {
		return nil, fmt.Errorf(`list webhooks: the answer's data is neither a list nor {"webhooks": [...]}`)
	}
	return bare, nil
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
	var d webhookData
	if err := c.do(ctx, http.MethodPatch, webhooksPath+"/"+pathEscape(id), p, &d); err != nil {
		return nil, fmt.Errorf("update webhook: %w", withResource(err, id))
	}
	if d.Webhook == nil {
		return nil, errors.New(`update webhook: the answer has no "webhook"`)
	}
	return d.Webhook, nil
}

func (c *Client) DeleteWebhook(ctx context.Context, id string) error {
	if err := c.do(ctx, http.MethodDelete, webhooksPath+"/"+pathEscape(id), nil, nil); err != nil {
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
