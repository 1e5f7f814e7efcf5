package webhooks

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/jasni/jasni-cli/internal/api"
	"github.com/jasni/jasni-cli/internal/cmdutil"
	"github.com/jasni/jasni-cli/internal/config"
	"github.com/jasni/jasni-cli/internal/iostreams"
	"github.com/jasni/jasni-cli/internal/provider"
	"github.com/jasni/jasni-cli/internal/ui"
	"github.com/spf13/cobra"
)

type CreateOptions struct {
	IO       *iostreams.IOStreams
	Client   func() (*api.Client, error)
	Config   func() (*config.Config, error)
	Provider *provider.Provider

	URL         string
	Events      []string
	Description string
	// Secret is the secret to register, for an API where the client
	// chooses it: --secret, or one jasni made (MadeSecret).
	Secret     string
	MadeSecret bool
	// SaveSecret is the profile to save the new secret in; "" for none.
	SaveSecret string
}

func NewCmdCreate(f *cmdutil.Factory, runF func(*CreateOptions) error) *cobra.Command {
	opts := &CreateOptions{IO: f.IOStreams, Config: f.Config}
	var (
		events    []string
		allowHTTP bool
	)
	cmd := &cobra.Command{
		Use:   "create --url URL [--events e1,e2] [--description D]",
		Short: "Register a webhook; its secret is shown once",
		Long: cmdutil.Doc(`
			Register a webhook endpoint. --events defaults to every event type. The URL
			must be https, except for localhost or with --allow-http.

			The answer includes the webhook's signing secret. Jasni shows it only this
			once: copy it into your app's environment (WEBHOOK_SECRET), or pass
			--save-secret PROFILE to store it in that profile of the config file, where
			"jasni trigger" and "jasni listen" find it.

			Where the client chooses the secret (--provider generic), jasni makes a
			strong one, or takes --secret, sends it with the registration and shows it
			the same way: the API never shows it again.
		`),
		Example: cmdutil.Examples(`
			$ jasni webhooks create --url https://app.example.com/webhooks/jasni
			$ jasni webhooks create --url https://app.example.com/webhooks/jasni --events email.received,email.bounced --description Production
			$ jasni webhooks create --url https://staging.example.com/hook --save-secret staging
			$ jasni webhooks create --url https://app.example.com/hook --output json | jq -r .secret
			$ jasni webhooks create --provider generic --api-url https://api.example.com --url https://app.example.com/webhooks
		`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.URL == "" {
				return cmdutil.FlagErrorf("--url is required: the https address the provider should POST to")
			}
			t, err := resolve(f, cmd)
			if err != nil {
				return err
			}
			opts.Provider, opts.Client = t.Provider, t.Client
			if err := checkWebhookURL(opts.URL, allowHTTP, opts.Provider); err != nil {
				return err
			}
			opts.Events = opts.Provider.EventNames()
			if cmd.Flags().Changed("events") {
				if opts.Events, err = parseEvents(events, opts.Provider); err != nil {
					return err
				}
			}
			if cmd.Flags().Changed("save-secret") && strings.TrimSpace(opts.SaveSecret) == "" {
				return cmdutil.FlagErrorf("--save-secret needs a profile name, e.g. --save-secret default")
			}
			if err := opts.chooseSecret(cmd.Flags().Changed("secret")); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return createRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.URL, "url", "", "The endpoint's URL (https)")
	fl.StringSliceVar(&events, "events", nil, "Event types to send, comma-separated (default: all)")
	fl.StringVar(&opts.Description, "description", "", "A note for yourself, e.g. Production")
	fl.BoolVar(&allowHTTP, "allow-http", false, "Allow a plain http URL that is not localhost")
	fl.StringVar(&opts.SaveSecret, "save-secret", "", "Save the secret as webhook_secret of `PROFILE` in the config file")
	fl.StringVar(&opts.Secret, "secret", "", "The secret to register, where the client chooses it (default: a strong one jasni makes)")
	_ = cmd.RegisterFlagCompletionFunc("events", cmdutil.EventListCompletion)
	_ = cmd.RegisterFlagCompletionFunc("url", cobra.NoFileCompletions)
	_ = cmd.RegisterFlagCompletionFunc("secret", cobra.NoFileCompletions)
	return cmd
}

// chooseSecret takes --secret, or makes one, for an API where the client
// chooses the secret; elsewhere --secret is refused.
func (o *CreateOptions) chooseSecret(given bool) error {
	p := o.Provider
	if p.API.Secret != "client" {
		if given {
			return cmdutil.FlagErrorf("--secret: %s makes each webhook's secret itself and shows it once; leave --secret out", p.Title)
		}
		return nil
	}
	if given {
		switch {
		case strings.TrimSpace(o.Secret) == "":
			return cmdutil.FlagErrorf("--secret is empty: leave it out and jasni makes a strong one")
		case strings.IndexFunc(o.Secret, unicode.IsControl) >= 0:
			return cmdutil.FlagErrorf("--secret has a control character (a line break, tab or escape): give the secret alone")
		}
		if _, err := p.ParseKey(o.Secret); err != nil {
			return cmdutil.FlagErrorf("--secret: %v", err)
		}
		if len(o.Secret) < 16 {
			fmt.Fprintf(o.IO.ErrOut, "warning: a %d-character secret is easy to guess; leave --secret out and jasni makes a strong one\n", len(o.Secret))
		}
		return nil
	}
	secret, err := p.NewSecret()
	if err != nil {
		return err
	}
	o.Secret, o.MadeSecret = secret, true
	return nil
}

func createRun(ctx context.Context, opts *CreateOptions) error {
	client, err := opts.Client()
	if err != nil {
		return err
	}
	wh, err := client.CreateWebhook(ctx, api.CreateParams{URL: opts.URL, Events: opts.Events, Description: opts.Description, Secret: opts.Secret})
	var unconfirmed *api.UnconfirmedError
	if errors.As(err, &unconfirmed) {
		// It may exist with this secret: show it, then say why in doubt.
		if showErr := showCreated(opts, wh); showErr != nil {
			return showErr
		}
		return fmt.Errorf("%w: check with jasni webhooks list%s", err, providerArgs(opts.Provider))
	}
	if err != nil {
		opts.secretOnFailure(err)
		return err
	}
	// The secret is shown before anything else can fail: it cannot be had again.
	if err := showCreated(opts, wh); err != nil {
		return err
	}
	if opts.SaveSecret != "" {
		return saveSecretTo(opts, wh.Secret)
	}
	return nil
}

// secretOnFailure shows the secret jasni made when the create may have
// reached the API all the same (no answer, or a 5xx): the webhook may exist
// with it, and nothing else knows it.
func (o *CreateOptions) secretOnFailure(err error) {
	var e *api.Error
	if !o.MadeSecret || !errors.As(err, &e) || (e.Kind != api.KindNetwork && e.Kind != api.KindBusy) || !e.MayHaveArrived() {
		return
	}
	fmt.Fprintf(o.IO.ErrOut, "The request may have reached the API. If the webhook was made (see: jasni webhooks list%s), its secret is:\n  %s\n", providerArgs(o.Provider), o.Secret)
}

func showCreated(opts *CreateOptions, wh *api.Webhook) error {
	ios := opts.IO
	if ios.JSON() {
		return ios.WriteJSONIndent(wh)
	}
	s := ui.New(ios.Out, ios.ColorEnabled())
	fmt.Fprintf(ios.Out, "%s Webhook created\n\n", s.SuccessIcon())
	printWebhook(ios.Out, s, wh)
	title := "Signing secret (shown only once, save it now):"
	if opts.Secret != "" {
		title = "Signing secret (sent to the API, which never shows it; save it now):"
	}
	fmt.Fprint(ios.Out, s.Callout(ios.IsStdoutTTY(),
		s.Bold(title),
		"",
		wh.Secret,
		"",
		"Set it in your app, e.g. WEBHOOK_SECRET="+wh.Secret,
	))
	if wh.ID == "" {
		fmt.Fprintf(ios.ErrOut, "The API's answer did not include the webhook's id: find it with jasni webhooks list%s\n", providerArgs(opts.Provider))
	}
	return nil
}

// saveSecretTo keeps the secret in the profile. A profile with no
// provider of its own gets this one too, or listen and trigger there would
// use the secret with Jasni's scheme.
func saveSecretTo(opts *CreateOptions, secret string) error {
	cfg, err := opts.Config()
	if err != nil {
		return err
	}
	cfg.Set(opts.SaveSecret, config.KeyWebhookSecret, secret)
	what := "webhook_secret"
	if p := opts.Provider; p.Name != provider.Default && cfg.FileValue(opts.SaveSecret, config.KeyProvider) == "" {
		cfg.Set(opts.SaveSecret, config.KeyProvider, p.Name)
		what = fmt.Sprintf("webhook_secret (and provider = %q)", p.Name)
	}
	if err := cfg.Save(); err != nil {
		return fmt.Errorf("the webhook was created but its secret could not be saved (copy it from above): %w", err)
	}
	s := ui.New(opts.IO.ErrOut, opts.IO.ErrColorEnabled())
	fmt.Fprintf(opts.IO.ErrOut, "%s Secret saved as %s of profile %q in %s\n", s.SuccessIcon(), what, opts.SaveSecret, cfg.Path)
	return nil
}
