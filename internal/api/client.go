// Package api is a typed client for the Jasni REST API. Every response is
// decoded from the {"success": ..., "data": ...} envelope in one place, and
// every failure becomes an *Error that says what to do next.
package api

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jasni/jasni-cli/internal/termsafe"
)

// DefaultBaseURL is the production API.
const DefaultBaseURL = "https://api.jasni.ai"

// MaxResponseBody bounds what the client reads of any answer.
const MaxResponseBody = 4 << 20

// Client talks to one Jasni API with one key.
type Client struct {
	BaseURL   string
	APIKey    string
	HTTP      *http.Client
	UserAgent string
	// Retries is how many times a GET or DELETE answered 429 or 5xx is
	// retried. Writes are never retried: a POST that timed out may have
	// created a webhook, and a second one would show a second secret.
	Retries int
	// Sleep waits between retries; tests replace it.
	Sleep func(ctx context.Context, d time.Duration) error
	// OnRetry, when set, is told before each wait for a retry, so the user
	// knows why nothing happens for a while.
	OnRetry func(status int, wait time.Duration, retry, of int)
	// Contract is how the API manages webhooks; New sets Jasni's.
	Contract Contract
	// Provider names another provider's API (as --provider takes it) in
	// errors; "" for Jasni's.
	Provider string
}

// MaxRetryWait is the longest the client waits before a retry. An API that
// asks for more (Retry-After) is not retried: the error says how long it
// asked for, rather than the command hanging in silence.
const MaxRetryWait = 10 * time.Second

// New returns a client with the defaults a CLI wants. It follows redirects
// only within the API's own origin: the key never goes anywhere else.
func New(baseURL, apiKey string, httpClient *http.Client, userAgent string) *Client {
	if baseURL == "" {
		baseURL = DefaultBaseURL
	}
	sameOrigin := *httpClient
	sameOrigin.CheckRedirect = stayOnOrigin
	return &Client{
		BaseURL:   strings.TrimRight(baseURL, "/"),
		APIKey:    apiKey,
		HTTP:      &sameOrigin,
		UserAgent: userAgent,
		Retries:   3,
		Contract:  JasniContract,
	}
}

// ErrCrossOriginRedirect is returned when the API redirects to another
// scheme, host or port, where the Authorization header must not follow.
var ErrCrossOriginRedirect = errors.New("the API redirected to another origin")

func stayOnOrigin(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return errors.New("stopped after 10 redirects")
	}
	from, to := via[0].URL, req.URL
	if from.Scheme != to.Scheme || from.Host != to.Host {
		return fmt.Errorf("%w (%s://%s); jasni does not send your key there", ErrCrossOriginRedirect, to.Scheme, to.Host)
	}
	return nil
}

// Insecure reports whether baseURL sends the key in clear text to another
// machine: plain http to anything but loopback.
func Insecure(baseURL string) bool {
	u, err := url.Parse(baseURL)
	if err != nil || u.Scheme != "http" {
		return false
	}
	host := u.Hostname()
	if host == "localhost" {
		return false
	}
	ip := net.ParseIP(host)
	return ip == nil || !ip.IsLoopback()
}

// envelope is the shape of every answer.
type envelope struct {
	Success *bool           `json:"success"`
	Data    json.RawMessage `json:"data"`
	Error   json.RawMessage `json:"error"`
	Message string          `json:"message"`
}

// do sends one request and decodes data into out (when out is not nil).
func (c *Client) do(ctx context.Context, method, path string, body, out any) error {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return fmt.Errorf("encode request: %w", err)
		}
	}
	err := c.try(ctx, method, path, payload, out)
	var e *Error
	if errors.As(err, &e) {
		e.Provider = c.Provider
	}
	return err
}

// try is do's loop: one request, and its retries.
func (c *Client) try(ctx context.Context, method, path string, payload []byte, out any) error {
	retryable := method == http.MethodGet || method == http.MethodDelete
	for attempt := 0; ; attempt++ {
		resp, data, err := c.send(ctx, method, path, payload)
		if err != nil {
			return err
		}
		if retryable && attempt < c.Retries && (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500) {
			if wait := backoff(attempt, resp.Header.Get("Retry-After"), time.Now()); wait <= MaxRetryWait {
				if c.OnRetry != nil {
					c.OnRetry(resp.StatusCode, wait, attempt+1, c.Retries)
				}
				if err := c.sleep(ctx, wait); err != nil {
					return err
				}
				continue
			}
		}
		err = c.decode(resp, data, out)
		if wait := backoff(0, resp.Header.Get("Retry-After"), time.Now()); err != nil && resp.Header.Get("Retry-After") != "" {
			var apiErr *Error
			if errors.As(err, &apiErr) {
				apiErr.RetryAfter = wait
			}
		}
		return err
	}
}

func (c *Client) send(ctx context.Context, method, path string, payload []byte) (*http.Response, []byte, error) {
	var reader io.Reader
	if payload != nil {
		reader = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.BaseURL+path, reader)
	if err != nil {
		return nil, nil, &Error{Kind: KindBadURL, Host: c.BaseURL, Err: err}
	}
	if name, ok := strings.CutPrefix(c.Contract.Auth, "header:"); ok {
		req.Header.Set(name, c.APIKey)
	} else {
		req.Header.Set("Authorization", "Bearer "+c.APIKey)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.UserAgent)
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		if ctx.Err() != nil && errors.Is(err, context.Canceled) {
			return nil, nil, ctx.Err()
		}
		if errors.Is(err, ErrCrossOriginRedirect) {
			return nil, nil, &Error{Kind: KindRedirect, Host: req.URL.Host, Err: scrub(err, c.APIKey)}
		}
		return nil, nil, &Error{Kind: KindNetwork, Host: req.URL.Host, Err: scrub(err, c.APIKey)}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBody+1))
	if err != nil {
		return nil, nil, &Error{Kind: KindNetwork, Host: req.URL.Host, Err: scrub(err, c.APIKey)}
	}
	if len(data) > MaxResponseBody {
		return nil, nil, &Error{Kind: KindMalformed, Host: req.URL.Host, Status: resp.StatusCode, Message: fmt.Sprintf("the answer is larger than %d MiB", MaxResponseBody>>20)}
	}
	return resp, data, nil
}

// decode reads the envelope. Whatever the API says back goes through
// scrubText: an API that echoes the request must not echo the key.
func (c *Client) decode(resp *http.Response, data []byte, out any) error {
	err := c.decodeEnvelope(resp, data, out)
	var e *Error
	if errors.As(err, &e) {
		e.Message = scrubText(e.Message, c.APIKey)
	}
	return err
}

func (c *Client) decodeEnvelope(resp *http.Response, data []byte, out any) error {
	host := resp.Request.URL.Host
	var env envelope
	jsonErr := json.Unmarshal(data, &env)
	ok2xx := resp.StatusCode >= 200 && resp.StatusCode < 300

	if !ok2xx {
		e := &Error{Kind: kindForStatus(resp.StatusCode), Host: host, Status: resp.StatusCode}
		if jsonErr == nil {
			e.Message = errorMessage(env)
		} else {
			e.Message = textMessage(resp, data)
		}
		return e
	}
	if out == nil && len(bytes.TrimSpace(data)) == 0 {
		return nil // a 2xx with nothing to say (a delete answered 204)
	}
	w, isWhole := out.(*whole)
	if isWhole {
		w.status = resp.StatusCode
	}
	if isWhole && (w.verbatim || jsonErr != nil && (w.anyBody || json.Valid(data))) {
		w.raw = data // not an object (a bare list, or text where any answer will do): no envelope to read
		return nil
	}
	if jsonErr != nil {
		return &Error{Kind: KindMalformed, Host: host, Status: resp.StatusCode, Message: describeNonJSON(resp, data)}
	}
	if env.Success != nil && !*env.Success {
		return &Error{Kind: KindAPI, Host: host, Status: resp.StatusCode, Message: errorMessage(env)}
	}
	if out == nil {
		return nil
	}
	if isWhole {
		w.raw = data // the caller picks what it needs, where the contract says
		return nil
	}
	if len(env.Data) == 0 || string(env.Data) == "null" {
		return &Error{Kind: KindMalformed, Host: host, Status: resp.StatusCode, Message: `the answer has no "data"`}
	}
	if err := json.Unmarshal(env.Data, out); err != nil {
		return &Error{Kind: KindMalformed, Host: host, Status: resp.StatusCode, Message: fmt.Sprintf("unexpected data: %v", err)}
	}
	return nil
}

// errorMessage takes the API's own words: "error" as a string or as an
// object with a message, or a top-level "message".
func errorMessage(env envelope) string {
	if len(env.Error) > 0 {
		var s string
		if json.Unmarshal(env.Error, &s) == nil && s != "" {
			return s
		}
		var obj struct {
			Message string `json:"message"`
		}
		if json.Unmarshal(env.Error, &obj) == nil && obj.Message != "" {
			return obj.Message
		}
	}
	return env.Message
}

// textMessage is the first line of an error answered in plain text, cut
// short and made safe to print; "" for an HTML page or JSON.
func textMessage(resp *http.Response, data []byte) string {
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	t := bytes.TrimSpace(data)
	if len(t) == 0 || ct == "text/html" || t[0] == '<' || t[0] == '{' || t[0] == '[' {
		return ""
	}
	line, _, _ := bytes.Cut(t, []byte("\n"))
	if len(line) > 200 {
		line = append(line[:200:200], "…"...)
	}
	return termsafe.Line(strings.ToValidUTF8(string(line), "\uFFFD"))
}

func describeNonJSON(resp *http.Response, data []byte) string {
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	switch {
	case len(bytes.TrimSpace(data)) == 0:
		return "the answer is empty"
	case ct == "text/html" || bytes.HasPrefix(bytes.TrimSpace(data), []byte("<")):
		return "the answer is an HTML page, not JSON (is the API URL right?)"
	case !json.Valid(data) && (bytes.HasPrefix(bytes.TrimSpace(data), []byte("{")) || bytes.HasPrefix(bytes.TrimSpace(data), []byte("["))):
		return "the answer is cut-off or malformed JSON"
	}
	return fmt.Sprintf("the answer is not JSON (%s)", cmp.Or(ct, "no content type"))
}

// backoff is the wait before retry number attempt+1: Retry-After when the API
// gives one (seconds or an HTTP date, at most an hour), else 0.5 s doubling.
func backoff(attempt int, retryAfter string, now time.Time) time.Duration {
	if retryAfter != "" {
		// Compared in seconds before converting: a huge value would
		// overflow a Duration into a negative wait.
		if secs, err := strconv.ParseInt(strings.TrimSpace(retryAfter), 10, 64); err == nil && secs >= 0 {
			return time.Duration(min(secs, 3600)) * time.Second
		}
		if at, err := http.ParseTime(retryAfter); err == nil {
			return min(max(at.Sub(now), 0), time.Hour)
		}
	}
	return 500 * time.Millisecond << attempt
}

func (c *Client) sleep(ctx context.Context, d time.Duration) error {
	if c.Sleep != nil {
		return c.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// scrub removes the key from an error text, should a transport ever echo it.
func scrub(err error, key string) error {
	if key == "" || !strings.Contains(err.Error(), key) {
		return err
	}
	return errors.New(scrubText(err.Error(), key))
}

// scrubText masks the key wherever it appears in s.
func scrubText(s, key string) string {
	if key == "" {
		return s
	}
	return strings.ReplaceAll(s, key, MaskKey(key))
}

// MaskKey shows enough of a key to recognise it: jsk_…1a2b.
func MaskKey(key string) string {
	if len(key) <= 8 {
		return "jsk_…"
	}
	return key[:4] + "…" + key[len(key)-4:]
}

func pathEscape(id string) string { return url.PathEscape(id) }
