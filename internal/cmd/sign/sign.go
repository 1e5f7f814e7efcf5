// Package sign implements `jasni sign`: the signature Jasni would send for a body.
package sign

import (
	"fmt"
	"time"

	"github.com/jasni/jasni-cli/internal/cmdutil"
	"github.com/jasni/jasni-cli/internal/iostreams"
	"github.com/jasni/jasni-cli/internal/signature"
	"github.com/spf13/cobra"
)

type Options struct {
	IO     *iostreams.IOStreams
	Now    func() time.Time
	File   string
	Secret string
}

func NewCmdSign(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Now: f.Now}
	cmd := &cobra.Command{
		Use:   "sign [FILE]",
		Short: "Compute the signature Jasni sends for a body",
		Long: cmdutil.Doc(`
			Print the X-Webhook-Signature value Jasni would send for a body: the hex
			HMAC-SHA256 of the exact bytes, keyed with the whole secret string.

			The body is read from FILE, or from stdin when FILE is - or absent. Every
			byte counts, a trailing newline included.
		`),
		Example: cmdutil.Examples(`
			$ jasni sign --secret whsec_test body.json
			$ printf '%s' '{"event":"email.sent"}' | jasni sign --secret whsec_test
			$ jasni sign body.json --output json
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
			opts.Secret, _ = cmdutil.Secret(cmd, cfg)
			if opts.Secret == "" {
				return cmdutil.FlagErrorf("no webhook secret: pass --secret whsec_... or set WEBHOOK_SECRET")
			}
			if runF != nil {
				return runF(opts)
			}
			return signRun(opts)
		},
	}
	cmd.Flags().String("secret", "", "Webhook secret (the whole string, whsec_ included)")
	return cmd
}

func signRun(opts *Options) error {
	body, err := cmdutil.ReadInput(opts.IO, opts.File)
	if err != nil {
		return err
	}
	headers := signature.Jasni{}.Sign(opts.Secret, signature.Message{Body: body, Timestamp: opts.Now()})
	sig := headers.Get(signature.HeaderJasniSignature)
	if opts.IO.JSON() {
		return opts.IO.WriteJSONIndent(map[string]any{
			"signature":  sig,
			"body_bytes": len(body),
			"headers": map[string]string{
				signature.HeaderJasniSignature: sig,
				signature.HeaderJasniTimestamp: headers.Get(signature.HeaderJasniTimestamp),
			},
		})
	}
	fmt.Fprintln(opts.IO.Out, sig)
	if opts.IO.IsStderrTTY() {
		fmt.Fprintf(opts.IO.ErrOut, "signed %d bytes; send it as %s: %s\n", len(body), signature.HeaderJasniSignature, sig)
	}
	return nil
}
