package api

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jasni/jasni-cli/internal/lazyre"

	"github.com/jasni/jasni-cli/internal/termsafe"
)

// TraceBodyLimit is how much of each body a trace shows.
const TraceBodyLimit = 2048

// Trace is an http.RoundTripper that writes each request and response to w
// (JASNI_DEBUG=api, --debug): method, URL, headers and the start of each
// body. The Authorization header is never shown, and API keys and webhook
// secrets in URLs, headers and bodies are masked, so a trace can be pasted
// into a bug report.
type Trace struct {
	Next http.RoundTripper
	W    io.Writer
	// Now is time.Now outside tests, which fix the timings.
	Now func() time.Time
	// Mask are values masked wherever they appear, whatever their form:
	// the API key in use (another provider's need not start jsk_).
	Mask []string

	mu sync.Mutex
	n  int
}

// NewTrace traces next (http.DefaultTransport when nil) to w.
func NewTrace(next http.RoundTripper, w io.Writer) *Trace {
	if next == nil {
		next = http.DefaultTransport
	}
	return &Trace{Next: next, W: w, Now: time.Now}
}

// secretLike matches Jasni API keys and webhook secrets.
var secretLike = lazyre.New(`\b(jsk|whsec)_[A-Za-z0-9+/=_\-]+`)

// secretField matches a JSON field that holds a secret, whatever its
// form: the secret a client chooses for a webhook is the user's own.
var secretField = lazyre.New(`("(?:secret|webhook_secret|signing_secret|api_key|token)"\s*:\s*")((?:[^"\\]|\\.)*)"`)

func redact(s string) string {
	s = secretField().ReplaceAllStringFunc(s, func(m string) string {
		parts := secretField().FindStringSubmatch(m)
		kept := "" // a known prefix says what kind of secret it was
		if p := secretLike().FindString(parts[2]); p != "" && strings.HasPrefix(parts[2], p) {
			kept, _, _ = strings.Cut(p, "_")
			kept += "_"
		}
		return parts[1] + kept + `[redacted]"`
	})
	return secretLike().ReplaceAllStringFunc(s, func(m string) string {
		prefix, _, _ := strings.Cut(m, "_")
		return prefix + "_[redacted]"
	})
}

// redact masks what redact does, and t's own values.
func (t *Trace) redact(s string) string {
	for _, v := range t.Mask {
		if len(v) >= 4 {
			s = strings.ReplaceAll(s, v, "[redacted]")
		}
	}
	return redact(s)
}

func (t *Trace) RoundTrip(req *http.Request) (*http.Response, error) {
	var reqBody []byte
	if req.Body != nil && req.Body != http.NoBody {
		var err error
		if reqBody, err = io.ReadAll(req.Body); err != nil {
			return nil, err
		}
		req.Body.Close()
		// A clone, not req: a RoundTripper must not change the request.
		req = req.Clone(req.Context())
		req.Body = io.NopCloser(bytes.NewReader(reqBody))
	}
	t.mu.Lock()
	t.n++
	n := t.n
	t.mu.Unlock()

	var b strings.Builder
	fmt.Fprintf(&b, "* [%d] %s %s\n", n, req.Method, t.redact(req.URL.String()))
	t.writeHeaders(&b, "> ", req.Header)
	t.writeBody(&b, "> ", reqBody)
	t.flush(&b)

	start := t.Now()
	resp, err := t.Next.RoundTrip(req)
	took := t.Now().Sub(start).Round(time.Millisecond)
	if err != nil {
		fmt.Fprintf(&b, "* [%d] failed after %s: %s\n", n, took, t.redact(err.Error()))
		t.flush(&b)
		return nil, err
	}
	// Read what the client will read (it stops at MaxResponseBody too),
	// then hand it the same bytes.
	data, readErr := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBody+1))
	resp.Body = readCloser{io.MultiReader(bytes.NewReader(data), errReader{readErr}, resp.Body), resp.Body}
	fmt.Fprintf(&b, "* [%d] %s in %s\n", n, resp.Status, took)
	t.writeHeaders(&b, "< ", resp.Header)
	t.writeBody(&b, "< ", data)
	t.flush(&b)
	return resp, nil
}

func (t *Trace) flush(b *strings.Builder) {
	t.mu.Lock()
	defer t.mu.Unlock()
	io.WriteString(t.W, b.String())
	b.Reset()
}

func (t *Trace) writeHeaders(b *strings.Builder, prefix string, h http.Header) {
	names := make([]string, 0, len(h))
	for name := range h {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		for _, v := range h[name] {
			if http.CanonicalHeaderKey(name) == "Authorization" {
				scheme, _, _ := strings.Cut(v, " ")
				v = scheme + " [redacted]"
			}
			fmt.Fprintf(b, "%s%s: %s\n", prefix, termsafe.Line(name), termsafe.Line(t.redact(v)))
		}
	}
}

func (t *Trace) writeBody(b *strings.Builder, prefix string, body []byte) {
	if len(body) == 0 {
		return
	}
	shown := body
	if len(shown) > TraceBodyLimit {
		shown = shown[:TraceBodyLimit]
	}
	b.WriteString(prefix + "\n")
	for _, line := range strings.Split(strings.TrimRight(termsafe.Text(t.redact(string(shown))), "\n"), "\n") {
		b.WriteString(prefix + line + "\n")
	}
	if len(body) > len(shown) {
		fmt.Fprintf(b, "%s… %d more bytes not shown\n", prefix, len(body)-len(shown))
	}
}

type readCloser struct {
	io.Reader
	io.Closer
}

// errReader returns err (when not nil) after the bytes read before it.
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	return 0, io.EOF
}
