package root_test

import (
	"strings"
	"testing"

	"github.com/jasni/jasni-cli/internal/cmd/root"
	"github.com/jasni/jasni-cli/internal/cmdutil"
	"github.com/jasni/jasni-cli/internal/config"
	"github.com/jasni/jasni-cli/internal/docgen"
	"github.com/jasni/jasni-cli/internal/iostreams"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// A flag that stands for a setting must be bound to it, or the setting's
// environment variable and profile value would win over the flag.
func TestSettingFlagsAreBound(t *testing.T) {
	want := map[string]string{
		"secret":          config.KeyWebhookSecret,
		"api-key":         config.KeyAPIKey,
		"api-url":         config.KeyAPIURL,
		"provider":        config.KeyProvider,
		"ngrok-authtoken": config.KeyNgrokAuthtoken,
	}
	// resend's and inspect's --secret is what to sign with, apart from the configured
	// secrets it tries; webhooks create's is the new webhook's, never one from the
	// environment or the profile; trigger's --url is the only one with a setting.
	exempt := map[string]bool{"jasni events resend --secret": true, "jasni inspect --secret": true, "jasni webhooks create --secret": true}
	var walk func(*cobra.Command)
	walk = func(cmd *cobra.Command) {
		cmd.Flags().AddFlagSet(cmd.InheritedFlags())
		cmd.Flags().VisitAll(func(f *pflag.Flag) {
			key, ok := want[f.Name]
			if !ok || exempt[cmd.CommandPath()+" --"+f.Name] {
				return
			}
			if got := f.Annotations["jasni_config_key"]; len(got) != 1 || got[0] != key {
				t.Errorf("%s --%s is bound to %v, want %s", cmd.CommandPath(), f.Name, got, key)
			}
		})
		for _, c := range cmd.Commands() {
			walk(c)
		}
	}
	walk(docgen.Root())
}

// Flag descriptions wrap at the terminal's width, under their column.
func TestHelpWrapsFlags(t *testing.T) {
	for _, width := range []int{60, 80, 100} {
		ios, _, out, _ := iostreams.Test()
		ios.SetTerminalWidth(width)
		cmd := root.NewCmdRoot(&cmdutil.Factory{IOStreams: ios}, &root.Globals{})
		cmd.SetArgs([]string{"trigger", "--help"})
		if err := cmd.Execute(); err != nil {
			t.Fatal(err)
		}
		flags := out.String()[strings.Index(out.String(), "Flags:"):]
		for _, line := range strings.Split(flags, "\n") {
			if len([]rune(line)) > width {
				t.Errorf("width %d: a flag line of %d columns: %q", width, len([]rune(line)), line)
			}
		}
	}
}
