package auth

import (
	"context"
	"errors"
	"fmt"

	"github.com/jasni/jasni-cli/internal/api"
	"github.com/jasni/jasni-cli/internal/cmdutil"
	"github.com/jasni/jasni-cli/internal/config"
	"github.com/jasni/jasni-cli/internal/iostreams"
	"github.com/jasni/jasni-cli/internal/ui"
	"github.com/spf13/cobra"
)

// NewCmdAuth groups the commands about the API key. login and logout are
// also top-level commands, which is where jasni's messages send people.
func NewCmdAuth(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "auth <command>",
		Short: "See and change which Jasni API key jasni uses",
		Args:  cmdutil.SubcommandArgs,
		RunE:  cmdutil.GroupRunE,
	}
	login, logout := NewCmdLogin(f, nil), NewCmdLogout(f, nil)
	login.Hidden, logout.Hidden = true, true
	cmd.AddCommand(NewCmdStatus(f, nil), login, logout)
	return cmd
}

type StatusOptions struct {
	IO     *iostreams.IOStreams
	Config func() (*config.Config, error)
	// Key is the key in use and Source where it came from ("" when none).
	Key, Source string
	// Client makes the client that asks the API about Key.
	Client func(cfg *config.Config) (*api.Client, error)
	// ProfileArgs repeats --config and --profile in the login command suggested.
	ProfileArgs string
}

func NewCmdStatus(f *cmdutil.Factory, runF func(*StatusOptions) error) *cobra.Command {
	opts := &StatusOptions{IO: f.IOStreams, Config: f.Config}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the profile, the API key in use, and whether the API accepts it",
		Long: cmdutil.Doc(`
			Show the profile, the API key in use (masked) and where it comes from, the API
			URL, and whether the API accepts the key, by listing your webhooks.

			Exit status: 0 when the API accepts the key, 5 when there is no key or the API
			refuses it, 4 when the API cannot be reached.
		`),
		Example: cmdutil.Examples(`
			$ jasni auth status
			$ jasni auth status --profile staging --output json
		`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := opts.Config()
			if err != nil {
				return err
			}
			opts.Key, opts.Source = cfg.WithFlags(cmd.Flags()).Lookup(config.KeyAPIKey)
			opts.ProfileArgs = cmdutil.ProfileArgs(cmd)
			opts.Client = func(cfg *config.Config) (*api.Client, error) {
				return cmdutil.NewAPIClient(f, cmd, cfg, opts.Key, "")
			}
			if runF != nil {
				return runF(opts)
			}
			return statusRun(cmd.Context(), opts)
		},
	}
	cmdutil.AddAPIFlags(cmd)
	return cmd
}

// Status is what `auth status --output json` prints.
type Status struct {
	Profile   string `json:"profile"`
	Config    string `json:"config"`
	Key       string `json:"key"`
	KeySource string `json:"key_source"`
	APIURL    string `json:"api_url"`
	// State is accepted, refused, no_key, malformed_key or unreachable.
	State    string `json:"state"`
	Webhooks *int   `json:"webhooks,omitempty"`
	Error    string `json:"error,omitempty"`
}

var stateText = map[string]string{
	"refused":       "the API refuses the key",
	"no_key":        "no API key",
	"malformed_key": "not a Jasni API key",
	"error":         "the API answered with an error",
}

func statusRun(ctx context.Context, opts *StatusOptions) error {
	ios := opts.IO
	cfg, err := opts.Config()
	if err != nil {
		return err
	}
	st := Status{Profile: cfg.Profile, Config: cfg.Path, KeySource: opts.Source}
	var failure error
	switch {
	case opts.Key == "":
		st.State = "no_key"
		failure = cmdutil.ErrNoAPIKey
	case cmdutil.CheckAPIKey(opts.Key) != nil:
		st.State, st.Key = "malformed_key", "(not a jsk_ key)"
		failure = cmdutil.WithExitCode(cmdutil.ExitAuth, fmt.Errorf("the API key from %s is not a Jasni API key (they start with jsk_): run jasni login", opts.Source))
	default:
		st.Key = api.MaskKey(opts.Key)
		client, err := opts.Client(cfg)
		if err != nil {
			return err
		}
		st.APIURL = client.BaseURL
		all, err := client.ListWebhooks(ctx)
		var apiErr *api.Error
		switch {
		case err == nil:
			st.State = "accepted"
			n := len(all)
			st.Webhooks = &n
		case errors.As(err, &apiErr) && (apiErr.Kind == api.KindAuth || apiErr.Kind == api.KindForbidden):
			st.State = "refused"
			failure = cmdutil.WithExitCode(cmdutil.ExitAuth, fmt.Errorf("the API refuses the key from %s (%d): save a working one with: jasni login%s", opts.Source, apiErr.Status, opts.ProfileArgs))
		case errors.As(err, &apiErr) && apiErr.Kind == api.KindNetwork:
			st.State, failure = "unreachable", err
		case ctx.Err() != nil:
			return err
		default:
			st.State, failure = "error", err
		}
	}
	if failure != nil {
		st.Error = failure.Error()
	}
	if ios.JSON() {
		if err := ios.WriteJSONIndent(st); err != nil {
			return err
		}
		if failure != nil {
			return &cmdutil.SilentError{Code: cmdutil.CodeOf(failure)}
		}
		return nil
	}
	s := ui.New(ios.Out, ios.ColorEnabled())
	row := func(label, value string) { fmt.Fprintf(ios.Out, "%-9s %s\n", label, value) }
	row("Profile", fmt.Sprintf("%s  %s", st.Profile, s.Muted("("+st.Config+")")))
	if st.Key != "" {
		row("API key", fmt.Sprintf("%s  %s", st.Key, s.Muted("(from "+st.KeySource+")")))
	} else {
		row("API key", s.Muted("none"))
	}
	if st.APIURL != "" {
		row("API", st.APIURL)
	}
	switch st.State {
	case "accepted":
		noun := "webhooks"
		if *st.Webhooks == 1 {
			noun = "webhook"
		}
		row("Status", fmt.Sprintf("%s the API accepts the key (%d %s)", s.SuccessIcon(), *st.Webhooks, noun))
		return nil
	case "unreachable":
		row("Status", s.Warning("! the API could not be reached"))
	default:
		row("Status", s.Failure("✗ "+stateText[st.State]))
	}
	return failure
}
