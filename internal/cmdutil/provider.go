package cmdutil

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jasni/jasni-cli/internal/config"
	"github.com/jasni/jasni-cli/internal/delivery"
	"github.com/jasni/jasni-cli/internal/provider"
	"github.com/jasni/jasni-cli/internal/replay"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// AddProviderFlag adds --provider to cmd.
func AddProviderFlag(cmd *cobra.Command) { addProviderFlag(cmd, cmd.Flags()) }

// AddPersistentProviderFlag adds --provider to cmd and its subcommands.
func AddPersistentProviderFlag(cmd *cobra.Command) { addProviderFlag(cmd, cmd.PersistentFlags()) }

func addProviderFlag(cmd *cobra.Command, fs *pflag.FlagSet) {
	fs.String("provider", "", "Webhook provider: "+strings.Join(provider.BuiltinNames(), ", ")+", or a provider folder (default: the profile's provider, else "+provider.Default+")")
	config.BindFlag(fs, "provider", config.KeyProvider)
	_ = cmd.RegisterFlagCompletionFunc("provider", func(_ *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		return ProviderCompletion(toComplete)
	})
}

// ProviderCompletion completes a provider: the built-in names (and the
// folders of the providers folder are found by name too), or, once what is
// typed looks like a path, folders. The shells' scripts show either names
// or files, not both: a directive to complete folders hides the names.
func ProviderCompletion(toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	if strings.ContainsAny(toComplete, "/.~") {
		return nil, cobra.ShellCompDirectiveFilterDirs
	}
	var out []cobra.Completion
	for _, name := range provider.BuiltinNames() {
		if strings.HasPrefix(name, toComplete) {
			p, err := provider.Builtin(name)
			if err != nil {
				continue
			}
			out = append(out, cobra.CompletionWithDesc(name, p.Title))
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// Provider resolves --provider, JASNI_PROVIDER or the profile's provider. A
// name that is not built in is looked for as a folder, then in the providers
// folder beside the config file.
func Provider(cmd *cobra.Command, cfg *config.Config) (*provider.Provider, error) {
	name := cfg.WithFlags(cmd.Flags()).Get(config.KeyProvider)
	p, err := provider.Load(name, providersDir(cfg))
	if err != nil {
		return nil, FlagErrorf("--provider: %v", err)
	}
	return p, nil
}

// ProfilesOther is the provider the profile is for (its provider setting,
// or Jasni) when the command works with another, p, named by --provider or
// JASNI_PROVIDER; "" when p is the profile's own (a folder however its path
// is written). A secret in the profile is its own provider's.
func ProfilesOther(cmd *cobra.Command, cfg *config.Config, p *provider.Provider) string {
	own := cfg.FileValue(cfg.Profile, config.KeyProvider)
	if own == "" {
		own = provider.Default
	}
	if cfg.WithFlags(cmd.Flags()).Get(config.KeyProvider) == own {
		return ""
	}
	if q, err := provider.Load(own, providersDir(cfg)); err == nil && q.Name == p.Name && q.Folder == p.Folder {
		return ""
	}
	return own
}

// UsableSecrets is Secrets for p, which cannot use every configured secret.
// The top one is set aside when it is no key of p (parse fails) and comes
// from the environment (WEBHOOK_SECRET is Jasni's name) or from the profile
// of another provider (other, from ProfilesOther); the next configured one
// that fits is taken, its source saying what was set aside. setAside names
// it; with nothing that fits, secrets is empty. A --secret, or the profile's
// own provider's secret, is never set aside: a wrong one is an error.
func UsableSecrets(cmd *cobra.Command, cfg *config.Config, p *provider.Provider, other string, parse func(string) (provider.Key, error)) (secrets []string, source, setAside string) {
	secrets, source = Secrets(cmd, cfg)
	if len(secrets) == 0 || source == "--secret" {
		return secrets, source, ""
	}
	fromFile := cfg.FileSource(config.KeyWebhookSecret)
	fits := func(v config.Value) bool {
		if v.Source == fromFile && other == "" {
			return true // the profile's own: an error where it is parsed, if wrong
		}
		_, err := parse(v.Value)
		return err == nil
	}
	if fits(config.Value{Value: secrets[0], Source: source}) {
		return secrets, source, ""
	}
	setAside = source
	for _, v := range cfg.LookupAll(config.KeyWebhookSecret) {
		if v.Source != setAside && fits(v) {
			return []string{v.Value}, fmt.Sprintf("%s (the secret from %s is no %s key)", v.Source, setAside, p.Title), setAside
		}
	}
	return nil, "", setAside
}

// OwnProfileHint is how to give p a profile of its own, its secret kept
// apart from another provider's.
func OwnProfileHint(p *provider.Provider) string {
	arg := p.Name
	if p.Folder != "" {
		arg = ShellQuote(p.Folder)
	}
	return fmt.Sprintf("jasni config set --profile %s provider %s, then --profile %s", p.Name, arg, p.Name)
}

// SecretPlaceholder is what a --secret value looks like for p, for a
// message; signs: for a command that signs (Ed25519 signs with the
// private key, and verifies with the public one).
func SecretPlaceholder(p *provider.Provider, signs bool) string {
	switch {
	case p.Signature.Algorithm == "ed25519" && signs:
		return "PRIVATE_KEY"
	case p.Signature.Algorithm == "ed25519":
		return "PUBLIC_KEY"
	case p.Signature.KeyPrefix != "":
		return p.Signature.KeyPrefix + "..."
	case p.Name == provider.Default:
		return "whsec_..."
	}
	return "SECRET"
}

// ProviderTitle is the title of the built-in provider name, or name.
func ProviderTitle(name string) string {
	if p, err := provider.Builtin(name); err == nil {
		return p.Title
	}
	return name
}

// providersDir is the providers folder beside the config file, where a
// provider named by a bare name may be.
func providersDir(cfg *config.Config) string {
	return filepath.Join(filepath.Dir(cfg.Path), "providers")
}

// ParseKeys makes secrets (the first, and any further --secret values of a
// key rotation) into the provider's keys; source names where they came from.
func ParseKeys(p *provider.Provider, secrets []string, source string) ([]provider.Key, error) {
	return keysOf(p, p.ParseKey, secrets, source)
}

func keysOf(p *provider.Provider, parse func(string) (provider.Key, error), secrets []string, source string) ([]provider.Key, error) {
	keys := make([]provider.Key, 0, len(secrets))
	for _, secret := range secrets {
		k, err := parse(secret)
		if err != nil {
			if source == "--secret" {
				return nil, FlagErrorf("the secret from %s: %v", source, err)
			}
			// A secret configured for another provider (the profile's, or
			// WEBHOOK_SECRET for Jasni's): say how to give this one its own.
			if FromEnvironment(source) {
				return nil, FlagErrorf("the secret from %s: %v\nPass --secret with %s's key, or run the command without %s (env -u %s jasni ...)",
					source, err, p.Title, source, source)
			}
			return nil, FlagErrorf("the secret from %s: %v\nPass --secret with %s's key, or give %s a profile of its own: %s",
				source, err, p.Title, p.Title, OwnProfileHint(p))
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// ResignSecrets are what signs a stored delivery again (events resend, the
// inspector): the --secret values, then replay.ConfiguredSecrets.
func ResignSecrets(cfg *config.Config, flagSecrets []string, historyPath string) (given, configured []delivery.Secret) {
	for _, s := range flagSecrets {
		given = append(given, delivery.Secret{Value: s, Source: "--secret"})
	}
	return given, replay.ConfiguredSecrets(cfg, historyPath)
}

// SigningKeys is ParseKeys for a command that signs: an ed25519 public
// key, which only verifies, is refused.
func SigningKeys(p *provider.Provider, secrets []string, source string) ([]provider.Key, error) {
	return keysOf(p, p.SigningKey, secrets, source)
}

// ParseUnixTime reads a --timestamp value: Unix seconds.
func ParseUnixTime(flag, value string, now time.Time) (time.Time, error) {
	secs, err := strconv.ParseInt(strings.TrimSpace(value), 10, 64)
	if err != nil || secs < 0 {
		return time.Time{}, FlagErrorf("%s %q: give Unix seconds, e.g. %d", flag, value, now.Unix())
	}
	return time.Unix(secs, 0), nil
}
