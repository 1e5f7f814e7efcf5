// Package verify implements `jasni verify`: check a signature, and explain a
// failure.
package verify

import (
	"fmt"
	"net/http"
	"time"

	"github.com/jasni/jasni-cli/internal/cmdutil"
	"github.com/jasni/jasni-cli/internal/config"
	"github.com/jasni/jasni-cli/internal/iostreams"
	"github.com/jasni/jasni-cli/internal/provider"
	"github.com/jasni/jasni-cli/internal/ui"
	"github.com/spf13/cobra"
)

type Options struct {
	IO           *iostreams.IOStreams
	Now          func() time.Time
	File         string
	Secret       string
	SecretSource string
	Provider     *provider.Provider
	// Signature, Timestamp and ID are the header values received.
	Signature string
	Timestamp string
	ID        string
	// URL is where it was sent, for schemes that sign it (Twilio's).
	URL string
}

func NewCmdVerify(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Now: f.Now}
	cmd := &cobra.Command{
		Use:   "verify [FILE] --signature VALUE",
		Short: "Check a webhook signature and explain why it fails",
		Long: cmdutil.Doc(`
			Check a signature against a body and a secret the way the provider's receivers
			do (Jasni by default; --provider for another, with --timestamp and --id when
			its scheme signs them). When it does not match, jasni tries the usual
			mistakes and names the likely cause:

			  - the body was parsed and re-serialised before verifying (compacted,
			    pretty-printed, keys sorted, or Python's spaced separators);
			  - the body gained or lost a trailing newline;
			  - the secret was used in the wrong form: without or with its whsec_
			    prefix, base64-decoded or not, with surrounding whitespace;
			  - the signature is in another form: a prefix or encoding the provider does
			    not use, or upper-case hex, which receivers comparing strings refuse;
			  - the timestamp is outside the provider's window.

			The body is read from FILE, or from stdin when FILE is - or absent: save it
			exactly as your app received it. Exit status 0 when valid, 3 when not.
		`),
		Example: cmdutil.Examples(`
			$ jasni verify body.json --secret whsec_test --signature 5d41402abc4b2a76b9719d911017c592...
			$ cat body.json | jasni verify --signature "$SIG" --output json
			$ jasni verify body.json --provider voisnap --secret "$S" --signature "sha256=..." --timestamp 1700000000
		`),
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := f.Config()
			if err != nil {
				return err
			}
			if len(args) > 0 {
				opts.File = args[0]
			}
			if opts.Provider, err = cmdutil.Provider(cmd, cfg); err != nil {
				return err
			}
			if opts.Signature == "" {
				return cmdutil.FlagErrorf("--signature is required: the %s value your app received", opts.Provider.Signature.Header)
			}
			opts.Secret, opts.SecretSource = cmdutil.Secret(cmd, cfg)
			if opts.Secret == "" {
				return cmdutil.FlagErrorf("no webhook secret: pass --secret %s or set WEBHOOK_SECRET", cmdutil.SecretPlaceholder(opts.Provider, false))
			}
			if runF != nil {
				return runF(opts)
			}
			return verifyRun(opts)
		},
	}
	cmd.Flags().String("secret", "", "Webhook secret (the whole string, whsec_ included)")
	config.BindFlag(cmd.Flags(), "secret", config.KeyWebhookSecret)
	cmd.Flags().StringVar(&opts.Signature, "signature", "", "The signature header's value as received")
	cmd.Flags().StringVar(&opts.Timestamp, "timestamp", "", "The timestamp header's value, for schemes that sign it (Unix seconds)")
	cmd.Flags().StringVar(&opts.ID, "id", "", "The delivery id header's value, for schemes that sign it")
	cmd.Flags().StringVar(&opts.URL, "url", "", "The URL the provider sent it to, for schemes that sign it (Twilio's)")
	cmdutil.AddProviderFlag(cmd)
	return cmd
}

func verifyRun(opts *Options) error {
	body, err := cmdutil.ReadInput(opts.IO, opts.File)
	if err != nil {
		return err
	}
	p := opts.Provider
	h := http.Header{}
	h.Set(p.Signature.Header, opts.Signature)
	if p.Headers.Timestamp != "" && opts.Timestamp != "" {
		h.Set(p.Headers.Timestamp, opts.Timestamp)
	}
	if p.Headers.ID != "" && opts.ID != "" {
		h.Set(p.Headers.ID, opts.ID)
	}
	d := p.DiagnoseURL(opts.Secret, body, h, opts.Now(), opts.URL)
	if opts.IO.JSON() {
		if err := opts.IO.WriteJSONIndent(d); err != nil {
			return err
		}
	} else {
		s := ui.New(opts.IO.Out, opts.IO.ColorEnabled())
		if d.Valid {
			fmt.Fprintf(opts.IO.Out, "%s signature valid (%d bytes, secret from %s)\n", s.SuccessIcon(), len(body), opts.SecretSource)
		} else {
			fmt.Fprintf(opts.IO.Out, "%s signature does not match (secret from %s)\n", s.FailureIcon(), opts.SecretSource)
			fmt.Fprintf(opts.IO.Out, "  %s %s\n", s.Bold("Likely cause:"), d.Cause)
			fmt.Fprintf(opts.IO.Out, "  %s %s\n", s.Bold("Fix:"), d.Fix)
		}
		for _, n := range d.Notes {
			fmt.Fprintf(opts.IO.Out, "  %s %s\n", s.WarningIcon(), n)
		}
	}
	if !d.Valid {
		return &cmdutil.SilentError{Code: cmdutil.ExitRejected}
	}
	return nil
}
