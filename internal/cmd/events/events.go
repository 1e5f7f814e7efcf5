// Package events implements `jasni events list|show|resend|prune`: the
// history of deliveries received by `jasni listen`.
package events

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	listenCmd "github.com/jasni/jasni-cli/internal/cmd/listen"
	"github.com/jasni/jasni-cli/internal/cmdutil"
	"github.com/jasni/jasni-cli/internal/delivery"
	"github.com/jasni/jasni-cli/internal/iostreams"
	"github.com/jasni/jasni-cli/internal/provider"
	"github.com/jasni/jasni-cli/internal/store"
	"github.com/jasni/jasni-cli/internal/termsafe"
	"github.com/jasni/jasni-cli/internal/ui"
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
			deliveries (256 MiB of bodies at most) for 30 days, and the latest 500
			refused requests apart from them, in $XDG_STATE_HOME/jasni/history.db
			(or JASNI_HISTORY).
		`),
	}
	cmd.AddCommand(newCmdList(f), newCmdShow(f), newCmdResend(f), newCmdPrune(f), newCmdReset(f))
	return cmd
}

func historyPath(f *cmdutil.Factory) (string, error) {
	if path := f.Getenv("JASNI_HISTORY"); path != "" {
		return path, nil
	}
	return store.DefaultPath(f.Getenv)
}

// openHistory opens the history, or returns nil when there is none yet.
func openHistory(f *cmdutil.Factory) (*store.Store, error) {
	path, err := historyPath(f)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	h, err := store.Open(path, store.DefaultLimits)
	if err != nil {
		return nil, err
	}
	if n := h.Notice(); n != "" {
		fmt.Fprintln(f.IOStreams.ErrOut, n)
	}
	return h, nil
}

// withDelivery runs fn on the delivery with id, and the open history.
func withDelivery(ctx context.Context, f *cmdutil.Factory, id string, fn func(*store.Store, *store.Delivery) error) error {
	h, err := openHistory(f)
	if err != nil {
		return err
	}
	// Exit 1, as for an unknown webhook id: an id that names nothing is not
	// a usage error (the README's exit codes).
	notFound := fmt.Errorf("no delivery %s in the history: list them with \"jasni events list\"", termsafe.Line(id))
	if h == nil {
		return notFound
	}
	defer h.Close()
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
		h, err := openHistory(f)
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

func newCmdList(f *cmdutil.Factory) *cobra.Command {
	var (
		event    string
		limit    int
		rejected bool
	)
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List received deliveries, newest first",
		Long: cmdutil.Doc(`
			List the deliveries "jasni listen" received, newest first. Requests it
			refused (unsigned, badly signed, wrong path or method, too large) are
			kept apart, with only their first 4 KiB: list them with --rejected.
		`),
		Example: cmdutil.Examples(`
			$ jasni events list
			$ jasni events list --event email.bounced --limit 5 --output json
			$ jasni events list --rejected
		`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if event != "" {
				if err := cmdutil.CheckEvents([]string{event}); err != nil {
					return err
				}
			}
			if limit < 0 {
				return cmdutil.FlagErrorf("--limit must be 0 (no limit) or more")
			}
			h, err := openHistory(f)
			if err != nil {
				return err
			}
			var list []store.Delivery
			refused := 0
			if h != nil {
				defer h.Close()
				if list, err = h.List(cmd.Context(), store.Query{Event: event, Rejected: rejected, Limit: limit}); err != nil {
					return err
				}
				if !rejected {
					refused, _ = h.Count(cmd.Context(), true)
				}
			}
			ios := f.IOStreams
			if ios.JSON() {
				out := make([]summary, len(list))
				for i := range list {
					out[i] = summarise(&list[i])
				}
				return ios.WriteJSONIndent(out)
			}
			switch {
			case len(list) == 0 && rejected:
				fmt.Fprintln(ios.ErrOut, "No refused requests.")
			case len(list) == 0 && event != "":
				fmt.Fprintf(ios.ErrOut, "No %s deliveries in the history.\n", event)
			case len(list) == 0:
				fmt.Fprintln(ios.ErrOut, "No deliveries yet. Start \"jasni listen\", then send some with \"jasni trigger\".")
			default:
				s := ui.New(ios.Out, ios.ColorEnabled())
				t := ui.NewTable(ios.Out, ios.IsStdoutTTY(), "ID", "RECEIVED", "EVENT", "SIGNATURE", "ANSWER", "FORWARD")
				for _, d := range list {
					what := d.Event
					if rejected && d.Method != http.MethodPost {
						what = d.Method + " " + d.Path
					}
					t.AddRow(s.Accent(termsafe.Line(d.ID)), d.ReceivedAt.Local().Format("2006-01-02 15:04:05"), termsafe.Line(what),
						string(d.Verdict), answerText(d.Answer), termsafe.Line(forwardText(d.Forward)))
				}
				if err := t.Render(); err != nil {
					return err
				}
			}
			if refused > 0 {
				fmt.Fprintf(ios.ErrOut, "%d refused requests are kept apart: jasni events list --rejected\n", refused)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&event, "event", "", "Only this event type")
	cmd.Flags().IntVar(&limit, "limit", 20, "At most this many (0 for all)")
	cmd.Flags().BoolVar(&rejected, "rejected", false, "List the refused requests instead of the deliveries")
	_ = cmd.RegisterFlagCompletionFunc("event", cmdutil.EventCompletion)
	return cmd
}

type summary struct {
	ID         string         `json:"id"`
	ReceivedAt time.Time      `json:"received_at"`
	Method     string         `json:"method"`
	Path       string         `json:"path"`
	Event      string         `json:"event"`
	Verdict    store.Verdict  `json:"verdict"`
	Rejected   bool           `json:"rejected"`
	Duplicate  bool           `json:"duplicate"`
	Answer     int            `json:"answer"`
	BodySize   int64          `json:"body_size"`
	Forward    *store.Forward `json:"forward,omitempty"`
}

func summarise(d *store.Delivery) summary {
	return summary{d.ID, d.ReceivedAt, d.Method, d.Path, d.Event, d.Verdict, d.Rejected, d.Duplicate, d.Answer, d.BodySize, d.Forward}
}

func answerText(status int) string {
	if status == 0 {
		return "…" // still being forwarded
	}
	return strconv.Itoa(status)
}

func forwardText(f *store.Forward) string {
	switch {
	case f == nil:
		return "-"
	case f.Skipped != "":
		return "not forwarded: " + f.Skipped
	case f.Error != "":
		return "failed: " + f.Error
	}
	return fmt.Sprintf("%d from %s", f.Status, f.URL)
}

func newCmdShow(f *cmdutil.Factory) *cobra.Command {
	return &cobra.Command{
		Use:               "show ID",
		Short:             "Show a delivery: headers, body, signature verdict, forward result",
		Example:           cmdutil.Examples(`$ jasni events show dlv_0193a4c2b1f0a1b2c3`),
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeIDs(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withDelivery(cmd.Context(), f, args[0], func(_ *store.Store, d *store.Delivery) error {
				return show(f.IOStreams, d)
			})
		},
	}
}

// show prints one delivery. Every field but the ones jasni computed came
// from the network, so each goes through termsafe.
func show(ios *iostreams.IOStreams, d *store.Delivery) error {
	if ios.JSON() {
		return ios.WriteJSONIndent(struct {
			*store.Delivery
			Body      json.RawMessage `json:"body"`
			Truncated bool            `json:"truncated"`
		}{d, rawOrString(d.Body), d.Truncated()})
	}
	s := ui.New(ios.Out, ios.ColorEnabled())
	w := ios.Out
	line := termsafe.Line
	fmt.Fprintf(w, "%s %s\n", s.Bold("Delivery"), s.Accent(line(d.ID)))
	fmt.Fprintf(w, "Received   %s from %s\n", d.ReceivedAt.Local().Format(time.RFC3339), line(d.RemoteAddr))
	fmt.Fprintf(w, "Request    %s %s\n", line(d.Method), line(d.Path))
	fmt.Fprintf(w, "Event      %s\n", line(d.Event))
	fmt.Fprintf(w, "Signature  %s\n", d.Verdict)
	if d.Rejected {
		fmt.Fprintln(w, "Refused    yes: kept apart from the deliveries, with only the start of its body")
	}
	if d.Duplicate {
		fmt.Fprintln(w, "Duplicate  yes (same event, data.id and timestamp as an earlier delivery)")
	}
	fmt.Fprintf(w, "Answered   %s\n", answerText(d.Answer))
	fmt.Fprintf(w, "Forward    %s\n", line(forwardText(d.Forward)))
	for _, r := range d.Resends {
		fmt.Fprintf(w, "Resent     %s\n", line(forwardText(&r)))
	}
	fmt.Fprintf(w, "\n%s\n", s.Bold("Headers"))
	keys := make([]string, 0, len(d.Header))
	for k := range d.Header {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "  %s: %s\n", line(k), line(strings.Join(d.Header[k], ", ")))
	}
	if d.Truncated() {
		fmt.Fprintf(w, "\n%s (first %d of %d bytes)\n", s.Bold("Body"), len(d.Body), d.BodySize)
	} else {
		fmt.Fprintf(w, "\n%s (%d bytes)\n", s.Bold("Body"), len(d.Body))
	}
	var pretty bytes.Buffer
	if json.Indent(&pretty, d.Body, "", "  ") == nil {
		fmt.Fprintln(w, termsafe.Text(pretty.String()))
	} else {
		fmt.Fprintln(w, termsafe.Text(string(d.Body)))
	}
	return nil
}

func rawOrString(b []byte) json.RawMessage {
	if json.Valid(b) {
		return b
	}
	s, _ := json.Marshal(string(b))
	return s
}

func newCmdResend(f *cmdutil.Factory) *cobra.Command {
	var (
		forward string
		asIs    bool
		timeout time.Duration
	)
	cmd := &cobra.Command{
		Use:   "resend ID [--forward URL]",
		Short: "Send a stored delivery again",
		Long: cmdutil.Doc(`
			Send a stored delivery again, to where it was forwarded or to --forward.
			The body is sent byte for byte with its original headers. By default it is
			signed again with the current secret and a fresh timestamp (and the same
			delivery id), as the provider's retry would be (--provider, as for listen);
			--as-is sends the original headers untouched.
		`),
		Example: cmdutil.Examples(`
			$ jasni events resend dlv_0193a4c2b1f0a1b2c3
			$ jasni events resend dlv_0193a4c2b1f0a1b2c3 --forward localhost:4000 --as-is
		`),
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeIDs(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withDelivery(cmd.Context(), f, args[0], func(h *store.Store, d *store.Delivery) error {
				return resend(cmd, f, h, d, forward, asIs, timeout)
			})
		},
	}
	cmd.Flags().StringVar(&forward, "forward", "", "Send here instead: 3000, localhost:3000 or a URL")
	cmd.Flags().BoolVar(&asIs, "as-is", false, "Send the original headers and signature untouched")
	cmd.Flags().String("secret", "", "Webhook secret to sign with (default: as for listen)")
	cmdutil.AddProviderFlag(cmd)
	cmd.Flags().DurationVar(&timeout, "timeout", 30*time.Second, "How long to wait for the answer")
	return cmd
}

func resend(cmd *cobra.Command, f *cmdutil.Factory, h *store.Store, d *store.Delivery, forward string, asIs bool, timeout time.Duration) error {
	if d.Truncated() {
		return cmdutil.FlagErrorf("only the first %d of the %d bytes of %s were kept (it was refused), so it cannot be sent again", len(d.Body), d.BodySize, d.ID)
	}
	target := ""
	if forward != "" {
		u, err := listenCmd.ParseForward(forward)
		if err != nil {
			return err
		}
		target = u.String()
		if u.Path == "" || u.Path == "/" {
			target = strings.TrimRight(u.String(), "/") + d.Path
		}
	} else if d.Forward != nil && d.Forward.URL != "" {
		target = d.Forward.URL
	} else {
		return cmdutil.FlagErrorf("delivery %s was not forwarded anywhere: pass --forward localhost:3000", d.ID)
	}
	hdr := d.Header.Clone()
	for _, k := range []string{"X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "Content-Length"} {
		hdr.Del(k)
	}
	if !asIs {
		cfg, err := f.Config()
		if err != nil {
			return err
		}
		secret, _ := cmdutil.Secret(cmd, cfg)
		if secret == "" {
			return cmdutil.FlagErrorf("no webhook secret to sign with: pass --secret, or --as-is to send the original signature")
		}
		p, err := cmdutil.Provider(cmd, cfg)
		if err != nil {
			return err
		}
		key, err := p.ParseKey(secret)
		if err != nil {
			return cmdutil.FlagErrorf("--secret: %v", err)
		}
		// A retry: a fresh timestamp, the same delivery id.
		sign := delivery.Signing{Provider: p, Keys: []provider.Key{key}, Timestamp: f.Now()}
		if p.Headers.ID != "" {
			sign.ID = d.Header.Get(p.Headers.ID)
		}
		if err := delivery.Sign(hdr, d.Body, sign); err != nil {
			return err
		}
	}
	client, err := f.HttpClient()
	if err != nil {
		return err
	}
	sender := &delivery.Sender{Client: client, Timeout: timeout}
	a, err := sender.Send(cmd.Context(), delivery.Request{URL: target, Body: d.Body, Header: hdr}, nil)
	if err != nil {
		return cmdutil.ErrCancel
	}
	result := store.Forward{URL: target, Status: a.Status, DurationMS: a.Duration.Milliseconds()}
	if a.Err != nil {
		result.Error = a.Err.Error()
	}
	if err := h.AddResend(cmd.Context(), d.ID, result); err != nil {
		fmt.Fprintf(f.IOStreams.ErrOut, "warning: the resend was not recorded in the history: %s\n", termsafe.Line(err.Error()))
	}
	return report(f, d, a, result)
}

func report(f *cmdutil.Factory, d *store.Delivery, a delivery.Attempt, r store.Forward) error {
	ios := f.IOStreams
	if ios.JSON() {
		if err := ios.WriteJSON(map[string]any{"id": d.ID, "event": d.Event, "url": r.URL, "status": r.Status, "duration_ms": r.DurationMS, "ok": a.OK(), "error": r.Error}); err != nil {
			return err
		}
	} else {
		s := ui.New(ios.Out, ios.ColorEnabled())
		if a.OK() {
			fmt.Fprintf(ios.Out, "%s %s %s → %d %s  %dms\n", s.SuccessIcon(), d.ID, termsafe.Line(d.Event), r.Status, http.StatusText(r.Status), r.DurationMS)
		} else if a.Err != nil {
			fmt.Fprintf(ios.Out, "%s %s %s: %s\n", s.FailureIcon(), d.ID, termsafe.Line(d.Event), termsafe.Line(r.Error))
		} else {
			fmt.Fprintf(ios.Out, "%s %s %s → %d %s\n", s.FailureIcon(), d.ID, termsafe.Line(d.Event), r.Status, http.StatusText(r.Status))
		}
	}
	switch {
	case a.OK():
		return nil
	case a.Err != nil:
		return &cmdutil.SilentError{Code: cmdutil.ExitUnreachable}
	}
	return &cmdutil.SilentError{Code: cmdutil.ExitRejected}
}

func newCmdPrune(f *cmdutil.Factory) *cobra.Command {
	var olderThan time.Duration
	var all bool
	cmd := &cobra.Command{
		Use:   "prune (--older-than DURATION | --all)",
		Short: "Remove deliveries from the history",
		Example: cmdutil.Examples(`
			$ jasni events prune --older-than 24h
			$ jasni events prune --all
		`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if all == (olderThan > 0) {
				return cmdutil.FlagErrorf("give --older-than DURATION (e.g. 24h) or --all")
			}
			path, err := historyPath(f)
			if err != nil {
				return err
			}
			h, err := openHistory(f)
			if err != nil {
				return err
			}
			n := 0
			if h != nil {
				defer h.Close()
				if n, err = h.Prune(cmd.Context(), olderThan); err != nil {
					return err
				}
			}
			if f.IOStreams.JSON() {
				return f.IOStreams.WriteJSON(map[string]any{"removed": n, "history": path})
			}
			fmt.Fprintf(f.IOStreams.ErrOut, "Removed %d deliveries from %s\n", n, path)
			return nil
		},
	}
	cmd.Flags().DurationVar(&olderThan, "older-than", 0, "Remove deliveries older than this, e.g. 24h")
	cmd.Flags().BoolVar(&all, "all", false, "Remove every delivery")
	return cmd
}

func newCmdReset(f *cmdutil.Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "reset",
		Short: "Move the history file aside and start a new one",
		Long: cmdutil.Doc(`
			Move the history file aside (it is renamed, not deleted) so that the next
			"jasni listen" starts a new one. Use it when jasni says the history cannot
			be read.
		`),
		Example: cmdutil.Examples(`$ jasni events reset`),
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			path, err := historyPath(f)
			if err != nil {
				return err
			}
			aside, err := store.Reset(path)
			if err != nil {
				return err
			}
			if f.IOStreams.JSON() {
				return f.IOStreams.WriteJSON(map[string]any{"history": path, "moved_to": aside})
			}
			if aside == "" {
				fmt.Fprintf(f.IOStreams.ErrOut, "There is no history at %s; nothing to do.\n", path)
				return nil
			}
			fmt.Fprintf(f.IOStreams.ErrOut, "Moved the history to %s; the next \"jasni listen\" starts a new one.\n", aside)
			return nil
		},
	}
}
