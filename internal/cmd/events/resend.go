package events

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"time"

	"github.com/jasni/jasni-cli/internal/cmdutil"
	"github.com/jasni/jasni-cli/internal/delivery"
	"github.com/jasni/jasni-cli/internal/iostreams"
	"github.com/jasni/jasni-cli/internal/provider"
	"github.com/jasni/jasni-cli/internal/replay"
	"github.com/jasni/jasni-cli/internal/store"
	"github.com/jasni/jasni-cli/internal/termsafe"
	"github.com/jasni/jasni-cli/internal/ui"
	"github.com/spf13/cobra"
)

type ResendOptions struct {
	IO         *iostreams.IOStreams
	HttpClient func() (*http.Client, error)
	Now        func() time.Time
	History    History

	Delivery Selector
	// Forward is where to send it; nil for where it was forwarded.
	Forward *url.URL
	AsIs    bool
	Timeout time.Duration
	// Provider signs it again; Secrets are the --secret values, Configured
	// the secrets of the environment and profile, tried in turn.
	Provider   *provider.Provider
	Secrets    []delivery.Secret
	Configured []delivery.Secret
}

func NewCmdResend(f *cmdutil.Factory, runF func(*ResendOptions) error) *cobra.Command {
	opts := &ResendOptions{IO: f.IOStreams, HttpClient: f.HttpClient, Now: f.Now}
	var (
		forward string
		secrets []string
		last    bool
	)
	cmd := &cobra.Command{
		Use:   "resend [ID | --last] [--forward URL]",
		Short: "Send a stored delivery again",
		Long: cmdutil.Doc(`
			Send a stored delivery again, to where it was forwarded or to --forward.
			The body is sent byte for byte with its original headers, signed again as
			the provider's retry would be: a fresh timestamp, the same delivery id
			(--provider, as for listen).

			It is signed with --secret when given; otherwise with whichever configured
			secret (JASNI_WEBHOOK_SECRET, WEBHOOK_SECRET, the profile, a jasni listen
			running here) verifies the stored delivery. When none does and the provider
			signs the body alone, the original signature is still valid and is sent as
			it was; jasni never signs with a secret it knows to be the wrong one.
			--as-is sends the original headers untouched.
		`),
		Example: cmdutil.Examples(`
			$ jasni events resend --last
			$ jasni events resend dlv_0193a4c2b1f0a1b2c3
			$ jasni events resend dlv_0193a4c2b1f0a1b2c3 --forward localhost:4000 --as-is
		`),
		Args:              cobra.MaximumNArgs(1),
		ValidArgsFunction: completeIDs(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if opts.Delivery, err = selector(args, last); err != nil {
				return err
			}
			if forward != "" {
				if opts.Forward, err = cmdutil.ParseForward(forward); err != nil {
					return err
				}
			}
			if opts.AsIs && len(secrets) > 0 {
				return cmdutil.FlagErrorf("--as-is sends the original signature; --secret signs again: choose one")
			}
			if opts.Timeout <= 0 {
				return cmdutil.FlagErrorf("--timeout must be more than 0, e.g. 30s")
			}
			cfg, err := f.Config()
			if err != nil {
				return err
			}
			if opts.Provider, err = cmdutil.Provider(cmd, cfg); err != nil {
				return err
			}
			if opts.History, err = historyFor(f); err != nil {
				return err
			}
			opts.Secrets, opts.Configured = cmdutil.ResignSecrets(cfg, secrets, opts.History.Path)
			if runF != nil {
				return runF(opts)
			}
			return resendRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&forward, "forward", "", "Send here instead: 3000, localhost:3000 or a URL")
	fl.BoolVar(&opts.AsIs, "as-is", false, "Send the original headers and signature untouched")
	fl.StringArrayVar(&secrets, "secret", nil, "Webhook secret to sign with (default: the configured one that verifies the delivery)")
	fl.BoolVar(&last, "last", false, "The newest delivery")
	cmdutil.AddProviderFlag(cmd)
	fl.DurationVar(&opts.Timeout, "timeout", 30*time.Second, "How long to wait for the answer")
	return cmd
}

func resendRun(ctx context.Context, opts *ResendOptions) error {
	return withDelivery(ctx, opts.History, opts.Delivery, func(h *store.Store, d *store.Delivery) error {
		return resend(ctx, opts, h, d)
	})
}

func resend(ctx context.Context, opts *ResendOptions, h *store.Store, d *store.Delivery) error {
	client, err := opts.HttpClient()
	if err != nil {
		return err
	}
	r := &replay.Replayer{Client: client, Timeout: opts.Timeout, Now: opts.Now, Provider: opts.Provider,
		Secrets: opts.Secrets, Configured: opts.Configured, Forward: opts.Forward, By: store.AttemptByResend}
	sign := replay.SignFresh
	if opts.AsIs {
		sign = replay.SignAsIs
	}
	res, err := r.Replay(ctx, h, d, replay.Edit{Sign: sign})
	var usage *replay.UsageError
	switch {
	case errors.Is(err, replay.ErrNoTarget):
		return cmdutil.FlagErrorf("delivery %s was not forwarded anywhere: pass --forward localhost:3000", d.ID)
	case errors.As(err, &usage):
		return cmdutil.FlagErrorf("resend %s: %v", d.ID, usage.Err)
	case errors.Is(err, delivery.ErrNoSecretVerifies):
		return fmt.Errorf("resend %s: %w", d.ID, err)
	case err != nil:
		return cmdutil.ErrCancel
	}
	if res.Note != "" {
		fmt.Fprintf(opts.IO.ErrOut, "note: %s\n", res.Note)
	}
	return report(opts.IO, d, res)
}

func report(ios *iostreams.IOStreams, d *store.Delivery, res replay.Result) error {
	r := res.Attempt
	if ios.JSON() {
		if err := ios.WriteJSON(map[string]any{"id": d.ID, "event": d.Event, "url": r.URL, "status": r.Status, "duration_ms": r.DurationMS, "ok": res.OK, "error": r.Error}); err != nil {
			return err
		}
	} else {
		s := ui.New(ios.Out, ios.ColorEnabled())
		// Where it went is said each time: the delivery's own forward
		// target unless --forward, which a newcomer could not tell.
		to := termsafe.Line(r.URL)
		switch {
		case res.OK:
			fmt.Fprintf(ios.Out, "%s %s %s → %s: %d %s  %dms\n", s.SuccessIcon(), d.ID, termsafe.Line(d.Event), to, r.Status, http.StatusText(r.Status), r.DurationMS)
		case res.Unreachable:
			fmt.Fprintf(ios.Out, "%s %s %s → %s: %s\n", s.FailureIcon(), d.ID, termsafe.Line(d.Event), to, termsafe.Line(r.Error))
		default:
			fmt.Fprintf(ios.Out, "%s %s %s → %s: %d %s\n", s.FailureIcon(), d.ID, termsafe.Line(d.Event), to, r.Status, http.StatusText(r.Status))
		}
	}
	switch {
	case res.OK:
		return nil
	case res.Unreachable:
		return &cmdutil.SilentError{Code: cmdutil.ExitUnreachable}
	}
	return &cmdutil.SilentError{Code: cmdutil.ExitRejected}
}
