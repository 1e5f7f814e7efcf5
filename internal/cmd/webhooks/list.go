package webhooks

import (
	"context"
	"fmt"
	"strings"

	"github.com/jasni/jasni-cli/fixtures"
	"github.com/jasni/jasni-cli/internal/api"
	"github.com/jasni/jasni-cli/internal/cmdutil"
	"github.com/jasni/jasni-cli/internal/iostreams"
	"github.com/jasni/jasni-cli/internal/ui"
	"github.com/spf13/cobra"
)

type ListOptions struct {
	IO     *iostreams.IOStreams
	Client func() (*api.Client, error)
}

func NewCmdList(f *cmdutil.Factory, runF func(*ListOptions) error) *cobra.Command {
	opts := &ListOptions{IO: f.IOStreams}
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
			opts.Client = func() (*api.Client, error) { return cmdutil.APIClient(f, cmd) }
			if runF != nil {
				return runF(opts)
			}
			return listRun(cmd.Context(), opts)
		},
	}
}

func listRun(ctx context.Context, opts *ListOptions) error {
	client, err := opts.Client()
	if err != nil {
		return err
	}
	all, err := client.ListWebhooks(ctx)
	if err != nil {
		return err
	}
	ios := opts.IO
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
	t := ui.NewTable(ios.Out, ios.TableWidth(), "ID", "URL", "EVENTS", "ACTIVE", "DESCRIPTION")
	t.KeepWhole(0)
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
}
