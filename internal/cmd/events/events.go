// Package events implements `jasni events list|show|resend|prune|reset`: the
// history of deliveries received by `jasni listen`.
package events

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/jasni/jasni-cli/internal/cmdutil"
	"github.com/jasni/jasni-cli/internal/store"
	"github.com/jasni/jasni-cli/internal/termsafe"
	"github.com/spf13/cobra"
)

func NewCmdEvents(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "events <command>",
		Args:  cmdutil.SubcommandArgs,
		RunE:  cmdutil.GroupRunE,
		Short: "Inspect and resend the deliveries jasni listen received",
		Long: cmdutil.Doc(`
			Every delivery "jasni listen" receives is stored before it is forwarded, so
			nothing is lost while your app is down. The history keeps the latest 10,000
			deliveries (1 GiB of bodies at most) for 30 days, and the latest 500
			refused requests apart from them, in $XDG_STATE_HOME/jasni/history.db
			(or JASNI_HISTORY).
		`),
	}
	cmd.AddCommand(NewCmdList(f, nil), NewCmdShow(f, nil), NewCmdResend(f, nil), NewCmdPrune(f, nil), NewCmdReset(f, nil))
	return cmd
}

// History is where the history lives; commands open it when they run, so
// the flags→Options tests never touch a file.
type History struct {
	Path string
	// Notices gets what opening the history had to say (an old file
	// migrated, a damaged one set aside).
	Notices io.Writer
}

func historyFor(f *cmdutil.Factory) (History, error) {
	path, err := store.DefaultPath(f.Getenv)
	if err != nil {
		return History{}, err
	}
	return History{Path: path, Notices: f.IOStreams.ErrOut}, nil
}

// Open opens the history, or returns nil when there is none yet.
func (h History) Open() (*store.Store, error) {
	if _, err := os.Stat(h.Path); errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	s, err := store.Open(h.Path, store.DefaultLimits)
	if err != nil {
		return nil, err
	}
	if n := s.Notice(); n != "" && h.Notices != nil {
		fmt.Fprintln(h.Notices, n)
	}
	return s, nil
}

// Selector names one delivery: an id, or the newest (--last).
type Selector struct {
	ID   string
	Last bool
}

// selector reads `[ID | --last]`.
func selector(args []string, last bool) (Selector, error) {
	switch {
	case len(args) == 1 && last:
		return Selector{}, cmdutil.FlagErrorf("give a delivery ID or --last, not both")
	case len(args) == 0 && !last:
		return Selector{}, cmdutil.FlagErrorf("which delivery? Give its ID (see \"jasni events list\") or --last for the newest")
	case len(args) == 1:
		return Selector{ID: args[0]}, nil
	}
	return Selector{Last: true}, nil
}

// withDelivery runs fn on the delivery sel names, and the open history.
// An id that names nothing exits 1, as an unknown webhook id does: it is
// not a usage error.
func withDelivery(ctx context.Context, hist History, sel Selector, fn func(*store.Store, *store.Delivery) error) error {
	h, err := hist.Open()
	if err != nil {
		return err
	}
	notFound := fmt.Errorf("no delivery %s in the history: list them with \"jasni events list\"", termsafe.Line(sel.ID))
	if sel.Last {
		notFound = errors.New("the history has no deliveries yet: start \"jasni listen\", then send some with \"jasni trigger\"")
	}
	if h == nil {
		return notFound
	}
	defer h.Close()
	id := sel.ID
	if sel.Last {
		list, err := h.List(ctx, store.Query{Limit: 1})
		if err != nil {
			return err
		}
		if len(list) == 0 {
			return notFound
		}
		id = list[0].ID
	}
	d, err := h.Get(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return notFound
	}
	if err != nil {
		return err
	}
	return fn(h, d)
}

func completeIDs(f *cmdutil.Factory) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		hist, err := historyFor(f)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		hist.Notices = nil
		h, err := hist.Open()
		if err != nil || h == nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		defer h.Close()
		list, _ := h.List(cmd.Context(), store.Query{Limit: 50})
		var out []cobra.Completion
		for _, d := range list {
			if strings.HasPrefix(d.ID, toComplete) {
				out = append(out, cobra.CompletionWithDesc(d.ID, termsafe.Line(d.Event)+" "+d.ReceivedAt.Format(time.Stamp)))
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}
