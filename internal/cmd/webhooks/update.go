package webhooks

import (
	"context"

	"github.com/jasni/jasni-cli/internal/api"
	"github.com/jasni/jasni-cli/internal/cmdutil"
	"github.com/jasni/jasni-cli/internal/iostreams"
	"github.com/spf13/cobra"
)

type UpdateOptions struct {
	IO     *iostreams.IOStreams
	Client func() (*api.Client, error)
	ID     string
	// Change holds only what the flags given change.
	Change api.UpdateParams
}

func NewCmdUpdate(f *cmdutil.Factory, runF func(*UpdateOptions) error) *cobra.Command {
	opts := &UpdateOptions{IO: f.IOStreams}
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
		Args:              cmdutil.ExactArgs(1),
		ValidArgsFunction: completeIDs(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ID = args[0]
			t, err := resolve(f, cmd)
			if err != nil {
				return err
			}
			opts.Client = t.Client
			p := &opts.Change
			fl := cmd.Flags()
			if fl.Changed("url") {
				if err := checkWebhookURL(rawURL, allowHTTP, t.Provider); err != nil {
					return err
				}
				p.URL = &rawURL
			}
			if fl.Changed("events") {
				chosen, err := parseEvents(events, t.Provider)
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
			if runF != nil {
				return runF(opts)
			}
			return updateRun(cmd.Context(), opts)
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

func updateRun(ctx context.Context, opts *UpdateOptions) error {
	client, err := opts.Client()
	if err != nil {
		return err
	}
	wh, err := client.UpdateWebhook(ctx, opts.ID, opts.Change)
	if err != nil {
		return err
	}
	return show(opts.IO, wh)
}
