package relay

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jasni/jasni-cli/internal/store"
)

// forwardIdleTimeout is how long a connection to the app is kept idle. It is
// shorter than any app's own idle timeout that is met in practice (Node's
// 5 s, uvicorn's 5 s, a Go server set to 1 s, nginx's 75 s), so the relay
// closes an idle connection before the app does: a delivery is never
// written on a connection the app is closing at that moment, which the app
// would not answer and the relay could not safely send again (a POST is
// not idempotent). The connections the app closes sooner are noticed by
// the Transport as they close, while they sit idle.
const forwardIdleTimeout = 500 * time.Millisecond

// maxAnswerHeader bounds the app's answer headers, as the sender's are.
const maxAnswerHeader = 64 << 10

// NewForwardTransport is the transport deliveries go to the app through.
// net/http's Transport retries a request on a kept-alive connection only
// when not one byte of it was written, so each delivery reaches the app at
// most once for every time it is sent.
func NewForwardTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	// The app gets the request as the sender made it, and the sender the
	// answer as the app made it: no Accept-Encoding added, nothing unpacked.
	t.DisableCompression = true
	// Enough idle connections for a burst of concurrent deliveries, so each
	// one does not open a connection of its own.
	t.MaxIdleConns = 256
	t.MaxIdleConnsPerHost = 256
	t.IdleConnTimeout = forwardIdleTimeout
	t.MaxResponseHeaderBytes = maxAnswerHeader
	return t
}

// forward passes the delivery to the app and streams the app's answer back
// to the sender whole, keeping its start. It reports whether the answer was
// cut short after it began: the caller then breaks the sender's connection
// (once the delivery is recorded), so the sender never takes a part of an
// answer for the whole.
func (r *Relay) forward(sender context.Context, w http.ResponseWriter, in *http.Request, d *store.Delivery) (abort bool) {
	target := Target(r.cfg.Forward, in.URL)
	a := &store.Attempt{At: r.cfg.Now(), By: store.AttemptByListen, URL: target.String()}
	defer func() {
		d.Forward = a
		d.Attempts = []store.Attempt{*a}
	}()
	ctx, cancel := context.WithTimeout(sender, r.cfg.ForwardTimeout)
	defer cancel()
	out, err := http.NewRequestWithContext(ctx, in.Method, a.URL, nil)
	if err != nil {
		d.Answer = http.StatusBadGateway
		a.Error = err.Error()
		http.Error(w, "jasni: bad forward URL", d.Answer)
		return false
	}
	body := setOnceBody(out, d.Body)
	out.Header = ForwardHeader(in, r.cfg.Header)
	if _, ok := out.Header["User-Agent"]; !ok {
		out.Header["User-Agent"] = []string{""} // keeps Go from adding its own
	}
	out.ContentLength = int64(len(d.Body))

	start := time.Now()
	resp, err := r.transport.RoundTrip(out)
	if err != nil && !body.touched.Load() && ctx.Err() == nil && !isRefused(err) {
		// Not a byte of the body was taken, so the request never left (a
		// connection the app had just closed): sent once more, on a new one.
		out = out.Clone(ctx)
		setOnceBody(out, d.Body)
		resp, err = r.transport.RoundTrip(out)
	}
	if err != nil {
		a.DurationMS = time.Since(start).Milliseconds()
		d.Answer = http.StatusBadGateway
		if errors.Is(err, context.DeadlineExceeded) || isTimeout(err) && ctx.Err() != nil {
			d.Answer = http.StatusGatewayTimeout
			err = context.DeadlineExceeded
		}
		if errors.Is(err, context.Canceled) && sender.Err() != nil {
			err = context.Canceled
		}
		a.Error, a.Summary = describeForwardError(target, r.cfg.ForwardTimeout, err)
		http.Error(w, "jasni: "+a.Error, d.Answer)
		return false
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusSwitchingProtocols {
		// An upgrade cannot be passed on to a webhook sender.
		d.Answer = http.StatusBadGateway
		a.Status, a.Header = resp.StatusCode, resp.Header.Clone()
		a.Error, a.Summary = fmt.Sprintf("your app at %s answered 101 Switching Protocols to a webhook delivery", target.Host), "app answered 101"
		http.Error(w, "jasni: "+a.Error, d.Answer)
		return false
	}
	a.Status, d.Answer = resp.StatusCode, resp.StatusCode
	a.Header = resp.Header.Clone()
	copyAnswerHeader(w.Header(), resp.Header)
	if _, ok := resp.Header["Content-Type"]; !ok {
		w.Header()["Content-Type"] = nil // not one net/http guesses: none, as the app sent
	}
	w.WriteHeader(resp.StatusCode)

	head := &headKeeper{max: store.AnswerKeep}
	buf := copyBufs.Get().(*[]byte)
	n, err := io.CopyBuffer(w, io.TeeReader(resp.Body, head), *buf)
	copyBufs.Put(buf)
	a.DurationMS = time.Since(start).Milliseconds()
	a.Body, a.BodySize = head.buf, n
	if a.Status < 200 || a.Status > 299 {
		a.Summary = store.AnswerSummary(a.Body)
	}
	if err != nil {
		switch {
		case sender.Err() != nil:
			a.Error, a.Summary = fmt.Sprintf("the sender went away while your app's answer was passed on (%d bytes of it)", n), "sender went away"
		case ctx.Err() != nil:
			a.Error = fmt.Sprintf("your app's answer was not whole within %s (%d bytes of it came): the sender's connection was broken so it cannot take the part for the whole", r.cfg.ForwardTimeout, n)
			a.Summary = "answer not whole in " + r.cfg.ForwardTimeout.String()
		default:
			a.Error = fmt.Sprintf("your app's answer was cut short after %d bytes (%v): the sender's connection was broken so it cannot take the part for the whole", n, err)
			a.Summary = "answer cut short"
		}
		return true
	}
	return false
}

// onceBody is a request body read once, which says whether it was read.
type onceBody struct {
	r       *bytes.Reader
	touched atomic.Bool
}

// setOnceBody gives out a body the Transport cannot rewind: it then never
// sends a delivery again once a byte of it may have been written, even
// when it carries an Idempotency-Key header (which makes Transport replay a
// rewindable POST). What was not sent at all, forward sends again itself.
func setOnceBody(out *http.Request, body []byte) *onceBody {
	b := &onceBody{r: bytes.NewReader(body)}
	out.Body, out.GetBody = b, nil
	return b
}

func (b *onceBody) Read(p []byte) (int, error) {
	b.touched.Store(true)
	return b.r.Read(p)
}

func (b *onceBody) Close() error { return nil }

var copyBufs = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// copyAnswerHeader passes the app's answer headers on, but for those that
// describe the app's connection alone.
func copyAnswerHeader(dst, src http.Header) {
	named := map[string]bool{} // headers the app's Connection header names are hop-by-hop too
	for _, v := range src["Connection"] {
		for _, f := range strings.Split(v, ",") {
			named[http.CanonicalHeaderKey(strings.TrimSpace(f))] = true
		}
	}
	for k, vs := range src {
		if !hopByHop[k] && !named[http.CanonicalHeaderKey(k)] {
			dst[k] = vs
		}
	}
}

// headKeeper keeps the first max bytes written to it.
type headKeeper struct {
	max int
	buf []byte
}

func (h *headKeeper) Write(p []byte) (int, error) {
	if room := h.max - len(h.buf); room > 0 {
		h.buf = append(h.buf, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// describeForwardError says why the app gave no answer, in full and in a
// few words for a narrow line.
func describeForwardError(target *url.URL, timeout time.Duration, err error) (full, short string) {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Sprintf("your app at %s did not answer within %s", target.Host, timeout), "app timed out (" + timeout.String() + ")"
	case errors.Is(err, context.Canceled):
		return "the sender went away before your app answered", "sender went away"
	case isRefused(err):
		return fmt.Sprintf("your app at %s is not running (connection refused)", target.Host), "app not running"
	case answerGone(err):
		return fmt.Sprintf("your app at %s closed the connection without answering (did it crash on this delivery?)", target.Host), "app hung up, no answer"
	case strings.Contains(err.Error(), "response headers exceeded"):
		return fmt.Sprintf("your app at %s answered with headers larger than %d KiB", target.Host, maxAnswerHeader>>10), "app's headers too large"
	}
	return fmt.Sprintf("could not reach your app at %s: %v", target.Host, err), "app unreachable"
}

func isRefused(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED)
}

// answerGone reports an error that says the app took the request and closed
// or reset the connection without an answer: it crashed on it, or closed it
// on purpose.
func answerGone(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}
