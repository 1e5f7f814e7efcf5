package events

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/jasni/jasni-cli/internal/cmdutil"
	"github.com/jasni/jasni-cli/internal/iostreams"
	"github.com/jasni/jasni-cli/internal/listenstate"
	"github.com/jasni/jasni-cli/internal/store"
	"github.com/jasni/jasni-cli/internal/termsafe"
	"github.com/spf13/cobra"
)

type PruneOptions struct {
	IO      *iostreams.IOStreams
	History History
	// OlderThan is how old a delivery must be to go; 0 with All.
	OlderThan time.Duration
	All       bool
}

func NewCmdPrune(f *cmdutil.Factory, runF func(*PruneOptions) error) *cobra.Command {
	opts := &PruneOptions{IO: f.IOStreams}
	cmd := &cobra.Command{
		Use:   "prune (--older-than DURATION | --all)",
		Short: "Remove deliveries from the history",
		Example: cmdutil.Examples(`
			$ jasni events prune --older-than 24h
			$ jasni events prune --all
		`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.All == (opts.OlderThan > 0) {
				return cmdutil.FlagErrorf("give --older-than DURATION (e.g. 24h) or --all")
			}
			var err error
			if opts.History, err = historyFor(f); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return pruneRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().DurationVar(&opts.OlderThan, "older-than", 0, "Remove deliveries older than this, e.g. 24h")
	cmd.Flags().BoolVar(&opts.All, "all", false, "Remove every delivery")
	return cmd
}

func pruneRun(ctx context.Context, opts *PruneOptions) error {
	h, err := opts.History.Open()
	if err != nil {
		return err
	}
	n := 0
	if h != nil {
		defer h.Close()
		if n, err = h.Prune(ctx, opts.OlderThan); err != nil {
			return err
		}
	}
	if opts.IO.JSON() {
		return opts.IO.WriteJSON(map[string]any{"removed": n, "history": opts.History.Path})
	}
	fmt.Fprintf(opts.IO.ErrOut, "Removed %d deliveries from %s\n", n, opts.History.Path)
	return nil
}

type ResetOptions struct {
	IO      *iostreams.IOStreams
	History History
	// Yes moves a history that reads fine without asking; Force moves one
	// a running listen is writing to.
	Yes, Force bool
}

func NewCmdReset(f *cmdutil.Factory, runF func(*ResetOptions) error) *cobra.Command {
	opts := &ResetOptions{IO: f.IOStreams}
	cmd := &cobra.Command{
		Use:   "reset",
		Short: "Move the history file aside and start a new one",
		Long: cmdutil.Doc(`
			Move the history file aside (it is renamed, not deleted) so that the next
			"jasni listen" starts a new one. Use it when jasni says the history cannot
			be read. A history that reads fine is moved only after a yes (--yes
			without a terminal), and not while a "jasni listen" writes to it (stop it
			first, or --force).
		`),
		Example: cmdutil.Examples(`
			$ jasni events reset
			$ jasni events reset --yes
		`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if opts.History, err = historyFor(f); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return resetRun(opts)
		},
	}
	cmd.Flags().BoolVarP(&opts.Yes, "yes", "y", false, "Move a history that reads fine without asking")
	cmd.Flags().BoolVar(&opts.Force, "force", false, "Move it even while a jasni listen writes to it")
	return cmd
}

// checkReset refuses to move a history from under a running listen (its
// next deliveries would land in the file moved aside, out of sight), and
// asks before moving one that reads fine.
func checkReset(opts *ResetOptions) error {
	if running := listenstate.Running(listenstate.Dir(opts.History.Path)); len(running) > 0 && !opts.Force {
		st := running[0]
		// Not bad usage (2): the command is right, the moment is not.
		return fmt.Errorf("jasni listen (pid %d, at %s) is writing to this history: stop it first (Ctrl-C), or pass --force", st.PID, termsafe.Line(st.URL))
	}
	if _, err := os.Stat(opts.History.Path); err != nil || opts.Yes {
		return nil
	}
	h, err := store.Open(opts.History.Path, store.DefaultLimits)
	if err != nil {
		return nil // damaged: what reset is for
	}
	n, _ := h.Count(context.Background(), false)
	h.Close()
	ios := opts.IO
	if !ios.CanPrompt() {
		return cmdutil.FlagErrorf("the history at %s reads fine (%d deliveries): pass --yes to move it aside all the same", opts.History.Path, n)
	}
	ok, err := ios.Confirm(fmt.Sprintf("The history at %s reads fine (%d deliveries). Move it aside and start a new one?", opts.History.Path, n))
	if err != nil {
		return err
	}
	if !ok {
		fmt.Fprintln(ios.ErrOut, "Not moved.")
		return &cmdutil.SilentError{Code: cmdutil.ExitFailure}
	}
	return nil
}

func resetRun(opts *ResetOptions) error {
	if err := checkReset(opts); err != nil {
		return err
	}
	aside, err := store.Reset(opts.History.Path)
	if err != nil {
		return err
	}
	if opts.IO.JSON() {
		return opts.IO.WriteJSON(map[string]any{"history": opts.History.Path, "moved_to": aside})
	}
	if aside == "" {
		fmt.Fprintf(opts.IO.ErrOut, "There is no history at %s; nothing to do.\n", opts.History.Path)
		return nil
	}
	fmt.Fprintf(opts.IO.ErrOut, "Moved the history to %s; the next \"jasni listen\" starts a new one.\n", aside)
	return nil
}
