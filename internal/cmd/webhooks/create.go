package webhooks

import (
	"context"
	"fmt"
	"strings"

	"github.com/jasni/jasni-cli/fixtures"
	"github.com/jasni/jasni-cli/internal/api"
	"github.com/jasni/jasni-cli/internal/cmdutil"
	"github.com/jasni/jasni-cli/internal/config"
	"github.com/jasni/jasni-cli/internal/iostreams"
	"github.com/jasni/jasni-cli/internal/ui"
	"github.com/spf13/cobra"
)

type CreateOptions struct {
	IO     *iostreams.IOStreams
	Client func() (*api.Client, error)
	Config func() (*config.Config, error)

	URL         string
	Events      []string
	Description string
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
		`),
		Example: cmdutil.Examples(`
			$ jasni webhooks create --url https://app.example.com/webhooks/jasni
			$ jasni webhooks create --url https://app.example.com/webhooks/jasni --events email.received,email.bounced --description Production
			$ jasni webhooks create --url https://staging.example.com/hook --save-secret staging
			$ jasni webhooks create --url https://app.example.com/hook --output json | jq -r .secret
		`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.URL == "" {
				return cmdutil.FlagErrorf("--url is required: the https address Jasni should POST to")
			}
			if err := checkWebhookURL(opts.URL, allowHTTP); err != nil {
				return err
			}
			opts.Events = fixtures.Names()
			if cmd.Flags().Changed("events") {
				var err error
				if opts.Events, err = parseEvents(events); err != nil {
					return err
				}
			}
			if cmd.Flags().Changed("save-secret") && strings.TrimSpace(opts.SaveSecret) == "" {
				return cmdutil.FlagErrorf("--save-secret needs a profile name, e.g. --save-secret default")
			}
			opts.Client = func() (*api.Client, error) { return cmdutil.APIClient(f, cmd) }
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
	_ = cmd.RegisterFlagCompletionFunc("events", cmdutil.EventListCompletion)
	_ = cmd.RegisterFlagCompletionFunc("url", cobra.NoFileCompletions)
	return cmd
}

func createRun(ctx context.Context, opts *CreateOptions) error {
	client, err := opts.Client()
	if err != nil {
		return err
	}
	wh, err := client.CreateWebhook(ctx, api.CreateParams{URL: opts.URL, Events: opts.Events, Description: opts.Description})
	if err != nil {
		return err
	}
	// The secret is shown before anything else can fail: it cannot be had again.
	if err := showCreated(opts.IO, wh); err != nil {
		return err
	}
	if opts.SaveSecret != "" {
		return saveSecretTo(opts, wh.Secret)
	}
	return nil
}

func showCreated(ios *iostreams.IOStreams, wh *api.Webhook) error {
	if ios.JSON() {
		return ios.WriteJSONIndent(wh)
	}
	s := ui.New(ios.Out, ios.ColorEnabled())
	fmt.Fprintf(ios.Out, "%s Webhook created\n\n", s.SuccessIcon())
	printWebhook(ios.Out, s, wh)
	fmt.Fprint(ios.Out, s.Callout(ios.IsStdoutTTY(),
		s.Bold("Signing secret (shown only once, save it now):"),
		"",
		wh.Secret,
		"",
		"Set it in your app, e.g. WEBHOOK_SECRET="+wh.Secret,
	))
	return nil
}

func saveSecretTo(opts *CreateOptions, secret string) error {
	cfg, err := opts.Config()
	if err != nil {
		return err
	}
	cfg.Set(opts.SaveSecret, config.KeyWebhookSecret, secret)
	if err := cfg.Save(); err != nil {
		return fmt.Errorf("the webhook was created but its secret could not be saved (copy it from above): %w", err)
	}
	s := ui.New(opts.IO.ErrOut, opts.IO.ErrColorEnabled())
	fmt.Fprintf(opts.IO.ErrOut, "%s Secret saved as webhook_secret of profile %q in %s\n", s.SuccessIcon(), opts.SaveSecret, cfg.Path)
	return nil
}
