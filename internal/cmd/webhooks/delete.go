package webhooks

import (
	"context"
	"fmt"

	"github.com/jasni/jasni-cli/internal/api"
	"github.com/jasni/jasni-cli/internal/cmdutil"
	"github.com/jasni/jasni-cli/internal/iostreams"
	"github.com/jasni/jasni-cli/internal/provider"
	"github.com/jasni/jasni-cli/internal/termsafe"
	"github.com/jasni/jasni-cli/internal/ui"
	"github.com/spf13/cobra"
)

type DeleteOptions struct {
	IO       *iostreams.IOStreams
	Client   func() (*api.Client, error)
	Provider *provider.Provider
	ID       string
	// Confirmed is --yes; without it a terminal is asked.
	Confirmed bool
}

func NewCmdDelete(f *cmdutil.Factory, runF func(*DeleteOptions) error) *cobra.Command {
	opts := &DeleteOptions{IO: f.IOStreams}
	cmd := &cobra.Command{
		Use:               "delete ID",
		Aliases:           []string{"rm"},
		Short:             "Delete a webhook",
		Long:              "Delete a webhook. On a terminal jasni asks first; elsewhere pass --yes.",
		Example:           cmdutil.Examples(`$ jasni webhooks delete wh_abc123 --yes`),
		Args:              cmdutil.ExactArgs(1),
		ValidArgsFunction: completeIDs(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ID = args[0]
			if !opts.Confirmed && !opts.IO.CanPrompt() {
				return cmdutil.FlagErrorf("--yes is required to delete without a terminal to confirm on")
			}
			t, err := resolve(f, cmd)
			if err != nil {
				return err
			}
			opts.Provider, opts.Client = t.Provider, t.Client
			if runF != nil {
				return runF(opts)
			}
			return deleteRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVarP(&opts.Confirmed, "yes", "y", false, "Delete without asking")
	return cmd
}

func deleteRun(ctx context.Context, opts *DeleteOptions) error {
	ios := opts.IO
	if !opts.Confirmed {
		ok, err := ios.Confirm(fmt.Sprintf("Delete webhook %s? %s will stop sending to it.", termsafe.Line(opts.ID), opts.Provider.Title))
		if err != nil {
			return err
		}
		if !ok {
			fmt.Fprintln(ios.ErrOut, "Not deleted.")
			return &cmdutil.SilentError{Code: cmdutil.ExitFailure}
		}
	}
	client, err := opts.Client()
	if err != nil {
		return err
	}
	if err := client.DeleteWebhook(ctx, opts.ID); err != nil {
		return err
	}
	if ios.JSON() {
		return ios.WriteJSONIndent(map[string]any{"id": opts.ID, "deleted": true})
	}
	s := ui.New(ios.ErrOut, ios.ErrColorEnabled())
	fmt.Fprintf(ios.ErrOut, "%s Deleted webhook %s\n", s.SuccessIcon(), opts.ID)
	return nil
}
