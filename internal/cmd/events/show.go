package events

import (
	"context"

	"github.com/jasni/jasni-cli/internal/cmdutil"
	"github.com/jasni/jasni-cli/internal/deliveryview"
	"github.com/jasni/jasni-cli/internal/iostreams"
	"github.com/jasni/jasni-cli/internal/store"
	"github.com/jasni/jasni-cli/internal/ui"
	"github.com/spf13/cobra"
)

type ShowOptions struct {
	IO       *iostreams.IOStreams
	History  History
	Delivery Selector
}

func NewCmdShow(f *cmdutil.Factory, runF func(*ShowOptions) error) *cobra.Command {
	opts := &ShowOptions{IO: f.IOStreams}
	var last bool
	cmd := &cobra.Command{
		Use:   "show [ID | --last]",
		Short: "Show a delivery: headers, body, signature verdict, forward result",
		Example: cmdutil.Examples(`
			$ jasni events show dlv_0193a4c2b1f0a1b2c3
			$ jasni events show --last --output json | jq .body
		`),
		Args:              cobra.MaximumNArgs(1),
		ValidArgsFunction: completeIDs(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if opts.Delivery, err = selector(args, last); err != nil {
				return err
			}
			if opts.History, err = historyFor(f); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return showRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&last, "last", false, "The newest delivery")
	return cmd
}

func showRun(ctx context.Context, opts *ShowOptions) error {
	return withDelivery(ctx, opts.History, opts.Delivery, func(_ *store.Store, d *store.Delivery) error {
		if opts.IO.JSON() {
			return opts.IO.WriteJSONIndent(deliveryview.JSON(d, true))
		}
		return deliveryview.Detail(opts.IO.Out, ui.New(opts.IO.Out, opts.IO.ColorEnabled()), d)
	})
}
