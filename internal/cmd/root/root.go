// Package root assembles the jasni command tree and its global flags.
package root

import (
	"fmt"
	"strings"

	"github.com/jasni/jasni-cli/internal/build"
	authCmd "github.com/jasni/jasni-cli/internal/cmd/auth"
	checkCmd "github.com/jasni/jasni-cli/internal/cmd/check"
	configCmd "github.com/jasni/jasni-cli/internal/cmd/config"
	eventsCmd "github.com/jasni/jasni-cli/internal/cmd/events"
	fixturesCmd "github.com/jasni/jasni-cli/internal/cmd/fixtures"
	inspectCmd "github.com/jasni/jasni-cli/internal/cmd/inspect"
	listenCmd "github.com/jasni/jasni-cli/internal/cmd/listen"
	mcpCmd "github.com/jasni/jasni-cli/internal/cmd/mcp"
	providersCmd "github.com/jasni/jasni-cli/internal/cmd/providers"
	signCmd "github.com/jasni/jasni-cli/internal/cmd/sign"
	triggerCmd "github.com/jasni/jasni-cli/internal/cmd/trigger"
	verifyCmd "github.com/jasni/jasni-cli/internal/cmd/verify"
	versionCmd "github.com/jasni/jasni-cli/internal/cmd/version"
	webhooksCmd "github.com/jasni/jasni-cli/internal/cmd/webhooks"
	"github.com/jasni/jasni-cli/internal/cmdutil"
	"github.com/jasni/jasni-cli/internal/config"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Globals are the flags every command has.
type Globals struct {
	ConfigPath string
	Profile    string
	Output     string
	NoColor    bool
	Debug      bool
}

const gettingStarted = `jasni: the developer CLI for Jasni webhooks.

Get started:
  jasni listen --forward localhost:3000
      receive webhooks (through ngrok when NGROK_AUTHTOKEN is set), verify and forward them
  jasni trigger --all --url http://localhost:3000/webhooks/jasni --secret whsec_...
      send every event type, signed, to your app
  jasni fixtures list        the events jasni can send
  jasni login                save your API key, then: jasni webhooks create --url ...
  jasni verify --help        debug "signature verification failing"

Run 'jasni help' for every command, 'jasni <command> --help' for one.
`

// NewCmdRoot builds the tree. g receives the global flags once parsed.
func NewCmdRoot(f *cmdutil.Factory, g *Globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "jasni <command>",
		Short: "Develop and test Jasni webhooks from the command line",
		Long: cmdutil.Doc(`
			jasni receives Jasni webhooks on your laptop through a verifying tunnel,
			sends signed test events to your endpoint, explains signature failures, and
			manages your webhook registrations through the Jasni API.
		`),
		Example: cmdutil.Examples(`
			$ jasni listen --forward localhost:3000
			$ jasni trigger email.received --url http://localhost:3000/webhooks/jasni --secret whsec_test
			$ jasni trigger --all --output json
			$ jasni verify body.json --signature "$SIG"
		`),
		Version:       build.Current().Version,
		SilenceErrors: true,
		SilenceUsage:  true,
		Args:          cmdutil.SubcommandArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			_, err := fmt.Fprint(f.IOStreams.Out, gettingStarted)
			return err
		},
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			switch g.Output {
			case "text":
			case "json":
				f.IOStreams.SetJSON(true)
			default:
				return cmdutil.FlagErrorf("--output must be text or json, not %q", g.Output)
			}
			if g.NoColor {
				f.IOStreams.DisableColor()
			}
			return checkEmptySettings(cmd)
		},
	}
	cmd.SetVersionTemplate(versionCmd.Format(build.Current()))
	cmd.SetOut(f.IOStreams.Out)
	cmd.SetErr(f.IOStreams.ErrOut)
	cmd.SetIn(f.IOStreams.In)
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		// "jasni triger --all": a group that got a flag of a command it
		// does not have; the mistyped command is the error to report.
		if c.HasSubCommands() && c.Flags().NArg() > 0 {
			if cmdErr := cmdutil.SubcommandArgs(c, c.Flags().Args()); cmdErr != nil {
				return cmdErr
			}
		}
		return cmdutil.ExplainFlagError(c, err)
	})

	pf := cmd.PersistentFlags()
	pf.StringVar(&g.ConfigPath, "config", "", "Config file (default $XDG_CONFIG_HOME/jasni/config.toml)")
	pf.StringVar(&g.Profile, "profile", "", "Config profile to use (default \"default\", or JASNI_PROFILE)")
	pf.StringVarP(&g.Output, "output", "o", "text", "Output format: text, or json (one JSON object per line for commands that stream: listen, trigger; one document for the rest)")
	pf.BoolVar(&g.NoColor, "no-color", false, "Disable colour (also NO_COLOR)")
	pf.BoolVar(&g.Debug, "debug", false, "Print each Jasni API request and response on stderr, keys redacted (also JASNI_DEBUG=api)")
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]cobra.Completion{"text", "json"}, cobra.ShellCompDirectiveNoFileComp))

	cmd.AddCommand(
		listenCmd.NewCmdListen(f, listenCmd.Deps{}),
		eventsCmd.NewCmdEvents(f),
		inspectCmd.NewCmdInspect(f, nil),
		triggerCmd.NewCmdTrigger(f, nil),
		signCmd.NewCmdSign(f, nil),
		verifyCmd.NewCmdVerify(f, nil),
		checkCmd.NewCmdCheck(f, nil),
		mcpCmd.NewCmdMCP(f, nil),
		fixturesCmd.NewCmdFixtures(f),
		providersCmd.NewCmdProviders(f),
		webhooksCmd.NewCmdWebhooks(f),
		authCmd.NewCmdLogin(f, nil),
		authCmd.NewCmdLogout(f, nil),
		authCmd.NewCmdAuth(f),
		configCmd.NewCmdConfig(f),
		versionCmd.NewCmdVersion(f),
	)
	cmd.SetHelpCommand(newCmdHelp())
	wrapFlagHelp(cmd, f.IOStreams.TerminalWidth())
	return cmd
}

// wrapFlagHelp wraps the flags' descriptions in --help at width columns
// (at most 120), each under its own column, as cobra does not.
func wrapFlagHelp(cmd *cobra.Command, width int) {
	// The width goes into the template itself: cobra's template functions
	// are one global map, which commands built side by side would share.
	width = min(width, 120)
	tmpl := cmd.UsageTemplate()
	for _, flags := range []string{".LocalFlags", ".InheritedFlags"} {
		tmpl = strings.ReplaceAll(tmpl, flags+".FlagUsages", fmt.Sprintf("(%s.FlagUsagesWrapped %d)", flags, width))
	}
	cmd.SetUsageTemplate(tmpl)
}

// newCmdHelp is cobra's help command, except that a topic that is not a
// command is an error naming the nearest (cobra's shows the root's help
// and exits 0).
func newCmdHelp() *cobra.Command {
	return &cobra.Command{
		Use:   "help [command]",
		Short: "Help about any command",
		Long:  "Help provides help for any command in the application.\nSimply type jasni help [path to command] for full details.",
		ValidArgsFunction: func(c *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
			parent, _, err := c.Root().Find(args)
			if err != nil {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			var out []cobra.Completion
			for _, sub := range parent.Commands() {
				if sub.IsAvailableCommand() && strings.HasPrefix(sub.Name(), toComplete) {
					out = append(out, cobra.CompletionWithDesc(sub.Name(), sub.Short))
				}
			}
			return out, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(c *cobra.Command, args []string) error {
			topic, rest, err := c.Root().Find(args)
			if err == nil && len(rest) > 0 {
				err = cmdutil.SubcommandArgs(topic, rest)
			}
			if err != nil {
				return err
			}
			topic.InitDefaultHelpFlag()
			topic.InitDefaultVersionFlag()
			return topic.Help()
		},
	}
}

// checkEmptySettings refuses a setting's flag given with no value: an
// empty --secret "" would otherwise fall through to the environment or the
// profile, unnoticed.
func checkEmptySettings(cmd *cobra.Command) error {
	var err error
	cmd.Flags().VisitAll(func(fl *pflag.Flag) {
		key := config.BoundKey(fl)
		if err != nil || key == "" || !fl.Changed {
			return
		}
		values := []string{fl.Value.String()}
		if sv, ok := fl.Value.(pflag.SliceValue); ok {
			values = sv.GetSlice()
		}
		for _, v := range values {
			if strings.TrimSpace(v) == "" {
				err = cmdutil.FlagErrorf("--%s is empty: give a value, or leave the flag out to use %s", fl.Name, settingSources(key))
				return
			}
		}
	})
	return err
}

// settingSources says where a setting comes from without its flag.
func settingSources(key string) string {
	s, err := config.SettingOf(key)
	if err != nil {
		return "the profile's " + key
	}
	return strings.Join(append(s.Env, "the profile's "+key), ", ")
}
