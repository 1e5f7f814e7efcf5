// Package sign implements `jasni sign`: the signature Jasni would send for a body.
package sign

import (
	"fmt"
	"net/http"
	"time"

	"github.com/jasni/jasni-cli/internal/cmdutil"
	"github.com/jasni/jasni-cli/internal/config"
	"github.com/jasni/jasni-cli/internal/delivery"
	"github.com/jasni/jasni-cli/internal/iostreams"
	"github.com/jasni/jasni-cli/internal/provider"
	"github.com/spf13/cobra"
)

type Options struct {
	IO       *iostreams.IOStreams
	Now      func() time.Time
	File     string
	Secret   string
	Provider *provider.Provider
	// ID and Timestamp are the delivery id and time to sign with, for
	// schemes that sign them; zero means a fresh one and now.
	ID        string
	Timestamp time.Time
	// URL is where it is sent, for schemes that sign it (Twilio's).
	URL string
}

func NewCmdSign(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Now: f.Now}
	var ts string
	cmd := &cobra.Command{
		Use:   "sign [FILE]",
		Short: "Compute the signature a provider sends for a body",
		Long: cmdutil.Doc(`
			Print the signature header's value a provider would send for a body (Jasni
			by default: the hex HMAC-SHA256 of the exact bytes, keyed with the whole
			secret string). With --output json, every header that carries the signature
			and what it signs: the timestamp and the delivery id.

			The body is read from FILE, or from stdin when FILE is - or absent. Every
			byte counts, a trailing newline included.
		`),
		Example: cmdutil.Examples(`
			$ jasni sign --secret whsec_test body.json
			$ printf '%s' '{"event":"email.sent"}' | jasni sign --secret whsec_test
			$ jasni sign body.json --output json

			# Standard Webhooks, with the id and time it signs
			$ jasni sign --provider standard --secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw --id msg_p5jXN8AQM9LWM0D4loKWxJek --timestamp 1614265330 body.json
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
			opts.Secret, _ = cmdutil.Secret(cmd, cfg)
			if opts.Secret == "" {
				return cmdutil.FlagErrorf("no webhook secret: pass --secret %s or set WEBHOOK_SECRET", cmdutil.SecretPlaceholder(opts.Provider, true))
			}
			if opts.Provider.SignsURL() && opts.URL == "" {
				return cmdutil.FlagErrorf("%s signs the URL it sends to: pass --url, exactly as %s was given it", opts.Provider.Title, opts.Provider.Title)
			}
			if ts != "" {
				if opts.Timestamp, err = cmdutil.ParseUnixTime("--timestamp", ts, opts.Now()); err != nil {
					return err
				}
			}
			if runF != nil {
				return runF(opts)
			}
			return signRun(opts)
		},
	}
	cmd.Flags().String("secret", "", "Webhook secret (the whole string, whsec_ included)")
	config.BindFlag(cmd.Flags(), "secret", config.KeyWebhookSecret)
	cmd.Flags().StringVar(&opts.ID, "id", "", "Delivery `id` to sign with, for schemes that sign one (default: a new one)")
	cmd.Flags().StringVar(&ts, "timestamp", "", "Unix `time` to sign with, for schemes that sign one (default: now)")
	cmd.Flags().StringVar(&opts.URL, "url", "", "The URL it is sent to, for schemes that sign it (Twilio's)")
	cmdutil.AddProviderFlag(cmd)
	return cmd
}

func signRun(opts *Options) error {
	body, err := cmdutil.ReadInput(opts.IO, opts.File)
	if err != nil {
		return err
	}
	p := opts.Provider
	key, err := p.SigningKey(opts.Secret)
	if err != nil {
		return cmdutil.FlagErrorf("--secret: %v", err)
	}
	sign := delivery.Signing{Provider: p, Keys: []provider.Key{key}, Timestamp: opts.Now(), ID: opts.ID, URL: opts.URL}
	if !opts.Timestamp.IsZero() {
		sign.Timestamp = opts.Timestamp
	}
	headers := http.Header{}
	if err := delivery.Sign(headers, body, sign); err != nil {
		return err
	}
	sig := headers.Get(p.Signature.Header)
	if opts.IO.JSON() {
		out := map[string]string{}
		for k := range headers {
			out[k] = headers.Get(k)
		}
		return opts.IO.WriteJSONIndent(map[string]any{
			"provider":   p.Name,
			"signature":  sig,
			"body_bytes": len(body),
			"headers":    out,
		})
	}
	fmt.Fprintln(opts.IO.Out, sig)
	if opts.IO.IsStderrTTY() {
		fmt.Fprintf(opts.IO.ErrOut, "signed %d bytes; send it as %s: %s\n", len(body), p.Signature.Header, sig)
		for _, h := range []string{p.Headers.Timestamp, p.Headers.ID} {
			if h != "" && headers.Get(h) != "" {
				fmt.Fprintf(opts.IO.ErrOut, "  with %s: %s\n", h, headers.Get(h))
			}
		}
	}
	return nil
}
