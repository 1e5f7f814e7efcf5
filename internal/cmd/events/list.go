package events

import (
	"context"
	"fmt"
	"strings"

	"github.com/jasni/jasni-cli/internal/cmdutil"
	"github.com/jasni/jasni-cli/internal/deliveryview"
	"github.com/jasni/jasni-cli/internal/iostreams"
	"github.com/jasni/jasni-cli/internal/store"
	"github.com/jasni/jasni-cli/internal/ui"
	"github.com/spf13/cobra"
)

type ListOptions struct {
	IO      *iostreams.IOStreams
	History History

	Event    string
	Limit    int
	Rejected bool
}

func NewCmdList(f *cmdutil.Factory, runF func(*ListOptions) error) *cobra.Command {
	opts := &ListOptions{IO: f.IOStreams}
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List received deliveries, newest first",
		Long: cmdutil.Doc(`
			List the deliveries "jasni listen" received, newest first, one line each
			as listen shows them. Requests it refused (unsigned, badly signed, wrong
			path or method, too large) are kept apart, with only their first 4 KiB:
			list them with --rejected.

			Piped, each line is tab-separated: id, time (RFC 3339), event, verdict
			(valid, invalid, missing, not checked), answer, outcome, and "duplicate".
		`),
		Example: cmdutil.Examples(`
			$ jasni events list
			$ jasni events list --event email.bounced --limit 5 --output json
			$ jasni events list --rejected
		`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Event != "" {
				if err := cmdutil.CheckEventsOf([]string{opts.Event}, cmdutil.AllEventNames()); err != nil {
					return err
				}
			}
			if opts.Limit < 0 {
				return cmdutil.FlagErrorf("--limit must be 0 (no limit) or more")
			}
			var err error
			if opts.History, err = historyFor(f); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return listRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Event, "event", "", "Only this event type")
	cmd.Flags().IntVar(&opts.Limit, "limit", 20, "At most this many (0 for all)")
	cmd.Flags().BoolVar(&opts.Rejected, "rejected", false, "List the refused requests instead of the deliveries")
	_ = cmd.RegisterFlagCompletionFunc("event", cmdutil.EventCompletion)
	return cmd
}

func listRun(ctx context.Context, opts *ListOptions) error {
	h, err := opts.History.Open()
	if err != nil {
		return err
	}
	var list []store.Delivery
	refused, all := 0, 0
	if h != nil {
		defer h.Close()
		if list, err = h.List(ctx, store.Query{Event: opts.Event, Rejected: opts.Rejected, Limit: opts.Limit}); err != nil {
			return err
		}
		if !opts.Rejected {
			refused, _ = h.Count(ctx, true)
		}
		all, _ = h.Count(ctx, opts.Rejected)
	}
	ios := opts.IO
	if ios.JSON() {
		out := make([]deliveryview.Object, len(list))
		for i := range list {
			out[i] = deliveryview.JSON(&list[i], false)
		}
		return ios.WriteJSONIndent(out)
	}
	switch {
	case len(list) == 0 && opts.Rejected:
		fmt.Fprintln(ios.ErrOut, "No refused requests.")
	case len(list) == 0 && all > 0:
		fmt.Fprintf(ios.ErrOut, "None of the %d deliveries in the history is %s.\n", all, opts.Event)
	case len(list) == 0:
		fmt.Fprintln(ios.ErrOut, "No deliveries yet. Start \"jasni listen\", then send some with \"jasni trigger\".")
	case ios.IsStdoutTTY():
		s := ui.New(ios.Out, ios.ColorEnabled())
		var b strings.Builder
		for i := range list {
			b.WriteString(deliveryview.Line(s, &list[i], ios.TerminalWidth(), "Jan 02 15:04") + "\n")
		}
		if _, err := fmt.Fprint(ios.Out, b.String()); err != nil {
			return err
		}
	default:
		var b strings.Builder
		for i := range list {
			b.WriteString(strings.Join(deliveryview.Fields(&list[i]), "\t") + "\n")
		}
		if _, err := fmt.Fprint(ios.Out, b.String()); err != nil {
			return err
		}
	}
	if refused > 0 {
		fmt.Fprintf(ios.ErrOut, "%d refused requests are kept apart: jasni events list --rejected\n", refused)
	}
	return nil
}
