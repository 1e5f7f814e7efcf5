package webhooks

import (
	"context"

	"github.com/jasni/jasni-cli/internal/api"
	"github.com/jasni/jasni-cli/internal/cmdutil"
	"github.com/jasni/jasni-cli/internal/iostreams"
	"github.com/jasni/jasni-cli/internal/ui"
	"github.com/spf13/cobra"
)

type GetOptions struct {
	IO     *iostreams.IOStreams
	Client func() (*api.Client, error)
	ID     string
}

func NewCmdGet(f *cmdutil.Factory, runF func(*GetOptions) error) *cobra.Command {
	opts := &GetOptions{IO: f.IOStreams}
	return &cobra.Command{
		Use:               "get ID",
		Short:             "Show one webhook",
		Example:           cmdutil.Examples(`$ jasni webhooks get wh_abc123`),
		Args:              cmdutil.ExactArgs(1),
		ValidArgsFunction: completeIDs(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ID = args[0]
			t, err := resolve(f, cmd)
			if err != nil {
				return err
			}
			opts.Client = t.Client
			if runF != nil {
				return runF(opts)
			}
			return getRun(cmd.Context(), opts)
		},
	}
}

func getRun(ctx context.Context, opts *GetOptions) error {
	client, err := opts.Client()
	if err != nil {
		return err
	}
	wh, err := client.GetWebhook(ctx, opts.ID)
	if err != nil {
		return err
	}
	return show(opts.IO, wh)
}

func show(ios *iostreams.IOStreams, wh *api.Webhook) error {
	if ios.JSON() {
		return ios.WriteJSONIndent(wh)
	}
	printWebhook(ios.Out, ui.New(ios.Out, ios.ColorEnabled()), wh)
	return nil
}
