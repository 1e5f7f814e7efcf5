package webhooks

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/jasni/jasni-cli/internal/api"
	"github.com/jasni/jasni-cli/internal/cmdutil"
	"github.com/jasni/jasni-cli/internal/iostreams"
	"github.com/jasni/jasni-cli/internal/provider"
	"github.com/jasni/jasni-cli/internal/termsafe"
	"github.com/jasni/jasni-cli/internal/ui"
	"github.com/spf13/cobra"
)

type TestOptions struct {
	IO       *iostreams.IOStreams
	Client   func() (*api.Client, error)
	Provider *provider.Provider
	ID       string
	Event    string
}

func NewCmdTest(f *cmdutil.Factory, runF func(*TestOptions) error) *cobra.Command {
	opts := &TestOptions{IO: f.IOStreams}
	cmd := &cobra.Command{
		Use:   "test ID [--event TYPE]",
		Short: "Ask the provider to send a webhook a test delivery",
		Long: cmdutil.Doc(`
			Ask the provider's API to send a test delivery of one event type to a
			registered webhook (POST /v1/webhooks/test for the generic REST API), and
			say what it answered. The delivery itself goes from the provider to the
			webhook's URL: with "jasni listen" behind that URL, it shows up there and in
			the inspector. --event defaults to the provider's first event type.

			Jasni's API has no test endpoint: send a signed test delivery yourself with
			"jasni trigger".
		`),
		Example: cmdutil.Examples(`
			$ jasni webhooks test wh_abc123 --provider generic --event resource.created
			$ jasni webhooks test wh_abc123 --provider generic --output json
		`),
		Args:              cmdutil.ExactArgs(1),
		ValidArgsFunction: completeIDs(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ID = args[0]
			t, err := resolve(f, cmd)
			if err != nil {
				return err
			}
			opts.Provider, opts.Client = t.Provider, t.Client
			p := opts.Provider
			if p.API.TestPath == "" {
				example := "EVENT"
				if names := p.EventNames(); len(names) > 0 {
					example = names[0]
				}
				return cmdutil.FlagErrorf("the %s API has no test endpoint: send a signed test delivery yourself with: jasni trigger %s%s --url URL", p.Title, example, providerArgs(p))
			}
			if !cmd.Flags().Changed("event") {
				if names := p.EventNames(); len(names) > 0 {
					opts.Event = names[0]
				}
			}
			if err := cmdutil.CheckEventsOf([]string{opts.Event}, p.EventNames()); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return testRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Event, "event", "", "The event `TYPE` to send (default: the provider's first)")
	_ = cmd.RegisterFlagCompletionFunc("event", cmdutil.EventListCompletion)
	return cmd
}

func testRun(ctx context.Context, opts *TestOptions) error {
	client, err := opts.Client()
	if err != nil {
		return err
	}
	res, err := client.TestWebhook(ctx, opts.ID, opts.Event)
	if err != nil {
		return err
	}
	failed, why := res.Failed()
	ios := opts.IO
	if ios.JSON() {
		err = ios.WriteJSONIndent(struct {
			WebhookID string `json:"webhook_id"`
			EventType string `json:"event_type"`
			Status    int    `json:"status"`
			OK        bool   `json:"ok"`
			Answer    any    `json:"answer"`
		}{opts.ID, opts.Event, res.Status, !failed, answerValue(res.Answer)})
	} else {
		s := ui.New(ios.Out, ios.ColorEnabled())
		status := fmt.Sprintf("%d %s", res.Status, http.StatusText(res.Status))
		if failed {
			fmt.Fprintf(ios.Out, "%s %s took the request (%s), but says the test %s delivery to webhook %s failed%s\n",
				s.FailureIcon(), apiName(opts.Provider), status, opts.Event, termsafe.Line(opts.ID), suffix(termsafe.Line(why)))
		} else {
			fmt.Fprintf(ios.Out, "%s %s accepted a test %s delivery to webhook %s (%s)\n",
				s.SuccessIcon(), apiName(opts.Provider), opts.Event, termsafe.Line(opts.ID), status)
		}
		if answer := strings.TrimSpace(string(res.Answer)); answer != "" {
			fmt.Fprintf(ios.Out, "%s %s\n", s.Muted("Its answer:"), ui.Truncate(termsafe.Line(compact(res.Answer)), 400))
		}
	}
	if err != nil {
		return err
	}
	if failed {
		return &cmdutil.SilentError{Code: cmdutil.ExitRejected}
	}
	fmt.Fprintln(ios.ErrOut, "It goes to the webhook's URL: with jasni listen behind it, watch it arrive there or in the inspector.")
	return nil
}

// apiName names the provider's API in a sentence: "the Jasni API", "the
// Generic REST API".
func apiName(p *provider.Provider) string {
	if strings.HasSuffix(p.Title, "API") {
		return "The " + p.Title
	}
	return "The " + p.Title + " API"
}

func suffix(s string) string {
	if s == "" {
		return ""
	}
	return ": " + s
}

// answerValue is the API's answer for JSON output: itself when it is JSON,
// else its text, else null.
func answerValue(raw []byte) any {
	switch {
	case len(strings.TrimSpace(string(raw))) == 0:
		return nil
	case json.Valid(raw):
		return json.RawMessage(raw)
	}
	return string(raw)
}

// compact puts a JSON answer on one line, its keys in their order; other
// text is kept as it is.
func compact(raw []byte) string {
	var buf bytes.Buffer
	if json.Compact(&buf, raw) == nil {
		return buf.String()
	}
	return string(raw)
}
