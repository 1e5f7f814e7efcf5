// Package events implements `jasni events list|show|resend|prune`: the
// history of deliveries received by `jasni listen`.
package events

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	listenCmd "github.com/jasni/jasni-cli/internal/cmd/listen"
	"github.com/jasni/jasni-cli/internal/cmdutil"
	"github.com/jasni/jasni-cli/internal/delivery"
	"github.com/jasni/jasni-cli/internal/signature"
	"github.com/jasni/jasni-cli/internal/store"
	"github.com/jasni/jasni-cli/internal/ui"
	"github.com/spf13/cobra"
)

func NewCmdEvents(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "events <command>",
		Short: "Inspect and resend the deliveries jasni listen received",
		Long: cmdutil.Doc(`
			Every delivery "jasni listen" receives is stored before it is forwarded, so
			nothing is lost while your app is down. The history keeps the latest 1000
			deliveries for 30 days, in $XDG_STATE_HOME/jasni/history.db (or JASNI_HISTORY).
		`),
	}
	cmd.AddCommand(newCmdList(f), newCmdShow(f), newCmdResend(f), newCmdPrune(f))
	return cmd
}

func history(f *cmdutil.Factory) (*store.Store, error) {
	path := f.Getenv("JASNI_HISTORY")
	if path == "" {
		var err error
		if path, err = store.DefaultPath(f.Getenv); err != nil {
			return nil, err
		}
	}
	return store.Open(path, store.DefaultLimits), nil
}

func get(f *cmdutil.Factory, id string) (*store.Delivery, error) {
	h, err := history(f)
	if err != nil {
		return nil, err
	}
	d, err := h.Get(id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, cmdutil.FlagErrorf("no delivery %s in the history: list them with \"jasni events list\"", id)
	}
	return d, err
}

func completeIDs(f *cmdutil.Factory) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		h, err := history(f)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		list, _ := h.List("", 50)
		var out []cobra.Completion
		for _, d := range list {
			if strings.HasPrefix(d.ID, toComplete) {
				out = append(out, cobra.CompletionWithDesc(d.ID, d.Event+" "+d.ReceivedAt.Format(time.Stamp)))
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

func newCmdList(f *cmdutil.Factory) *cobra.Command {
	var (
		event string
		limit int
	)
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List received deliveries, newest first",
		Example: cmdutil.Examples(`
			$ jasni events list
			$ jasni events list --event email.bounced --limit 5 --output json
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
			h, err := history(f)
			if err != nil {
				return err
			}
			list, err := h.List(event, limit)
			if err != nil {
				return err
			}
			ios := f.IOStreams
			if ios.JSON() {
				out := make([]summary, len(list))
				for i := range list {
					out[i] = summarise(&list[i])
				}
				return ios.WriteJSONIndent(out)
			}
			if len(list) == 0 {
				fmt.Fprintln(ios.ErrOut, "No deliveries yet. Start \"jasni listen\", then send some with \"jasni trigger\".")
				return nil
			}
			s := ui.New(ios.Out, ios.ColorEnabled())
			t := ui.NewTable(ios.Out, ios.IsStdoutTTY(), "ID", "RECEIVED", "EVENT", "SIGNATURE", "ANSWER", "FORWARD")
			for _, d := range list {
				t.AddRow(s.Accent(d.ID), d.ReceivedAt.Local().Format("2006-01-02 15:04:05"), d.Event, string(d.Verdict), strconv.Itoa(d.Answer), forwardText(d.Forward))
			}
			return t.Render()
		},
	}
	cmd.Flags().StringVar(&event, "event", "", "Only this event type")
	cmd.Flags().IntVar(&limit, "limit", 20, "At most this many (0 for all)")
	_ = cmd.RegisterFlagCompletionFunc("event", cmdutil.EventCompletion)
	return cmd
}

type summary struct {
	ID         string         `json:"id"`
	ReceivedAt time.Time      `json:"received_at"`
	Event      string         `json:"event"`
	Verdict    store.Verdict  `json:"verdict"`
	Duplicate  bool           `json:"duplicate"`
	Answer     int            `json:"answer"`
	Forward    *store.Forward `json:"forward,omitempty"`
}

func summarise(d *store.Delivery) summary {
	return summary{d.ID, d.ReceivedAt, d.Event, d.Verdict, d.Duplicate, d.Answer, d.Forward}
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
			d, err := get(f, args[0])
			if err != nil {
				return err
			}
			ios := f.IOStreams
			if ios.JSON() {
				return ios.WriteJSONIndent(struct {
					*store.Delivery
					Body json.RawMessage `json:"body"`
				}{d, rawOrString(d.Body)})
			}
			s := ui.New(ios.Out, ios.ColorEnabled())
			w := ios.Out
			fmt.Fprintf(w, "%s %s\n", s.Bold("Delivery"), s.Accent(d.ID))
			fmt.Fprintf(w, "Received   %s from %s\n", d.ReceivedAt.Local().Format(time.RFC3339), d.RemoteAddr)
			fmt.Fprintf(w, "Request    %s %s\n", d.Method, d.Path)
			fmt.Fprintf(w, "Event      %s\n", d.Event)
			fmt.Fprintf(w, "Signature  %s\n", d.Verdict)
			if d.Duplicate {
				fmt.Fprintln(w, "Duplicate  yes (same event, data.id and timestamp as an earlier delivery)")
			}
			fmt.Fprintf(w, "Answered   %d\n", d.Answer)
			fmt.Fprintf(w, "Forward    %s\n", forwardText(d.Forward))
			for _, r := range d.Resends {
				fmt.Fprintf(w, "Resent     %s\n", forwardText(&r))
			}
			fmt.Fprintf(w, "\n%s\n", s.Bold("Headers"))
			keys := make([]string, 0, len(d.Header))
			for k := range d.Header {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				fmt.Fprintf(w, "  %s: %s\n", k, strings.Join(d.Header[k], ", "))
			}
			fmt.Fprintf(w, "\n%s (%d bytes)\n", s.Bold("Body"), len(d.Body))
			var pretty bytes.Buffer
			if json.Indent(&pretty, d.Body, "", "  ") == nil {
				fmt.Fprintln(w, pretty.String())
			} else {
				fmt.Fprintln(w, string(d.Body))
			}
			return nil
		},
	}
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
			signed again with the current secret and a fresh X-Webhook-Timestamp, as a
			retry from Jasni would be; --as-is sends the original headers untouched.
		`),
		Example: cmdutil.Examples(`
			$ jasni events resend dlv_0193a4c2b1f0a1b2c3
			$ jasni events resend dlv_0193a4c2b1f0a1b2c3 --forward localhost:4000 --as-is
		`),
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeIDs(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			d, err := get(f, args[0])
			if err != nil {
				return err
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
			h := d.Header.Clone()
			for _, k := range []string{"X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "Content-Length"} {
				h.Del(k)
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
				for k, v := range (signature.Jasni{}).Sign(secret, signature.Message{Body: d.Body, Timestamp: f.Now()}) {
					h[k] = v
				}
			}
			client, err := f.HttpClient()
			if err != nil {
				return err
			}
			sender := &delivery.Sender{Client: client, Timeout: timeout}
			a, err := sender.Send(cmd.Context(), delivery.Request{URL: target, Body: d.Body, Header: h}, nil)
			if err != nil {
				return cmdutil.ErrCancel
			}
			result := store.Forward{URL: target, Status: a.Status, DurationMS: a.Duration.Milliseconds()}
			if a.Err != nil {
				result.Error = a.Err.Error()
			}
			if h, err := history(f); err == nil {
				_ = h.Update(d.ID, func(stored *store.Delivery) { stored.Resends = append(stored.Resends, result) })
			}
			return report(f, d, a, result)
		},
	}
	cmd.Flags().StringVar(&forward, "forward", "", "Send here instead: 3000, localhost:3000 or a URL")
	cmd.Flags().BoolVar(&asIs, "as-is", false, "Send the original headers and signature untouched")
	cmd.Flags().String("secret", "", "Webhook secret to sign with (default: as for listen)")
	cmd.Flags().DurationVar(&timeout, "timeout", 30*time.Second, "How long to wait for the answer")
	return cmd
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
			fmt.Fprintf(ios.Out, "%s %s %s → %d %s  %dms\n", s.SuccessIcon(), d.ID, d.Event, r.Status, http.StatusText(r.Status), r.DurationMS)
		} else if a.Err != nil {
			fmt.Fprintf(ios.Out, "%s %s %s: %s\n", s.FailureIcon(), d.ID, d.Event, r.Error)
		} else {
			fmt.Fprintf(ios.Out, "%s %s %s → %d %s\n", s.FailureIcon(), d.ID, d.Event, r.Status, http.StatusText(r.Status))
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
			h, err := history(f)
			if err != nil {
				return err
			}
			n, err := h.Prune(olderThan)
			if err != nil {
				return err
			}
			fmt.Fprintf(f.IOStreams.ErrOut, "Removed %d deliveries from %s\n", n, h.Path())
			return nil
		},
	}
	cmd.Flags().DurationVar(&olderThan, "older-than", 0, "Remove deliveries older than this, e.g. 24h")
	cmd.Flags().BoolVar(&all, "all", false, "Remove every delivery")
	return cmd
}
