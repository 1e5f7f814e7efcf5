package cmdutil

import (
	"path/filepath"
	"strings"

	"github.com/jasni/jasni-cli/internal/config"
	"github.com/jasni/jasni-cli/internal/provider"
	"github.com/spf13/cobra"
)

// AddProviderFlag adds --provider to cmd.
func AddProviderFlag(cmd *cobra.Command) {
	cmd.Flags().String("provider", "", "Webhook provider: "+strings.Join(provider.BuiltinNames(), ", ")+", or a provider folder (default: the profile's provider, else "+provider.Default+")")
	_ = cmd.RegisterFlagCompletionFunc("provider", func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
		return provider.BuiltinNames(), cobra.ShellCompDirectiveFilterDirs
	})
}

// Provider resolves --provider, JASNI_PROVIDER or the profile's provider. A
// name that is not built in is looked for as a folder, then in the providers
// folder beside the config file.
func Provider(cmd *cobra.Command, cfg *config.Config) (*provider.Provider, error) {
	name := StringFlagOrConfig(cmd, "provider", func() string { return cfg.Get(config.KeyProvider) })
	p, err := provider.Load(name, filepath.Join(filepath.Dir(cfg.Path), "providers"))
	if err != nil {
		return nil, FlagErrorf("--provider: %v", err)
	}
	return p, nil
}
