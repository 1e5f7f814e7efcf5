// Package inspect is `jasni inspect`: the web inspector of `jasni listen`,
// on the history alone, with no listener.
package inspect

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/jasni/jasni-cli/internal/build"
	"github.com/jasni/jasni-cli/internal/cmdutil"
	"github.com/jasni/jasni-cli/internal/delivery"
	inspector "github.com/jasni/jasni-cli/internal/inspect"
	"github.com/jasni/jasni-cli/internal/iostreams"
	"github.com/jasni/jasni-cli/internal/provider"
	"github.com/jasni/jasni-cli/internal/replay"
	"github.com/jasni/jasni-cli/internal/store"
	"github.com/spf13/cobra"
)

type Options struct {
	IO          *iostreams.IOStreams
	HttpClient  func() (*http.Client, error)
	HistoryPath string
	Addr        string
	Forward     *url.URL
	Timeout     time.Duration
	Provider    *provider.Provider
	Secrets     []delivery.Secret
	Configured  []delivery.Secret
	// Ready, when set, is told the inspector's URL (tests).
	Ready func(url string)
}

func NewCmdInspect(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, HttpClient: f.HttpClient}
	var (
		forward, addr string
		secrets       []string
	)
	cmd := &cobra.Command{
		Use:   "inspect [--forward localhost:3000]",
		Short: "Browse, replay and export the deliveries in the history, in a web page",
		Long: cmdutil.Doc(`
			Serve the web inspector that "jasni listen" serves, on the history alone:
			every delivery listen kept, with its headers, body, signature verdict and
			each attempt's answer; replay one as received, signed again, or edited;
			compare two; copy one as curl; save its body as a fixture; export a
			selection as HAR 1.2. New deliveries appear as a running listen keeps them.

			Replays go to --forward (without it, there is no replay). An edited
			delivery is signed with --secret, else the configured secret; an unedited
			one with the configured secret that verifies it, as "events resend" does.

			The page is on 127.0.0.1 only (port 4040, or the next free one; choose with
			--inspect). It answers only requests addressed to 127.0.0.1 or localhost,
			and replays only from its own page.
		`),
		Example: cmdutil.Examples(`
			$ jasni inspect
			$ jasni inspect --forward localhost:3000
			$ jasni inspect --inspect 127.0.0.1:5050
		`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if forward != "" {
				if opts.Forward, err = cmdutil.ParseForward(forward); err != nil {
					return err
				}
			}
			var off bool
			if opts.Addr, off, err = inspector.ParseFlag(addr); err != nil {
				return cmdutil.FlagErrorf("%v", err)
			}
			if off {
				return cmdutil.FlagErrorf("--inspect %s: jasni inspect is the inspector; give it an address, or leave --inspect out", addr)
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
			if opts.HistoryPath, err = store.DefaultPath(f.Getenv); err != nil {
				return err
			}
			opts.Secrets, opts.Configured = cmdutil.ResignSecrets(cfg, secrets, opts.HistoryPath)
			if runF != nil {
				return runF(opts)
			}
			return run(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&forward, "forward", "f", "", "Replay to your app here: 3000, localhost:3000 or a URL (without a path, the delivery's path is kept)")
	fl.StringVar(&addr, "inspect", "", "Serve on this loopback `address` (default 127.0.0.1:4040, or the next free port)")
	fl.StringArrayVar(&secrets, "secret", nil, "Webhook secret to sign replays with (default: the configured one)")
	fl.DurationVar(&opts.Timeout, "timeout", 30*time.Second, "How long a replay waits for your app's answer")
	cmdutil.AddProviderFlag(cmd)
	return cmd
}

func run(ctx context.Context, opts *Options) error {
	if _, err := os.Stat(opts.HistoryPath); errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("no history at %s yet: start \"jasni listen\", then send some deliveries with \"jasni trigger\"", opts.HistoryPath)
	}
	h, err := store.Open(opts.HistoryPath, store.DefaultLimits)
	if err != nil {
		return err
	}
	defer h.Close()
	if n := h.Notice(); n != "" {
		fmt.Fprintln(opts.IO.ErrOut, n)
	}
	o := inspector.Options{Store: h, Version: build.Current().Version}
	if opts.Forward != nil {
		client, err := opts.HttpClient()
		if err != nil {
			return err
		}
		o.Replayer = &replay.Replayer{Client: client, Timeout: opts.Timeout, Provider: opts.Provider,
			Secrets: opts.Secrets, Configured: opts.Configured, Forward: opts.Forward, By: store.AttemptByReplay}
	} else {
		o.NoReplay = "no --forward, so there is no app to replay to: start it with jasni inspect --forward localhost:3000"
	}
	srv, err := inspector.New(o)
	if err != nil {
		return err
	}
	ln, err := inspector.Listen(opts.Addr)
	if err != nil {
		return err
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	defer srv.Close()
	u := inspector.URL(ln)
	if opts.IO.JSON() {
		if err := opts.IO.WriteJSON(map[string]string{"type": "ready", "inspector": u, "history": opts.HistoryPath}); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(opts.IO.ErrOut, "Inspector: %s\n  History: %s\n", u, opts.HistoryPath)
		if opts.Forward != nil {
			fmt.Fprintf(opts.IO.ErrOut, "  Replays go to %s\n", opts.Forward)
		}
		fmt.Fprintln(opts.IO.ErrOut, "  Press Ctrl-C to stop.")
	}
	if opts.Ready != nil {
		opts.Ready(u)
	}
	select {
	case <-ctx.Done():
		return &cmdutil.SilentError{Code: cmdutil.ExitInterrupted}
	case err := <-served:
		return err
	}
}
