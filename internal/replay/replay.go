// Package replay sends a stored delivery to an app again, as received or
// edited, signed again, unsigned or wrongly signed on purpose, and records
// the app's answer as a new attempt of the same delivery. `events resend`,
// the inspector and the agent tools all send again through it.
package replay

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/jasni/jasni-cli/internal/config"
	"github.com/jasni/jasni-cli/internal/delivery"
	"github.com/jasni/jasni-cli/internal/listenstate"
	"github.com/jasni/jasni-cli/internal/provider"
	"github.com/jasni/jasni-cli/internal/store"
	"github.com/jasni/jasni-cli/internal/termsafe"
)

// Sign is how a replay is signed.
type Sign string

const (
	// SignFresh signs it again, as the provider's retry would: a fresh
	// timestamp, the same delivery id. The default.
	SignFresh Sign = "fresh"
	// SignAsIs sends the headers as they are, signature included.
	SignAsIs Sign = "as-is"
	// SignNone sends it without a signature, to test that the app refuses it.
	SignNone Sign = "none"
	// SignWrong signs it with a secret made up now, to test the same.
	SignWrong Sign = "wrong"
)

// Modes are the values of Sign, for messages.
var Modes = []Sign{SignFresh, SignAsIs, SignNone, SignWrong}

// ParseSign reads a Sign; "" is SignFresh.
func ParseSign(s string) (Sign, error) {
	if s == "" {
		return SignFresh, nil
	}
	if m := Sign(s); slices.Contains(Modes, m) {
		return m, nil
	}
	return "", fmt.Errorf("sign %q is not one of fresh, as-is, none, wrong", termsafe.Line(s))
}

// Edit is what to change before sending.
type Edit struct {
	// Body replaces the stored body when not nil.
	Body []byte
	// Header replaces the stored headers when not nil.
	Header http.Header
	Sign   Sign
}

// Replayer sends stored deliveries again.
type Replayer struct {
	Client   *http.Client
	Timeout  time.Duration
	Now      func() time.Time
	Provider *provider.Provider
	// Keys sign a fresh replay when set (listen's, the keys it verifies
	// with). Without them a fresh replay of an unedited delivery is signed
	// as delivery.Resign chooses from Secrets and Configured.
	Keys       []provider.Key
	Secrets    []delivery.Secret
	Configured []delivery.Secret
	// Forward is where to send; nil for where listen forwarded it.
	Forward *url.URL
	// By names what sent it in the attempt: store.AttemptByResend or
	// store.AttemptByReplay.
	By string
}

// Result is one replay: what was sent and what came back.
type Result struct {
	Attempt store.Attempt
	OK      bool
	// Unreachable: no answer came (Attempt.Error says why).
	Unreachable bool
	// Note explains a choice the user may not expect, or "".
	Note string
}

// ErrNoTarget is a replay of a delivery that was not forwarded anywhere,
// with no Forward to send it to instead.
var ErrNoTarget = errors.New("no --forward to send it to")

// UsageError is a replay that cannot be made as asked: the fix is the
// user's (another secret, a target, an untruncated delivery).
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

func usage(format string, a ...any) error { return &UsageError{fmt.Errorf(format, a...)} }

// Target is where d is sent again.
func (r *Replayer) Target(d *store.Delivery) (string, error) {
	switch {
	case r.Forward != nil:
		target := r.Forward.String()
		if r.Forward.Path == "" || r.Forward.Path == "/" {
			target = strings.TrimRight(target, "/") + d.Path
		}
		return target, nil
	case d.Forward != nil && d.Forward.URL != "":
		return d.Forward.URL, nil
	}
	return "", &UsageError{fmt.Errorf("delivery %s was not forwarded anywhere: %w", d.ID, ErrNoTarget)}
}

// hopHeaders are headers the relay added or that belong to one connection.
var hopHeaders = []string{"X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "Content-Length", "Host", "Connection", "Transfer-Encoding"}

// Prepare makes the request a replay of d sends, without sending it.
func (r *Replayer) Prepare(d *store.Delivery, e Edit) (delivery.Request, string, error) {
	body := d.Body
	if e.Body != nil {
		body = e.Body
	} else if d.Truncated() {
		return delivery.Request{}, "", usage("only the first %d of the %d bytes of %s were kept (it was refused), so it cannot be sent again as it was; send an edited body instead", len(d.Body), d.BodySize, d.ID)
	}
	target, err := r.Target(d)
	if err != nil {
		return delivery.Request{}, "", err
	}
	hdr := d.Header.Clone()
	if e.Header != nil {
		hdr = e.Header.Clone()
	}
	if hdr == nil {
		hdr = http.Header{}
	}
	for _, k := range hopHeaders {
		hdr.Del(k)
	}
	note, err := r.sign(d, hdr, body, e)
	if err != nil {
		return delivery.Request{}, "", err
	}
	return delivery.Request{Method: d.Method, URL: target, Body: body, Header: hdr}, note, nil
}

func (r *Replayer) sign(d *store.Delivery, hdr http.Header, body []byte, e Edit) (string, error) {
	p := r.Provider
	now := r.now()
	signing := delivery.Signing{Provider: p, Timestamp: now}
	if p.Headers.ID != "" {
		signing.ID = hdr.Get(p.Headers.ID)
	}
	switch e.Sign {
	case SignAsIs:
		return "", nil
	case SignNone:
		hdr.Del(p.Signature.Header) // Sign sets only what it signs with
		return "", delivery.Sign(hdr, body, signing)
	case SignWrong:
		secret, err := p.NewSecret()
		if err != nil {
			return "", err
		}
		k, err := p.ParseKey(secret)
		if err != nil {
			return "", err
		}
		signing.Keys = []provider.Key{k}
		return "", delivery.Sign(hdr, body, signing)
	}
	if len(r.Keys) > 0 {
		signing.Keys = r.Keys
		return "", delivery.Sign(hdr, body, signing)
	}
	if e.Body != nil || e.Header != nil {
		// An edit cannot be checked against the stored signature: sign with
		// what the user gave, or the first secret configured.
		secrets := r.Secrets
		if len(secrets) == 0 {
			secrets = r.Configured
		}
		if len(secrets) == 0 {
			return "", usage("no secret to sign the edited delivery with: pass --secret, or sign none")
		}
		k, err := p.ParseKey(secrets[0].Value)
		if err != nil {
			return "", usage("the secret from %s: %v", secrets[0].Source, err)
		}
		signing.Keys = []provider.Key{k}
		return "", delivery.Sign(hdr, body, signing)
	}
	how, err := delivery.Resign(hdr, body, p, r.Secrets, r.Configured, d.ReceivedAt, now)
	if errors.Is(err, delivery.ErrNoSecretVerifies) {
		// The path listen received it on names its provider, by default.
		if name, ok := strings.CutPrefix(d.Path, "/webhooks/"); ok && name != p.Name && slices.Contains(provider.BuiltinNames(), name) {
			err = fmt.Errorf("%w (it arrived on %s: pass --provider %s)", err, termsafe.Line(d.Path), name)
		}
		if len(r.Configured) == 0 {
			return "", &UsageError{err}
		}
		return "", err
	}
	if err != nil {
		return "", &UsageError{err}
	}
	return how.Note, nil
}

// Replay sends d again with e applied and records the answer in h (when
// not nil) as a new attempt. It returns an error only when it could not
// send (a UsageError, or ctx ended); an app that did not answer, or
// answered with an error, is a Result.
func (r *Replayer) Replay(ctx context.Context, h *store.Store, d *store.Delivery, e Edit) (Result, error) {
	req, note, err := r.Prepare(d, e)
	if err != nil {
		return Result{}, err
	}
	sender := &delivery.Sender{Client: r.Client, Timeout: r.Timeout}
	sentAt := r.now()
	a, err := sender.Send(ctx, req, nil)
	if err != nil {
		return Result{}, err
	}
	by := r.By
	if by == "" {
		by = store.AttemptByReplay
	}
	res := Result{OK: a.OK(), Unreachable: a.Err != nil, Note: note, Attempt: store.Attempt{
		At: sentAt, By: by, URL: req.URL, Status: a.Status, DurationMS: a.Duration.Milliseconds(),
		Header: a.Header, Body: a.Body, BodySize: int64(len(a.Body)),
	}}
	if a.Truncated {
		res.Attempt.BodySize++ // more than was kept; how much more was not read
	}
	if a.Err != nil {
		res.Attempt.Error = a.Err.Error()
	} else if !a.OK() {
		res.Attempt.Summary = store.AnswerSummary(a.Body)
	}
	res.Attempt.Sent = sent(d, req)
	if h != nil {
		if err := h.AddAttempt(ctx, d.ID, res.Attempt); err != nil {
			res.Note = strings.TrimSpace(res.Note + " The attempt was not recorded in the history: " + termsafe.Line(err.Error()))
		}
	}
	return res, nil
}

// sent is how the request differed from d as received, or nil.
func sent(d *store.Delivery, req delivery.Request) *store.Sent {
	var s store.Sent
	for k, vs := range req.Header {
		if !slices.Equal(d.Header[k], vs) {
			if s.Header == nil {
				s.Header = http.Header{}
			}
			s.Header[k] = vs
		}
	}
	for k := range d.Header {
		if _, ok := req.Header[k]; !ok && !slices.Contains(hopHeaders, k) {
			if s.Header == nil {
				s.Header = http.Header{}
			}
			s.Header[k] = nil // taken away
		}
	}
	if string(req.Body) != string(d.Body) {
		s.Body = req.Body
	}
	if s.Header == nil && s.Body == nil {
		return nil
	}
	return &s
}

func (r *Replayer) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// ConfiguredSecrets are the secrets a stored delivery may be signed again
// with, tried in turn: the environment's and the profile's, then those of
// the jasni listens running beside the history at historyPath (which
// verified what they kept).
func ConfiguredSecrets(cfg *config.Config, historyPath string) []delivery.Secret {
	var out []delivery.Secret
	for _, v := range cfg.LookupAll(config.KeyWebhookSecret) {
		out = append(out, delivery.Secret(v))
	}
	for _, st := range listenstate.Running(listenstate.Dir(historyPath)) {
		for _, s := range st.Secrets {
			if s != "" && !slices.ContainsFunc(out, func(c delivery.Secret) bool { return c.Value == s }) {
				out = append(out, delivery.Secret{Value: s, Source: "the jasni listen running here"})
			}
		}
	}
	return out
}
