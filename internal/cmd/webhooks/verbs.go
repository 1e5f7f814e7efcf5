package webhooks

import (
	"fmt"
	"strings"

	"github.com/jasni/jasni-cli/fixtures"
	"github.com/jasni/jasni-cli/internal/api"
	"github.com/jasni/jasni-cli/internal/cmdutil"
	"github.com/jasni/jasni-cli/internal/config"
	"github.com/jasni/jasni-cli/internal/ui"
	"github.com/spf13/cobra"
)

func newCmdCreate(f *cmdutil.Factory) *cobra.Command {
	var (
		rawURL, description, saveSecret string
		events                          []string
		allowHTTP                       bool
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
			if rawURL == "" {
				return cmdutil.FlagErrorf("--url is required: the https address Jasni should POST to")
			}
			if err := checkWebhookURL(rawURL, allowHTTP); err != nil {
				return err
			}
			chosen := fixtures.Names()
			if cmd.Flags().Changed("events") {
				var err error
				if chosen, err = parseEvents(events); err != nil {
					return err
				}
			}
			if cmd.Flags().Changed("save-secret") && strings.TrimSpace(saveSecret) == "" {
				return cmdutil.FlagErrorf("--save-secret needs a profile name, e.g. --save-secret default")
			}
			client, err := cmdutil.APIClient(f, cmd)
			if err != nil {
				return err
			}
			wh, err := client.CreateWebhook(cmd.Context(), api.CreateParams{URL: rawURL, Events: chosen, Description: description})
			if err != nil {
				return err
			}
			// The secret is shown before anything else can fail: it cannot be had again.
			if err := showCreated(f, wh); err != nil {
				return err
			}
			if saveSecret != "" {
				return saveSecretTo(f, saveSecret, wh.Secret)
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&rawURL, "url", "", "The endpoint's URL (https)")
	fl.StringSliceVar(&events, "events", nil, "Event types to send, comma-separated (default: all)")
	fl.StringVar(&description, "description", "", "A note for yourself, e.g. Production")
	fl.BoolVar(&allowHTTP, "allow-http", false, "Allow a plain http URL that is not localhost")
	fl.StringVar(&saveSecret, "save-secret", "", "Save the secret as webhook_secret of `PROFILE` in the config file")
	_ = cmd.RegisterFlagCompletionFunc("events", cmdutil.EventListCompletion)
	_ = cmd.RegisterFlagCompletionFunc("url", cobra.NoFileCompletions)
	return cmd
}

func showCreated(f *cmdutil.Factory, wh *api.Webhook) error {
	ios := f.IOStreams
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

func saveSecretTo(f *cmdutil.Factory, profile, secret string) error {
	cfg, err := f.Config()
	if err != nil {
		return err
	}
	cfg.Set(profile, config.KeyWebhookSecret, secret)
	if err := cfg.Save(); err != nil {
		return fmt.Errorf("the webhook was created but its secret could not be saved (copy it from above): %w", err)
	}
	s := ui.New(f.IOStreams.ErrOut, f.IOStreams.ErrColorEnabled())
	fmt.Fprintf(f.IOStreams.ErrOut, "%s Secret saved as webhook_secret of profile %q in %s\n", s.SuccessIcon(), profile, cfg.Path)
	return nil
}

func newCmdList(f *cmdutil.Factory) *cobra.Command {
	return &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List your webhooks",
		Example: cmdutil.Examples(`
			$ jasni webhooks list
			$ jasni webhooks list --output json | jq -r '.[] | select(.active) | .url'
		`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			client, err := cmdutil.APIClient(f, cmd)
			if err != nil {
				return err
			}
			all, err := client.ListWebhooks(cmd.Context())
			if err != nil {
				return err
			}
			ios := f.IOStreams
			if ios.JSON() {
				if all == nil {
					all = []api.Webhook{}
				}
				return ios.WriteJSONIndent(all)
			}
			if len(all) == 0 {
				fmt.Fprintln(ios.ErrOut, "No webhooks yet. Create one with: jasni webhooks create --url https://your-app.example.com/webhooks/jasni")
				return nil
			}
			s := ui.New(ios.Out, ios.ColorEnabled())
			t := ui.NewTable(ios.Out, ios.IsStdoutTTY(), "ID", "URL", "EVENTS", "ACTIVE", "DESCRIPTION")
			for _, wh := range all {
				active := s.Success("yes")
				if !wh.Active {
					active = s.Warning("no")
				}
				events := strings.Join(wh.Events, ",")
				if len(wh.Events) == len(fixtures.Names()) && ios.IsStdoutTTY() {
					events = "all"
				}
				t.AddRow(s.Accent(wh.ID), wh.URL, events, active, wh.Description)
			}
			return t.Render()
		},
	}
}

func newCmdGet(f *cmdutil.Factory) *cobra.Command {
	return &cobra.Command{
		Use:               "get ID",
		Short:             "Show one webhook",
		Example:           cmdutil.Examples(`$ jasni webhooks get wh_abc123`),
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeIDs(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			client, err := cmdutil.APIClient(f, cmd)
			if err != nil {
				return err
			}
			wh, err := client.GetWebhook(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return show(f, wh)
		},
	}
}

func show(f *cmdutil.Factory, wh *api.Webhook) error {
	ios := f.IOStreams
	if ios.JSON() {
		return ios.WriteJSONIndent(wh)
	}
	printWebhook(ios.Out, ui.New(ios.Out, ios.ColorEnabled()), wh)
	return nil
}

func newCmdUpdate(f *cmdutil.Factory) *cobra.Command {
	var (
		rawURL, description string
		events              []string
		active, allowHTTP   bool
	)
	cmd := &cobra.Command{
		Use:   "update ID [--url URL] [--events e1,e2] [--description D] [--active=true|false]",
		Short: "Change a webhook's URL, events, description or state",
		Example: cmdutil.Examples(`
			$ jasni webhooks update wh_abc123 --url https://new.example.com/webhooks/jasni
			$ jasni webhooks update wh_abc123 --events email.received --active=false
		`),
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeIDs(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			var p api.UpdateParams
			fl := cmd.Flags()
			if fl.Changed("url") {
				if err := checkWebhookURL(rawURL, allowHTTP); err != nil {
					return err
				}
				p.URL = &rawURL
			}
			if fl.Changed("events") {
				chosen, err := parseEvents(events)
				if err != nil {
					return err
				}
				p.Events = chosen
			}
			if fl.Changed("description") {
				p.Description = &description
			}
			if fl.Changed("active") {
				p.Active = &active
			}
			if p.URL == nil && p.Events == nil && p.Description == nil && p.Active == nil {
				return cmdutil.FlagErrorf("nothing to change: give --url, --events, --description or --active")
			}
			client, err := cmdutil.APIClient(f, cmd)
			if err != nil {
				return err
			}
			wh, err := client.UpdateWebhook(cmd.Context(), args[0], p)
			if err != nil {
				return err
			}
			return show(f, wh)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&rawURL, "url", "", "New endpoint URL (https)")
	fl.StringSliceVar(&events, "events", nil, "New event types, comma-separated (replaces the list)")
	fl.StringVar(&description, "description", "", "New description")
	fl.BoolVar(&active, "active", true, "Enable (true) or pause (false) deliveries")
	fl.BoolVar(&allowHTTP, "allow-http", false, "Allow a plain http URL that is not localhost")
	_ = cmd.RegisterFlagCompletionFunc("events", cmdutil.EventListCompletion)
	return cmd
}

func newCmdDelete(f *cmdutil.Factory) *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:               "delete ID",
		Aliases:           []string{"rm"},
		Short:             "Delete a webhook",
		Long:              "Delete a webhook. On a terminal jasni asks first; elsewhere pass --yes.",
		Example:           cmdutil.Examples(`$ jasni webhooks delete wh_abc123 --yes`),
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeIDs(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			ios := f.IOStreams
			id := args[0]
			if !yes {
				if !ios.CanPrompt() {
					return cmdutil.FlagErrorf("--yes is required to delete without a terminal to confirm on")
				}
				ok, err := ios.Confirm(fmt.Sprintf("Delete webhook %s? Jasni will stop sending to it.", id))
				if err != nil {
					return err
				}
				if !ok {
					fmt.Fprintln(ios.ErrOut, "Not deleted.")
					return &cmdutil.SilentError{Code: cmdutil.ExitFailure}
				}
			}
			client, err := cmdutil.APIClient(f, cmd)
			if err != nil {
				return err
			}
			if err := client.DeleteWebhook(cmd.Context(), id); err != nil {
				return err
			}
			if ios.JSON() {
				return ios.WriteJSONIndent(map[string]any{"id": id, "deleted": true})
			}
			s := ui.New(ios.ErrOut, ios.ErrColorEnabled())
			fmt.Fprintf(ios.ErrOut, "%s Deleted webhook %s\n", s.SuccessIcon(), id)
			return nil
		},
	}
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "Delete without asking")
	return cmd
}
