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
	"cmp"
	"context"
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

	"github.com/jasni/jasni-cli/internal/feed"
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
// error means the delivery will not be recorded; otherwise written is
// called once it is (nil) or cannot be (why). Finish queues its outcome.
type Recorder interface {
	Record(d *store.Delivery, written func(error)) error
	Finish(*store.Delivery)
}

// Config sets up a Relay.
type Config struct {
	// Provider says how deliveries are signed and where their event type and
	// dedup key are; nil means Jasni. Keys verify (any of them may match);
	// when empty, Secret is made into the one key.
	Provider *provider.Provider
	Keys     []provider.Key
	// PublicURL is where senders reach listen (the tunnel's URL), for
	// schemes that sign the URL they send to.
	PublicURL  string
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
	// Feed is told each step of each delivery's life (feed.Kind).
	Feed *feed.Hub
	// OnRecordError is told when the history could not take a delivery.
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
	// diagnoses bounds the failed signatures explained, a second.
	diagnoses *rate
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
	// Reading a body takes one byte more than its most (to tell one too long).
	cfg.MaxInFlight = max(cfg.MaxInFlight, cfg.MaxBody+1)
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
		diagnoses: &rate{n: 20},
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
			why, fix := r.diagnose(nil, req.Header, err)
			r.refuseWith(w, req, d, http.StatusUnauthorized, verdictOf(err), why, fix)
			return
		}
	}
	if req.ContentLength > r.cfg.MaxBody {
		r.refuse(w, req, d, http.StatusRequestEntityTooLarge, store.VerdictSkipped, fmt.Sprintf("body larger than %d bytes", r.cfg.MaxBody))
		return
	}

	r.cfg.Feed.Publish(feed.Received, d, nil)
	// The signature is computed as the body arrives.
	var check *provider.Check
	if !r.cfg.SkipVerify {
		check = r.provider.NewCheckURL(r.cfg.Keys, req.Header, r.cfg.Now(), r.signedURL(req))
	}
	body, rd, err := r.readBody(w, req, check)
	defer rd.release()
	if err != nil {
		switch {
		case errors.Is(err, errOverBudget):
			w.Header().Set("Retry-After", "1")
			r.refuse(w, req, d, http.StatusServiceUnavailable, store.VerdictSkipped, "too many bodies in flight; the sender was asked to retry")
		case errors.Is(err, errEvicted):
			w.Header().Set("Retry-After", "1")
			r.refuse(w, req, d, http.StatusServiceUnavailable, store.VerdictSkipped, "stopped to make room for other deliveries: the body was arriving too slowly; the sender was asked to retry")
		case errors.Is(err, errTooLarge):
			r.refuse(w, req, d, http.StatusRequestEntityTooLarge, store.VerdictSkipped, fmt.Sprintf("body larger than %d bytes", r.cfg.MaxBody))
		default:
			d.Body = body
			r.refuse(w, req, d, http.StatusBadRequest, store.VerdictSkipped, "the body could not be read: "+err.Error())
		}
		return
	}
	d.Body, d.BodySize = body, int64(len(body))
	// A body that was whole just as it was picked to make room had its
	// connection's read deadline set anyway, which the server takes for a
	// sender gone: the deadline is lifted, and the sender's going away is
	// no longer told by the request's context, but by its writes failing.
	sender := req.Context()
	if rd.evicted.Load() {
		_ = http.NewResponseController(w).SetReadDeadline(time.Time{})
		sender = context.WithoutCancel(sender)
		// The server cancels the context of the whole connection: the next
		// request on it would find its sender gone. It is closed after
		// this answer instead.
		w.Header().Set("Connection", "close")
	}

	var why error
	d.Verdict, why = r.verify(check)
	if d.Verdict == store.VerdictInvalid || d.Verdict == store.VerdictMissing {
		reason, fix := r.diagnose(body, req.Header, why)
		r.refuseWith(w, req, d, http.StatusUnauthorized, d.Verdict, reason, fix)
		return
	}

	// From here on the delivery is genuine (or the user chose not to check).
	// The event type is taken from the signed body; the header is not
	// signed, and a replay could change it to dodge --events or the dedup.
	if e := r.provider.EventType(req.Header, body); e != "" {
		d.Event = clip(e)
	}
	d.Duplicate = r.seen.check(r.provider.DedupKey(req.Header, body))
	r.cfg.Feed.Publish(feed.Verified, d, nil)

	// A handshake (Slack's url_verification, Zoom's url_validation,
	// Discord's PING, Twitch's verification) proves the endpoint is the
	// app's: listen answers it as the provider requires, and it never
	// reaches the app as a delivery.
	// Only a verified one: the answer can hold an HMAC made with the
	// secret (Zoom's), which must never be made for whoever asks, or it
	// would sign any delivery they chose.
	if answer, ctype, ok := r.provider.HandshakeAnswer(req.Header, body, r.cfg.Keys); ok && d.Verdict == store.VerdictValid {
		d.Event = clip(cmp.Or(r.provider.Handshake.Event, d.Event, "handshake"))
		d.Answer = http.StatusOK
		d.Forward = &store.Attempt{Skipped: "a " + r.provider.Title + " handshake, answered by listen"}
		if recorded, err := r.record(d, rd); err == nil && recorded {
			r.cfg.Recorder.Finish(d)
		}
		w.Header().Set("Content-Type", ctype)
		w.WriteHeader(d.Answer)
		_, _ = w.Write(answer)
		r.tell(d)
		return
	}

	// Not forwarded: the delivery is answered 200 only once it is in the
	// history, since that 200 tells the sender it need not send it again.
	if r.cfg.Forward == nil || r.events != nil && !r.events[d.Event] {
		d.Answer = http.StatusOK
		d.Forward = &store.Attempt{Skipped: "no --forward"}
		if r.cfg.Forward != nil {
			d.Forward.Skipped = "event not in --events"
		}
		if queued, err := r.recordAndWait(sender, d, rd); err != nil {
			r.busy(w, d, "the history could not keep it: "+err.Error())
			if queued {
				r.cfg.Recorder.Finish(d) // it may be written yet: as answered 503
			}
		} else {
			w.WriteHeader(d.Answer)
		}
		r.tell(d)
		return
	}

	// Forwarded: recorded first, so that if the app or jasni dies mid-way
	// it is there to resend; a delivery that cannot be kept is not
	// forwarded, and the sender is asked to retry.
	recorded, err := r.record(d, rd)
	if err != nil {
		r.busy(w, d, "not forwarded: the history could not keep up ("+err.Error()+")")
		r.tell(d)
		return
	}
	r.cfg.Feed.Publish(feed.Forwarded, d, nil)
	abort := r.forward(sender, w, req, d)
	if recorded {
		r.cfg.Recorder.Finish(d)
	}
	r.tell(d)
	if abort {
		panic(http.ErrAbortHandler) // the server breaks the connection, quietly
	}
}

// busy answers 503 with Retry-After: the delivery was not taken, and the
// sender should send it again.
func (r *Relay) busy(w http.ResponseWriter, d *store.Delivery, why string) {
	d.Answer = http.StatusServiceUnavailable
	d.Forward = &store.Attempt{Skipped: why}
	w.Header().Set("Retry-After", "5")
	http.Error(w, "jasni: the delivery could not be kept; send it again", d.Answer)
}

func (r *Relay) allowed(list []string, v string) bool {
	return list[0] == Any || slices.Contains(list, v)
}

// refuse answers a request that is not a verified delivery and keeps a
// small record of it: the headers, and the start of the body when it is at
// hand or can be had cheaply.
func (r *Relay) refuse(w http.ResponseWriter, req *http.Request, d *store.Delivery, status int, verdict store.Verdict, why string) {
	r.refuseWith(w, req, d, status, verdict, why, "")
}

// refuseWith is refuse with what the sender should change.
func (r *Relay) refuseWith(w http.ResponseWriter, req *http.Request, d *store.Delivery, status int, verdict store.Verdict, why, fix string) {
	d.Rejected = true
	d.Verdict = verdict
	d.Answer = status
	d.Forward = &store.Attempt{Skipped: why, Fix: fix}
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
	switch {
	case status == http.StatusUnauthorized && verdict == store.VerdictMissing:
		msg = "missing signature" // what the sender sees: no signature, not a wrong one
	case status == http.StatusUnauthorized:
		msg = "invalid signature"
	}
	http.Error(w, msg, status)
	if r.cfg.Recorder != nil {
		_ = r.cfg.Recorder.Record(d, nil) // junk that cannot be kept is not worth a warning
	}
	r.tell(d)
}

func (r *Relay) tell(d *store.Delivery) {
	kind := feed.Answered
	if d.Rejected {
		kind = feed.Refused
	}
	r.cfg.Feed.Publish(kind, d, nil)
}

// written is a record's callback: it gives the body back to the budget
// and says whether the delivery is in the history. d is a snapshot, taken
// before the request goes on changing the delivery. A delivery whose answer
// waits for the record is not lost when it fails (it is answered 503), so
// only the others are told as not kept.
func (r *Relay) written(d *store.Delivery, rd *reading, answered bool) func(error) {
	return func(err error) {
		rd.release()
		switch {
		case err == nil:
			r.cfg.Feed.Publish(feed.Recorded, d, nil)
		case answered:
			r.cfg.Feed.Publish(feed.NotKept, d, err)
		}
	}
}

// record queues a delivery in the history; the body stays held against
// the in-flight budget until it is written. It reports false, with no
// error, when there is no history to keep it, or the history broke for
// good (said once, loudly, by the writer): listen then forwards without
// keeping, as it does when it started without one. An error is a history
// that cannot keep up now: the delivery is not to be forwarded.
func (r *Relay) record(d *store.Delivery, rd *reading) (bool, error) {
	if r.cfg.Recorder == nil {
		return false, nil
	}
	rd.hold()
	snapshot := *d
	if err := r.cfg.Recorder.Record(d, r.written(&snapshot, rd, true)); err != nil {
		rd.release()
		if store.IsDamage(err) || errors.Is(err, store.ErrWriterClosed) {
			r.recordError(fmt.Errorf("the history is not writing (%w): deliveries are forwarded but not kept", err))
			return false, nil
		}
		r.recordError(fmt.Errorf("%w: deliveries are answered 503 until it catches up, so their senders send them again", err))
		return false, err
	}
	return true, nil
}

// recordAndWait records a delivery that is not forwarded and waits until
// it is written: the sender's 200 promises it is kept.
func (r *Relay) recordAndWait(ctx context.Context, d *store.Delivery, rd *reading) (queued bool, err error) {
	if r.cfg.Recorder == nil {
		return false, errors.New("there is no history")
	}
	written := make(chan error, 1)
	rd.hold()
	snapshot := *d
	tell := r.written(&snapshot, rd, false)
	if err := r.cfg.Recorder.Record(d, func(err error) {
		tell(err)
		written <- err
	}); err != nil {
		rd.release()
		r.recordError(fmt.Errorf("%w: deliveries are answered 503 until it can keep them, so their senders send them again", err))
		return false, err
	}
	select {
	case err := <-written:
		return true, err // the writer has said why, with a count
	case <-ctx.Done():
		return true, ctx.Err()
	}
}

func (r *Relay) recordError(err error) {
	if r.cfg.OnRecordError != nil {
		r.cfg.OnRecordError(err)
	}
}

// diagnose says why a signature check failed, in the words `jasni verify`
// uses: the provider's diagnosis, which tries the usual mistakes (a body
// re-serialised or with a newline added, the secret in the wrong form, a
// stale timestamp). It costs several checks, so it is made for bodies of a
// reasonable size and at a bounded rate; beyond those, what the check
// itself said.
func (r *Relay) diagnose(body []byte, h http.Header, err error) (why, fix string) {
	why = "signature " + string(verdictOf(err))
	switch {
	case errors.Is(err, provider.ErrMissingSignature):
		return "unsigned: there is no " + r.provider.Signature.Header + " header", "sign it with the webhook's secret (jasni trigger does)"
	case errors.Is(err, provider.ErrStale), errors.Is(err, provider.ErrMissingTimestamp), errors.Is(err, provider.ErrMissingID):
		return why + ": " + err.Error(), ""
	case r.provider.SignsURL():
		return why, fmt.Sprintf("%s signs the URL it sends to, with the form's fields: send to exactly %s, the URL listen is at", r.provider.Title, r.signedURL(nil))
	case r.cfg.Secret == "" || len(body) > maxDiagnosedBody || !r.diagnoses.allow(r.cfg.Now()):
		return why, ""
	}
	dg := r.provider.Diagnose(r.cfg.Secret, body, h, r.cfg.Now())
	if dg.Valid || dg.Cause == "" {
		return why, "" // another key verified it: the failure was not this secret's
	}
	return why + ": " + dg.Cause, dg.Fix
}

// signedURL is the URL a sender addressed req to, as schemes that sign it
// see it: listen's public URL and the path (the path only, when req is
// nil); "" for schemes that do not sign it.
func (r *Relay) signedURL(req *http.Request) string {
	if !r.provider.SignsURL() {
		return ""
	}
	path := r.cfg.Paths[0]
	if req != nil {
		path = req.URL.RequestURI()
	}
	return r.cfg.PublicURL + path
}

// maxDiagnosedBody bounds the bodies diagnosed: the diagnosis re-serialises
// the body several ways.
const maxDiagnosedBody = 64 << 10

// rate lets n events a second through.
type rate struct {
	mu     sync.Mutex
	n      int
	window time.Time
	used   int
}

func (l *rate) allow(now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.window) >= time.Second {
		l.window, l.used = now, 0
	}
	if l.used >= l.n {
		return false
	}
	l.used++
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

// verify gives the verdict of a check fed the whole body (nil when
// signatures are not checked).
func (r *Relay) verify(check *provider.Check) (store.Verdict, error) {
	if check == nil {
		return store.VerdictSkipped, nil
	}
	err := check.Verify()
	return verdictOf(err), err
}

var (
	errOverBudget = errors.New("over the in-flight budget")
	errEvicted    = errors.New("stopped to make room")
	errTooLarge   = errors.New("body too large")
)

// readChunk is the first buffer for a body; it doubles from there.
const readChunk = 64 << 10

// readBody reads the whole body within MaxBody, held against the in-flight
// budget, and hands each part to check as it arrives. A body of announced length is held whole from the start and read
// into one buffer: a sender that announces much and sends little is the
// first to be stopped when others need the room (errEvicted), so it cannot
// hold it for long. A body of unknown length is held as it grows. The
// caller releases what is held.
func (r *Relay) readBody(w http.ResponseWriter, req *http.Request, check *provider.Check) (body []byte, rd *reading, err error) {
	rc := http.NewResponseController(w)
	rd = r.inflight.begin(req.ContentLength, func() { _ = rc.SetReadDeadline(time.Unix(1, 0)) })
	defer func() {
		if err != nil && rd.evicted.Load() {
			err = errEvicted
		}
	}()
	mac := startHashing(check, req.ContentLength)
	defer mac.finish()
	if req.ContentLength >= 0 {
		// One byte more than announced tells a body longer than it said.
		if !rd.grow(req.Context(), req.ContentLength+1) {
			return nil, rd, errOverBudget
		}
		body = make([]byte, 0, req.ContentLength+1)
	}
	for {
		if len(body) == cap(body) {
			newCap := min(max(2*int64(cap(body)), readChunk), r.cfg.MaxBody+1)
			if req.ContentLength >= 0 || newCap <= int64(cap(body)) {
				return nil, rd, errTooLarge
			}
			if !rd.grow(req.Context(), newCap-int64(cap(body))) {
				return nil, rd, errOverBudget
			}
			grown := make([]byte, len(body), newCap)
			copy(grown, body)
			body = grown
		}
		n, err := req.Body.Read(body[len(body):cap(body)])
		if n > 0 {
			mac.write(body[len(body) : len(body)+n])
		}
		body = body[:len(body)+n]
		rd.got.Add(int64(n))
		switch {
		case int64(len(body)) > r.cfg.MaxBody:
			return nil, rd, errTooLarge
		case err == io.EOF:
			if int64(len(body)) < req.ContentLength {
				return body, rd, io.ErrUnexpectedEOF
			}
			rd.read()
			return body, rd, nil
		case err != nil:
			return body, rd, err
		}
	}
}

// hashing feeds a signature check the parts of a body as they arrive: in
// the reading goroutine for an ordinary body, and for a large one in a
// goroutine of its own, so that the MAC of one part is computed while the
// next is read (on two cores, a 10 MiB body is verified about when its
// last byte is in, rather than a MAC's time later).
type hashing struct {
	check *provider.Check
	parts chan []byte
	done  chan struct{}
}

// hashAside is the smallest announced body hashed in a goroutine of its own.
const hashAside = 1 << 20

func startHashing(check *provider.Check, size int64) *hashing {
	h := &hashing{check: check}
	if check == nil || size < hashAside {
		return h
	}
	h.parts, h.done = make(chan []byte, 64), make(chan struct{})
	go func() {
		defer close(h.done)
		for p := range h.parts {
			_, _ = check.Write(p)
		}
	}()
	return h
}

// write hands on a part of the body, which must not change afterwards.
func (h *hashing) write(p []byte) {
	switch {
	case h.check == nil:
	case h.parts != nil:
		h.parts <- p
	default:
		_, _ = h.check.Write(p)
	}
}

// finish waits until every part is in the check.
func (h *hashing) finish() {
	if h.parts != nil {
		close(h.parts)
		<-h.done
		h.parts = nil
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
