// Package config implements `jasni config get|set|unset|list|path`: the
// settings of a profile, where each comes from, and changing them.
package config

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/jasni/jasni-cli/internal/api"
	"github.com/jasni/jasni-cli/internal/cmdutil"
	"github.com/jasni/jasni-cli/internal/config"
	"github.com/jasni/jasni-cli/internal/iostreams"
	"github.com/jasni/jasni-cli/internal/provider"
	"github.com/jasni/jasni-cli/internal/ui"
	"github.com/spf13/cobra"
)

func NewCmdConfig(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config <command>",
		Short: "Show and change the settings of a profile",
		Long: cmdutil.Doc(`
			jasni reads each setting from, in order: a flag, the environment, then the
			profile's table in the config file (--config, JASNI_CONFIG, or
			$XDG_CONFIG_HOME/jasni/config.toml). The profile is "default" unless
			--profile or JASNI_PROFILE names another; profile names are case-sensitive.

			Settings: ` + keyList() + `.
		`),
		Example: cmdutil.Examples(`
			$ jasni config list
			$ jasni config set trigger_url http://localhost:3000/webhooks/jasni
			$ jasni config set --profile staging api_url https://staging-api.example.com
			$ jasni config get webhook_secret
		`),
		Args: cmdutil.SubcommandArgs,
		RunE: cmdutil.GroupRunE,
	}
	cmd.AddCommand(NewCmdGet(f, nil), NewCmdSet(f, nil), NewCmdUnset(f, nil), NewCmdList(f, nil), NewCmdPath(f, nil))
	return cmd
}

func keyList() string {
	keys := make([]string, len(config.Settings))
	for i, s := range config.Settings {
		keys[i] = s.Key
	}
	return strings.Join(keys, ", ")
}

// keyCompletion completes the first argument with the setting names.
func keyCompletion(_ *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var out []cobra.Completion
	for _, s := range config.Settings {
		out = append(out, cobra.CompletionWithDesc(s.Key, s.Help))
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

func settingArg(key string) (config.Setting, error) {
	s, err := config.SettingOf(key)
	if err != nil {
		return s, cmdutil.FlagErrorf("%v", err)
	}
	return s, nil
}

type GetOptions struct {
	IO     *iostreams.IOStreams
	Config func() (*config.Config, error)
	Key    string
	// ProfileArgs repeats --config and --profile in suggested commands.
	ProfileArgs string
}

func NewCmdGet(f *cmdutil.Factory, runF func(*GetOptions) error) *cobra.Command {
	opts := &GetOptions{IO: f.IOStreams, Config: f.Config}
	return &cobra.Command{
		Use:   "get <key>",
		Short: "Print the value jasni uses for a setting",
		Long: cmdutil.Doc(`
			Print the value jasni uses for a setting: from the environment when a variable
			sets it, else from the profile. Secrets are printed whole: this is how to read
			one back. Exits 1, printing nothing, when the setting has no value.
		`),
		Example: cmdutil.Examples(`
			$ jasni config get trigger_url
			$ export WEBHOOK_SECRET="$(jasni config get webhook_secret)"
		`),
		Args:              cmdutil.ExactArgs(1),
		ValidArgsFunction: keyCompletion,
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := settingArg(args[0]); err != nil {
				return err
			}
			opts.Key, opts.ProfileArgs = args[0], cmdutil.ProfileArgs(cmd)
			if runF != nil {
				return runF(opts)
			}
			return getRun(opts)
		},
	}
}

// defaults are what the settings that have one mean when nothing sets them.
var defaults = map[string]string{config.KeyAPIURL: api.DefaultBaseURL, config.KeyProvider: provider.Default}

// lookup is cfg.Lookup, with the default (source "default") when nothing
// sets key.
func lookup(cfg *config.Config, key string) (value, source string) {
	value, source = cfg.Lookup(key)
	if value == "" && defaults[key] != "" {
		return defaults[key], "default"
	}
	return value, source
}

func getRun(opts *GetOptions) error {
	cfg, err := opts.Config()
	if err != nil {
		return err
	}
	value, source := lookup(cfg, opts.Key)
	if opts.IO.JSON() {
		return opts.IO.WriteJSON(map[string]any{"key": opts.Key, "value": value, "source": source, "profile": cfg.Profile})
	}
	if value == "" {
		return fmt.Errorf("%s has no value in profile %q: set it with: jasni config set %s <value>%s", opts.Key, cfg.Profile, opts.Key, opts.ProfileArgs)
	}
	_, err = fmt.Fprintln(opts.IO.Out, value)
	return err
}

type SetOptions struct {
	IO     *iostreams.IOStreams
	Config func() (*config.Config, error)
	Key    string
	// Value is the new value; "-" reads it from stdin.
	Value string
	// ProfileArgs repeats --config and --profile in suggested commands.
	ProfileArgs string
}

func NewCmdSet(f *cmdutil.Factory, runF func(*SetOptions) error) *cobra.Command {
	opts := &SetOptions{IO: f.IOStreams, Config: f.EditConfig}
	return &cobra.Command{
		Use:   "set <key> <value>",
		Short: "Save a setting in the profile",
		Long: cmdutil.Doc(`
			Save a setting in the profile's table of the config file (mode 0600),
			creating the file and the profile when they do not exist yet. The value is
			checked first: a URL must be http(s), an API key must start with jsk_, a
			webhook secret must be one the profile's provider can use.

			A value of - is read from stdin, which keeps a secret out of your shell
			history. For the API key, jasni login also checks it against the API.
		`),
		Example: cmdutil.Examples(`
			$ jasni config set trigger_url http://localhost:3000/webhooks/jasni
			$ jasni config set provider voisnap --profile voice
			$ pbpaste | jasni config set webhook_secret -
		`),
		Args:              cmdutil.ExactArgs(2),
		ValidArgsFunction: keyCompletion,
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := settingArg(args[0]); err != nil {
				return err
			}
			opts.Key, opts.Value, opts.ProfileArgs = args[0], args[1], cmdutil.ProfileArgs(cmd)
			if runF != nil {
				return runF(opts)
			}
			return setRun(opts)
		},
	}
}

func setRun(opts *SetOptions) error {
	ios := opts.IO
	cfg, err := opts.Config()
	if err != nil {
		return err
	}
	value := opts.Value
	if value == "-" {
		if value, err = ios.ReadSecret(fmt.Sprintf("Value for %s (input hidden): ", opts.Key)); err != nil {
			return fmt.Errorf("read the value from stdin: %w", err)
		}
		value = strings.TrimSpace(value)
	}
	if err := checkValue(cfg, opts.Key, value, opts.ProfileArgs); err != nil {
		return err
	}
	cfg.Set(cfg.Profile, opts.Key, value)
	if err := cfg.Save(); err != nil {
		return err
	}
	setting, _ := config.SettingOf(opts.Key)
	shown := value
	if setting.Secret {
		shown = config.Mask(value)
	}
	if ios.JSON() {
		return ios.WriteJSON(map[string]string{"profile": cfg.Profile, "key": opts.Key, "value": shown, "config": cfg.Path})
	}
	s := ui.New(ios.ErrOut, ios.ErrColorEnabled())
	fmt.Fprintf(ios.ErrOut, "%s Set %s = %s in profile %q (%s)\n", s.SuccessIcon(), opts.Key, shown, cfg.Profile, cfg.Path)
	warnOverridden(ios, s, cfg, opts.Key)
	return nil
}

// warnOverridden says when the environment hides the profile's value.
func warnOverridden(ios *iostreams.IOStreams, s *ui.Styles, cfg *config.Config, key string) {
	if _, source := cfg.Lookup(key); cmdutil.FromEnvironment(source) {
		fmt.Fprintf(ios.ErrOut, "%s %s is set in the environment and wins over the profile: unset it for the profile's value to apply.\n", s.WarningIcon(), source)
	}
}

// checkValue refuses a value jasni could not use, saying which part is wrong
// and without echoing a secret.
func checkValue(cfg *config.Config, key, value, profileArgs string) error {
	if value == "" {
		return cmdutil.FlagErrorf("the value is empty: to remove %s, run: jasni config unset %s%s", key, key, profileArgs)
	}
	if strings.ContainsAny(value, "\r\n") {
		return cmdutil.FlagErrorf("the value of %s has a line break", key)
	}
	switch key {
	case config.KeyAPIKey:
		// The key is for the API of the profile's provider: Jasni's, or
		// another's (the generic REST API), whose keys are not jsk_.
		p, err := provider.Load(cfg.FileValue(cfg.Profile, config.KeyProvider), filepath.Join(filepath.Dir(cfg.Path), "providers"))
		if err != nil || !p.HasAPI() {
			return cmdutil.CheckAPIKey(value)
		}
		return cmdutil.CheckProviderAPIKey(p, value)
	case config.KeyAPIURL, config.KeyTriggerURL:
		return cmdutil.CheckURL(key, value)
	case config.KeyProvider:
		if _, err := provider.Load(value, filepath.Join(filepath.Dir(cfg.Path), "providers")); err != nil {
			return cmdutil.FlagErrorf("provider: %v", err)
		}
	case config.KeyWebhookSecret:
		p, err := provider.Load(cfg.FileValue(cfg.Profile, config.KeyProvider), filepath.Join(filepath.Dir(cfg.Path), "providers"))
		if err != nil {
			return fmt.Errorf("the profile's provider: %w", err)
		}
		if _, err := p.ParseKey(value); err != nil {
			return cmdutil.FlagErrorf("that is not a %s webhook secret: %v", p.Title, err)
		}
	case config.KeyNgrokAuthtoken:
		if strings.ContainsAny(value, " \t") {
			return cmdutil.FlagErrorf("an ngrok authtoken has no spaces: copy it again from https://dashboard.ngrok.com/get-started/your-authtoken")
		}
	}
	return nil
}

type UnsetOptions struct {
	IO     *iostreams.IOStreams
	Config func() (*config.Config, error)
	Key    string
}

func NewCmdUnset(f *cmdutil.Factory, runF func(*UnsetOptions) error) *cobra.Command {
	opts := &UnsetOptions{IO: f.IOStreams, Config: asIs(f)}
	return &cobra.Command{
		Use:               "unset <key>",
		Short:             "Remove a setting from the profile",
		Example:           cmdutil.Examples(`$ jasni config unset trigger_url --profile staging`),
		Args:              cmdutil.ExactArgs(1),
		ValidArgsFunction: keyCompletion,
		RunE: func(cmd *cobra.Command, args []string) error {
			// A key jasni does not know is checked against the file in
			// unsetRun: removing a mistyped one is what unset is for.
			opts.Key = args[0]
			if runF != nil {
				return runF(opts)
			}
			return unsetRun(opts)
		},
	}
}

func unsetRun(opts *UnsetOptions) error {
	ios := opts.IO
	cfg, err := opts.Config()
	if err != nil {
		return err
	}
	if _, err := settingArg(opts.Key); err != nil && !slices.Contains(cfg.FileKeys(cfg.Profile), opts.Key) {
		return err
	}
	removed := cfg.Unset(cfg.Profile, opts.Key)
	if removed {
		if err := cfg.Save(); err != nil {
			return err
		}
	}
	if ios.JSON() {
		return ios.WriteJSON(map[string]any{"profile": cfg.Profile, "key": opts.Key, "removed": removed, "config": cfg.Path})
	}
	s := ui.New(ios.ErrOut, ios.ErrColorEnabled())
	if removed {
		fmt.Fprintf(ios.ErrOut, "%s Removed %s from profile %q (%s)\n", s.SuccessIcon(), opts.Key, cfg.Profile, cfg.Path)
	} else {
		fmt.Fprintf(ios.ErrOut, "Profile %q has no %s; nothing to do.\n", cfg.Profile, opts.Key)
	}
	warnOverridden(ios, s, cfg, opts.Key)
	return nil
}

type ListOptions struct {
	IO     *iostreams.IOStreams
	Config func() (*config.Config, error)
}

func NewCmdList(f *cmdutil.Factory, runF func(*ListOptions) error) *cobra.Command {
	opts := &ListOptions{IO: f.IOStreams, Config: asIs(f)}
	return &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List every setting of the profile, with where its value comes from",
		Long: cmdutil.Doc(`
			List every setting with the value jasni uses and where it comes from: an
			environment variable or the config file. Secrets are masked; read one with
			jasni config get. Keys in the profile that jasni does not know are listed
			too, marked unknown.
		`),
		Example: cmdutil.Examples(`
			$ jasni config list
			$ jasni config list --profile staging --output json
		`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return listRun(opts)
		},
	}
}

// listed is one row of `config list`.
type listed struct {
	Key    string `json:"key"`
	Value  string `json:"value"`
	Source string `json:"source"`
	Secret bool   `json:"secret"`
	Known  bool   `json:"known"`
}

func listRun(opts *ListOptions) error {
	ios := opts.IO
	cfg, err := opts.Config()
	if err != nil {
		return err
	}
	var rows []listed
	known := map[string]bool{}
	for _, s := range config.Settings {
		known[s.Key] = true
		value, source := lookup(cfg, s.Key)
		if s.Secret {
			value = config.Mask(value)
		}
		rows = append(rows, listed{s.Key, value, source, s.Secret, true})
	}
	for _, key := range cfg.FileKeys(cfg.Profile) {
		if !known[key] {
			// Unknown keys may be secrets under another name: masked too.
			rows = append(rows, listed{key, config.Mask(cfg.FileValue(cfg.Profile, key)), fmt.Sprintf("%s [%s] %s", cfg.Path, cfg.Profile, key), true, false})
		}
	}
	if ios.JSON() {
		return ios.WriteJSONIndent(map[string]any{"profile": cfg.Profile, "config": cfg.Path, "profiles": profilesOf(cfg), "settings": rows})
	}
	s := ui.New(ios.Out, ios.ColorEnabled())
	t := ui.NewTable(ios.Out, ios.TableWidth(), "KEY", "VALUE", "SOURCE")
	t.KeepWhole(0)
	for _, r := range rows {
		source := r.Source
		if ios.IsStdoutTTY() {
			// The file is named once, above the table.
			source = strings.TrimPrefix(source, cfg.Path+" ")
			if r.Value == "" {
				r.Value, source = s.Muted("-"), s.Muted("unset")
			}
			if !r.Known {
				source += s.Warning(" (unknown key)")
			}
		}
		t.AddRow(r.Key, r.Value, source)
	}
	if ios.IsStdoutTTY() {
		fmt.Fprintf(ios.Out, "Profile %s in %s\n\n", s.Bold(cfg.Profile), cfg.Path)
	}
	return t.Render()
}

// profilesOf is the file's profiles, with the default one even before it is
// written.
func profilesOf(cfg *config.Config) []string {
	profiles := cfg.Profiles()
	if !cfg.HasProfile(config.DefaultProfile) {
		profiles = append([]string{config.DefaultProfile}, profiles...)
	}
	return profiles
}

type PathOptions struct {
	IO     *iostreams.IOStreams
	Config func() (*config.Config, error)
}

func NewCmdPath(f *cmdutil.Factory, runF func(*PathOptions) error) *cobra.Command {
	opts := &PathOptions{IO: f.IOStreams, Config: f.EditConfig}
	return &cobra.Command{
		Use:     "path",
		Short:   "Print the config file's path",
		Example: cmdutil.Examples(`$ $EDITOR "$(jasni config path)"`),
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			cfg, err := opts.Config()
			if err != nil {
				return err
			}
			if opts.IO.JSON() {
				return opts.IO.WriteJSON(map[string]any{"config": cfg.Path, "profiles": profilesOf(cfg)})
			}
			_, err = fmt.Fprintln(opts.IO.Out, cfg.Path)
			return err
		},
	}
}

// asIs loads the profile with whatever keys it has: every other command
// refuses a key jasni does not know, and list and unset are how to see and
// remove one.
func asIs(f *cmdutil.Factory) func() (*config.Config, error) {
	return func() (*config.Config, error) {
		c, err := f.EditConfig()
		if err != nil {
			return nil, err
		}
		return c, c.CheckProfile()
	}
}
