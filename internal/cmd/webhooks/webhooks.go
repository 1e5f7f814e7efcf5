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

	"github.com/jasni/jasni-cli/fixtures"
	"github.com/jasni/jasni-cli/internal/api"
	"github.com/jasni/jasni-cli/internal/cmdutil"
	"github.com/jasni/jasni-cli/internal/ui"
	"github.com/spf13/cobra"
)

func NewCmdWebhooks(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "webhooks <command>",
		Args:    cmdutil.SubcommandArgs,
		RunE:    cmdutil.GroupRunE,
		Aliases: []string{"webhook"},
		Short:   "Register, list, change and remove webhooks through the Jasni API",
		Long: cmdutil.Doc(`
			Manage webhook registrations with your API key (see "jasni login"). The
			secret of a new webhook is shown once, at creation: save it then.
		`),
		Example: cmdutil.Examples(`
			$ jasni webhooks create --url https://app.example.com/webhooks/jasni --events email.received,email.sent
			$ jasni webhooks list
			$ jasni webhooks update wh_abc123 --active=false
			$ jasni webhooks delete wh_abc123
		`),
	}
	cmdutil.AddAPIFlags(cmd)
	cmd.AddCommand(NewCmdCreate(f, nil), NewCmdList(f, nil), NewCmdGet(f, nil), NewCmdUpdate(f, nil), NewCmdDelete(f, nil))
	return cmd
}

// parseEvents splits and checks --events; every name must be a known type.
func parseEvents(values []string) ([]string, error) {
	var events []string
	for _, v := range values {
		for _, e := range strings.Split(v, ",") {
			if e = strings.TrimSpace(e); e != "" {
				events = append(events, e)
			}
		}
	}
	if len(events) == 0 {
		return nil, cmdutil.FlagErrorf("--events is empty: name at least one of %s", strings.Join(fixtures.Names(), ", "))
	}
	if err := cmdutil.CheckEvents(events); err != nil {
		return nil, err
	}
	return events, nil
}

// checkWebhookURL wants https, as Jasni recommends, except on this machine
// (for a local test) or when the user says --allow-http.
func checkWebhookURL(raw string, allowHTTP bool) error {
	if err := cmdutil.CheckURL("--url", raw); err != nil {
		return err
	}
	u, _ := url.Parse(raw)
	if u.Scheme == "https" || allowHTTP || isLoopback(u.Hostname()) {
		return nil
	}
	return cmdutil.FlagErrorf("--url %q is plain http: Jasni sends email content, so use https (or pass --allow-http for a test endpoint)", raw)
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
				out = append(out, cobra.CompletionWithDesc(w.ID, w.URL))
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

// printWebhook shows one webhook as aligned fields.
func printWebhook(w io.Writer, s *ui.Styles, wh *api.Webhook) {
	active := s.Success("yes")
	if !wh.Active {
		active = s.Warning("no")
	}
	rows := [][2]string{
		{"ID", s.Accent(wh.ID)},
		{"URL", wh.URL},
		{"Events", strings.Join(wh.Events, ", ")},
		{"Active", active},
		{"Description", wh.Description},
	}
	for _, r := range rows {
		fmt.Fprintf(w, "%s %s\n", s.Muted(fmt.Sprintf("%-12s", r[0])), r[1])
	}
}
