package load

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jasni/jasni-cli/internal/delivery"
	"github.com/jasni/jasni-cli/internal/provider"
)

// Config is one load run.
type Config struct {
	URL      string
	Provider *provider.Provider
	// Keys sign each delivery; none sends them unsigned.
	Keys []provider.Key
	// Templates are the events, sent in turn.
	Templates []*Template
	// Same sends Templates[0] signed once, identical every time.
	Same bool
	// Header is added to every delivery (--header), after the provider's.
	Header  http.Header
	Removed []string

	Count       int           // deliveries in all; 0 for no limit (then Duration)
	Concurrency int           // deliveries in flight at once
	Rate        float64       // deliveries a second at most; 0 for flat out
	Duration    time.Duration // stop starting new ones after this; 0 for no limit
	Timeout     time.Duration // per delivery

	Client *http.Client
	Now    func() time.Time
	// OnDelivery, when set, is told each delivery's outcome (--print-each);
	// it is called from the workers, at once.
	OnDelivery func(Outcome)
}

// Outcome is one delivery's result.
type Outcome struct {
	N       int           `json:"n"`
	Event   string        `json:"event"`
	Status  int           `json:"status"`
	Latency time.Duration `json:"-"`
	Error   string        `json:"error,omitempty"`
}

// OK reports a 2xx answer.
func (o Outcome) OK() bool { return o.Error == "" && o.Status >= 200 && o.Status < 300 }

// Run sends the deliveries and returns what happened. progress, when set,
// is updated as deliveries finish, for a live display.
func Run(ctx context.Context, cfg Config, progress *Live) (*Summary, error) {
	if len(cfg.Templates) == 0 {
		return nil, errors.New("no event to send")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	client := cfg.Client
	if client == nil {
		client = NewClient(nil, cfg.Concurrency)
	}
	if cfg.Duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cfg.Duration)
		defer cancel()
	}

	var same []byte
	var sameHeader http.Header
	if cfg.Same {
		req, err := delivery.NewRequest(cfg.URL, cfg.Templates[0].Body, cfg.Templates[0].Event,
			delivery.Signing{Provider: cfg.Provider, Keys: cfg.Keys, Timestamp: cfg.Now()}, cfg.Header, cfg.Removed)
		if err != nil {
			return nil, err
		}
		same, sameHeader = req.Body, req.Header
	}

	var (
		next    atomic.Int64 // the next delivery's number, from 0
		workers = make([]*worker, cfg.Concurrency)
		wg      sync.WaitGroup
	)
	start := time.Now()
	if progress != nil {
		progress.start(start)
	}
	for i := range workers {
		var seed [32]byte
		_, _ = crand.Read(seed[:])
		w := &worker{cfg: &cfg, client: client, rng: rand.NewChaCha8(seed), progress: progress,
			same: same, sameHeader: sameHeader, signer: cfg.Provider.NewSigner(cfg.Keys), wire: newWire(cfg.URL, client)}
		workers[i] = w
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				n := next.Add(1) - 1
				if cfg.Count > 0 && n >= int64(cfg.Count) {
					return
				}
				if cfg.Rate > 0 && !pace(ctx, start, n, cfg.Rate) {
					return
				}
				if ctx.Err() != nil {
					return
				}
				w.send(ctx, int(n))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	for _, w := range workers {
		if w.wire != nil {
			w.wire.close()
		}
	}
	if progress != nil {
		progress.stop()
	}
	s := newSummary(elapsed, workers)
	if s.Requests == 0 && ctx.Err() != nil && cfg.Duration == 0 {
		return s, ctx.Err()
	}
	return s, nil
}

// pace waits until delivery n is due at rate a second; false when ctx ends
// first.
func pace(ctx context.Context, start time.Time, n int64, rate float64) bool {
	due := start.Add(time.Duration(float64(n) / rate * float64(time.Second)))
	d := time.Until(due)
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// NewClient is base made fit for load: its transport's settings (proxy,
// TLS) kept, with a connection pool as large as the load, no compression,
// no HTTP/2, and redirects not followed.
func NewClient(base *http.Client, concurrency int) *http.Client {
	tr, ok := http.DefaultTransport.(*http.Transport)
	if base != nil && base.Transport != nil {
		tr, ok = base.Transport.(*http.Transport)
	}
	if !ok {
		return base // a test's own transport: used as it is
	}
	tr = tr.Clone()
	tr.MaxIdleConns = concurrency * 2
	tr.MaxIdleConnsPerHost = concurrency * 2
	tr.MaxConnsPerHost = 0
	tr.DisableCompression = true
	tr.ForceAttemptHTTP2 = false
	return &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// worker sends deliveries one after the other, reusing its buffers, and
// keeps its own tallies so that workers never contend.
type worker struct {
	cfg        *Config
	client     *http.Client
	rng        *rand.ChaCha8
	progress   *Live
	same       []byte
	sameHeader http.Header

	// signer and headers (one per template, built once) make signing a
	// delivery a few writes.
	signer  *provider.Signer
	headers map[*Template]http.Header
	// wire sends instead of client to a plain http URL; body is its
	// reused buffer.
	wire *wire
	body []byte

	latencies []time.Duration
	status    map[int]int
	errors    map[string]int
	ok        int
}

var discard = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

func (w *worker) send(ctx context.Context, n int) {
	cfg := w.cfg
	var (
		body   []byte
		header http.Header
		event  string
	)
	switch {
	case w.same != nil && w.wire != nil:
		body, header, event = w.same, w.sameHeader, cfg.Templates[0].Event // the wire changes neither
	case w.same != nil:
		body, header, event = w.same, w.sameHeader.Clone(), cfg.Templates[0].Event
	default:
		t := cfg.Templates[n%len(cfg.Templates)]
		// net/http's transport may still be reading the last buffer after
		// the answer came: a new one each time. The wire is done with it.
		var buf []byte
		if w.wire != nil {
			buf = w.body[:0]
		} else {
			buf = make([]byte, 0, len(t.Body))
		}
		now := cfg.Now()
		body, event = t.Fill(buf, now, w.rng), t.Event
		if w.wire != nil {
			w.body = body
		}
		var err error
		if header, err = w.header(t, now); err != nil {
			w.record(Outcome{N: n, Event: event, Error: err.Error()})
			return
		}
		w.signer.SignInto(header, provider.Message{Body: body, Timestamp: now, ID: w.deliveryID()})
		// What the user set or removed with --header wins, as in NewRequest.
		for k, v := range cfg.Header {
			header[k] = v
		}
		for _, k := range cfg.Removed {
			header.Del(k)
		}
	}
	if w.wire != nil {
		start := time.Now()
		status, err := w.wire.Do(ctx, header, body, cfg.Timeout)
		switch {
		case err != nil && ctx.Err() != nil:
			return // the run ended (--duration, Ctrl-C): not the endpoint's fault
		case err != nil:
			w.record(Outcome{N: n, Event: event, Latency: time.Since(start), Error: string(delivery.Classify(cfg.URL, cfg.Timeout, err))})
		default:
			w.record(Outcome{N: n, Event: event, Status: status, Latency: time.Since(start)})
		}
		return
	}
	rctx := ctx
	if cfg.Timeout > 0 {
		var cancel context.CancelFunc
		rctx, cancel = context.WithTimeout(ctx, cfg.Timeout)
		defer cancel()
	}
	// A bytes.Reader, which the transport knows: headers and body go out in
	// one write.
	httpReq, err := http.NewRequestWithContext(rctx, http.MethodPost, cfg.URL, bytes.NewReader(body))
	if err != nil {
		w.record(Outcome{N: n, Event: event, Error: err.Error()})
		return
	}
	httpReq.Header = header
	start := time.Now()
	resp, err := w.client.Do(httpReq)
	if err != nil {
		if ctx.Err() != nil && rctx.Err() == ctx.Err() {
			return // the run ended (--duration, Ctrl-C): not the endpoint's fault
		}
		w.record(Outcome{N: n, Event: event, Latency: time.Since(start), Error: string(delivery.Classify(cfg.URL, cfg.Timeout, err))})
		return
	}
	buf := discard.Get().(*[]byte)
	_, _ = io.CopyBuffer(io.Discard, io.LimitReader(resp.Body, 1<<20), *buf)
	discard.Put(buf)
	resp.Body.Close()
	w.record(Outcome{N: n, Event: event, Status: resp.StatusCode, Latency: time.Since(start)})
}

// header is the worker's headers for t, made once by the same code that
// builds single deliveries; each delivery then only signs them again.
func (w *worker) header(t *Template, now time.Time) (http.Header, error) {
	if h, ok := w.headers[t]; ok {
		return h, nil
	}
	req, err := delivery.NewRequest(w.cfg.URL, t.Body, t.Event, delivery.Signing{Provider: w.cfg.Provider, Keys: w.cfg.Keys, Timestamp: now, ID: "msg_"}, w.cfg.Header, w.cfg.Removed)
	if err != nil {
		return nil, err
	}
	if w.headers == nil {
		w.headers = map[*Template]http.Header{}
	}
	w.headers[t] = req.Header
	return req.Header, nil
}

// deliveryID is a fresh id for providers that send one in a header.
func (w *worker) deliveryID() string {
	if w.cfg.Provider.Headers.ID == "" {
		return ""
	}
	var b [24]byte
	copy(b[:], "msg_")
	v := w.rng.Uint64()
	u := w.rng.Uint64()
	for i := 4; i < 24; i++ {
		b[i] = hexDigits[v&0xf]
		v >>= 4
		if i == 19 {
			v = u
		}
	}
	return string(b[:])
}

func (w *worker) record(o Outcome) {
	if w.status == nil {
		w.status, w.errors = map[int]int{}, map[string]int{}
	}
	w.latencies = append(w.latencies, o.Latency)
	switch {
	case o.Error != "":
		w.errors[o.Error]++
	default:
		w.status[o.Status]++
	}
	if o.OK() {
		w.ok++
	}
	if w.progress != nil {
		w.progress.add(!o.OK())
	}
	if w.cfg.OnDelivery != nil {
		w.cfg.OnDelivery(o)
	}
}
