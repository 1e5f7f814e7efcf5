// Package version implements `jasni version`.
package version

import (
	"fmt"

	"github.com/jasni/jasni-cli/internal/build"
	"github.com/jasni/jasni-cli/internal/cmdutil"
	"github.com/spf13/cobra"
)

func NewCmdVersion(f *cmdutil.Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print jasni's version, commit and build date",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			info := build.Current()
			if f.IOStreams.JSON() {
				return f.IOStreams.WriteJSONIndent(info)
			}
			_, err := fmt.Fprint(f.IOStreams.Out, Format(info))
			return err
		},
	}
}

// Format is the text of `jasni version` and `jasni --version`.
func Format(info build.Info) string {
	return fmt.Sprintf("jasni version %s (commit %s, built %s)\n", info.Version, info.Commit, info.Date)
}
