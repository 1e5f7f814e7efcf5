// Package webhooks implements `jasni webhooks create|list|get|update|delete`.
package webhooks

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/jasni/jasni-cli/internal/api"
	"github.com/jasni/jasni-cli/internal/cmdutil"
	"github.com/jasni/jasni-cli/internal/provider"
	"github.com/jasni/jasni-cli/internal/termsafe"
	"github.com/jasni/jasni-cli/internal/ui"
	"github.com/spf13/cobra"
)

func NewCmdWebhooks(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "webhooks <command>",
		Args:    cmdutil.SubcommandArgs,
		RunE:    cmdutil.GroupRunE,
		Aliases: []string{"webhook"},
		Short:   "Register, list, change, test and remove webhooks through a provider's API",
		Long: cmdutil.Doc(`
			Manage webhook registrations with your API key (see "jasni login"): Jasni's
			by default, or with --provider generic those of the generic REST API of the
			docs, at the address given by --api-url. The secret of a new webhook is shown
			once, at creation: save it then.
		`),
		Example: cmdutil.Examples(`
			$ jasni webhooks create --url https://app.example.com/webhooks/jasni --events email.received,email.sent
			$ jasni webhooks list
			$ jasni webhooks update wh_abc123 --active=false
			$ jasni webhooks delete wh_abc123

			# The generic REST API: jasni makes the secret and sends it
			$ export JASNI_API_URL=https://api.example.com JASNI_API_KEY=YOUR_TOKEN
			$ jasni webhooks create --provider generic --url https://app.example.com/webhooks --events resource.created
			$ jasni webhooks test wh_abc123 --provider generic --event resource.created
		`),
	}
	cmdutil.AddAPIFlags(cmd)
	cmdutil.AddPersistentProviderFlag(cmd)
	cmd.AddCommand(NewCmdCreate(f, nil), NewCmdList(f, nil), NewCmdGet(f, nil), NewCmdUpdate(f, nil), NewCmdDelete(f, nil), NewCmdTest(f, nil))
	return cmd
}

// target is the provider whose API a command manages, and the client for
// it, made only when the command gets that far.
type target struct {
	Provider *provider.Provider
	Client   func() (*api.Client, error)
}

// resolve finds the provider (--provider, JASNI_PROVIDER, the profile) and
// refuses one whose webhooks jasni cannot manage.
func resolve(f *cmdutil.Factory, cmd *cobra.Command) (target, error) {
	cfg, err := f.Config()
	if err != nil {
		return target{}, err
	}
	p, err := cmdutil.APIProvider(cmd, cfg)
	if err != nil {
		return target{}, err
	}
	return target{Provider: p, Client: func() (*api.Client, error) { return cmdutil.APIClientFor(f, cmd, cfg, p) }}, nil
}

// providerArgs is what to add to a suggested command so that it reaches
// the same API: nothing for Jasni's.
func providerArgs(p *provider.Provider) string {
	if p == nil || p.Name == provider.Default {
		return ""
	}
	return " --provider " + p.Name
}

// parseEvents splits and checks --events; every name must be one of the
// provider's types.
func parseEvents(values []string, p *provider.Provider) ([]string, error) {
	var events []string
	for _, v := range values {
		for _, e := range strings.Split(v, ",") {
			if e = strings.TrimSpace(e); e != "" {
				events = append(events, e)
			}
		}
	}
	if len(events) == 0 {
		return nil, cmdutil.FlagErrorf("--events is empty: name at least one of %s", strings.Join(p.EventNames(), ", "))
	}
	if err := cmdutil.CheckEventsOf(events, p.EventNames()); err != nil {
		return nil, err
	}
	return events, nil
}

// checkWebhookURL wants https, as the providers recommend, except on this
// machine (for a local test) or when the user says --allow-http.
func checkWebhookURL(raw string, allowHTTP bool, p *provider.Provider) error {
	if err := cmdutil.CheckURL("--url", raw); err != nil {
		return err
	}
	u, _ := url.Parse(raw)
	if u.Scheme == "https" || allowHTTP || isLoopback(u.Hostname()) {
		return nil
	}
	return cmdutil.FlagErrorf("--url %q is plain http: %s deliveries carry your data, so use https (or pass --allow-http for a test endpoint)", raw, p.Title)
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// completeIDs asks the API for webhook ids, briefly, and stays silent when it
// cannot: a completion must never print an error into the user's prompt.
func completeIDs(f *cmdutil.Factory) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		client, err := cmdutil.APIClient(f, cmd)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		client.Retries = 0
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		all, err := client.ListWebhooks(ctx)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []cobra.Completion
		for _, w := range all {
			if strings.HasPrefix(w.ID, toComplete) {
				out = append(out, cobra.CompletionWithDesc(termsafe.Line(w.ID), termsafe.Line(w.URL)))
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

// activeText is the webhook's state in words: the API's active flag,
// else its own status, else unknown.
func activeText(s *ui.Styles, wh *api.Webhook) string {
	switch {
	case wh.Active != nil && *wh.Active:
		return s.Success("yes")
	case wh.Active != nil:
		return s.Warning("no")
	case wh.Status != "":
		return termsafe.Line(wh.Status)
	}
	return s.Muted("unknown")
}

// printWebhook shows one webhook as aligned fields. Every value is the
// API's, so none reaches the terminal raw.
func printWebhook(w io.Writer, s *ui.Styles, wh *api.Webhook) {
	id := s.Accent(termsafe.Line(wh.ID))
	if wh.ID == "" {
		id = s.Muted("(not in the API's answer)")
	}
	rows := [][2]string{
		{"ID", id},
		{"URL", termsafe.Line(wh.URL)},
		{"Events", termsafe.Line(strings.Join(wh.Events, ", "))},
	}
	if wh.Active != nil || wh.Status == "" {
		rows = append(rows, [2]string{"Active", activeText(s, wh)})
	}
	if wh.Status != "" {
		rows = append(rows, [2]string{"Status", termsafe.Line(wh.Status)})
	}
	rows = append(rows, [2]string{"Description", termsafe.Line(wh.Description)})
	for _, r := range rows {
		fmt.Fprintf(w, "%s %s\n", s.Muted(fmt.Sprintf("%-12s", r[0])), r[1])
	}
}
