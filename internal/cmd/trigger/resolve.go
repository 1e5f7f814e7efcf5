package trigger

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/jasni/jasni-cli/internal/cmdutil"
	"github.com/jasni/jasni-cli/internal/config"
	"github.com/jasni/jasni-cli/internal/delivery"
	"github.com/jasni/jasni-cli/internal/listenstate"
	"github.com/jasni/jasni-cli/internal/payload"
	"github.com/jasni/jasni-cli/internal/termsafe"
	"github.com/spf13/cobra"
)

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
	var listen *listenstate.State
	if o.URL == "" {
		var err error
		if listen, err = o.urlOfListen(); err != nil {
			return err
		}
	} else if !o.Unsigned && !cmd.Flags().Changed("secret") {
		// listen's "Try it" line names its URL but not a secret typed on
		// its command line (which would stay on the screen): the listen
		// at that URL says what it verifies with.
		listen = o.listenAt(o.URL)
	}
	if err := cmdutil.CheckURL("--url", o.URL); err != nil {
		return err
	}

	if o.Unsigned {
		if cmd.Flags().Changed("secret") {
			return cmdutil.FlagErrorf("--unsigned and --secret contradict each other: choose one")
		}
	} else {
		// A configured secret that is no key of this provider is set aside
		// for one that is; with none, its parse error below says what to do.
		secrets, source, _ := cmdutil.UsableSecrets(cmd, cfg, o.Provider, cmdutil.ProfilesOther(cmd, cfg, o.Provider), o.Provider.SigningKey)
		if len(secrets) == 0 {
			secrets, source = cmdutil.Secrets(cmd, cfg)
		}
		o.SecretSource = source
		if listen != nil && !cmd.Flags().Changed("secret") && o.signsWith(listen.Secrets) {
			// Sent to the listen running here: signed as it verifies,
			// whatever secret it was started with.
			secrets, o.SecretSource = listen.Secrets[:1], "the jasni listen running here"
		}
		if len(secrets) > 0 {
			o.Secret, o.MoreSecrets = secrets[0], secrets[1:]
		}
		if o.Secret == "" {
			return cmdutil.FlagErrorf("no webhook secret: pass --secret %s, set WEBHOOK_SECRET, or use --unsigned to send without a signature", cmdutil.SecretPlaceholder(o.Provider, true))
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

// outsideWindow says how far --timestamp is from now when that is beyond
// the provider's tolerance, else "".
func (o *Options) outsideWindow() string {
	tol := o.Provider.Signature.Tolerance.Duration
	if o.Timestamp.IsZero() || tol <= 0 || !o.signed() {
		return ""
	}
	off := o.Now().Sub(o.Timestamp)
	when := "old"
	if off < 0 {
		off, when = -off, "ahead"
	}
	if off <= tol {
		return ""
	}
	return fmt.Sprintf("--timestamp is %s %s, outside the %s window %s allows", off.Round(time.Second), when, tol, o.Provider.Title)
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

// urlOfListen sends to the `jasni listen` running on this machine when no
// URL is given (the newest one for this provider and profile), and says
// so; without one, the error says how to give one.
func (o *Options) urlOfListen() (*listenstate.State, error) {
	running := listenstate.Running(o.ListenState)
	if len(running) == 0 {
		return nil, cmdutil.FlagErrorf("no URL to send to: pass --url http://localhost:3000/webhooks/jasni, set JASNI_TRIGGER_URL, or start jasni listen here first")
	}
	for i := range running {
		if st := &running[i]; st.Provider == o.Provider.Name && (st.Profile == "" || st.Profile == o.Profile) {
			o.URL = st.URL
			fmt.Fprintf(o.IO.ErrOut, "Sending to the jasni listen running here: %s\n", termsafe.Line(st.URL))
			return st, nil
		}
	}
	st := running[0]
	if st.Provider != o.Provider.Name {
		return nil, cmdutil.FlagErrorf("no URL to send to: the jasni listen running here (%s) verifies %s deliveries, not %s; pass --provider %s to send it some, or --url", st.URL, st.Provider, o.Provider.Name, st.Provider)
	}
	return nil, cmdutil.FlagErrorf("no URL to send to: the jasni listen running here (%s) uses profile %q, not %q; pass --profile %s, or --url", st.URL, st.Profile, o.Profile, st.Profile)
}

// listenAt is the jasni listen running here, for this provider, that
// receives what is sent to url.
func (o *Options) listenAt(url string) *listenstate.State {
	if o.ListenState == "" {
		return nil
	}
	for _, st := range listenstate.Running(o.ListenState) {
		if st.Provider == o.Provider.Name && st.Receives(url) {
			return &st
		}
	}
	return nil
}

// signsWith reports whether secrets (a running listen's) can sign for the
// provider: a public key, which listen verifies Discord's with, cannot.
func (o *Options) signsWith(secrets []string) bool {
	if len(secrets) == 0 || secrets[0] == "" {
		return false
	}
	_, err := o.Provider.SigningKey(secrets[0])
	return err == nil
}
