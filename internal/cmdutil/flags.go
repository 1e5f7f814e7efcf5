package cmdutil

import (
	"github.com/spf13/cobra"
)

// StringFlagOrConfig returns the flag's value when the user set it, else the
// value config resolved (environment variables, then the config file).
func StringFlagOrConfig(cmd *cobra.Command, flag string, fromConfig func() string) string {
	if f := cmd.Flags().Lookup(flag); f != nil && f.Changed {
		return f.Value.String()
	}
	return fromConfig()
}
