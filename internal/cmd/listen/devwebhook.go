package listen

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jasni/jasni-cli/fixtures"
	"github.com/jasni/jasni-cli/internal/api"
	"github.com/jasni/jasni-cli/internal/cmdutil"
	"github.com/jasni/jasni-cli/internal/config"
	"github.com/jasni/jasni-cli/internal/iostreams"
	"github.com/jasni/jasni-cli/internal/termsafe"
	"github.com/jasni/jasni-cli/internal/ui"
	"github.com/spf13/cobra"
)

// DevWebhook is the registered webhook listen points at its tunnel: one per
// profile, so the secret, and the app's WEBHOOK_SECRET, stay the same from
// one run to the next.
type DevWebhook struct {
	client   *api.Client
	cfg      *config.Config
	io       *iostreams.IOStreams
	id       string
	explicit bool   // --webhook ID: the user's own webhook, never replaced
	url      string // where Activate pointed it
}

// prepareDevWebhook decides whether listen manages a webhook: only with an
// API key and a public tunnel, since Jasni cannot reach a local port.
func (o *Options) prepareDevWebhook(f *cmdutil.Factory, cmd *cobra.Command, cfg *config.Config, webhookID string) error {
	if o.Provider.Name != "jasni" {
		if webhookID != "" {
			return cmdutil.FlagErrorf("--webhook registers a Jasni webhook; with --provider %s, register the tunnel's URL with that provider yourself", o.Provider.Name)
		}
		return nil
	}
	if o.Tunnel != "ngrok" {
		if webhookID != "" {
			return cmdutil.FlagErrorf("--webhook needs a public tunnel: Jasni cannot reach a local port (set NGROK_AUTHTOKEN)")
		}
		return nil
	}
	client, err := cmdutil.APIClient(f, cmd)
	if errors.Is(err, cmdutil.ErrNoAPIKey) && webhookID == "" {
		return nil // no key: the tunnel works, registering is up to the user
	}
	if err != nil {
		return err
	}
	if webhookID != "" && !cmd.Flags().Changed("secret") {
		return cmdutil.FlagErrorf("--webhook %s: pass its --secret too (Jasni shows a webhook's secret only when it is created)", webhookID)
	}
	d := &DevWebhook{client: client, cfg: cfg, io: f.IOStreams, id: webhookID, explicit: webhookID != ""}
	if !d.explicit {
		d.id = cfg.FileValue(cfg.Profile, config.KeyDevWebhookID)
		// The development webhook's secret lives in the profile; an
		// environment variable with another value would fail every delivery.
		if !cmd.Flags().Changed("secret") {
			env, envSource := o.Secret, o.SecretSource
			o.Secret, o.SecretSource = cfg.FileValue(cfg.Profile, config.KeyWebhookSecret), "the development webhook (profile "+cfg.Profile+")"
			if o.Secret != "" && env != "" && env != o.Secret && envName(envSource) {
				fmt.Fprintf(f.IOStreams.ErrOut, "warning: %s differs from the secret of the development webhook, which Jasni signs with, so listen verifies with the webhook's.\n"+
					"  An app that reads %s would refuse every delivery: export %s=\"$(jasni listen --print-secret)\"\n", envSource, envSource, envSource)
			}
		}
		if o.Secret == "" {
			// Its secret is gone from the profile and Jasni will not show it
			// again: only a new webhook can be verified.
			d.id = ""
		}
	}
	o.DevWebhook = d
	return nil
}

// Activate points the webhook at url and enables it, creating the development
// webhook when there is none (or it was deleted elsewhere). It returns the
// secret to verify with when it created one, else "".
func (d *DevWebhook) Activate(ctx context.Context, url string, events []string, disp *display) (string, error) {
	if len(events) == 0 {
		events = fixtures.Names()
	}
	on := true
	d.url = url
	if d.id != "" {
		_, err := d.client.UpdateWebhook(ctx, d.id, api.UpdateParams{URL: &url, Events: events, Active: &on})
		if err == nil {
			disp.info(fmt.Sprintf("Webhook %s now sends to this tunnel", d.id))
			return "", nil
		}
		var apiErr *api.Error
		if d.explicit || !errors.As(err, &apiErr) || apiErr.Kind != api.KindNotFound {
			return "", fmt.Errorf("point webhook %s at the tunnel: %w", d.id, err)
		}
		disp.warn(fmt.Sprintf("The development webhook %s was deleted elsewhere; creating a new one", d.id))
	}
	wh, err := d.client.CreateWebhook(ctx, api.CreateParams{
		URL: url, Events: events,
		Description: fmt.Sprintf("jasni listen development webhook (profile %s)", d.cfg.Profile),
	})
	if err != nil {
		return "", fmt.Errorf("register a development webhook: %w", err)
	}
	d.id = wh.ID
	d.cfg.Set(d.cfg.Profile, config.KeyDevWebhookID, wh.ID)
	d.cfg.Set(d.cfg.Profile, config.KeyWebhookSecret, wh.Secret)
	saveErr := d.cfg.Save()

	s := ui.New(d.io.ErrOut, d.io.ErrColorEnabled())
	lines := []string{
		s.Bold(fmt.Sprintf("New development webhook %s, with a new signing secret:", wh.ID)),
		"",
		wh.Secret,
		"",
		"Set it in your app (WEBHOOK_SECRET) and restart it; later runs reuse it.",
		"Print it again with: jasni listen --print-secret",
	}
	if saveErr != nil {
		lines = append(lines, "", s.Failure("It could not be saved ("+saveErr.Error()+"): copy it now."))
	}
	fmt.Fprint(d.io.ErrOut, s.Callout(d.io.IsStderrTTY(), lines...))
	return wh.Secret, nil
}

// Deactivate pauses the webhook so Jasni stops sending to a dead tunnel.
func (d *DevWebhook) Deactivate(disp *display) {
	if d.id == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Another listen on the same profile may have pointed the webhook at its
	// own tunnel since: pausing it would cut that one off.
	if wh, err := d.client.GetWebhook(ctx, d.id); err == nil && wh.URL != d.url {
		disp.info(fmt.Sprintf("Webhook %s now sends to %s (another jasni listen?); leaving it active", d.id, termsafe.Line(wh.URL)))
		return
	}
	off := false
	if _, err := d.client.UpdateWebhook(ctx, d.id, api.UpdateParams{Active: &off}); err != nil {
		disp.warn(fmt.Sprintf("could not pause webhook %s (Jasni may keep sending to the closed tunnel): %v", d.id, err))
		return
	}
	disp.info(fmt.Sprintf("Paused webhook %s", d.id))
}

// printDevSecret prints the secret listen verifies with, for
// `export WEBHOOK_SECRET=$(jasni listen --print-secret)`.
// It is the secret listen would verify with, resolved the same way (flag,
// then environment, then profile), so that what it prints works.
func printDevSecret(f *cmdutil.Factory, cfg *config.Config, o *Options) error {
	secret := o.Secret
	if secret == "" {
		return cmdutil.FlagErrorf("profile %q has no webhook secret yet: run \"jasni listen\" once, and it will make one", cfg.Profile)
	}
	if f.IOStreams.JSON() {
		return f.IOStreams.WriteJSON(map[string]string{"secret": secret, "source": o.SecretSource, "profile": cfg.Profile})
	}
	_, err := fmt.Fprintln(f.IOStreams.Out, secret)
	return err
}

// envName reports whether a secret's source is an environment variable.
func envName(source string) bool {
	return source != "" && source == strings.ToUpper(source) && !strings.ContainsAny(source, " -")
}
