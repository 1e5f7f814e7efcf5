package api_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jasni/jasni-cli/internal/api"
	"github.com/jasni/jasni-cli/internal/api/apitest"
)

const key = "jsk_test_0123456789abcdef"

func newClient(t *testing.T, srv *apitest.Server) (*api.Client, *[]time.Duration) {
	t.Helper()
	c := api.New(srv.URL, key, srv.Client(), "jasni-cli/test")
	var slept []time.Duration
	c.Sleep = func(_ context.Context, d time.Duration) error {
		slept = append(slept, d)
		return nil
	}
	return c, &slept
}

func TestWebhookLifecycle(t *testing.T) {
	srv := apitest.New(key)
	defer srv.Close()
	c, _ := newClient(t, srv)
	ctx := context.Background()

	created, err := c.CreateWebhook(ctx, api.CreateParams{URL: "https://app.example.com/hook", Events: []string{"email.received"}, Description: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(created.ID, "wh_") || !strings.HasPrefix(created.Secret, "whsec_") || !created.IsActive() {
		t.Errorf("created = %+v", created)
	}

	list, err := c.ListWebhooks(ctx)
	if err != nil || len(list) != 1 || list[0].ID != created.ID || list[0].Secret != "" {
		t.Fatalf("list = %+v, %v (the secret must not come back)", list, err)
	}

	got, err := c.GetWebhook(ctx, created.ID)
	if err != nil || got.URL != "https://app.example.com/hook" {
		t.Errorf("get = %+v, %v", got, err)
	}

	off, desc := false, "changed"
	updated, err := c.UpdateWebhook(ctx, created.ID, api.UpdateParams{Active: &off, Description: &desc, Events: []string{"email.sent", "email.bounced"}})
	if err != nil || updated.IsActive() || updated.Description != "changed" || len(updated.Events) != 2 || updated.URL != created.URL {
		t.Errorf("update = %+v, %v", updated, err)
	}

	if err := c.DeleteWebhook(ctx, created.ID); err != nil {
		t.Fatal(err)
	}
	if list, _ := c.ListWebhooks(ctx); len(list) != 0 {
		t.Errorf("after delete, list = %+v", list)
	}

	for _, r := range srv.Requests() {
		if r.Authorization != "Bearer "+key || r.UserAgent != "jasni-cli/test" {
			t.Errorf("%s %s: Authorization %q User-Agent %q", r.Method, r.Path, r.Authorization, r.UserAgent)
		}
	}
}

func TestErrors(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		key     string
		fault   *apitest.Fault
		call    func(c *api.Client) error
		kind    api.Kind
		message string
	}{
		{name: "wrong key", key: "jsk_wrong_key_000", call: list, kind: api.KindAuth,
			message: `list webhooks: the API rejected the key (401): Invalid API key. Run "jasni login" or set JASNI_API_KEY`},
		{name: "forbidden", fault: &apitest.Fault{Status: 403}, call: create, kind: api.KindForbidden, message: "not allowed to do this (403)"},
		{name: "unknown id on update", call: func(c *api.Client) error {
			_, err := c.UpdateWebhook(ctx, "wh_nope", api.UpdateParams{Description: new(string)})
			return err
		}, kind: api.KindNotFound, message: `update webhook: webhook wh_nope was not found (404)`},
		{name: "unknown id on delete", call: func(c *api.Client) error { return c.DeleteWebhook(ctx, "wh_nope") }, kind: api.KindNotFound, message: "webhook wh_nope was not found"},
		{name: "unknown id on get", call: func(c *api.Client) error { _, err := c.GetWebhook(ctx, "wh_nope"); return err }, kind: api.KindNotFound, message: "webhook wh_nope was not found"},
		{name: "validation message passed on", call: func(c *api.Client) error {
			_, err := c.CreateWebhook(ctx, api.CreateParams{URL: "https://x.example.com", Events: []string{"email.nope"}})
			return err
		}, kind: api.KindAPI, message: "the API refused (400): Invalid event type: email.nope"},
		{name: "HTML answer", fault: &apitest.Fault{Status: 200, Body: "<html><body>Gateway</body></html>"}, call: list, kind: api.KindMalformed, message: "an HTML page, not JSON"},
		{name: "truncated JSON", fault: &apitest.Fault{Status: 200, Body: `{"success":true,"data":{"webh`}, call: list, kind: api.KindMalformed, message: "cut-off or malformed JSON"},
		{name: "empty answer", fault: &apitest.Fault{Status: 200, Body: " "}, call: list, kind: api.KindMalformed, message: "the answer is empty"},
		{name: "success false with 200", fault: &apitest.Fault{Status: 200, Body: `{"success":false,"error":{"message":"quota exceeded"}}`}, call: create, kind: api.KindAPI, message: "quota exceeded"},
		{name: "POST is not retried", fault: &apitest.Fault{Status: 503}, call: create, kind: api.KindBusy, message: "unavailable (503 Service Unavailable)"},
		{name: "GET gives up after retries", fault: &apitest.Fault{Status: 500, Times: 10}, call: list, kind: api.KindBusy, message: "unavailable (500"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := apitest.New(key)
			defer srv.Close()
			if tt.fault != nil {
				srv.Inject(*tt.fault)
			}
			c, _ := newClient(t, srv)
			if tt.key != "" {
				c.APIKey = tt.key
			}
			err := tt.call(c)
			var apiErr *api.Error
			if !errors.As(err, &apiErr) || apiErr.Kind != tt.kind {
				t.Fatalf("err = %v, want kind %d", err, tt.kind)
			}
			if !strings.Contains(err.Error(), tt.message) {
				t.Errorf("message %q\nwant it to contain %q", err.Error(), tt.message)
			}
			if strings.Contains(err.Error(), c.APIKey) {
				t.Errorf("the key appears in the error: %v", err)
			}
		})
	}
}

func list(c *api.Client) error { _, err := c.ListWebhooks(context.Background()); return err }
func create(c *api.Client) error {
	_, err := c.CreateWebhook(context.Background(), api.CreateParams{URL: "https://x.example.com/h", Events: []string{"email.sent"}})
	return err
}

func TestRetries(t *testing.T) {
	tests := []struct {
		name      string
		fault     apitest.Fault
		call      func(c *api.Client) error
		wantErr   bool
		wantSleep []time.Duration
		requests  int
	}{
		{name: "429 with Retry-After on GET", fault: apitest.Fault{Status: 429, RetryAfter: "2", Times: 2}, call: list,
			wantSleep: []time.Duration{2 * time.Second, 2 * time.Second}, requests: 3},
		{name: "500 with backoff on GET", fault: apitest.Fault{Status: 500, Times: 2}, call: list,
			wantSleep: []time.Duration{500 * time.Millisecond, time.Second}, requests: 3},
		{name: "503 on DELETE", fault: apitest.Fault{Status: 503, Times: 1}, call: func(c *api.Client) error {
			return c.DeleteWebhook(context.Background(), "wh_seeded")
		}, wantSleep: []time.Duration{500 * time.Millisecond}, requests: 2},
		{name: "a Retry-After past the most it waits is not waited for", fault: apitest.Fault{Status: 429, RetryAfter: "999999"}, call: list,
			wantErr: true, requests: 1},
		{name: "POST never retried", fault: apitest.Fault{Status: 500}, call: create, wantErr: true, requests: 1},
		{name: "PATCH never retried", fault: apitest.Fault{Status: 429}, call: func(c *api.Client) error {
			_, err := c.UpdateWebhook(context.Background(), "wh_seeded", api.UpdateParams{Description: new(string)})
			return err
		}, wantErr: true, requests: 1},
		{name: "gives up after three retries", fault: apitest.Fault{Status: 502, Times: 9}, call: list, wantErr: true,
			wantSleep: []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second}, requests: 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := apitest.New(key)
			defer srv.Close()
			srv.Seed(apitest.Webhook{ID: "wh_seeded", URL: "https://x.example.com", Events: []string{"email.sent"}, Active: true})
			srv.Inject(tt.fault)
			c, slept := newClient(t, srv)
			err := tt.call(c)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if len(*slept) != len(tt.wantSleep) {
				t.Fatalf("slept %v, want %v", *slept, tt.wantSleep)
			}
			for i := range tt.wantSleep {
				if (*slept)[i] != tt.wantSleep[i] {
					t.Errorf("sleep %d = %v, want %v", i, (*slept)[i], tt.wantSleep[i])
				}
			}
			if n := len(srv.Requests()); n != tt.requests {
				t.Errorf("%d requests, want %d", n, tt.requests)
			}
		})
	}
}

// A retry is said before it is waited for, and an API that asks for more
// than MaxRetryWait gets an error that says how long it asked for.
func TestRetriesAreSaid(t *testing.T) {
	srv := apitest.New(key)
	defer srv.Close()
	srv.Inject(apitest.Fault{Status: 503, RetryAfter: "2", Times: 1})
	c, _ := newClient(t, srv)
	var said []string
	c.OnRetry = func(status int, wait time.Duration, retry, of int) {
		said = append(said, fmt.Sprintf("%d %s %d/%d", status, wait, retry, of))
	}
	if _, err := c.ListWebhooks(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(said) != 1 || said[0] != "503 2s 1/3" {
		t.Errorf("said %v", said)
	}
	srv.Inject(apitest.Fault{Status: 429, RetryAfter: "999999", Times: 1})
	_, err := c.ListWebhooks(context.Background())
	if err == nil || !strings.Contains(err.Error(), "as it asked (Retry-After)") {
		t.Errorf("err = %v, want it to say how long the API asked to wait", err)
	}
}

func TestNetworkErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	slow := apitest.New(key)
	defer slow.Close()
	slow.Inject(apitest.Fault{Delay: time.Minute})

	tests := []struct {
		name, baseURL string
		client        *http.Client
		message       string
	}{
		{"refused", "http://" + addr, &http.Client{}, "could not reach " + addr + " (connection refused)"},
		{"slow", slow.URL, &http.Client{Timeout: 100 * time.Millisecond}, "did not answer in time"},
		{"bad host", "http://no-such-host.invalid", &http.Client{}, "could not reach no-such-host.invalid: the name does not resolve"},
		{"bad URL", "::not a url", &http.Client{}, "is not valid: set --api-url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := api.New(tt.baseURL, key, tt.client, "test")
			c.Retries = 0
			err := list(c)
			if err == nil || !strings.Contains(err.Error(), tt.message) {
				t.Errorf("err = %v, want %q", err, tt.message)
			}
			if err != nil && strings.Contains(err.Error(), key) {
				t.Errorf("key in error: %v", err)
			}
		})
	}
}

func TestMaskKey(t *testing.T) {
	if got := api.MaskKey("jsk_live_abcdef123456"); got != "jsk_…3456" {
		t.Errorf("MaskKey = %q", got)
	}
	if got := api.MaskKey("jsk_1"); strings.Contains(got, "1") {
		t.Errorf("a short key is shown: %q", got)
	}
}

// The API is not trusted with more than it needs: a redirect to another
// origin is not followed with the key, an echoed key is masked, and a
// Retry-After of any size is a wait of at most a minute.
func TestHostileAPI(t *testing.T) {
	var sawKey []string
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sawKey = append(sawKey, r.Header.Get("Authorization"))
		io.WriteString(w, `{"success":true,"data":{"webhooks":[]}}`)
	}))
	defer other.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/v1/webhooks":
			http.Redirect(w, r, other.URL+r.URL.Path, http.StatusTemporaryRedirect)
		case "/moved/api/v1/webhooks":
			io.WriteString(w, `{"success":true,"data":{"webhooks":[]}}`)
		default:
			http.Redirect(w, r, "/moved"+strings.TrimPrefix(r.URL.Path, "/same"), http.StatusTemporaryRedirect)
		}
	}))
	defer srv.Close()

	c := api.New(srv.URL, key, &http.Client{}, "test")
	err := list(c)
	if err == nil || !strings.Contains(err.Error(), "redirected to another origin") || strings.Contains(err.Error(), key) {
		t.Errorf("cross-origin redirect: %v", err)
	}
	if len(sawKey) != 0 {
		t.Errorf("the other origin received %q", sawKey)
	}
	c = api.New(srv.URL+"/same", key, &http.Client{}, "test")
	if err := list(c); err != nil {
		t.Errorf("a redirect within the API's origin should be followed: %v", err)
	}

	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"success":false,"error":"bad header %s"}`, r.Header.Get("Authorization"))
	}))
	defer echo.Close()
	err = list(api.New(echo.URL, key, &http.Client{}, "test"))
	if err == nil || strings.Contains(err.Error(), key) || !strings.Contains(err.Error(), api.MaskKey(key)) {
		t.Errorf("echoed key: %v", err)
	}

	api429 := apitest.New(key)
	defer api429.Close()
	api429.Inject(apitest.Fault{Status: 429, RetryAfter: "120000000000"})
	c, slept := newClient(t, api429)
	if err := list(c); err == nil || len(*slept) != 0 {
		t.Errorf("Retry-After 120000000000: waited %v (%v), want no wait and an error", *slept, err)
	}
}

func TestInsecure(t *testing.T) {
	for url, want := range map[string]bool{
		"https://api.jasni.ai":    false,
		"http://api.jasni.ai":     true,
		"http://10.0.0.5:8080":    true,
		"http://127.0.0.1:9000":   false,
		"http://localhost:9000/x": false,
		"http://[::1]:9000":       false,
		"::bad":                   false,
	} {
		if got := api.Insecure(url); got != want {
			t.Errorf("Insecure(%q) = %v, want %v", url, got, want)
		}
	}
}
