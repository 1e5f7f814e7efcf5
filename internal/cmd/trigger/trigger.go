// Package trigger implements `jasni trigger`: signed fixture events fired at
// a URL exactly as Jasni sends them.
package trigger

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/jasni/jasni-cli/internal/cmdutil"
	"github.com/jasni/jasni-cli/internal/config"
	"github.com/jasni/jasni-cli/internal/delivery"
	"github.com/jasni/jasni-cli/internal/iostreams"
	"github.com/jasni/jasni-cli/internal/payload"
	"github.com/jasni/jasni-cli/internal/provider"
	"github.com/jasni/jasni-cli/internal/termsafe"
	"github.com/jasni/jasni-cli/internal/ui"
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

			The URL comes from --url, JASNI_TRIGGER_URL or the profile's trigger_url.
			The secret comes from --secret, JASNI_WEBHOOK_SECRET, WEBHOOK_SECRET or the
			profile's webhook_secret.

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

func (o *Options) resolve(cmd *cobra.Command, cfg *config.Config, args []string, all, retry bool, retryDelays string, headers []string) error {
	switch {
	case all && len(args) > 0:
		return cmdutil.FlagErrorf("give event names or --all, not both")
	case all && o.DataFile != "":
		return cmdutil.FlagErrorf("--data-file sends one event; it cannot be combined with --all")
	case all:
		o.Events = o.Provider.EventNames()
	case len(args) > 0:
		if err := cmdutil.CheckEventsOf(args, o.Provider.EventNames()); err != nil {
			return err
		}
		if o.DataFile != "" && len(args) > 1 {
			return cmdutil.FlagErrorf("--data-file sends one event; name at most one event type")
		}
		o.Events = args
	case o.DataFile != "":
		o.Events = []string{""} // the type comes from the file
	default:
		return cmdutil.FlagErrorf("name the events to send, or use --all\nKnown events: %s", strings.Join(o.Provider.EventNames(), ", "))
	}

	o.URL = cfg.WithFlags(cmd.Flags()).Get(config.KeyTriggerURL)
	if o.URL == "" {
		return cmdutil.FlagErrorf("no URL to send to: pass --url http://localhost:3000/webhooks/jasni, or set JASNI_TRIGGER_URL")
	}
	if err := cmdutil.CheckURL("--url", o.URL); err != nil {
		return err
	}

	if o.Unsigned {
		if cmd.Flags().Changed("secret") {
			return cmdutil.FlagErrorf("--unsigned and --secret contradict each other: choose one")
		}
	} else {
		var secrets []string
		secrets, o.SecretSource = cmdutil.Secrets(cmd, cfg)
		if len(secrets) > 0 {
			o.Secret, o.MoreSecrets = secrets[0], secrets[1:]
		}
		if o.Secret == "" {
			return cmdutil.FlagErrorf("no webhook secret: pass --secret whsec_..., set WEBHOOK_SECRET, or use --unsigned to send without a signature")
		}
	}

	if o.Repeat < 1 {
		return cmdutil.FlagErrorf("--repeat must be at least 1, not %d", o.Repeat)
	}
	if o.Timeout <= 0 {
		return cmdutil.FlagErrorf("--timeout must be positive, like 30s")
	}

	switch {
	case retryDelays != "":
		schedule, err := parseSchedule(retryDelays)
		if err != nil {
			return err
		}
		o.Schedule = schedule
	case retry && len(o.Provider.Retries) > 0:
		o.Schedule = nil
		for _, d := range o.Provider.Retries {
			o.Schedule = append(o.Schedule, d.Duration)
		}
	case retry:
		o.Schedule = delivery.JasniSchedule
	default:
		o.Schedule = []time.Duration{0}
	}

	o.Headers = http.Header{}
	for _, h := range headers {
		name, value, err := cmdutil.ParseHeader(h)
		if err != nil {
			return err
		}
		if value == "" {
			o.Removed = append(o.Removed, name)
			continue
		}
		o.Headers.Add(name, value)
	}
	return nil
}

func parseSchedule(s string) ([]time.Duration, error) {
	var out []time.Duration
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "0" {
			out = append(out, 0)
			continue
		}
		d, err := time.ParseDuration(part)
		if err != nil || d < 0 {
			return nil, cmdutil.FlagErrorf("--retry-delays %q: %q is not a duration like 0, 100ms or 10s", s, part)
		}
		out = append(out, d)
	}
	return out, nil
}

// result is one attempt as reported in --output json.
type result struct {
	Event        string          `json:"event"`
	URL          string          `json:"url"`
	Status       int             `json:"status"`
	DurationMS   int64           `json:"duration_ms"`
	Attempt      int             `json:"attempt"`
	Attempts     int             `json:"attempts"`
	Repeat       int             `json:"repeat,omitempty"`
	OK           bool            `json:"ok"`
	Final        bool            `json:"final"`
	BodySHA256   string          `json:"body_sha256"`
	Error        string          `json:"error,omitempty"`
	Location     string          `json:"location,omitempty"`
	RequestBody  json.RawMessage `json:"request_body,omitempty"`
	ResponseBody *string         `json:"response_body,omitempty"`
}

type tally struct {
	sent, ok, rejected, unreachable int
	lastProblem                     string
	signatureRejected               bool
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
		wait = countdown(opts.IO.ErrOut)
	}
	sender := &delivery.Sender{Client: client, Timeout: opts.Timeout, Schedule: opts.Schedule, Wait: wait}
	out := ui.New(opts.IO.Out, opts.IO.ColorEnabled())
	width := 0
	for _, e := range opts.Events {
		width = max(width, len(e))
	}

	var t tally
	added := map[string][]string{} // --set path -> events it added a field to
	for _, name := range opts.Events {
		req, ev, err := opts.build(name)
		if err != nil {
			return err
		}
		for _, path := range ev.Added {
			added[path] = append(added[path], ev.Type)
		}
		width = max(width, len(ev.Type))
		sender.Expect = nil
		if opts.Provider.IsHandshake(req.Header, req.Body) {
			// A handshake is answered in a way the provider requires.
			sender.Expect = func(_ http.Header, answer []byte) string {
				return opts.Provider.JudgeHandshakeAnswer(req.Header, req.Body, opts.Keys, answer)
			}
		}
		for i := 1; i <= opts.Repeat; i++ {
			repeat := 0
			if opts.Repeat > 1 {
				repeat = i
			}
			final, err := sender.Send(ctx, req, func(a delivery.Attempt) {
				// Reporting failures cannot be handled better than by the
				// summary and exit status, which do not depend on them.
				_ = opts.report(out, width, ev, req, a, repeat)
			})
			if err != nil {
				return cmdutil.ErrCancel
			}
			t.count(final)
		}
	}
	for path, events := range added {
		// Not an error: adding a field is a way to test a receiver. But with
		// --all it is easily a surprise.
		fmt.Fprintf(opts.IO.ErrOut, "note: --set %s added a field that %s did not have\n", path, strings.Join(events, ", "))
	}
	return opts.summarise(t)
}

// countdown waits between attempts showing the time left on the terminal,
// so a 5-minute retry wait does not look like a hang.
func countdown(w io.Writer) func(ctx context.Context, d time.Duration) error {
	return func(ctx context.Context, d time.Duration) error {
		if d <= 0 {
			return nil
		}
		deadline := time.Now().Add(d)
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		defer fmt.Fprint(w, "\r\033[K")
		for {
			left := time.Until(deadline)
			if left <= 0 {
				return nil
			}
			fmt.Fprintf(w, "\r\033[K  next attempt in %s (Ctrl-C to stop)", left.Round(time.Second))
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-tick.C:
			case <-time.After(left):
			}
		}
	}
}

func (t *tally) count(a delivery.Attempt) {
	t.sent++
	switch {
	case a.OK():
		t.ok++
	case a.Err != nil:
		t.unreachable++
		t.lastProblem = a.Err.Error()
	default:
		t.rejected++
		t.lastProblem = describeStatus(a)
		if a.Status == http.StatusUnauthorized || a.Status == http.StatusForbidden {
			t.signatureRejected = true
		}
	}
}

// resolveProvider reads what depends on the provider: the key, the
// response limit as the default --timeout, and --timestamp.
func (o *Options) resolveProvider(cmd *cobra.Command, timestamp string) error {
	if !o.Unsigned {
		keys, err := cmdutil.SigningKeys(o.Provider, append([]string{o.Secret}, o.MoreSecrets...), o.SecretSource)
		if err != nil {
			return err
		}
		o.Keys = keys
	}
	if !cmd.Flags().Changed("timeout") && o.Provider.ResponseLimit.Duration > 0 {
		o.Timeout = o.Provider.ResponseLimit.Duration
	}
	if timestamp != "" {
		t, err := cmdutil.ParseUnixTime("--timestamp", timestamp, o.Now().Add(-10*time.Minute))
		if err != nil {
			return err
		}
		o.Timestamp = t
	}
	return nil
}

// build prepares the delivery for one event type ("" when the type comes
// from --data-file).
func (o *Options) build(name string) (delivery.Request, *payload.Event, error) {
	e := delivery.Event{Provider: o.Provider, Name: name, Now: o.Now(), KeepIDs: o.KeepIDs, Sets: o.Sets,
		Timestamp: o.Timestamp, URL: o.URL, Extra: o.Headers, Removed: o.Removed}
	if !o.Unsigned {
		e.Keys = o.Keys
	}
	if o.DataFile != "" {
		content, err := cmdutil.ReadInput(o.IO, o.DataFile)
		if err != nil {
			return delivery.Request{}, nil, err
		}
		e.Body = content
	}
	req, ev, err := e.Build()
	switch {
	case err != nil && ev == nil && o.DataFile != "":
		return delivery.Request{}, nil, cmdutil.FlagErrorf("--data-file %s: %v", o.DataFile, err)
	case err != nil && ev == nil:
		var flagErr *cmdutil.FlagError
		if errors.As(err, &flagErr) {
			return delivery.Request{}, nil, err
		}
		return delivery.Request{}, nil, cmdutil.FlagErrorf("%s: %v", name, err)
	case err != nil:
		return delivery.Request{}, nil, err
	}
	if o.DataFile != "" && name == "" {
		if cerr := cmdutil.CheckEventsOf([]string{ev.Type}, o.Provider.EventNames()); cerr != nil {
			// A custom event type is allowed from a file; say so rather than refuse.
			fmt.Fprintf(o.IO.ErrOut, "note: %q is not a documented %s event type; sending it anyway\n", termsafe.Line(ev.Type), o.Provider.Title)
		}
	}
	return req, ev, nil
}

func (o *Options) report(out *ui.Styles, width int, ev *payload.Event, req delivery.Request, a delivery.Attempt, repeat int) error {
	sum := sha256.Sum256(req.Body)
	if o.IO.JSON() {
		r := result{
			Event: ev.Type, URL: req.URL, Status: a.Status, DurationMS: a.Duration.Milliseconds(),
			Attempt: a.Number, Attempts: a.Of, Repeat: repeat, OK: a.OK(),
			Final:      a.OK() || a.Number == a.Of,
			BodySHA256: hex.EncodeToString(sum[:]), Location: a.Location,
		}
		if a.Err != nil {
			r.Error = a.Err.Error()
		} else if !a.OK() {
			r.Error = describeStatus(a)
		}
		if o.PrintBody {
			r.RequestBody = req.Body
			body := string(a.Body)
			r.ResponseBody = &body
		}
		return o.IO.WriteJSON(r)
	}

	icon, status := out.SuccessIcon(), out.Success(statusText(a))
	if !a.OK() {
		icon, status = out.FailureIcon(), out.Failure(statusText(a))
	}
	line := fmt.Sprintf("%s %-*s  %s  %s  %s", icon, width, ev.Type, status,
		out.Muted(formatDuration(a.Duration)), out.Muted(fmt.Sprintf("attempt %d/%d", a.Number, a.Of)))
	if repeat > 0 {
		line += out.Muted(fmt.Sprintf("  copy %d/%d", repeat, o.Repeat))
	}
	if !a.OK() {
		line += "  " + termsafe.Line(detail(a)) // the answer is the server's words
	}
	if _, err := fmt.Fprintln(o.IO.Out, line); err != nil {
		return err
	}
	if o.PrintBody {
		fmt.Fprintf(o.IO.Out, "  %s\n%s\n", out.Bold("sent:"), indent(termsafe.Text(string(prettyJSON(req.Body)))))
		answer := termsafe.Text(string(a.Body))
		if a.Truncated {
			answer += fmt.Sprintf("\n… (cut at %d KiB)", delivery.MaxResponseBody>>10)
		}
		fmt.Fprintf(o.IO.Out, "  %s\n%s\n", out.Bold("answer:"), indent(answer))
	}
	return nil
}

func (o *Options) summarise(t tally) error {
	errOut := ui.New(o.IO.ErrOut, o.IO.ErrColorEnabled())
	if t.ok == t.sent {
		if o.IO.IsStderrTTY() {
			fmt.Fprintf(o.IO.ErrOut, "%s %s delivered to %s\n", errOut.SuccessIcon(), plural(t.sent, "event"), o.URL)
		}
		return nil
	}
	fmt.Fprintf(o.IO.ErrOut, "%s %d of %s failed: %s\n", errOut.FailureIcon(), t.sent-t.ok, plural(t.sent, "delivery"), termsafe.Line(t.lastProblem))
	if len(o.Schedule) > 1 && o.Provider.Exhausted != "" {
		fmt.Fprintf(o.IO.ErrOut, "  Every attempt failed: in production, %s.\n", o.Provider.Exhausted)
	}
	if t.signatureRejected && !o.Unsigned {
		fmt.Fprintf(o.IO.ErrOut, "  The receiver refused the request. If it checks the signature, it must use the same secret as jasni (from %s) and the raw request body; `jasni verify --help` explains the usual causes.\n", o.SecretSource)
	}
	if t.unreachable > 0 {
		return &cmdutil.SilentError{Code: cmdutil.ExitUnreachable}
	}
	return &cmdutil.SilentError{Code: cmdutil.ExitRejected}
}

func statusText(a delivery.Attempt) string {
	if a.Err != nil {
		return "no response"
	}
	return fmt.Sprintf("%d %s", a.Status, http.StatusText(a.Status))
}

func detail(a delivery.Attempt) string {
	if a.Err != nil {
		return a.Err.Error()
	}
	return describeStatus(a)
}

// describeStatus says why an answer counts as a failure.
func describeStatus(a delivery.Attempt) string {
	if a.Wrong != "" {
		return a.Wrong
	}
	if a.Status >= 300 && a.Status < 400 {
		return fmt.Sprintf("redirect to %q not followed (Jasni does not follow redirects): use the final URL", a.Location)
	}
	msg := fmt.Sprintf("answered %d", a.Status)
	if snippet := firstLine(a.Body, 100); snippet != "" {
		msg += ": " + snippet
	}
	return msg
}

func firstLine(b []byte, limit int) string {
	s := strings.TrimSpace(string(b))
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i]
	}
	if len(s) > limit {
		s = s[:limit] + "…"
	}
	return s
}

func formatDuration(d time.Duration) string {
	if d < time.Second {
		return fmt.Sprintf("%dms", d.Milliseconds())
	}
	return fmt.Sprintf("%.1fs", d.Seconds())
}

func prettyJSON(b []byte) []byte {
	var buf bytes.Buffer
	if err := json.Indent(&buf, b, "", "  "); err != nil {
		return b
	}
	return buf.Bytes()
}

func indent(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = "    " + l
	}
	return strings.Join(lines, "\n")
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	if strings.HasSuffix(word, "y") {
		return fmt.Sprintf("%d %sies", n, strings.TrimSuffix(word, "y"))
	}
	return fmt.Sprintf("%d %ss", n, word)
}
