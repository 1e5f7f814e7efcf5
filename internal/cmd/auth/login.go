// Package auth implements `jasni login` and `jasni logout`.
package auth

import (
	"errors"
	"fmt"
	"strings"

	"github.com/jasni/jasni-cli/internal/api"
	"github.com/jasni/jasni-cli/internal/cmdutil"
	"github.com/jasni/jasni-cli/internal/config"
	"github.com/jasni/jasni-cli/internal/ui"
	"github.com/spf13/cobra"
)

func NewCmdLogin(f *cmdutil.Factory) *cobra.Command {
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
			return loginRun(f, cmd)
		},
	}
	cmdutil.AddAPIFlags(cmd)
	return cmd
}

func loginRun(f *cmdutil.Factory, cmd *cobra.Command) error {
	ios := f.IOStreams
	cfg, err := f.Config()
	if err != nil {
		return err
	}
	key, _ := cmd.Flags().GetString("api-key")
	if key == "" {
		if ios.IsStdinTTY() && !ios.CanPrompt() {
			return cmdutil.FlagErrorf("no key: pass --api-key, or pipe it on stdin")
		}
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

	client, err := cmdutil.NewAPIClient(f, cmd, cfg, key)
	if err != nil {
		return err
	}
	if _, err := client.ListWebhooks(cmd.Context()); err != nil {
		var apiErr *api.Error
		if errors.As(err, &apiErr) && apiErr.Kind == api.KindAuth {
			// Not the generic advice, which is to run the command that failed.
			return cmdutil.WithExitCode(cmdutil.ExitAuth, errors.New("login: the API refused this key (401), so it was not saved: copy a key (jsk_...) from the API keys page of the Jasni dashboard, or make a new one there"))
		}
		return fmt.Errorf("login: the key was not saved: %w", err)
	}

	cfg.Set(cfg.Profile, config.KeyAPIKey, key)
	if apiURL, _ := cmd.Flags().GetString("api-url"); apiURL != "" {
		cfg.Set(cfg.Profile, config.KeyAPIURL, apiURL)
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

func NewCmdLogout(f *cmdutil.Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "logout",
		Short: "Remove the saved API key of the current profile",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ios := f.IOStreams
			cfg, err := f.Config()
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
		},
	}
}
