// Package mcp is `jasni mcp`: jasni's tools for AI coding agents, over the
// Model Context Protocol on stdin and stdout.
package mcp

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/jasni/jasni-cli/internal/build"
	"github.com/jasni/jasni-cli/internal/cmdutil"
	"github.com/jasni/jasni-cli/internal/iostreams"
	"github.com/jasni/jasni-cli/internal/mcpserver"
	"github.com/jasni/jasni-cli/internal/store"
	"github.com/spf13/cobra"
)

// Snippet is how an agent client is told to start the server.
const Snippet = `{
  "mcpServers": {
    "jasni": { "command": "jasni", "args": ["mcp"] }
  }
}`

type Options struct {
	IO     *iostreams.IOStreams
	Server mcpserver.Config
}

func NewCmdMCP(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams}
	var forward string
	cmd := &cobra.Command{
		Use:   "mcp [--forward localhost:3000] [--allow-host HOST]",
		Short: "Serve jasni's webhook tools to AI coding agents (Model Context Protocol, stdio)",
		Long: cmdutil.Doc(`
			Run an MCP server on stdin and stdout, for an AI coding agent (Claude Code,
			Cursor, VS Code, ...) that writes or tests a webhook handler. Its tools:

			  list_providers, list_events, show_event   what the providers send
			  trigger          fire correctly signed events at a handler
			  sign, verify     sign a body; check a signature and explain a failure
			  list_deliveries, get_delivery   what "jasni listen" received and the app answered
			  replay_delivery  send a kept delivery to the app again, optionally edited
			  check_endpoint   the deployment checklist of "jasni check"

			Register it with the agent's client as a stdio server, e.g. in .mcp.json,
			.cursor/mcp.json or claude_desktop_config.json:

			` + strings.ReplaceAll(Snippet, "\n", "\n\t\t\t") + `

			Safe by default: trigger, replay_delivery and check_endpoint send only to
			loopback addresses and the --forward target, unless --allow-host names
			another host. The tools use the configured webhook secret (WEBHOOK_SECRET,
			or the profile's) and never return it. Delivery bodies and headers are
			returned as JSON fields, marked as untrusted data from the internet.
		`),
		Example: cmdutil.Examples(`
			$ jasni mcp
			$ jasni mcp --forward localhost:3000
			$ jasni mcp --allow-host staging.example.com --profile staging
			$ claude mcp add jasni -- jasni mcp
		`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := f.Config()
			if err != nil {
				return err
			}
			if forward != "" {
				if opts.Server.Forward, err = cmdutil.ParseForward(forward); err != nil {
					return err
				}
			}
			for i, h := range opts.Server.AllowHosts {
				if opts.Server.AllowHosts[i], err = checkHost(h); err != nil {
					return err
				}
			}
			if _, err := cmdutil.Provider(cmd, cfg); err != nil {
				return err
			}
			client, err := f.HttpClient()
			if err != nil {
				return err
			}
			if opts.Server.HistoryPath, err = store.DefaultPath(f.Getenv); err != nil {
				return err
			}
			opts.Server.Config, opts.Server.HTTPClient, opts.Server.Now = cfg.WithFlags(cmd.Flags()), client, f.Now
			opts.Server.Version = build.Current().Version
			if runF != nil {
				return runF(opts)
			}
			return run(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&forward, "forward", "f", "", "Your app: 3000, localhost:3000 or a URL. Replays go there, and the sending tools may reach its host")
	fl.StringArrayVar(&opts.Server.AllowHosts, "allow-host", nil, "Let trigger, replay_delivery and check_endpoint reach this `HOST` too (repeatable)")
	cmdutil.AddProviderFlag(cmd)
	return cmd
}

// checkHost wants a bare host name or address, as a URL holds it, and
// returns it as a URL's Hostname gives it.
func checkHost(h string) (string, error) {
	u, err := url.Parse("http://" + h)
	if h == "" || err != nil || u.Host != h || u.Port() != "" || u.User != nil {
		return "", cmdutil.FlagErrorf("--allow-host %q: give a host name or address alone, such as staging.example.com (no scheme, port or path)", h)
	}
	return u.Hostname(), nil
}

func run(ctx context.Context, opts *Options) error {
	if opts.IO.IsStdinTTY() {
		fmt.Fprintf(opts.IO.ErrOut, "jasni mcp speaks the Model Context Protocol on stdin and stdout: an agent's client starts it. Register it with:\n%s\n(Ctrl-C to stop.)\n", Snippet)
	}
	err := mcpserver.New(opts.Server).Run(ctx, &mcpserver.Lines{In: opts.IO.In, Out: opts.IO.Out})
	if err != nil && ctx.Err() != nil {
		return nil // Ctrl-C
	}
	if err != nil && strings.Contains(err.Error(), "EOF") {
		return nil // the client closed stdin: done
	}
	return err
}
