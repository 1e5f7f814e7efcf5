// Package providers implements `jasni providers list|show`: the webhook
// providers jasni can sign and verify for, and what each one sends.
package providers

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/jasni/jasni-cli/internal/cmdutil"
	"github.com/jasni/jasni-cli/internal/provider"
	"github.com/jasni/jasni-cli/internal/ui"
	"github.com/spf13/cobra"
)

func NewCmdProviders(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "providers <command>",
		Args:  cmdutil.SubcommandArgs,
		RunE:  cmdutil.GroupRunE,
		Short: "List the webhook providers and show what each one sends",
		Long: cmdutil.Doc(`
			A provider is how one webhook sender signs and shapes its deliveries. jasni
			comes with Jasni's, the reference documents' (generic, voisnap), Standard
			Webhooks and the real providers people receive webhooks from (Stripe, GitHub,
			Slack, Shopify, Discord, Twilio and more: "jasni providers list" names them).
			Any other is a folder holding a provider.toml and one JSON file per event
			type, given to --provider by its path or kept by name in the providers folder
			beside the config file (a built-in of the same name comes first).
		`),
	}
	cmd.AddCommand(newCmdList(f), newCmdShow(f))
	return cmd
}

// folder is the providers folder beside the config file.
func folder(f *cmdutil.Factory) (string, error) {
	cfg, err := f.Config()
	if err != nil {
		return "", err
	}
	return filepath.Join(filepath.Dir(cfg.Path), "providers"), nil
}

type summary struct {
	Name      string `json:"name"`
	Title     string `json:"title"`
	BuiltIn   bool   `json:"built_in"`
	Signature string `json:"signature"`
	Events    int    `json:"events"`
	Error     string `json:"error,omitempty"`
}

func describe(p *provider.Provider) string { return p.Summary() }

func newCmdList(f *cmdutil.Factory) *cobra.Command {
	return &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List the built-in providers and those in the providers folder",
		Example: cmdutil.Examples(`
			$ jasni providers list
			$ jasni providers list --output json
		`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var list []summary
			for _, name := range provider.BuiltinNames() {
				p, err := provider.Builtin(name)
				if err != nil {
					return err
				}
				list = append(list, summary{p.Name, p.Title, true, describe(p), len(p.Events()), ""})
			}
			dir, err := folder(f)
			if err != nil {
				return err
			}
			entries, _ := os.ReadDir(dir)
			sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
			for _, e := range entries {
				if !e.IsDir() {
					continue
				}
				p, err := provider.FromFS(os.DirFS(filepath.Join(dir, e.Name())), filepath.Join(dir, e.Name()))
				if err != nil {
					list = append(list, summary{Name: e.Name(), Error: err.Error()})
					continue
				}
				if slices.Contains(provider.BuiltinNames(), e.Name()) {
					list = append(list, summary{Name: e.Name(), Error: "a built-in provider has this name, and --provider " + e.Name() + " finds the built-in: rename the folder to use it"})
					continue
				}
				// --provider finds a folder by its own name, whatever the
				// name inside says.
				list = append(list, summary{e.Name(), p.Title, false, describe(p), len(p.Events()), ""})
			}
			ios := f.IOStreams
			if ios.JSON() {
				return ios.WriteJSONIndent(list)
			}
			s := ui.New(ios.Out, ios.ColorEnabled())
			t := ui.NewTable(ios.Out, ios.TableWidth(), "NAME", "TITLE", "EVENTS", "SIGNATURE")
			t.KeepWhole(0)
			for _, p := range list {
				if p.Error != "" {
					t.AddRow(s.Failure(p.Name), "", "", "cannot be read: "+p.Error)
					continue
				}
				t.AddRow(s.Accent(p.Name), p.Title, fmt.Sprint(p.Events), p.Signature)
			}
			return t.Render()
		},
	}
}

func newCmdShow(f *cmdutil.Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "show NAME|PATH",
		Short: "Show what a provider sends: headers, what is signed, events, retries",
		Example: cmdutil.Examples(`
			$ jasni providers show voisnap
			$ jasni providers show ./acme --output json
		`),
		Args: cmdutil.ExactArgs(1),
		ValidArgsFunction: func(_ *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
			if len(args) > 0 {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			return cmdutil.ProviderCompletion(toComplete)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			dir, err := folder(f)
			if err != nil {
				return err
			}
			p, err := provider.Load(args[0], dir)
			if err != nil {
				return cmdutil.FlagErrorf("%v", err)
			}
			ios := f.IOStreams
			if ios.JSON() {
				return ios.WriteJSONIndent(struct {
					*provider.Spec
					EventNames []string `json:"event_names"`
				}{p.Spec, p.EventNames()})
			}
			w := ios.Out
			s := ui.New(w, ios.ColorEnabled())
			fmt.Fprintf(w, "%s %s\n", s.Bold(p.Title), s.Muted("("+p.Name+")"))
			if p.Docs != "" {
				fmt.Fprintf(w, "Docs        %s\n", p.Docs)
			}
			for _, f := range p.Describe() {
				fmt.Fprintf(w, "%-11s %s\n", f.Label, f.Text)
			}
			if p.UserAgent != "" {
				fmt.Fprintf(w, "User-Agent  %s\n", p.UserAgent)
			}
			if p.ResponseLimit.Duration > 0 {
				fmt.Fprintf(w, "Answer in   %s\n", p.ResponseLimit)
			}
			if len(p.Retries) > 0 {
				var rs []string
				for _, r := range p.Retries {
					rs = append(rs, r.String())
				}
				fmt.Fprintf(w, "Attempts    %d, waiting %s before each", len(rs), strings.Join(rs, ", "))
				if p.Exhausted != "" {
					fmt.Fprintf(w, "; then %s", p.Exhausted)
				}
				fmt.Fprintln(w)
			}
			fmt.Fprintf(w, "Dedup key   %s\n", strings.Join(p.Envelope.Dedup, " + "))
			fmt.Fprintf(w, "\n%s\n", s.Bold("Events"))
			for _, e := range p.Events() {
				fmt.Fprintf(w, "  %-22s %s\n", e.Name, e.Description)
			}
			return nil
		},
	}
}
