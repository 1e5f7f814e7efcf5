package cmdutil_test

import (
	"strings"
	"testing"

	"github.com/jasni/jasni-cli/internal/cmdutil"
	"github.com/spf13/cobra"
)

// --provider completes the providers' names; folders once what is typed
// looks like a path. A shell shows one or the other, never both.
func TestProviderCompletion(t *testing.T) {
	names, dir := cmdutil.ProviderCompletion("st")
	if len(names) != 2 || !strings.HasPrefix(names[0], "standard\t") || !strings.HasPrefix(names[1], "stripe\t") || dir != cobra.ShellCompDirectiveNoFileComp {
		t.Errorf("st: %q %v", names, dir)
	}
	if names, dir := cmdutil.ProviderCompletion("./ac"); names != nil || dir != cobra.ShellCompDirectiveFilterDirs {
		t.Errorf("./ac: %q %v", names, dir)
	}
}
