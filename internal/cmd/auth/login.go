// Package auth implements `jasni login` and `jasni logout`.
package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jasni/jasni-cli/internal/api"
	"github.com/jasni/jasni-cli/internal/cmdutil"
	"github.com/jasni/jasni-cli/internal/config"
	"github.com/jasni/jasni-cli/internal/iostreams"
	"github.com/jasni/jasni-cli/internal/ui"
	"github.com/spf13/cobra"
)

type LoginOptions struct {
	IO     *iostreams.IOStreams
	Config func() (*config.Config, error)
	// Client makes an API client that uses key, to check it.
	Client func(cfg *config.Config, key string) (*api.Client, error)

	// Key is --api-key; "" to read it from stdin or a prompt.
	Key string
	// APIURL is --api-url, saved with the key when given.
	APIURL string
}

func NewCmdLogin(f *cmdutil.Factory, runF func(*LoginOptions) error) *cobra.Command {
	opts := &LoginOptions{IO: f.IOStreams, Config: f.EditConfig}
	cmd := &cobra.Command{
		Use:   "login",
		Short: "Save a Jasni API key for the webhooks commands",
		Long: cmdutil.Doc(`
			Check a Jasni API key against the API and save it in the config file
			(mode 0600) for the current profile. The key is read from --api-key, from
			stdin when it is piped, or from a prompt that does not echo.

			Prefer stdin or the prompt to --api-key: a flag stays in your shell history.
			JASNI_API_KEY and --api-key override the saved key on any command.
		`),
		Example: cmdutil.Examples(`
			$ jasni login
			$ echo "$JASNI_KEY" | jasni login --profile staging --api-url https://staging-api.example.com
		`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Key, _ = cmd.Flags().GetString("api-key")
			opts.APIURL, _ = cmd.Flags().GetString("api-url")
			if opts.Key == "" && opts.IO.IsStdinTTY() && !opts.IO.CanPrompt() {
				return cmdutil.FlagErrorf("no key: pass --api-key, or pipe it on stdin")
			}
			opts.Client = func(cfg *config.Config, key string) (*api.Client, error) {
				return cmdutil.NewAPIClient(f, cmd, cfg, key, "")
			}
			if runF != nil {
				return runF(opts)
			}
			return loginRun(cmd.Context(), opts)
		},
	}
	cmdutil.AddAPIFlags(cmd)
	return cmd
}

func loginRun(ctx context.Context, opts *LoginOptions) error {
	ios := opts.IO
	cfg, err := opts.Config()
	if err != nil {
		return err
	}
	key := opts.Key
	if key == "" {
		prompt := fmt.Sprintf("Paste your Jasni API key for profile %q (input hidden): ", cfg.Profile)
		if key, err = ios.ReadSecret(prompt); err != nil {
			return err
		}
		if key == "" {
			return cmdutil.FlagErrorf("no key given: find yours in the Jasni dashboard, then run jasni login again")
		}
	}
	key = strings.TrimSpace(key)
	if err := cmdutil.CheckAPIKey(key); err != nil {
		return err
	}

	client, err := opts.Client(cfg, key)
	if err != nil {
		return err
	}
	if _, err := client.ListWebhooks(ctx); err != nil {
		var apiErr *api.Error
		if errors.As(err, &apiErr) && apiErr.Kind == api.KindAuth {
			// Not the generic advice, which is to run the command that failed.
			return cmdutil.WithExitCode(cmdutil.ExitAuth, errors.New("login: the API refused this key (401), so it was not saved: copy a key (jsk_...) from the API keys page of the Jasni dashboard, or make a new one there"))
		}
		return fmt.Errorf("login: the key was not saved: %w", err)
	}

	cfg.Set(cfg.Profile, config.KeyAPIKey, key)
	if opts.APIURL != "" {
		cfg.Set(cfg.Profile, config.KeyAPIURL, opts.APIURL)
	}
	if err := cfg.Save(); err != nil {
		return err
	}
	if ios.JSON() {
		return ios.WriteJSON(map[string]string{"profile": cfg.Profile, "key": api.MaskKey(key), "config": cfg.Path})
	}
	s := ui.New(ios.ErrOut, ios.ErrColorEnabled())
	fmt.Fprintf(ios.ErrOut, "%s Logged in: key %s saved for profile %q in %s\n", s.SuccessIcon(), api.MaskKey(key), cfg.Profile, cfg.Path)
	return nil
}

type LogoutOptions struct {
	IO     *iostreams.IOStreams
	Config func() (*config.Config, error)
}

func NewCmdLogout(f *cmdutil.Factory, runF func(*LogoutOptions) error) *cobra.Command {
	opts := &LogoutOptions{IO: f.IOStreams, Config: f.Config}
	return &cobra.Command{
		Use:     "logout",
		Short:   "Remove the saved API key of the current profile",
		Example: cmdutil.Examples(`$ jasni logout --profile staging`),
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return logoutRun(opts)
		},
	}
}

func logoutRun(opts *LogoutOptions) error {
	ios := opts.IO
	cfg, err := opts.Config()
	if err != nil {
		return err
	}
	s := ui.New(ios.ErrOut, ios.ErrColorEnabled())
	removed := cfg.Unset(cfg.Profile, config.KeyAPIKey)
	if removed {
		if err := cfg.Save(); err != nil {
			return err
		}
	}
	_, stillSet := cfg.Lookup(config.KeyAPIKey)
	if ios.JSON() {
		return ios.WriteJSON(map[string]any{"profile": cfg.Profile, "removed": removed, "config": cfg.Path, "still_set_by": stillSet})
	}
	if !removed {
		fmt.Fprintf(ios.ErrOut, "Profile %q has no saved API key; nothing to do.\n", cfg.Profile)
	} else {
		fmt.Fprintf(ios.ErrOut, "%s Removed the API key of profile %q from %s\n", s.SuccessIcon(), cfg.Profile, cfg.Path)
	}
	if stillSet != "" {
		fmt.Fprintf(ios.ErrOut, "%s %s still sets a key; unset it to be logged out everywhere.\n", s.WarningIcon(), stillSet)
	}
	return nil
}
