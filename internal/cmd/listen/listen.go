// Package listen implements `jasni listen`: a tunnel (ngrok, or a local
// port) with a verifying relay behind it that forwards to the user's app and
// shows every delivery as it happens.
package listen

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jasni/jasni-cli/internal/build"
	"github.com/jasni/jasni-cli/internal/cmdutil"
	"github.com/jasni/jasni-cli/internal/config"
	"github.com/jasni/jasni-cli/internal/devwebhook"
	"github.com/jasni/jasni-cli/internal/feed"
	"github.com/jasni/jasni-cli/internal/inspect"
	"github.com/jasni/jasni-cli/internal/iostreams"
	"github.com/jasni/jasni-cli/internal/listenstate"
	"github.com/jasni/jasni-cli/internal/provider"
	"github.com/jasni/jasni-cli/internal/relay"
	"github.com/jasni/jasni-cli/internal/replay"
	"github.com/jasni/jasni-cli/internal/session"
	"github.com/jasni/jasni-cli/internal/store"
	"github.com/jasni/jasni-cli/internal/tunnel"
	"github.com/jasni/jasni-cli/internal/ui"
	"github.com/spf13/cobra"
	"golang.ngrok.com/ngrok/v2"
)

// WebhookPath is where Jasni's docs put the endpoint; the registered URL uses it.
const WebhookPath = relay.DefaultPath

// Options is listen's resolved input.
type Options struct {
	IO         *iostreams.IOStreams
	HttpClient *http.Client
	// saveSecret keeps a secret listen made in the profile, once listen
	// is up; nil when the secret came from elsewhere.
	saveSecret func() error
	// historyFromEnv: JASNI_HISTORY named the history, so a trigger run
	// in another shell would not find this listen's state beside it.
	historyFromEnv bool
	// foundByTrigger: this listen's state is saved where a trigger run in
	// another shell finds it (and with it the secret to sign with).
	foundByTrigger bool
	// profilesOther is the profile's provider when this listen is for
	// another (--provider): the profile's secret is not this one's to use
	// or replace.
	profilesOther string
	// runOnlySecret: the secret was made for this run, and not saved.
	runOnlySecret bool
	// setAside names where a configured secret came from that this
	// provider cannot use (it is the profile's provider's).
	setAside string

	Forward        *url.URL
	Port           int
	Tunnel         string // auto, ngrok or local
	NgrokAuthtoken string
	NgrokDomain    string
	Secret         string
	SecretSource   string
	// MoreSecrets are further --secret values, during a key rotation.
	MoreSecrets []string
	SkipVerify  bool
	// ForwardInsecure accepts any certificate from an https --forward.
	ForwardInsecure bool
	Headers         http.Header
	Events          []string
	PrintJSON       bool
	MaxBody         int64
	// Paths and Methods are the requests verified and forwarded (--path,
	// --method); the first path is the one listen prints.
	Paths       []string
	Methods     []string
	HistoryPath string
	// Provider says how deliveries are signed and read; Keys verify them.
	Provider *provider.Provider
	Keys     []provider.Key

	// DevWebhook keeps a registered webhook pointed at the tunnel; nil when
	// there is no API key or no public tunnel.
	DevWebhook *devwebhook.Webhook

	// NgrokExtra and NgrokConnectTimeout are for tests against a fake edge.
	NgrokExtra          []ngrok.AgentOption
	NgrokConnectTimeout time.Duration
	// Ready, when set, is told the tunnel URL once deliveries can arrive.
	Ready func(url string)
	// Inspect is the inspector's address ("" for 127.0.0.1:4040 or the
	// next free port); NoInspect turns it off (--inspect=false).
	Inspect   string
	NoInspect bool
	// Profile is the config profile in use.
	Profile string
	// TriggerArgs are what a trigger command line needs besides the secret
	// to send what this listen accepts (--config, --profile, --provider);
	// ProfileArgs only the first two.
	TriggerArgs, ProfileArgs string
}

// Deps lets tests reach inside: a fake ngrok edge, a shorter connect
// deadline, and a signal once ready.
type Deps struct {
	NgrokExtra          []ngrok.AgentOption
	NgrokConnectTimeout time.Duration
	Ready               func(url string)
}

func NewCmdListen(f *cmdutil.Factory, deps Deps) *cobra.Command {
	var (
		forward, events, tunnelKind string
		inspectFlag                 string
		headers                     []string
		printSecret                 bool
		webhookID                   string
	)
	opts := &Options{IO: f.IOStreams, NgrokExtra: deps.NgrokExtra, NgrokConnectTimeout: deps.NgrokConnectTimeout, Ready: deps.Ready}
	cmd := &cobra.Command{
		Use:   "listen [--forward localhost:3000]",
		Short: "Receive webhooks through a tunnel, verify them and forward them to your app",
		Long: cmdutil.Doc(`
			Open a public ngrok tunnel (or, without an ngrok authtoken, a local port),
			verify the signature of every delivery that arrives, forward the verified
			ones to your app with body and headers untouched, and show each one as it
			happens. Your app's answer goes back to the sender, so retries behave as in
			production: an app that is down gives 502, one slower than 30 s gives 504.

			Every delivery is kept in a local history before it is forwarded: list it
			with "jasni events list" and send it again with "jasni events resend".

			With an API key (jasni login) and a public tunnel, listen keeps one
			development webhook per profile pointed at the tunnel: created on first use,
			its secret saved in the profile, its URL updated on every start and the
			webhook paused on exit. Print that secret with --print-secret.

			The secret comes from --secret, JASNI_WEBHOOK_SECRET, WEBHOOK_SECRET or the
			profile. With none at all, listen makes one for local testing and saves it
			in the profile, where "jasni trigger" finds it.
		`),
		Example: cmdutil.Examples(`
			# Forward to your app on port 3000
			$ jasni listen --forward localhost:3000

			# Offline: a local port, no ngrok; fire events at it from another terminal
			$ jasni listen --tunnel local --port 4000 --forward 3000
			$ jasni trigger --all --url http://127.0.0.1:4000/webhooks/jasni

			# Only some events, with each payload printed
			$ jasni listen --forward localhost:3000/webhooks/jasni --events email.received,email.bounced --print-json

			# The development webhook's secret, for your app
			$ export WEBHOOK_SECRET=$(jasni listen --print-secret)
		`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := f.Config()
			if err != nil {
				return err
			}
			getenv := f.Getenv
			if getenv == nil {
				getenv = func(string) string { return "" }
			}
			if opts.HttpClient, err = f.HttpClient(); err != nil {
				return err
			}
			if err := opts.resolve(cmd, cfg, getenv, forward, events, tunnelKind, headers); err != nil {
				return err
			}
			if opts.Inspect, opts.NoInspect, err = inspect.ParseFlag(inspectFlag); err != nil {
				return cmdutil.FlagErrorf("%v", err)
			}
			if cmd.Flags().Changed("skip-verify") {
				fmt.Fprintln(f.IOStreams.ErrOut, "warning: --skip-verify is now --no-signature-check (it never meant TLS checks, as it does in other CLIs; --forward-insecure skips those for the app)")
			}
			if err := opts.prepareDevWebhook(f, cmd, cfg, webhookID); err != nil {
				return err
			}
			// After the development webhook is decided: its secret is the
			// one listen verifies with, so it is the one to print.
			if printSecret {
				return printDevSecret(f, cfg, opts)
			}
			opts.ProfileArgs = cmdutil.ProfileArgs(cmd)
			opts.TriggerArgs = opts.ProfileArgs + cmdutil.ProviderArgs(cmd)
			if err := opts.ensureSecret(cfg); err != nil {
				return err
			}
			if err := opts.parseKey(); err != nil {
				return err
			}
			return listenRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&forward, "forward", "f", "", "Your app: 3000, :3000, localhost:3000 or a full URL (without a path, the incoming path is kept)")
	fl.IntVar(&opts.Port, "port", 0, "Local port to listen on (default: a free one, printed)")
	fl.StringVar(&tunnelKind, "tunnel", "auto", "ngrok, local, or auto: ngrok when an authtoken is set, else local")
	fl.StringVar(&opts.NgrokAuthtoken, "ngrok-authtoken", "", "ngrok authtoken (default: NGROK_AUTHTOKEN, then the profile's ngrok_authtoken)")
	fl.StringVar(&opts.NgrokDomain, "ngrok-domain", "", "Your reserved ngrok domain, e.g. myapp.ngrok.app")
	fl.StringArray("secret", nil, "Webhook secret to verify with (the whole string, whsec_ included); give it twice during a key rotation")
	config.BindFlag(fl, "secret", config.KeyWebhookSecret)
	config.BindFlag(fl, "ngrok-authtoken", config.KeyNgrokAuthtoken)
	fl.BoolVar(&opts.SkipVerify, "no-signature-check", false, "Forward deliveries without checking signatures (anyone who finds the URL can send)")
	// The old name: in other CLIs (Stripe's) it means skipping TLS checks.
	fl.BoolVar(&opts.SkipVerify, "skip-verify", false, "")
	_ = fl.MarkHidden("skip-verify")
	fl.BoolVar(&opts.ForwardInsecure, "forward-insecure", false, "Accept any TLS certificate from an https --forward target (a self-signed local app)")
	fl.StringArrayVar(&headers, "header", nil, "Add a `header` to forwarded requests, given as Name:value (repeatable)")
	fl.StringVar(&events, "events", "", "Forward only these event types, comma-separated (others are answered 200 and shown as skipped)")
	fl.BoolVar(&opts.PrintJSON, "print-json", false, "Print each delivery's payload")
	fl.Int64Var(&opts.MaxBody, "max-body", relay.DefaultMaxBody, "Largest body accepted, in bytes (413 above it)")
	fl.StringSliceVar(&opts.Paths, "path", nil, "The webhook `path`: only requests to it are verified and forwarded, others get 404 (repeatable; '*' for any; default /webhooks/<provider>)")
	cmdutil.AddProviderFlag(cmd)
	fl.StringSliceVar(&opts.Methods, "method", []string{http.MethodPost}, "The HTTP `methods` verified and forwarded, others get 405 (repeatable; '*' for any)")
	fl.StringVar(&inspectFlag, "inspect", "", "Serve the web inspector on this loopback `address` (default 127.0.0.1:4040, or the next free port; --inspect=false for none)")
	fl.BoolVar(&printSecret, "print-secret", false, "Print the development webhook's secret and exit")
	fl.StringVar(&webhookID, "webhook", "", "Point this registered webhook `ID` at the tunnel instead of the development one")
	cmdutil.AddAPIFlags(cmd)
	_ = cmd.RegisterFlagCompletionFunc("tunnel", cobra.FixedCompletions([]cobra.Completion{"auto", "ngrok", "local"}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("events", cmdutil.EventListCompletion)
	return cmd
}

func (o *Options) resolve(cmd *cobra.Command, cfg *config.Config, getenv func(string) string, forward, events, tunnelKind string, headers []string) error {
	if forward != "" {
		u, err := cmdutil.ParseForward(forward)
		if err != nil {
			return err
		}
		o.Forward = u
	}
	if o.Port < 0 || o.Port > 65535 {
		return cmdutil.FlagErrorf("--port %d is not a port number (0 picks a free one)", o.Port)
	}
	if o.MaxBody <= 0 || o.MaxBody > store.DefaultLimits.MaxBytes {
		return cmdutil.FlagErrorf("--max-body must be from 1 to %d bytes (the history's own size)", store.DefaultLimits.MaxBytes)
	}
	if events != "" {
		for _, e := range strings.Split(events, ",") {
			if e = strings.TrimSpace(e); e != "" {
				o.Events = append(o.Events, e)
			}
		}
	}
	o.Headers = http.Header{}
	for _, h := range headers {
		name, value, err := cmdutil.ParseHeader(h)
		if err != nil {
			return err
		}
		o.Headers.Add(name, value)
	}

	o.NgrokAuthtoken = cfg.WithFlags(cmd.Flags()).Get(config.KeyNgrokAuthtoken)
	switch tunnelKind {
	case "auto":
		o.Tunnel = "local"
		if o.NgrokAuthtoken != "" {
			o.Tunnel = "ngrok"
		}
	case "ngrok":
		if o.NgrokAuthtoken == "" {
			return cmdutil.FlagErrorf("--tunnel ngrok needs an authtoken: set NGROK_AUTHTOKEN or pass --ngrok-authtoken (get one at https://dashboard.ngrok.com/get-started/your-authtoken)")
		}
		o.Tunnel = "ngrok"
	case "local":
		o.Tunnel = "local"
	default:
		return cmdutil.FlagErrorf("--tunnel must be auto, ngrok or local, not %q", tunnelKind)
	}
	if o.NgrokDomain != "" && o.Tunnel != "ngrok" {
		return cmdutil.FlagErrorf("--ngrok-domain needs the ngrok tunnel (an authtoken, or --tunnel ngrok)")
	}

	o.Profile = cfg.Profile
	var err error
	if o.HistoryPath, err = store.DefaultPath(getenv); err != nil {
		return err
	}
	o.historyFromEnv = getenv("JASNI_HISTORY") != ""
	if o.Provider, err = cmdutil.Provider(cmd, cfg); err != nil {
		return err
	}
	if err := cmdutil.CheckEventsOf(o.Events, o.Provider.EventNames()); err != nil {
		return err
	}
	// A configured secret this provider cannot use (a Jasni secret is no
	// Discord key) is set aside, saying so; with none left, listen makes a key.
	o.profilesOther = cmdutil.ProfilesOther(cmd, cfg, o.Provider)
	secrets, source, setAside := cmdutil.UsableSecrets(cmd, cfg, o.Provider, o.profilesOther, o.Provider.ParseKey)
	if len(secrets) > 0 {
		o.Secret, o.MoreSecrets, o.SecretSource = secrets[0], secrets[1:], source
	}
	o.setAside = setAside
	if len(o.Paths) == 0 {
		o.Paths = []string{"/webhooks/" + o.Provider.Name}
	}
	return o.checkRoutes()
}

// parseKey makes the secrets into the provider's keys, or says why one
// cannot be.
func (o *Options) parseKey() error {
	if o.SkipVerify || o.Secret == "" {
		return nil
	}
	keys, err := cmdutil.ParseKeys(o.Provider, append([]string{o.Secret}, o.MoreSecrets...), o.SecretSource)
	if err != nil {
		return err
	}
	o.Keys = keys
	return nil
}

// checkRoutes validates --path and --method.
func (o *Options) checkRoutes() error {
	for i, p := range o.Paths {
		switch {
		case p == relay.Any && len(o.Paths) == 1:
		case p == relay.Any:
			return cmdutil.FlagErrorf("--path '*' accepts any path, so it cannot be given with other paths")
		case !strings.HasPrefix(p, "/") || strings.ContainsAny(p, "?# "):
			return cmdutil.FlagErrorf("--path %q must start with / and hold no query, fragment or space (for example %s)", p, WebhookPath)
		}
		o.Paths[i] = p
	}
	for i, m := range o.Methods {
		m = strings.ToUpper(strings.TrimSpace(m))
		switch {
		case m == relay.Any && len(o.Methods) == 1:
		case m == relay.Any:
			return cmdutil.FlagErrorf("--method '*' accepts any method, so it cannot be given with other methods")
		case m == "" || strings.IndexFunc(m, func(r rune) bool { return r < 'A' || r > 'Z' }) >= 0:
			return cmdutil.FlagErrorf("--method %q is not an HTTP method (for example POST or PUT)", o.Methods[i])
		}
		o.Methods[i] = m
	}
	return nil
}

// publicPath is the path listen prints and registers.
func (o *Options) publicPath() string {
	if len(o.Paths) == 0 || o.Paths[0] == relay.Any {
		return WebhookPath
	}
	return o.Paths[0]
}

// ensureSecret makes sure there is a secret to verify with. With none
// configured anywhere, it creates one for local testing and saves it in the
// profile, where trigger finds it: listen then works with no setup at all.
func (o *Options) ensureSecret(cfg *config.Config) error {
	// A new development webhook comes with its own secret.
	if o.Secret != "" || o.SkipVerify || o.DevWebhook != nil {
		return nil
	}
	var err error
	if o.Secret, err = o.Provider.NewSecret(); err != nil {
		return err
	}
	if o.profilesOther != "" {
		// Not saved: the profile's webhook_secret is its own provider's,
		// which this one would replace.
		o.runOnlySecret = true
		why := fmt.Sprintf("profile %q is %s's", cfg.Profile, cmdutil.ProviderTitle(o.profilesOther))
		if o.setAside != "" {
			why = fmt.Sprintf("the secret from %s is no %s key", o.setAside, o.Provider.Title)
		}
		o.SecretSource = fmt.Sprintf("this run (made now, not saved: %s; trigger sent here finds it)", why)
		return nil
	}
	// Saved once listen is up: a run that fails to start (a port in use)
	// must not leave a secret in the profile that no run said it made.
	o.saveSecret = func() error {
		cfg.Set(cfg.Profile, config.KeyWebhookSecret, o.Secret)
		if err := cfg.Save(); err != nil {
			return fmt.Errorf("no webhook secret is configured and a new one could not be saved: %w (pass --secret)", err)
		}
		return nil
	}
	o.SecretSource = "profile " + strconv.Quote(cfg.Profile) + " (made now, for local testing; trigger finds it there)"
	if o.setAside != "" {
		o.SecretSource = fmt.Sprintf("profile %q (made now, since the secret from %s is no %s key; trigger finds it there)", cfg.Profile, o.setAside, o.Provider.Title)
	}
	return nil
}

func listenRun(ctx context.Context, o *Options) error {
	errOut := ui.New(o.IO.ErrOut, o.IO.ErrColorEnabled())
	disp := newDisplay(o.IO, o.PrintJSON)
	disp.secretAdvice = o.secretAdvice()
	defer disp.close() // the last thing: everything else reports through it
	hub := &feed.Hub{}
	viewDone := disp.subscribe(hub)

	events := o.Events
	if len(events) == 0 {
		events = o.Provider.EventNames()
	}
	s, err := session.Start(ctx, session.Options{
		HistoryPath: o.HistoryPath,
		OpenTunnel:  func(ctx context.Context) (tunnel.Tunnel, error) { return o.openTunnel(ctx, disp) },
		Path:        o.publicPath(),
		Relay: relay.Config{
			Provider:   o.Provider,
			Keys:       o.Keys,
			Secret:     o.Secret,
			Transport:  forwardTransport(o.ForwardInsecure),
			SkipVerify: o.SkipVerify,
			Forward:    o.Forward,
			Header:     o.Headers,
			Events:     o.Events,
			Paths:      o.Paths,
			Methods:    o.Methods,
			MaxBody:    o.MaxBody,
		},
		Limits:     relay.DefaultServerLimits,
		Feed:       hub,
		Report:     reporter{disp},
		DevWebhook: o.DevWebhook,
		DevEvents:  events,
		Rekey: func(secret string) ([]provider.Key, error) {
			o.Secret, o.SecretSource = secret, "the development webhook (profile "+o.Profile+")"
			disp.setSecretAdvice(o.secretAdvice())
			if err := o.parseKey(); err != nil {
				return nil, err
			}
			return o.Keys, nil
		},
	})
	switch {
	case errors.Is(err, tunnel.ErrUnreachable):
		return cmdutil.WithExitCode(cmdutil.ExitUnreachable, err)
	case errors.Is(err, session.ErrForwardLoop):
		return cmdutil.FlagErrorf("--forward %s is where listen itself listens: every delivery would go round in a loop. Point --forward at your app", o.Forward.Host)
	case err != nil:
		return err
	}

	if o.saveSecret != nil {
		if err := o.saveSecret(); err != nil {
			s.Close()
			return err
		}
	}
	inspectorURL, stopInspector, err := o.startInspector(s, hub)
	if err != nil {
		s.Close()
		return err
	}
	defer stopInspector()
	if !s.Tunnel.Public() {
		// Where trigger sends when it is given no URL, and the secret it
		// signs with when sent here.
		state := listenstate.State{URL: s.PublicURL, Addr: s.Tunnel.Addr().String(), Provider: o.Provider.Name, Profile: o.Profile, Paths: o.Paths,
			PID: os.Getpid(), Started: time.Now(), Secrets: append([]string{o.Secret}, o.MoreSecrets...)}
		stateDir := listenstate.Dir(o.HistoryPath)
		if err := listenstate.Save(stateDir, state); err == nil {
			defer listenstate.Remove(stateDir, state)
			// A trigger in another shell looks where the default history
			// is: with JASNI_HISTORY set here, it would not find this one.
			o.foundByTrigger = !o.historyFromEnv
		}
	}
	width := 0
	if o.IO.IsStderrTTY() {
		width = o.IO.TerminalWidth()
	}
	disp.info(wrapBanner(o.banner(errOut, s.Tunnel, s.PublicURL, s.History != nil, inspectorURL, width), width))
	if o.IO.JSON() {
		disp.ready(readyObject{Type: "ready", URL: s.PublicURL, BaseURL: s.Tunnel.URL(), Path: o.publicPath(),
			Public: s.Tunnel.Public(), Provider: o.Provider.Name, Forward: urlString(o.Forward), History: historyPath(s, o),
			Inspector: inspectorURL})
	}
	disp.flush()
	if o.Ready != nil {
		o.Ready(s.Tunnel.URL())
	}

	runErr := s.Wait(ctx)
	disp.info(errOut.Muted("Stopping: answering the deliveries in flight (press Ctrl-C again to quit at once)..."))
	s.Close()
	hub.Close()
	<-viewDone
	disp.summary()
	switch {
	case runErr != nil:
		return runErr
	case ctx.Err() != nil:
		// Stopped by Ctrl-C, as documented: 130, with nothing more to say.
		return &cmdutil.SilentError{Code: cmdutil.ExitInterrupted}
	}
	return nil
}

// readyObject is the first line of `listen --output json`: scripts and
// agents wait for it before they send.
type readyObject struct {
	Type     string `json:"type"`
	URL      string `json:"url"`
	BaseURL  string `json:"base_url"`
	Path     string `json:"path"`
	Public   bool   `json:"public"`
	Provider string `json:"provider"`
	Forward  string `json:"forward,omitempty"`
	History  string `json:"history,omitempty"`
	// Inspector is the web inspector's URL, when it runs.
	Inspector string `json:"inspector,omitempty"`
}

// startInspector serves the web inspector on the session's history and
// feed, replaying to --forward; it returns its URL ("" when off).
func (o *Options) startInspector(s *session.Session, hub *feed.Hub) (string, func(), error) {
	if o.NoInspect {
		return "", func() {}, nil
	}
	ln, err := inspect.Listen(o.Inspect)
	if err != nil {
		return "", nil, err
	}
	opts := inspect.Options{Store: s.History, Feed: hub, BaseURL: s.Tunnel.URL(), Version: build.Current().Version}
	if o.Forward != nil {
		opts.Replayer = &replay.Replayer{
			Client:   &http.Client{Transport: forwardTransport(o.ForwardInsecure)},
			Timeout:  relay.DefaultForwardTimeout,
			Provider: o.Provider, Keys: o.Keys, Forward: o.Forward, By: store.AttemptByReplay,
		}
	} else {
		opts.NoReplay = "listen has no --forward, so there is no app to replay to: start it with --forward localhost:3000"
	}
	srv, err := inspect.New(opts)
	if err != nil {
		ln.Close()
		return "", nil, err
	}
	go func() { _ = srv.Serve(ln) }()
	return inspect.URL(ln), func() { _ = srv.Close() }, nil
}

func urlString(u *url.URL) string {
	if u == nil {
		return ""
	}
	return u.String()
}

func historyPath(s *session.Session, o *Options) string {
	if s.History == nil {
		return ""
	}
	return o.HistoryPath
}

// forwardTransport is the relay's transport, which with --forward-insecure
// accepts any certificate from the app.
func forwardTransport(insecure bool) http.RoundTripper {
	t := relay.NewForwardTransport()
	if insecure {
		t.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // the user asked, for a local app
	}
	return t
}

func (o *Options) openTunnel(ctx context.Context, disp *display) (tunnel.Tunnel, error) {
	if o.Tunnel == "local" {
		return tunnel.Local(o.Port)
	}
	fmt.Fprintln(o.IO.ErrOut, "Connecting to ngrok...")
	return tunnel.Ngrok(ctx, tunnel.NgrokOptions{
		Authtoken:      o.NgrokAuthtoken,
		Domain:         o.NgrokDomain,
		ConnectTimeout: o.NgrokConnectTimeout,
		Extra:          o.NgrokExtra,
		OnStatus:       disp.tunnelStatus,
	})
}

// sameSecretArgs make another command use the secret listen verifies with.
func (o *Options) sameSecretArgs() string {
	if o.SkipVerify {
		return ""
	}
	return cmdutil.SameSecretArgs(o.Secret, o.SecretSource)
}

// ownProfileHint is how to give the provider a profile of its own, where
// its secret is kept apart from the default profile's provider's.
func (o *Options) ownProfileHint() string {
	return cmdutil.OwnProfileHint(o.Provider)
}

// secretAdvice tells the user how to give their app the secret listen
// verifies with.
func (o *Options) secretAdvice() string {
	if o.SkipVerify {
		return ""
	}
	switch args := o.sameSecretArgs(); {
	case o.runOnlySecret:
		return "This run's key is not saved; to keep one your app can use, give " + o.Provider.Title + " a profile of its own: " + o.ownProfileHint() + "."
	case o.SecretSource == "--secret":
		return "Start your app with the secret given to --secret."
	case args != "":
		return "Start your app with the same " + o.SecretSource + "."
	}
	return "Give your app the one listen uses: jasni listen --print-secret" + o.ProfileArgs
}

func (o *Options) banner(s *ui.Styles, tun tunnel.Tunnel, publicURL string, history bool, inspector string, width int) string {
	w := &strings.Builder{}
	if tun.Public() {
		fmt.Fprintf(w, "%s Ready! Public URL: %s\n", s.SuccessIcon(), s.Bold(publicURL))
	} else {
		fmt.Fprintf(w, "%s Ready! Listening on %s %s\n", s.SuccessIcon(), s.Bold(publicURL), s.Muted("(local only)"))
		if o.NgrokAuthtoken == "" {
			fmt.Fprintln(w, s.Muted("  No ngrok authtoken, so "+o.Provider.Title+" itself cannot reach this; set NGROK_AUTHTOKEN for a public URL."))
		}
	}
	switch {
	case o.Forward != nil && o.SkipVerify:
		fmt.Fprintf(w, "  Forwarding every delivery, unchecked, to %s\n", o.Forward)
	case o.Forward != nil:
		fmt.Fprintf(w, "  Forwarding verified deliveries to %s\n", o.Forward)
	case o.SkipVerify:
		fmt.Fprintln(w, "  No --forward: deliveries are answered 200 and shown")
	default:
		fmt.Fprintln(w, "  No --forward: deliveries are verified, answered 200 and shown")
	}
	if o.SkipVerify {
		fmt.Fprintf(w, "  %s Signatures are NOT checked (--no-signature-check): anyone who finds this URL can send to your app\n", s.WarningIcon())
	} else {
		source := o.SecretSource
		if o.runOnlySecret && !o.foundByTrigger {
			source = strings.Replace(source, "; trigger sent here finds it", "", 1)
		}
		fmt.Fprintf(w, "  Verifying %s signatures with the secret from %s\n", o.Provider.Title, source)
	}
	if len(o.Events) > 0 {
		fmt.Fprintf(w, "  Forwarding only %s\n", strings.Join(o.Events, ", "))
	}
	if o.Paths[0] == relay.Any || len(o.Paths) > 1 || o.Methods[0] != http.MethodPost || len(o.Methods) > 1 {
		fmt.Fprintf(w, "  Accepting %s to %s; anything else is answered 404 or 405\n", strings.Join(o.Methods, ", "), strings.Join(o.Paths, ", "))
	}
	if inspector != "" {
		fmt.Fprintf(w, "  Inspector: %s\n", inspector)
	}
	if history {
		fmt.Fprintf(w, "  History: %s   Press Ctrl-C to stop.\n", o.HistoryPath)
	} else {
		if o.Forward == nil {
			fmt.Fprintf(w, "  %s No history and no --forward: deliveries are answered 503, since nothing could keep them\n", s.WarningIcon())
		}
		fmt.Fprintln(w, "  Press Ctrl-C to stop.")
	}
	// trigger sends POST: with a listen that refuses POST, no line to try.
	if !tun.Public() && (slices.Contains(o.Methods, http.MethodPost) || slices.Contains(o.Methods, relay.Any)) {
		secretArgs := o.sameSecretArgs()
		if o.SecretSource == "--secret" && o.foundByTrigger {
			// Not echoed back to the screen: trigger, sent to this URL,
			// finds the secret this listen verifies with.
			secretArgs = ""
		}
		if o.runOnlySecret && !o.foundByTrigger {
			secretArgs = " --secret " + cmdutil.ShellQuote(o.Secret)
		}
		if o.SkipVerify && o.Secret == "" {
			secretArgs = " --unsigned"
		}
		if len(o.Keys) > 0 && !o.Keys[0].CanSign() {
			// A public key verifies; trigger signs with the private one.
			secretArgs = " --secret PRIVATE_KEY"
		}
		try := shellFields(fmt.Sprintf("%s trigger --all --url %s%s%s", selfCommand(), publicURL, o.TriggerArgs, secretArgs))
		if one := "  Try it: " + strings.Join(try, " "); width <= 0 || ui.Width(one) <= width {
			fmt.Fprintln(w, one)
		} else {
			// On a line of its own, whole, so that it pastes as it is.
			fmt.Fprintf(w, "  Try it:\n%s\n", ui.WrapCommand(try, width, "    "))
		}
	}
	return w.String()
}

// selfCommand is how to run jasni again from this shell: "jasni", or,
// when this jasni was started by "go run" (which installs nothing), that.
func selfCommand() string {
	// go run builds into $GOTMPDIR/go-build…/b001/exe/jasni.
	if exe, err := os.Executable(); err == nil && strings.Contains(filepath.ToSlash(exe), "/go-build") && filepath.Base(filepath.Dir(exe)) == "exe" {
		return "go run ./cmd/jasni"
	}
	return "jasni"
}

// wrapBanner breaks the banner's lines at spaces to fit width: a terminal
// would break them inside a word, or leave a lone ")" on a line. The
// command to try is laid out already.
func wrapBanner(banner string, width int) string {
	lines := strings.Split(strings.TrimSuffix(banner, "\n"), "\n")
	for i, l := range lines {
		if !strings.HasPrefix(l, "    ") { // the command's own lines
			lines[i] = ui.Wrap(l, width, "    ")
		}
	}
	return strings.Join(lines, "\n")
}

// shellFields splits a command line at spaces outside quotes.
func shellFields(s string) []string {
	var (
		out   []string
		cur   strings.Builder
		quote rune
	)
	for _, r := range s {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			}
		case r == '\'' || r == '"':
			quote = r
		case r == ' ':
			if cur.Len() > 0 {
				out = append(out, cur.String())
				cur.Reset()
			}
			continue
		}
		cur.WriteRune(r)
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out
}
