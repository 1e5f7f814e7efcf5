// Package relay is the listener behind `jasni listen`: for each delivery it
// verifies the signature, records the delivery, forwards it to the app with
// the body and headers untouched, and answers the sender with the app's own
// answer, so that the sender's retries behave as they will in production.
package relay

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/jasni/jasni-cli/internal/signature"
	"github.com/jasni/jasni-cli/internal/store"
)

// Defaults.
const (
	DefaultMaxBody        = 10 << 20
	DefaultForwardTimeout = 30 * time.Second
	maxAnswerBody         = 10 << 20
)

// Recorder keeps deliveries; *store.Store is one.
type Recorder interface {
	Save(*store.Delivery) error
}

// Config sets up a Relay.
type Config struct {
	Secret     string
	SkipVerify bool
	// Forward is the app's URL; nil makes the relay a verifying sink that answers 200.
	Forward *url.URL
	// Header is added to every forwarded request.
	Header http.Header
	// Events, when not empty, are the only event types forwarded.
	Events         []string
	MaxBody        int64
	ForwardTimeout time.Duration
	Client         *http.Client
	Recorder       Recorder
	// OnDelivery is told about every delivery once it is answered. It is
	// called from the request's goroutine and must be safe for concurrent use.
	OnDelivery func(*store.Delivery)
	// OnRecordError is told when the history could not be written.
	OnRecordError func(error)
	Now           func() time.Time
}

// Relay is an http.Handler.
type Relay struct {
	cfg    Config
	client *http.Client
	events map[string]bool
	seen   *dedup
	wg     sync.WaitGroup
}

// New builds a relay from cfg, filling in defaults.
func New(cfg Config) *Relay {
	if cfg.MaxBody == 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.ForwardTimeout == 0 {
		cfg.ForwardTimeout = DefaultForwardTimeout
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	client := cfg.Client
	if client == nil {
		client = &http.Client{}
	}
	// The app's redirects are the sender's business, as they would be in production.
	noRedirect := *client
	noRedirect.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	r := &Relay{cfg: cfg, client: &noRedirect, seen: newDedup(10000)}
	if len(cfg.Events) > 0 {
		r.events = map[string]bool{}
		for _, e := range cfg.Events {
			r.events[e] = true
		}
	}
	return r
}

// Wait blocks until in-flight deliveries finish or ctx ends.
func (r *Relay) Wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		r.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (r *Relay) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.wg.Add(1)
	defer r.wg.Done()
	start := r.cfg.Now()

	d := &store.Delivery{
		ID:         store.NewID(start),
		ReceivedAt: start,
		Method:     req.Method,
		Path:       req.URL.RequestURI(),
		RemoteAddr: req.RemoteAddr,
		Header:     req.Header.Clone(),
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, r.cfg.MaxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			d.Answer = http.StatusRequestEntityTooLarge
			d.Verdict = store.VerdictSkipped
			d.Forward = &store.Forward{Skipped: fmt.Sprintf("body larger than %d bytes", r.cfg.MaxBody)}
			http.Error(w, "payload too large", d.Answer)
			r.finish(d, false)
			return
		}
		http.Error(w, "could not read the body", http.StatusBadRequest)
		return
	}
	d.Body = body
	d.Event = eventOf(req.Header, body)
	d.Duplicate = r.seen.check(dedupKey(d.Event, body))

	d.Verdict = r.verify(body, req.Header)
	if d.Verdict == store.VerdictInvalid || d.Verdict == store.VerdictMissing {
		d.Answer = http.StatusUnauthorized
		d.Forward = &store.Forward{Skipped: "signature " + string(d.Verdict)}
		http.Error(w, "invalid signature", d.Answer)
		r.finish(d, true)
		return
	}

	// Recorded before forwarding: if the app or jasni dies mid-way, the
	// delivery is still there to resend.
	r.record(d)

	switch {
	case r.events != nil && !r.events[d.Event]:
		d.Answer = http.StatusOK
		d.Forward = &store.Forward{Skipped: "event not in --events"}
		w.WriteHeader(d.Answer)
	case r.cfg.Forward == nil:
		d.Answer = http.StatusOK
		d.Forward = &store.Forward{Skipped: "no --forward"}
		w.WriteHeader(d.Answer)
	default:
		r.forward(w, req, d)
	}
	r.finish(d, true)
}

func (r *Relay) verify(body []byte, h http.Header) store.Verdict {
	if r.cfg.SkipVerify {
		return store.VerdictSkipped
	}
	switch err := (signature.Jasni{}).Verify(r.cfg.Secret, body, h); {
	case err == nil:
		return store.VerdictValid
	case errors.Is(err, signature.ErrMissingSignature):
		return store.VerdictMissing
	default:
		return store.VerdictInvalid
	}
}

func (r *Relay) finish(d *store.Delivery, record bool) {
	if record {
		r.record(d)
	}
	if r.cfg.OnDelivery != nil {
		r.cfg.OnDelivery(d)
	}
}

func (r *Relay) record(d *store.Delivery) {
	if r.cfg.Recorder == nil {
		return
	}
	if err := r.cfg.Recorder.Save(d); err != nil && r.cfg.OnRecordError != nil {
		r.cfg.OnRecordError(err)
	}
}

// forward passes the delivery to the app and copies its answer back.
func (r *Relay) forward(w http.ResponseWriter, in *http.Request, d *store.Delivery) {
	target := Target(r.cfg.Forward, in.URL)
	d.Forward = &store.Forward{URL: target.String()}
	ctx, cancel := context.WithTimeout(in.Context(), r.cfg.ForwardTimeout)
	defer cancel()
	out, err := http.NewRequestWithContext(ctx, in.Method, target.String(), bytes.NewReader(d.Body))
	if err != nil {
		d.Answer = http.StatusBadGateway
		d.Forward.Error = err.Error()
		http.Error(w, "jasni: bad forward URL", d.Answer)
		return
	}
	out.Header = ForwardHeader(in, r.cfg.Header)
	out.ContentLength = int64(len(d.Body))

	start := time.Now()
	resp, err := r.client.Do(out)
	d.Forward.DurationMS = time.Since(start).Milliseconds()
	if err != nil {
		d.Answer = http.StatusBadGateway
		if errors.Is(err, context.DeadlineExceeded) {
			d.Answer = http.StatusGatewayTimeout
		}
		d.Forward.Error = describeForwardError(target, r.cfg.ForwardTimeout, err)
		http.Error(w, "jasni: "+d.Forward.Error, d.Answer)
		return
	}
	defer resp.Body.Close()
	d.Forward.Status = resp.StatusCode
	d.Answer = resp.StatusCode
	for k, vs := range resp.Header {
		if !hopByHop[http.CanonicalHeaderKey(k)] {
			w.Header()[k] = vs
		}
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, io.LimitReader(resp.Body, maxAnswerBody))
}

// Target is where a delivery goes: the forward URL as given, or, when it has
// no path, with the incoming path and query kept.
func Target(forward *url.URL, incoming *url.URL) *url.URL {
	t := *forward
	if t.Path == "" || t.Path == "/" {
		t.Path = incoming.Path
		t.RawPath = incoming.RawPath
		if t.RawQuery == "" {
			t.RawQuery = incoming.RawQuery
		}
	}
	return &t
}

// hopByHop are the headers that describe one connection, not the message.
var hopByHop = map[string]bool{
	"Connection": true, "Keep-Alive": true, "Proxy-Authenticate": true, "Proxy-Authorization": true,
	"Te": true, "Trailer": true, "Transfer-Encoding": true, "Upgrade": true, "Proxy-Connection": true,
}

// ForwardHeader is the incoming request's headers, untouched but for the
// hop-by-hop ones, with X-Forwarded-For/-Proto/-Host added and the user's
// --header values on top.
func ForwardHeader(in *http.Request, extra http.Header) http.Header {
	h := http.Header{}
	for k, vs := range in.Header {
		if !hopByHop[http.CanonicalHeaderKey(k)] {
			h[k] = append([]string(nil), vs...)
		}
	}
	if ip, _, err := net.SplitHostPort(in.RemoteAddr); err == nil {
		if prior := h.Get("X-Forwarded-For"); prior != "" {
			ip = prior + ", " + ip
		}
		h.Set("X-Forwarded-For", ip)
	}
	if h.Get("X-Forwarded-Proto") == "" {
		proto := "http"
		if in.TLS != nil {
			proto = "https"
		}
		h.Set("X-Forwarded-Proto", proto)
	}
	if h.Get("X-Forwarded-Host") == "" {
		h.Set("X-Forwarded-Host", in.Host)
	}
	for k, vs := range extra {
		h[k] = append([]string(nil), vs...)
	}
	return h
}

func describeForwardError(target *url.URL, timeout time.Duration, err error) string {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Sprintf("your app at %s did not answer within %s", target.Host, timeout)
	case isRefused(err):
		return fmt.Sprintf("your app at %s is not running (connection refused)", target.Host)
	}
	return fmt.Sprintf("could not reach your app at %s: %v", target.Host, err)
}

func isRefused(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && strings.Contains(op.Err.Error(), "connection refused")
}

// eventOf reads the event type from the header, else from the body.
func eventOf(h http.Header, body []byte) string {
	if e := h.Get("X-Webhook-Event"); e != "" {
		return e
	}
	var ev struct {
		Event string `json:"event"`
	}
	_ = json.Unmarshal(body, &ev)
	return ev.Event
}

// dedupKey is the Jasni docs' own: event + data.id + timestamp.
func dedupKey(event string, body []byte) string {
	var ev struct {
		Timestamp string `json:"timestamp"`
		Data      struct {
			ID any `json:"id"`
		} `json:"data"`
	}
	if json.Unmarshal(body, &ev) != nil || ev.Timestamp == "" {
		return ""
	}
	return fmt.Sprintf("%s|%v|%s", event, ev.Data.ID, ev.Timestamp)
}

// dedup remembers recent keys, forgetting the oldest past a bound.
type dedup struct {
	mu    sync.Mutex
	max   int
	order []string
	keys  map[string]bool
}

func newDedup(max int) *dedup { return &dedup{max: max, keys: map[string]bool{}} }

// check records key and reports whether it was seen before.
func (d *dedup) check(key string) bool {
	if key == "" {
		return false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.keys[key] {
		return true
	}
	d.keys[key] = true
	d.order = append(d.order, key)
	if len(d.order) > d.max {
		delete(d.keys, d.order[0])
		d.order = d.order[1:]
	}
	return false
}
