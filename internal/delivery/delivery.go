// Package delivery sends one webhook delivery the way a provider does: a POST
// with a prepared body and headers, a deadline per attempt, redirects not
// followed, a bounded read of the answer, and retries on a schedule.
package delivery

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// MaxResponseBody is how much of an answer is kept for display. The rest is
// discarded unread past DiscardLimit, so a huge answer cannot exhaust memory.
const (
	MaxResponseBody = 64 << 10
	DiscardLimit    = 1 << 20
)

// JasniSchedule is Jasni's retry policy: the delay before each attempt.
var JasniSchedule = []time.Duration{0, 10 * time.Second, 60 * time.Second, 5 * time.Minute}

// Request is one delivery, ready to send.
type Request struct {
	// Method is POST when empty.
	Method string
	URL    string
	Body   []byte
	Header http.Header
}

// Attempt is the outcome of one try.
type Attempt struct {
	Number   int // 1-based
	Of       int // attempts planned
	Status   int // 0 when no response arrived
	Duration time.Duration
	// Header is the answer's headers.
	Header http.Header
	// Body is the start of the answer (at most MaxResponseBody bytes).
	Body      []byte
	Truncated bool
	// Location is the redirect target when Status is 3xx.
	Location string
	// Err is set when no response arrived; it is a *TransportError.
	Err error
	// Wrong says why a 2xx answer is not the one the sender expects (an
	// answer to a handshake that is not the provider's); "" when it is.
	Wrong string
}

// OK reports a 2xx answer that is what the sender expects.
func (a Attempt) OK() bool { return a.Err == nil && a.Status >= 200 && a.Status < 300 && a.Wrong == "" }

// Sender sends deliveries. The zero value is not usable: Client is required.
type Sender struct {
	Client  *http.Client
	Timeout time.Duration // per attempt; 0 means none
	// Schedule is the delay before each attempt; its length is the number of
	// attempts. Nil means one attempt.
	Schedule []time.Duration
	// Wait pauses between attempts; tests replace it. Nil uses a timer.
	Wait func(ctx context.Context, d time.Duration) error
	// Expect, when set, judges a 2xx answer's body: why it is not the one
	// the sender expects, or "".
	Expect func(header http.Header, body []byte) string
}

// Send delivers req, retrying on the schedule until an attempt gets 2xx. It
// calls onAttempt after every attempt and returns the last one. It returns an
// error only when ctx ends.
func (s *Sender) Send(ctx context.Context, req Request, onAttempt func(Attempt)) (Attempt, error) {
	schedule := s.Schedule
	if len(schedule) == 0 {
		schedule = []time.Duration{0}
	}
	wait := s.Wait
	if wait == nil {
		wait = sleep
	}
	client := noRedirects(s.Client)

	var last Attempt
	for i, delay := range schedule {
		if delay > 0 {
			if err := wait(ctx, delay); err != nil {
				return last, err
			}
		}
		last = s.attempt(ctx, client, req)
		last.Number, last.Of = i+1, len(schedule)
		if s.Expect != nil && last.Err == nil && last.Status >= 200 && last.Status < 300 {
			last.Wrong = s.Expect(last.Header, last.Body)
		}
		if err := ctx.Err(); err != nil {
			return last, err
		}
		if onAttempt != nil {
			onAttempt(last)
		}
		if last.OK() {
			break
		}
	}
	return last, nil
}

func (s *Sender) attempt(ctx context.Context, client *http.Client, req Request) Attempt {
	if s.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.Timeout)
		defer cancel()
	}
	method := req.Method
	if method == "" {
		method = http.MethodPost
	}
	httpReq, err := http.NewRequestWithContext(ctx, method, req.URL, bytes.NewReader(req.Body))
	if err != nil {
		return Attempt{Err: &TransportError{URL: req.URL, Err: err}}
	}
	httpReq.Header = req.Header.Clone()
	if host := httpReq.Header.Get("Host"); host != "" {
		httpReq.Host = host
	}

	start := time.Now()
	resp, err := client.Do(httpReq)
	if err != nil {
		return Attempt{Duration: time.Since(start), Err: classify(req.URL, s.Timeout, err)}
	}
	defer resp.Body.Close()
	body, readErr := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBody+1))
	a := Attempt{Status: resp.StatusCode, Header: resp.Header, Location: resp.Header.Get("Location")}
	if len(body) > MaxResponseBody {
		a.Body, a.Truncated = body[:MaxResponseBody], true
		// Drain a little more so the connection can be reused, then give up on it.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, DiscardLimit))
	} else {
		a.Body = body
	}
	a.Duration = time.Since(start)
	if readErr != nil && !a.Truncated {
		a.Err = classify(req.URL, s.Timeout, readErr)
		a.Status = 0
	}
	return a
}

func noRedirects(c *http.Client) *http.Client {
	copied := *c
	copied.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &copied
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Kind names why no response arrived.
type Kind string

const (
	KindRefused  Kind = "connection refused"
	KindTimeout  Kind = "timeout"
	KindDNS      Kind = "unknown host"
	KindTLS      Kind = "TLS error"
	KindReset    Kind = "connection reset"
	KindNetwork  Kind = "network error"
	KindCanceled Kind = "canceled"
)

// TransportError is a delivery that got no HTTP answer.
type TransportError struct {
	Kind    Kind
	URL     string
	Timeout time.Duration
	Err     error
}

func (e *TransportError) Unwrap() error { return e.Err }

func (e *TransportError) Error() string {
	host := e.URL
	if u, err := url.Parse(e.URL); err == nil && u.Host != "" {
		host = u.Host
	}
	switch e.Kind {
	case KindRefused:
		return fmt.Sprintf("nothing is listening on %s (connection refused): is your app running?", host)
	case KindTimeout:
		return fmt.Sprintf("%s did not answer within %s (raise --timeout; Jasni itself waits 30s)", host, e.Timeout)
	case KindDNS:
		return fmt.Sprintf("cannot resolve host %s: check the URL", host)
	case KindTLS:
		if plainHTTP(e.Err) {
			return fmt.Sprintf("%s answered in plain HTTP, not HTTPS: use http:// in the URL", host)
		}
		if strings.Contains(e.Err.Error(), "does not look like a TLS handshake") {
			return fmt.Sprintf("%s does not speak TLS: if it serves plain HTTP, use http:// in the URL", host)
		}
		return fmt.Sprintf("TLS handshake with %s failed: %v", host, e.Err)
	case KindReset:
		return fmt.Sprintf("%s closed the connection without an answer", host)
	case KindCanceled:
		return "canceled"
	}
	return fmt.Sprintf("could not reach %s: %v", host, e.Err)
}

func classify(rawURL string, timeout time.Duration, err error) *TransportError {
	te := &TransportError{Kind: KindNetwork, URL: rawURL, Timeout: timeout, Err: err}
	var dnsErr *net.DNSError
	var certErr *tls.CertificateVerificationError
	var recordErr tls.RecordHeaderError
	switch {
	case errors.Is(err, context.DeadlineExceeded), isTimeout(err):
		te.Kind = KindTimeout
	case errors.Is(err, context.Canceled):
		te.Kind = KindCanceled
	case errors.Is(err, syscall.ECONNREFUSED):
		te.Kind = KindRefused
	case errors.As(err, &dnsErr):
		te.Kind = KindDNS
	case errors.As(err, &certErr), errors.As(err, &recordErr), strings.Contains(err.Error(), "tls:"), plainHTTP(err):
		te.Kind = KindTLS
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		te.Kind = KindReset
	}
	return te
}

// plainHTTP: an https:// URL whose server speaks HTTP (net/http's own
// words, which keep no error type).
func plainHTTP(err error) bool {
	var rec tls.RecordHeaderError
	if errors.As(err, &rec) && string(rec.RecordHeader[:]) == "HTTP/" {
		return true
	}
	return strings.Contains(err.Error(), "server gave HTTP response to HTTPS client")
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// Classify names why a request got no response, for tallies.
func Classify(rawURL string, timeout time.Duration, err error) Kind {
	return classify(rawURL, timeout, err).Kind
}
