// Package relay is the listener behind `jasni listen`: for each delivery it
// verifies the signature, records the delivery, forwards it to the app with
// the body and headers untouched, and answers the sender with the app's own
// answer, so that the sender's retries behave as they will in production.
//
// The listener may be on the internet, so everything that arrives is
// hostile until its signature is checked: only POST to the webhook path is
// looked at, a request without a well-formed signature is refused before its
// body is read, body bytes in flight are bounded across all requests, and
// what is refused is kept only as a small record under its own quota.
package relay

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jasni/jasni-cli/internal/provider"
	"github.com/jasni/jasni-cli/internal/store"
)

// Defaults.
const (
	DefaultMaxBody        = 10 << 20
	DefaultMaxInFlight    = 64 << 20
	DefaultForwardTimeout = 30 * time.Second
	DefaultPath           = "/webhooks/jasni"
	maxEventLen           = 200
)

// Any, as the only entry of Config.Paths or Config.Methods, lets every path
// or method through to the signature check.
const Any = "*"

// Recorder keeps deliveries; *store.Writer is one. Record only queues: an
// error means the delivery will not be recorded. Finish queues its outcome.
type Recorder interface {
	Record(*store.Delivery) error
	Finish(*store.Delivery)
}

// Config sets up a Relay.
type Config struct {
	// Provider says how deliveries are signed and where their event type and
	// dedup key are; nil means Jasni. Keys verify (any of them may match);
	// when empty, Secret is made into the one key.
	Provider   *provider.Provider
	Keys       []provider.Key
	Secret     string
	SkipVerify bool
	// Forward is the app's URL; nil makes the relay a verifying sink that answers 200.
	Forward *url.URL
	// Header is added to every forwarded request.
	Header http.Header
	// Events, when not empty, are the only event types forwarded.
	Events []string
	// Paths and Methods are the requests looked at; anything else is
	// answered 404 or 405 and never forwarded. Default: DefaultPath, POST.
	Paths   []string
	Methods []string
	// MaxBody bounds one body; MaxInFlight all the bodies being read or
	// forwarded at once (503 with Retry-After past it).
	MaxBody        int64
	MaxInFlight    int64
	ForwardTimeout time.Duration
	// Transport forwards to the app; nil gives NewForwardTransport().
	Transport http.RoundTripper
	Recorder  Recorder
	// OnDelivery is told about every request once it is answered. It is
	// called from the request's goroutine and must be safe for concurrent use.
	OnDelivery func(*store.Delivery)
	// OnRecordError is told when a delivery could not be recorded.
	OnRecordError func(error)
	Now           func() time.Time
}

// Relay is an http.Handler.
type Relay struct {
	cfg       Config
	provider  *provider.Provider
	transport http.RoundTripper
	events    map[string]bool
	seen      *dedup
	inflight  *budget
}

// New builds a relay from cfg, filling in defaults.
func New(cfg Config) *Relay {
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = DefaultMaxInFlight
	}
	cfg.MaxInFlight = max(cfg.MaxInFlight, cfg.MaxBody)
	if cfg.ForwardTimeout <= 0 {
		cfg.ForwardTimeout = DefaultForwardTimeout
	}
	if len(cfg.Paths) == 0 {
		cfg.Paths = []string{DefaultPath}
	}
	if len(cfg.Methods) == 0 {
		cfg.Methods = []string{http.MethodPost}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	// A transport, not a client: the app's redirects are the sender's
	// business, as they would be in production.
	transport := cfg.Transport
	if transport == nil {
		transport = NewForwardTransport()
	}
	r := &Relay{
		cfg:       cfg,
		provider:  cfg.Provider,
		transport: transport,
		seen:      newDedup(10000),
		inflight:  newBudget(cfg.MaxInFlight),
	}
	if r.provider == nil {
		p, err := provider.Builtin(provider.Default)
		if err != nil {
			panic(err) // the built-ins are embedded and tested
		}
		r.provider = p
	}
	if len(cfg.Keys) == 0 && cfg.Secret != "" {
		if k, err := r.provider.ParseKey(cfg.Secret); err == nil {
			r.cfg.Keys = []provider.Key{k}
		}
	}
	if len(cfg.Events) > 0 {
		r.events = map[string]bool{}
		for _, e := range cfg.Events {
			r.events[e] = true
		}
	}
	return r
}

func (r *Relay) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	start := r.cfg.Now()
	d := &store.Delivery{
		ID:         store.NewID(start),
		ReceivedAt: start,
		Method:     req.Method,
		Path:       req.URL.RequestURI(),
		RemoteAddr: req.RemoteAddr,
		// The server gives each request a header map of its own and nothing
		// here changes it: no copy needed.
		Header:   req.Header,
		BodySize: req.ContentLength,
		Event:    clip(r.provider.EventType(req.Header, nil)),
	}
	// The path as sent: /webhooks%2fjasni is not /webhooks/jasni, and would
	// reach the app as the former.
	if !r.allowed(r.cfg.Paths, req.URL.EscapedPath()) {
		r.refuse(w, req, d, http.StatusNotFound, store.VerdictSkipped, "not the webhook path "+r.cfg.Paths[0])
		return
	}
	if !r.allowed(r.cfg.Methods, req.Method) {
		w.Header().Set("Allow", strings.Join(r.cfg.Methods, ", "))
		r.refuse(w, req, d, http.StatusMethodNotAllowed, store.VerdictSkipped, "the method is not "+strings.Join(r.cfg.Methods, " or "))
		return
	}
	if !r.cfg.SkipVerify {
		if err := r.provider.CheckHeader(req.Header); err != nil {
			r.refuse(w, req, d, http.StatusUnauthorized, verdictOf(err), "signature "+string(verdictOf(err)))
			return
		}
	}
	if req.ContentLength > r.cfg.MaxBody {
		r.refuse(w, req, d, http.StatusRequestEntityTooLarge, store.VerdictSkipped, fmt.Sprintf("body larger than %d bytes", r.cfg.MaxBody))
		return
	}

	body, held, err := r.readBody(req)
	defer r.inflight.give(held)
	if err != nil {
		switch {
		case errors.Is(err, errOverBudget):
			w.Header().Set("Retry-After", "1")
			r.refuse(w, req, d, http.StatusServiceUnavailable, store.VerdictSkipped, "too many bodies in flight; the sender was asked to retry")
		case errors.Is(err, errTooLarge):
			r.refuse(w, req, d, http.StatusRequestEntityTooLarge, store.VerdictSkipped, fmt.Sprintf("body larger than %d bytes", r.cfg.MaxBody))
		default:
			d.Body = body
			r.refuse(w, req, d, http.StatusBadRequest, store.VerdictSkipped, "the body could not be read: "+err.Error())
		}
		return
	}
	d.Body, d.BodySize = body, int64(len(body))

	var why error
	d.Verdict, why = r.verify(body, req.Header)
	if d.Verdict == store.VerdictInvalid || d.Verdict == store.VerdictMissing {
		reason := "signature " + string(d.Verdict)
		if errors.Is(why, provider.ErrStale) || errors.Is(why, provider.ErrMissingTimestamp) || errors.Is(why, provider.ErrMissingID) {
			reason += ": " + why.Error()
		}
		r.refuse(w, req, d, http.StatusUnauthorized, d.Verdict, reason)
		return
	}

	// From here on the delivery is genuine (or the user chose not to check).
	// The event type is taken from the signed body; the header is not
	// signed, and a replay could change it to dodge --events or the dedup.
	if e := r.provider.EventType(req.Header, body); e != "" {
		d.Event = clip(e)
	}
	d.Duplicate = r.seen.check(r.provider.DedupKey(req.Header, body))
	recorded := r.record(d)
	abort := false

	switch {
	case !recorded && (r.cfg.Forward == nil || r.events != nil && !r.events[d.Event]):
		// A 200 that forwards nothing promises the delivery is kept; it is
		// not, so the sender should try again.
		d.Answer = http.StatusServiceUnavailable
		d.Forward = &store.Attempt{Skipped: "not forwarded, and the history could not record it"}
		w.Header().Set("Retry-After", "5")
		http.Error(w, "jasni: the delivery could not be recorded", d.Answer)
	case r.events != nil && !r.events[d.Event]:
		d.Answer = http.StatusOK
		d.Forward = &store.Attempt{Skipped: "event not in --events"}
		w.WriteHeader(d.Answer)
	case r.cfg.Forward == nil:
		d.Answer = http.StatusOK
		d.Forward = &store.Attempt{Skipped: "no --forward"}
		w.WriteHeader(d.Answer)
	default:
		abort = r.forward(w, req, d)
	}
	if recorded {
		r.cfg.Recorder.Finish(d)
	}
	r.tell(d)
	if abort {
		panic(http.ErrAbortHandler) // the server breaks the connection, quietly
	}
}

func (r *Relay) allowed(list []string, v string) bool {
	return list[0] == Any || slices.Contains(list, v)
}

// refuse answers a request that is not a verified delivery and keeps a
// small record of it: the headers, and the start of the body when it is at
// hand or can be had cheaply.
func (r *Relay) refuse(w http.ResponseWriter, req *http.Request, d *store.Delivery, status int, verdict store.Verdict, why string) {
	d.Rejected = true
	d.Verdict = verdict
	d.Answer = status
	d.Forward = &store.Attempt{Skipped: why}
	// The start of the body is read for the record when it costs nothing
	// more: not when the sender waits for "100 Continue" before sending it.
	expects := strings.Contains(strings.ToLower(req.Header.Get("Expect")), "100-continue")
	if d.Body == nil && !expects && status != http.StatusServiceUnavailable && status != http.StatusRequestEntityTooLarge {
		head, _ := io.ReadAll(io.LimitReader(req.Body, store.RejectedBodyKeep))
		d.Body = head
		if d.BodySize < int64(len(head)) {
			d.BodySize = int64(len(head))
		}
	}
	if len(d.Body) > store.RejectedBodyKeep {
		d.Body = bytes.Clone(d.Body[:store.RejectedBodyKeep]) // not a slice of the whole body
	}
	msg := http.StatusText(status)
	if status == http.StatusUnauthorized {
		msg = "invalid signature"
	}
	http.Error(w, msg, status)
	if r.cfg.Recorder != nil {
		_ = r.cfg.Recorder.Record(d) // junk that cannot be kept is not worth a warning
	}
	r.tell(d)
}

func (r *Relay) tell(d *store.Delivery) {
	if r.cfg.OnDelivery != nil {
		r.cfg.OnDelivery(d)
	}
}

// record queues a delivery in the history before it is forwarded: if the
// app or jasni dies mid-way, it is still there to resend.
func (r *Relay) record(d *store.Delivery) bool {
	if r.cfg.Recorder == nil {
		return false
	}
	if err := r.cfg.Recorder.Record(d); err != nil {
		if r.cfg.OnRecordError != nil {
			r.cfg.OnRecordError(err)
		}
		return false
	}
	return true
}

func verdictOf(err error) store.Verdict {
	switch {
	case err == nil:
		return store.VerdictValid
	case errors.Is(err, provider.ErrMissingSignature):
		return store.VerdictMissing
	default:
		return store.VerdictInvalid
	}
}

func (r *Relay) verify(body []byte, h http.Header) (store.Verdict, error) {
	if r.cfg.SkipVerify {
		return store.VerdictSkipped, nil
	}
	err := r.provider.Verify(r.cfg.Keys, body, h, r.cfg.Now())
	return verdictOf(err), err
}

var (
	errOverBudget = errors.New("over the in-flight budget")
	errTooLarge   = errors.New("body too large")
)

// readChunk is the first buffer for a body; it doubles from there.
const readChunk = 64 << 10

// readBody reads the whole body within MaxBody. Its buffer is held against
// the in-flight budget as it grows with the bytes that arrive, so a sender
// that announces a large Content-Length and sends nothing holds next to
// nothing. The caller gives back what was held.
func (r *Relay) readBody(req *http.Request) (body []byte, held int64, err error) {
	limit := r.cfg.MaxBody
	if req.ContentLength >= 0 {
		limit = req.ContentLength
	}
	for {
		if len(body) == cap(body) {
			// One byte past the limit tells a body that is too large.
			newCap := min(max(2*int64(cap(body)), readChunk), limit+1)
			if newCap <= int64(cap(body)) {
				return nil, held, errTooLarge
			}
			if !r.inflight.take(newCap - int64(cap(body))) {
				return nil, held, errOverBudget
			}
			held = newCap
			grown := make([]byte, len(body), newCap)
			copy(grown, body)
			body = grown
		}
		n, err := req.Body.Read(body[len(body):cap(body)])
		body = body[:len(body)+n]
		switch {
		case int64(len(body)) > r.cfg.MaxBody:
			return nil, held, errTooLarge
		case err == io.EOF:
			if int64(len(body)) < req.ContentLength {
				return body, held, io.ErrUnexpectedEOF
			}
			return body, held, nil
		case err != nil:
			return body, held, err
		}
	}
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
	h := make(http.Header, len(in.Header)+3+len(extra))
	for k, vs := range in.Header {
		if !hopByHop[k] {
			h[k] = vs
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
		h[k] = vs
	}
	return h
}

// clip bounds a string taken from the network before it is kept or shown.
func clip(s string) string {
	if len(s) > maxEventLen {
		return s[:maxEventLen] + "…"
	}
	return s
}

// budget bounds the body bytes held by all requests at once.
type budget struct {
	mu   sync.Mutex
	left int64
}

func newBudget(n int64) *budget { return &budget{left: n} }

func (b *budget) take(n int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if n > b.left {
		return false
	}
	b.left -= n
	return true
}

func (b *budget) give(n int64) {
	if n == 0 {
		return
	}
	b.mu.Lock()
	b.left += n
	b.mu.Unlock()
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
