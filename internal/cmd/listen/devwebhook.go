package listen

import (
	"errors"
	"fmt"
	"strings"

	"github.com/jasni/jasni-cli/internal/cmdutil"
	"github.com/jasni/jasni-cli/internal/config"
	"github.com/jasni/jasni-cli/internal/devwebhook"
	"github.com/spf13/cobra"
)

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
	if webhookID != "" {
		o.DevWebhook = devwebhook.Existing(client, cfg, webhookID)
		return nil
	}
	o.DevWebhook = devwebhook.Development(client, cfg)
	// The development webhook's secret lives in the profile, and Jasni signs
	// with it: an environment variable with another value would fail every
	// delivery, so the profile's wins here, with a warning.
	if !cmd.Flags().Changed("secret") {
		env, envSource := o.Secret, o.SecretSource
		o.Secret, o.SecretSource = cfg.FileValue(cfg.Profile, config.KeyWebhookSecret), "the development webhook (profile "+cfg.Profile+")"
		if o.Secret != "" && env != "" && env != o.Secret && cmdutil.FromEnvironment(envSource) {
			fmt.Fprintf(f.IOStreams.ErrOut, "warning: %s differs from the secret of the development webhook, which Jasni signs with, so listen verifies with the webhook's.\n"+
				"  An app that reads %s would refuse every delivery: export %s=\"$(jasni listen --print-secret%s)\"\n", envSource, envSource, envSource, cmdutil.ProfileArgs(cmd))
		}
	}
	return nil
}

// reporter shows what the session does (the development webhook's
// lifecycle, the history's troubles) through the display.
type reporter struct{ d *display }

func (r reporter) Info(msg string)         { r.d.info(msg) }
func (r reporter) Warn(msg string)         { r.d.warn(msg) }
func (r reporter) HistoryFailed(err error) { r.d.historyFailed(err) }
func (r reporter) RecordRefused(err error) { r.d.recordError(err) }

// NewSecret makes the new secret unmissable: Jasni shows it only once.
func (r reporter) NewSecret(id, secret string, saveErr error) {
	s := r.d.err
	lines := []string{
		s.Bold(fmt.Sprintf("New development webhook %s, with a new signing secret:", id)),
		"",
		secret,
		"",
		"Set it in your app (WEBHOOK_SECRET) and restart it; later runs reuse it.",
		"Print it again with: jasni listen --print-secret",
	}
	if saveErr != nil {
		lines = append(lines, "", s.Failure("It could not be saved ("+saveErr.Error()+"): copy it now."))
	}
	r.d.info(strings.TrimSuffix(s.Callout(r.d.io.IsStderrTTY(), lines...), "\n"))
}

// printDevSecret prints the secret listen verifies with, for
// `export WEBHOOK_SECRET=$(jasni listen --print-secret)`.
// It is the secret listen would verify with, resolved the same way (flag,
// then environment, then profile), so that what it prints works.
func printDevSecret(f *cmdutil.Factory, cfg *config.Config, o *Options) error {
	secret := o.Secret
	if secret == "" && o.setAside != "" {
		return cmdutil.FlagErrorf("the secret from %s is no %s key, and profile %q has none: give %s a profile of its own: %s", o.setAside, o.Provider.Title, cfg.Profile, o.Provider.Title, o.ownProfileHint())
	}
	if secret == "" && o.profilesOther != "" {
		return cmdutil.FlagErrorf("profile %q is %s's, and has no secret for %s: give %s a profile of its own: %s", cfg.Profile, cmdutil.ProviderTitle(o.profilesOther), o.Provider.Title, o.Provider.Title, o.ownProfileHint())
	}
	if secret == "" {
		return cmdutil.FlagErrorf("profile %q has no webhook secret yet: run \"jasni listen\" once, and it will make one", cfg.Profile)
	}
	if f.IOStreams.JSON() {
		return f.IOStreams.WriteJSON(map[string]string{"secret": secret, "source": o.SecretSource, "profile": cfg.Profile})
	}
	_, err := fmt.Fprintln(f.IOStreams.Out, secret)
	return err
}
