// Package trigger implements `jasni trigger`: signed fixture events fired at
// a URL exactly as Jasni sends them.
package trigger

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/jasni/jasni-cli/internal/cmdutil"
	"github.com/jasni/jasni-cli/internal/config"
	"github.com/jasni/jasni-cli/internal/delivery"
	"github.com/jasni/jasni-cli/internal/iostreams"
	"github.com/jasni/jasni-cli/internal/listenstate"
	"github.com/jasni/jasni-cli/internal/provider"
	"github.com/jasni/jasni-cli/internal/sendview"
	"github.com/jasni/jasni-cli/internal/store"
	"github.com/spf13/cobra"
)

// Options is everything trigger needs, parsed and resolved.
type Options struct {
	IO         *iostreams.IOStreams
	HttpClient func() (*http.Client, error)
	Now        func() time.Time

	Events   []string
	URL      string
	Provider *provider.Provider
	Keys     []provider.Key
	// Timestamp, when set, is the signed timestamp sent instead of now
	// (--timestamp), to test a receiver's window.
	Timestamp    time.Time
	Secret       string
	MoreSecrets  []string // further --secret values: a key rotation
	SecretSource string
	Unsigned     bool
	KeepIDs      bool
	Sets         []string
	DataFile     string
	Repeat       int
	Schedule     []time.Duration
	Headers      http.Header
	Removed      []string // headers to drop (--header "Name:")
	Timeout      time.Duration
	PrintBody    bool

	// Load is the load mode (--count, --concurrency, --rate, --duration);
	// nil sends each event once.
	Load *LoadOptions

	// ListenState is where a running `jasni listen` says its URL, and
	// Profile the profile in use, which must be that listen's.
	ListenState, Profile string

	// Wait replaces the pause between retries in tests.
	Wait func(ctx context.Context, d time.Duration) error
}

// NewCmdTrigger builds the command. runF replaces triggerRun in tests.
func NewCmdTrigger(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, HttpClient: f.HttpClient, Now: f.Now}
	var (
		all         bool
		retry       bool
		retryDelays string
		headers     []string
		timestamp   string
		lf          loadFlags
	)
	cmd := &cobra.Command{
		Use:   "trigger [EVENT...]",
		Short: "Send signed test events to a webhook URL",
		Long: cmdutil.Doc(`
			Send signed webhook events to a URL, exactly as Jasni delivers them: the same
			JSON envelope, headers and HMAC-SHA256 signature, with a fresh timestamp and
			fresh ids. Use it against your app on your laptop, or as a smoke test in CI.

			The URL comes from --url, JASNI_TRIGGER_URL or the profile's trigger_url; with
			none, from the jasni listen running on this machine. The secret comes from
			--secret, JASNI_WEBHOOK_SECRET, WEBHOOK_SECRET or the profile's webhook_secret;
			sent to a running listen (found so, or named by its URL), trigger signs with
			the secret that listen verifies with, unless --secret is given.

			Exit status: 0 when every delivery was answered 2xx, 3 when one was answered
			otherwise (redirects are not followed), 4 when a receiver could not be reached
			or did not answer in time, 2 for bad input.
		`),
		Example: cmdutil.Examples(`
			# Every event type at a local app
			$ jasni trigger --all --url http://localhost:3000/webhooks/jasni --secret whsec_test

			# One event, with edited fields
			$ jasni trigger email.received --set data.subject="Quarterly report" --set 'data.to[0]=ceo@example.com'

			# Your own data (or a whole event) from a file or stdin
			$ jasni trigger email.received --data-file email.json
			$ cat event.json | jasni trigger --data-file -

			# The same delivery three times: does your handler deduplicate?
			$ jasni trigger email.received --repeat 3

			# Retry failures on a fast schedule, and report as JSON lines for CI
			$ jasni trigger --all --retry --retry-delays 0,200ms,1s --output json

			# Load: 10,000 fresh deliveries of every type, 32 at once, gated for CI
			$ jasni trigger --all --count 10000 --concurrency 32 --max-p99 250ms --max-error-rate 0.1%

			# A steady 50 a second for a minute; or one delivery, identical, 500 times
			$ jasni trigger email.received --rate 50/s --duration 1m
			$ jasni trigger email.received --count 500 -c 16 --same
		`),
		ValidArgsFunction: cmdutil.EventCompletion,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := f.Config()
			if err != nil {
				return err
			}
			if opts.Provider, err = cmdutil.Provider(cmd, cfg); err != nil {
				return err
			}
			opts.Profile = cfg.Profile
			if f.Getenv != nil {
				if history, err := store.DefaultPath(f.Getenv); err == nil {
					opts.ListenState = listenstate.Dir(history)
				}
			}
			if err := opts.resolve(cmd, cfg, args, all, retry, retryDelays, headers); err != nil {
				return err
			}
			if err := opts.resolveProvider(cmd, timestamp); err != nil {
				return err
			}
			if opts.Load, err = lf.resolve(cmd, opts); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return triggerRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&all, "all", false, "Send every event type")
	fl.StringVar(&opts.URL, "url", "", "Where to send the events")
	fl.StringArray("secret", nil, "Webhook secret to sign with (the whole string, whsec_ included); twice signs with both, where the scheme carries several signatures")
	config.BindFlag(fl, "url", config.KeyTriggerURL)
	config.BindFlag(fl, "secret", config.KeyWebhookSecret)
	fl.BoolVar(&opts.Unsigned, "unsigned", false, "Send without a signature header")
	fl.StringVar(&timestamp, "timestamp", "", "Sign with this Unix `time` instead of now (e.g. a stale one, to test a receiver's window)")
	cmdutil.AddProviderFlag(cmd)
	fl.BoolVar(&opts.KeepIDs, "keep-ids", false, "Send the fixtures' ids as they are instead of fresh ones")
	fl.StringArrayVar(&opts.Sets, "set", nil, "Set a `field` as path=value, e.g. data.subject=Hi (repeatable; the value is read as JSON, else as a string)")
	fl.StringVar(&opts.DataFile, "data-file", "", "Send the data object or whole event in `FILE` (- for stdin)")
	fl.IntVar(&opts.Repeat, "repeat", 1, "Send each delivery `N` times, identical (same body and signature)")
	fl.BoolVar(&retry, "retry", false, "Retry failed deliveries on Jasni's schedule: now, +10s, +60s, +5m")
	fl.StringVar(&retryDelays, "retry-delays", "", "Retry on this `schedule` of delays instead, e.g. 0,100ms,1s (implies --retry)")
	fl.StringArrayVar(&headers, "header", nil, "Add or override a `header`, given as Name:value (repeatable; \"Name:\" removes it)")
	fl.DurationVar(&opts.Timeout, "timeout", 30*time.Second, "How long to wait for each answer")
	fl.BoolVar(&opts.PrintBody, "print-body", false, "Show the payload sent and the response body")
	lf.register(fl)
	_ = cmd.RegisterFlagCompletionFunc("url", cobra.NoFileCompletions)
	_ = cmd.RegisterFlagCompletionFunc("secret", cobra.NoFileCompletions)
	return cmd
}

func triggerRun(ctx context.Context, opts *Options) error {
	if opts.Load != nil {
		return loadRun(ctx, opts)
	}
	client, err := opts.HttpClient()
	if err != nil {
		return err
	}
	wait := opts.Wait
	if wait == nil && opts.IO.IsStderrTTY() && !opts.IO.JSON() {
		wait = sendview.Countdown(opts.IO.ErrOut)
	}
	sender := &delivery.Sender{Client: client, Timeout: opts.Timeout, Schedule: opts.Schedule, Wait: wait}
	report := &sendview.Reporter{IO: opts.IO, Repeats: opts.Repeat, PrintBody: opts.PrintBody}
	for _, e := range opts.Events {
		report.Width = max(report.Width, len(e))
	}

	var t sendview.Tally
	added := map[string][]string{} // --set path -> events it added a field to
	for _, name := range opts.Events {
		req, ev, err := opts.build(name)
		if err != nil {
			return err
		}
		for _, path := range ev.Added {
			added[path] = append(added[path], ev.Type)
		}
		report.Width = max(report.Width, len(ev.Type))
		// A handshake is answered in a way the provider requires.
		sender.Expect = delivery.HandshakeCheck(opts.Provider, opts.Keys, req)
		for i := 1; i <= opts.Repeat; i++ {
			repeat := 0
			if opts.Repeat > 1 {
				repeat = i
			}
			final, err := sender.Send(ctx, req, func(a delivery.Attempt) {
				// Reporting failures cannot be handled better than by the
				// summary and exit status, which do not depend on them.
				_ = report.Attempt(ev.Type, req, a, repeat)
			})
			if err != nil {
				return cmdutil.ErrCancel
			}
			t.Count(final)
		}
	}
	for path, events := range added {
		// Not an error: adding a field is a way to test a receiver. But with
		// --all it is easily a surprise.
		fmt.Fprintf(opts.IO.ErrOut, "note: --set %s added a field that %s did not have\n", path, strings.Join(events, ", "))
	}
	t.Summarise(opts.IO, sendview.Summary{URL: opts.URL, Retried: len(opts.Schedule) > 1, Exhausted: opts.Provider.Exhausted,
		Signed: opts.signed(), SecretSource: opts.SecretSource, Outside: opts.outsideWindow()})
	switch {
	case t.OK == t.Sent:
		return nil
	case t.Unreachable > 0:
		return &cmdutil.SilentError{Code: cmdutil.ExitUnreachable}
	}
	return &cmdutil.SilentError{Code: cmdutil.ExitRejected}
}

// signed reports whether the deliveries carried a signature: not with
// --unsigned, nor with the signature header removed (--header "Name:").
func (o *Options) signed() bool {
	for _, name := range o.Removed {
		if strings.EqualFold(name, o.Provider.Signature.Header) {
			return false
		}
	}
	return !o.Unsigned
}
