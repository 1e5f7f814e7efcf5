// Package check implements `jasni check`: the provider's deployment
// checklist, run against a real endpoint.
package check

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jasni/jasni-cli/internal/check"
	"github.com/jasni/jasni-cli/internal/cmdutil"
	"github.com/jasni/jasni-cli/internal/config"
	"github.com/jasni/jasni-cli/internal/iostreams"
	"github.com/jasni/jasni-cli/internal/provider"
	"github.com/jasni/jasni-cli/internal/termsafe"
	"github.com/jasni/jasni-cli/internal/ui"
	"github.com/spf13/cobra"
)

type Options struct {
	IO         *iostreams.IOStreams
	HttpClient func() (*http.Client, error)
	Now        func() time.Time

	URL      string
	Provider *provider.Provider
	Keys     []provider.Key
	Only     []string
	Skip     []string
	Strict   bool
	// JUnit is the file to write JUnit XML to; "" for none.
	JUnit    string
	Parallel int
}

func NewCmdCheck(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, HttpClient: f.HttpClient, Now: f.Now}
	cmd := &cobra.Command{
		Use:   "check --url URL [--secret S] [--provider P]",
		Short: "Run the provider's deployment checklist against your endpoint",
		Long: cmdutil.Doc(`
			Send your endpoint a battery of deliveries and judge each answer the way the
			provider's documents say a receiver should behave:

			  every event type, correctly signed             2xx
			  an unknown event type                          2xx (log it, ignore it)
			  the same JSON laid out differently             2xx (verify the raw bytes)
			  the same delivery twice                        2xx both times
			  a large payload (96 KiB)                       2xx
			  a changed body, another secret, no signature,
			  another encoding or prefix, an empty body      4xx (401 ideally); 2xx fails; 5xx fails,
			                                                 or warns for a malformed signature
			  a timestamp 10 minutes old or ahead            4xx, for schemes that sign one
			  the answer time                                fail past the provider's limit,
			                                                 warn past 1 s
			  https                                          warn for plain http off this machine

			Checks run independently, four at a time (the answer-time one alone, last).
			Each has a stable name for --only and --skip ("event" selects every
			event/... check). The exit status is 0 when none fails, 3 when one does (or
			one warns, with --strict; the note that Jasni does not sign its timestamp
			is not counted), 4 when the endpoint cannot be reached.
		`),
		Example: cmdutil.Examples(`
			$ jasni check --url https://staging.example.com/webhooks/jasni --secret "$WEBHOOK_SECRET"
			$ jasni check --url http://localhost:3000/webhooks/voisnap --provider voisnap --secret "$VOISNAP_SECRET"
			$ jasni check --url "$URL" --only tampered-body,wrong-secret --output json
			$ jasni check --url "$URL" --skip large-payload --strict --junit check.xml   # in CI
		`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := f.Config()
			if err != nil {
				return err
			}
			if opts.URL == "" {
				return cmdutil.FlagErrorf("--url is required: the endpoint to check, e.g. http://localhost:3000/webhooks/jasni")
			}
			if err := cmdutil.CheckURL("--url", opts.URL); err != nil {
				return err
			}
			if opts.Parallel < 1 || opts.Parallel > 64 {
				return cmdutil.FlagErrorf("--parallel must be from 1 to 64")
			}
			if opts.Provider, err = cmdutil.Provider(cmd, cfg); err != nil {
				return err
			}
			if err := check.Validate(opts.Provider, opts.Only, opts.Skip); err != nil {
				return cmdutil.FlagErrorf("%v", err)
			}
			secrets, source := cmdutil.Secrets(cmd, cfg)
			if len(secrets) == 0 {
				return cmdutil.FlagErrorf("no webhook secret: pass the endpoint's --secret (or set WEBHOOK_SECRET)")
			}
			if opts.Keys, err = cmdutil.SigningKeys(opts.Provider, secrets[:1], source); err != nil {
				return err
			}
			if opts.JUnit != "" {
				// Say now, not after the whole run, that it cannot be written.
				f, err := os.CreateTemp(filepath.Dir(opts.JUnit), ".junit-*")
				if err != nil {
					return cmdutil.FlagErrorf("--junit %s: cannot write there (%v)", opts.JUnit, err)
				}
				f.Close()
				os.Remove(f.Name())
			}
			if runF != nil {
				return runF(opts)
			}
			return checkRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.URL, "url", "", "The endpoint to check")
	fl.String("secret", "", "The endpoint's webhook secret (default: JASNI_WEBHOOK_SECRET, WEBHOOK_SECRET, the profile)")
	config.BindFlag(fl, "secret", config.KeyWebhookSecret)
	cmdutil.AddProviderFlag(cmd)
	fl.StringSliceVar(&opts.Only, "only", nil, "Run only these checks (comma-separated names)")
	fl.StringSliceVar(&opts.Skip, "skip", nil, "Skip these checks")
	fl.BoolVar(&opts.Strict, "strict", false, "Fail on warnings too")
	fl.StringVar(&opts.JUnit, "junit", "", "Also write the results as JUnit XML to `FILE`, one testcase per check")
	fl.IntVar(&opts.Parallel, "parallel", 4, "How many checks run at once")
	_ = cmd.RegisterFlagCompletionFunc("only", completeNames)
	_ = cmd.RegisterFlagCompletionFunc("skip", completeNames)
	return cmd
}

func completeNames(cmd *cobra.Command, _ []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
	name := ""
	if f := cmd.Flags().Lookup("provider"); f != nil {
		name = f.Value.String()
	}
	p, err := provider.Load(name, "")
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	return check.Names(p), cobra.ShellCompDirectiveNoFileComp
}

func checkRun(ctx context.Context, opts *Options) error {
	client, err := opts.HttpClient()
	if err != nil {
		return err
	}
	ios := opts.IO
	out := ui.New(ios.Out, ios.ColorEnabled())
	errOut := ui.New(ios.ErrOut, ios.ErrColorEnabled())
	if !ios.JSON() {
		fmt.Fprintf(ios.ErrOut, "Checking %s as %s would send to it...\n", termsafe.Line(opts.URL), opts.Provider.Title)
	}
	cfg := check.Config{
		URL: opts.URL, Provider: opts.Provider, Keys: opts.Keys, Client: client, Now: opts.Now,
		Only: opts.Only, Skip: opts.Skip, Parallel: opts.Parallel,
		OnResult: func(r check.Result) {
			if ios.JSON() {
				return
			}
			fmt.Fprint(ios.Out, renderResult(out, r))
		},
	}
	start := time.Now()
	results, err := check.Run(ctx, cfg)
	if err != nil {
		if ctx.Err() != nil {
			return cmdutil.ErrCancel
		}
		return cmdutil.FlagErrorf("%v", err)
	}
	s := summarise(results, opts.Strict)
	if opts.JUnit != "" {
		if err := writeJUnit(opts.JUnit, opts.Provider.Name, opts.URL, results, opts.Strict, time.Since(start)); err != nil {
			return fmt.Errorf("write --junit %s: %w", opts.JUnit, err)
		}
	}
	if ios.JSON() {
		if err := ios.WriteJSONIndent(map[string]any{
			"url": opts.URL, "provider": opts.Provider.Name, "strict": opts.Strict,
			"passed": s.passed, "warnings": s.warned, "failed": s.failed, "ok": s.ok, "results": results,
		}); err != nil {
			return err
		}
	} else {
		fmt.Fprintln(ios.ErrOut, s.line(errOut))
	}
	switch {
	case s.ok:
		return nil
	case s.unreachable:
		return &cmdutil.SilentError{Code: cmdutil.ExitUnreachable}
	}
	return &cmdutil.SilentError{Code: cmdutil.ExitRejected}
}

// renderResult is one check: its verdict and name, why, and for anything
// but a pass, what was sent and what came back.
func renderResult(s *ui.Styles, r check.Result) string {
	var b strings.Builder
	icon := map[check.Status]string{check.Pass: s.SuccessIcon(), check.Warn: s.WarningIcon(), check.Fail: s.FailureIcon()}[r.Status]
	fmt.Fprintf(&b, "%s %s  %s\n", icon, s.Bold(r.Name), s.Muted(termsafe.Line(r.Reason)))
	if r.Status == check.Pass {
		return b.String()
	}
	for _, e := range r.Evidence {
		answer := fmt.Sprintf("%d in %dms", e.Status, e.LatencyMS)
		if e.Error != "" {
			answer = e.Error
		}
		if e.Answer != "" {
			answer += ": " + e.Answer
		}
		fmt.Fprintf(&b, "    sent %s → %s\n", termsafe.Line(e.What), termsafe.Line(answer))
	}
	return b.String()
}

type summary struct {
	passed, warned, failed int
	// strictWarned are the warnings --strict fails on: about the endpoint,
	// not advisory notes about the provider.
	strictWarned    int
	ok, unreachable bool
}

func summarise(results []check.Result, strict bool) summary {
	var s summary
	unreachable := 0
	for _, r := range results {
		switch r.Status {
		case check.Pass:
			s.passed++
		case check.Warn:
			s.warned++
			if !r.Advisory {
				s.strictWarned++
			}
		case check.Fail:
			s.failed++
			if r.Unreachable {
				unreachable++
			}
		}
	}
	s.ok = s.failed == 0 && (!strict || s.strictWarned == 0)
	s.unreachable = s.failed > 0 && unreachable == s.failed
	return s
}

func (s summary) line(st *ui.Styles) string {
	text := fmt.Sprintf("%d passed, %s, %d failed", s.passed, plural(s.warned, "warning"), s.failed)
	switch {
	case s.unreachable:
		return st.Failure(text + ": the endpoint could not be reached")
	case !s.ok && s.failed == 0:
		return st.Failure(text + " (--strict fails on warnings)")
	case !s.ok:
		return st.Failure(text)
	}
	return st.Success(text)
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
