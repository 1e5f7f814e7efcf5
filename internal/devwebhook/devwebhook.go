// Package devwebhook keeps the development webhook of `jasni listen`: one
// registered Jasni webhook per profile, pointed at the tunnel on each start
// and paused on exit, so that its secret (and the app's WEBHOOK_SECRET)
// stays the same from one run to the next.
package devwebhook

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jasni/jasni-cli/internal/api"
	"github.com/jasni/jasni-cli/internal/config"
	"github.com/jasni/jasni-cli/internal/termsafe"
)

// Reporter is told what the lifecycle does; listen shows it.
type Reporter interface {
	Info(msg string)
	Warn(msg string)
	// NewSecret announces a webhook created now, whose secret Jasni shows
	// this once; saveErr says why it could not be kept in the profile.
	NewSecret(id, secret string, saveErr error)
}

// Webhook is the registered webhook listen points at its tunnel.
type Webhook struct {
	client *api.Client
	cfg    *config.Config
	id     string
	// explicit is --webhook ID: the user's own webhook, never replaced.
	explicit bool
	url      string // where Activate pointed it
}

// Development is the profile's development webhook; it has no id yet when
// the profile has none, or when its secret is lost (Jasni will not show it
// again, so only a new webhook can be verified).
func Development(client *api.Client, cfg *config.Config) *Webhook {
	w := &Webhook{client: client, cfg: cfg}
	if cfg.FileValue(cfg.Profile, config.KeyWebhookSecret) != "" {
		w.id = cfg.FileValue(cfg.Profile, config.KeyDevWebhookID)
	}
	return w
}

// Existing is a webhook the user names (--webhook ID), with its own secret.
func Existing(client *api.Client, cfg *config.Config, id string) *Webhook {
	return &Webhook{client: client, cfg: cfg, id: id, explicit: true}
}

// Activate points the webhook at url and enables it, creating the
// development webhook when there is none (or it was deleted elsewhere). It
// returns the secret to verify with when it created one, else "".
func (w *Webhook) Activate(ctx context.Context, url string, events []string, r Reporter) (string, error) {
	on := true
	w.url = url
	if w.id != "" {
		_, err := w.client.UpdateWebhook(ctx, w.id, api.UpdateParams{URL: &url, Events: events, Active: &on})
		if err == nil {
			r.Info(fmt.Sprintf("Webhook %s now sends to this tunnel", w.id))
			return "", nil
		}
		var apiErr *api.Error
		if w.explicit || !errors.As(err, &apiErr) || apiErr.Kind != api.KindNotFound {
			return "", fmt.Errorf("point webhook %s at the tunnel: %w", w.id, err)
		}
		r.Warn(fmt.Sprintf("The development webhook %s was deleted elsewhere; creating a new one", w.id))
	}
	wh, err := w.client.CreateWebhook(ctx, api.CreateParams{
		URL: url, Events: events,
		Description: fmt.Sprintf("jasni listen development webhook (profile %s)", w.cfg.Profile),
	})
	if err != nil {
		return "", fmt.Errorf("register a development webhook: %w", err)
	}
	w.id = wh.ID
	w.cfg.Set(w.cfg.Profile, config.KeyDevWebhookID, wh.ID)
	w.cfg.Set(w.cfg.Profile, config.KeyWebhookSecret, wh.Secret)
	r.NewSecret(wh.ID, wh.Secret, w.cfg.Save())
	return wh.Secret, nil
}

// Deactivate pauses the webhook so Jasni stops sending to a dead tunnel,
// unless another listen on the same profile has pointed it at its own
// tunnel since: pausing it would cut that one off.
func (w *Webhook) Deactivate(r Reporter) {
	if w.id == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if wh, err := w.client.GetWebhook(ctx, w.id); err == nil && wh.URL != w.url {
		r.Info(fmt.Sprintf("Webhook %s now sends to %s (another jasni listen?); leaving it active", w.id, termsafe.Line(wh.URL)))
		return
	}
	off := false
	if _, err := w.client.UpdateWebhook(ctx, w.id, api.UpdateParams{Active: &off}); err != nil {
		r.Warn(fmt.Sprintf("could not pause webhook %s (Jasni may keep sending to the closed tunnel): %v", w.id, err))
		return
	}
	r.Info(fmt.Sprintf("Paused webhook %s", w.id))
}
