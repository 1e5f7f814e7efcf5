package api

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// FuzzDecode: any answer the API could give, with any status and any
// Retry-After, decodes to a value or an *Error without a panic, never puts
// the key in a message, and never asks for a wait outside [0, 1 min].
func FuzzDecode(f *testing.F) {
	for _, seed := range []struct {
		status int
		body   string
		retry  string
	}{
		{200, `{"success":true,"data":{"webhooks":[{"id":"wh_1","url":"https://x","events":["email.sent"],"active":true}]}}`, ""},
		{201, `{"success":true,"data":{"webhook":{"id":"wh_1","secret":"whsec_x"}}}`, ""},
		{400, `{"success":false,"error":{"message":"bad jsk_fuzz_key_0123456789","code":"x"}}`, "1"},
		{429, `{}`, "120000000000"},
		{503, `<html>`, "Wed, 21 Oct 2015 07:28:00 GMT"},
		{200, `[{"id":"wh_1"}]`, "-5"},
		{200, `{"success":true,"data":null}`, "99999999999999999999999"},
	} {
		f.Add(seed.status, []byte(seed.body), seed.retry)
	}
	const key = "jsk_fuzz_key_0123456789"
	c := New("https://api.example", key, &http.Client{}, "fuzz")
	reqURL, _ := url.Parse("https://api.example/api/v1/webhooks")
	f.Fuzz(func(t *testing.T, status int, body []byte, retryAfter string) {
		resp := &http.Response{StatusCode: status, Header: http.Header{"Retry-After": {retryAfter}, "Content-Type": {"application/json"}},
			Request: &http.Request{URL: reqURL}}
		var list struct {
			Webhooks []Webhook `json:"webhooks"`
		}
		var one struct {
			Webhook *Webhook `json:"webhook"`
		}
		for _, out := range []any{nil, &list, &one} {
			err := c.decode(resp, body, out)
			if err != nil && strings.Contains(err.Error(), key) {
				t.Fatalf("the key is in %q", err)
			}
		}
		for attempt := range 4 {
			if d := backoff(attempt, retryAfter, time.Now()); d < 0 || d > time.Hour {
				t.Fatalf("backoff(%d, %q) = %v", attempt, retryAfter, d)
			}
		}
	})
}
