package webhooks

import (
	"context"
	"fmt"
	"strings"

	"github.com/jasni/jasni-cli/internal/api"
	"github.com/jasni/jasni-cli/internal/cmdutil"
	"github.com/jasni/jasni-cli/internal/iostreams"
	"github.com/jasni/jasni-cli/internal/provider"
	"github.com/jasni/jasni-cli/internal/termsafe"
	"github.com/jasni/jasni-cli/internal/ui"
	"github.com/spf13/cobra"
)

type ListOptions struct {
	IO       *iostreams.IOStreams
	Client   func() (*api.Client, error)
	Provider *provider.Provider
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
			t, err := resolve(f, cmd)
			if err != nil {
				return err
			}
			opts.Provider, opts.Client = t.Provider, t.Client
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
		fmt.Fprintf(ios.ErrOut, "No webhooks yet. Create one with: jasni webhooks create%s --url https://your-app.example.com/webhooks/%s\n", providerArgs(opts.Provider), opts.Provider.Name)
		return nil
	}
	s := ui.New(ios.Out, ios.ColorEnabled())
	t := ui.NewTable(ios.Out, ios.TableWidth(), "ID", "URL", "EVENTS", "ACTIVE", "DESCRIPTION")
	t.KeepWhole(0)
	every := len(opts.Provider.EventNames())
	for _, wh := range all {
		events := strings.Join(wh.Events, ",")
		if len(wh.Events) == every && ios.IsStdoutTTY() {
			events = "all"
		}
		t.AddRow(s.Accent(termsafe.Line(wh.ID)), termsafe.Line(wh.URL), termsafe.Line(events), activeText(s, &wh), termsafe.Line(wh.Description))
	}
	return t.Render()
}
