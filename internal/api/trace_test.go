package api_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jasni/jasni-cli/internal/api"
	"github.com/jasni/jasni-cli/internal/api/apitest"
)

const traceKey = "jsk_live_trace0123456789abcdef"

func tracedClient(t *testing.T, baseURL string) (*api.Client, *bytes.Buffer) {
	t.Helper()
	var out bytes.Buffer
	trace := api.NewTrace(nil, &out)
	clock := time.Unix(0, 0)
	trace.Now = func() time.Time { clock = clock.Add(21 * time.Millisecond); return clock }
	c := api.New(baseURL, traceKey, &http.Client{Transport: trace}, "jasni/test")
	c.Retries = 0
	return c, &out
}

func TestTraceShowsTheExchangeWithoutSecrets(t *testing.T) {
	srv := apitest.New(traceKey)
	defer srv.Close()
	c, out := tracedClient(t, srv.URL)
	created, err := c.CreateWebhook(context.Background(), api.CreateParams{URL: "https://app.example.com/webhooks/jasni", Events: []string{"email.received"}})
	if err != nil {
		t.Fatal(err)
	}
	trace := out.String()
	for _, want := range []string{
		"* [1] POST " + srv.URL + "/api/v1/webhooks\n",
		"> Authorization: Bearer [redacted]\n",
		"> Content-Type: application/json\n",
		`"url":"https://app.example.com/webhooks/jasni"`,
		"* [1] 201 Created in 21ms\n",
		"< Content-Type: application/json",
		`"secret":"whsec_[redacted]"`,
	} {
		if !strings.Contains(trace, want) {
			t.Errorf("trace lacks %q:\n%s", want, trace)
		}
	}
	for _, secret := range []string{traceKey, created.Secret} {
		if strings.Contains(trace, secret) {
			t.Errorf("trace shows %q:\n%s", secret, trace)
		}
	}
}

func TestTraceBoundsAndCleansWhatTheServerSends(t *testing.T) {
	long := strings.Repeat("x", 3*api.TraceBodyLimit)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Evil", "a\u009b31mb") // C1 CSI: Go refuses C0 controls in headers itself
		w.Write([]byte(`{"success":true,"data":[{"id":"wh_1","url":"https://a","events":[],"active":true,"description":"` + long + `"}]}`))
	}))
	defer srv.Close()
	c, out := tracedClient(t, srv.URL)
	all, err := c.ListWebhooks(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// The client still reads the whole body.
	if len(all) != 1 || !strings.HasPrefix(all[0].Description, long) {
		t.Fatalf("the trace changed what the client read: %d webhooks", len(all))
	}
	trace := out.String()
	if strings.ContainsRune(trace, 0x1b) || strings.ContainsRune(trace, 0x9b) {
		t.Errorf("trace passes terminal escapes through: %q", trace)
	}
	if len(trace) > 2*api.TraceBodyLimit || !strings.Contains(trace, "more bytes not shown") {
		t.Errorf("body not cut to %d bytes (trace is %d):\n%s", api.TraceBodyLimit, len(trace), trace[:200])
	}
}

func TestTraceCleansAnErrorPage(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
		w.Write([]byte("\x1b]0;pwned\x07<h1>Bad gateway</h1>\x1b[2J"))
	}))
	defer srv.Close()
	c, out := tracedClient(t, srv.URL)
	if _, err := c.ListWebhooks(context.Background()); err == nil {
		t.Fatal("no error from a 502")
	}
	if strings.ContainsRune(out.String(), 0x1b) || strings.ContainsRune(out.String(), 0x07) || !strings.Contains(out.String(), "Bad gateway") {
		t.Errorf("trace: %q", out.String())
	}
}

func TestTraceNamesAFailure(t *testing.T) {
	c, out := tracedClient(t, "http://127.0.0.1:1")
	if _, err := c.ListWebhooks(context.Background()); err == nil {
		t.Fatal("no error from a closed port")
	}
	if !strings.Contains(out.String(), "* [1] GET http://127.0.0.1:1/api/v1/webhooks\n") || !strings.Contains(out.String(), "* [1] failed after") {
		t.Errorf("trace:\n%s", out.String())
	}
}

// Another provider's key need not look like one, nor a secret the client
// chose: the key is masked wherever the API echoes it, and a secret field
// whatever it holds.
func TestTraceMasksOtherKeysAndChosenSecrets(t *testing.T) {
	const key = "tok_WRONG_zzz"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"error":"Invalid token: ` + key + ` (header was 'Bearer ` + key + `')","secret":"plain-SECRETVALUE-9"}`))
	}))
	defer srv.Close()
	var out bytes.Buffer
	trace := api.NewTrace(nil, &out)
	trace.Mask = []string{key}
	c := api.New(srv.URL, key, &http.Client{Transport: trace}, "jasni/test")
	c.Contract = api.Contract{Path: "/v1/webhooks", Auth: "bearer", Object: []string{""}}
	_, err := c.CreateWebhook(context.Background(), api.CreateParams{URL: "https://a.example.com", Events: []string{"x"}, Secret: "plain-SECRETVALUE-9"})
	if err == nil {
		t.Fatal("a 401 passed")
	}
	for _, leaked := range []string{key, "SECRETVALUE"} {
		if strings.Contains(out.String(), leaked) {
			t.Errorf("the trace shows %q:\n%s", leaked, out.String())
		}
	}
	if !strings.Contains(out.String(), `"secret":"[redacted]"`) {
		t.Errorf("the trace does not say a secret was there:\n%s", out.String())
	}
}
