package provider

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestDiagnose(t *testing.T) {
	const secret = "whsec_dGVzdHNlY3JldGtleQ=="
	body := []byte(`{"event":"email.received","timestamp":"2024-01-15T10:30:00.000Z","data":{"subject":"a<b","id":"1"}}`)
	jasni := builtin(t, "jasni")
	sign := func(key string, b []byte) string {
		return jasni.Sign([]Key{{b: []byte(key)}}, Message{Body: b}).Get("X-Webhook-Signature")
	}
	pretty := []byte("{\n  \"event\": \"email.received\",\n  \"timestamp\": \"2024-01-15T10:30:00.000Z\",\n  \"data\": {\n    \"subject\": \"a<b\",\n    \"id\": \"1\"\n  }\n}")
	python := []byte(`{"event": "email.received", "timestamp": "2024-01-15T10:30:00.000Z", "data": {"subject": "a<b", "id": "1"}}`)
	decoded, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))

	tests := []struct {
		name      string
		secret    string
		body      []byte
		sig       string
		valid     bool
		wantCause string
	}{
		{name: "valid", secret: secret, body: body, sig: sign(secret, body), valid: true},
		{name: "valid with header name", secret: secret, body: body, sig: "X-Webhook-Signature: " + sign(secret, body), valid: true},
		{name: "upper case, which the docs' receivers refuse", secret: secret, body: body, sig: strings.ToUpper(sign(secret, body)), wantCause: "upper case"},
		{name: "a prefix Jasni does not send", secret: secret, body: body, sig: "sha256=" + sign(secret, body), wantCause: `starts with "sha256"`},
		{name: "trailing newline added to the copy", secret: secret, body: append(append([]byte(nil), body...), '\n'), sig: sign(secret, body), wantCause: "trailing newline"},
		{name: "newline lost from the copy", secret: secret, body: body, sig: sign(secret, append(append([]byte(nil), body...), '\n')), wantCause: "ended with a newline"},
		{name: "copy is pretty-printed", secret: secret, body: pretty, sig: sign(secret, body), wantCause: "this copy is pretty-printed, but the signed body was compact"},
		{name: "copy is json.dumps output", secret: secret, body: python, sig: sign(secret, body), wantCause: "this copy is spaced as Python's json.dumps writes it"},
		{name: "copy has CRLF", secret: secret, body: []byte(strings.ReplaceAll(string(pretty), "\n", "\r\n")), sig: sign(secret, pretty), wantCause: "CRLF line endings where the signed body had LF"},
		{name: "copy lost CRLF", secret: secret, body: pretty, sig: sign(secret, []byte(strings.ReplaceAll(string(pretty), "\n", "\r\n"))), wantCause: "LF line endings where the signed body had CRLF"},
		{name: "signer saw pretty JSON", secret: secret, body: body, sig: sign(secret, pretty), wantCause: "this copy is compact, but the signed body was pretty-printed"},
		{name: "python json.dumps", secret: secret, body: body, sig: sign(secret, python), wantCause: "signed body was spaced as Python's json.dumps"},
		{name: "signed with sorted keys", secret: secret, body: body, sig: sign(secret, []byte(`{"data":{"id":"1","subject":"a\u003cb"},"event":"email.received","timestamp":"2024-01-15T10:30:00.000Z"}`)), wantCause: "compact with its keys sorted"},
		{name: "copy has sorted keys", secret: secret, body: []byte(`{"data": {"id": "1", "subject": "a<b"}, "event": "email.received", "timestamp": "2024-01-15T10:30:00.000Z"}`), sig: sign(secret, body), wantCause: "the secret is not the one"},
		{name: "secret without prefix", secret: secret, body: body, sig: sign(strings.TrimPrefix(secret, "whsec_"), body), wantCause: "without its \"whsec_\" prefix"},
		{name: "secret base64-decoded", secret: secret, body: body, sig: sign(string(decoded), body), wantCause: "base64-decoded"},
		{name: "user dropped the prefix", secret: strings.TrimPrefix(secret, "whsec_"), body: body, sig: sign(secret, body), wantCause: "\"whsec_\" in front"},
		{name: "secret with newline", secret: secret + "\n", body: body, sig: sign(secret, body), wantCause: "whitespace"},
		{name: "wrong secret", secret: "whsec_other", body: body, sig: sign(secret, body), wantCause: "not the one"},
		{name: "standard webhooks", secret: secret, body: body, sig: "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", wantCause: "another provider's format"},
		{name: "base64", secret: secret, body: body, sig: base64.StdEncoding.EncodeToString(make([]byte, 32)), wantCause: "base64"},
		{name: "garbage", secret: secret, body: body, sig: "hello", wantCause: "not a hex SHA-256"},
		{name: "empty", secret: secret, body: body, sig: "  ", wantCause: "no signature"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := jasni.Diagnose(tt.secret, tt.body, http.Header{"X-Webhook-Signature": {tt.sig}}, time.Now())
			if d.Valid != tt.valid {
				t.Fatalf("Valid = %v, want %v (cause %q)", d.Valid, tt.valid, d.Cause)
			}
			if !strings.Contains(d.Cause, tt.wantCause) {
				t.Errorf("Cause = %q, want it to mention %q", d.Cause, tt.wantCause)
			}
			if !tt.valid && d.Fix == "" {
				t.Error("no Fix for a failure")
			}
		})
	}
}

// Timestamped schemes are diagnosed in their own terms.
func TestDiagnoseTimestamped(t *testing.T) {
	voisnap, standard := builtin(t, "voisnap"), builtin(t, "standard")
	body := []byte(`{"type":"Error","data":{}}`)
	now := time.Unix(1700000000, 0)
	vs := func(ts time.Time, secret string) http.Header {
		return voisnap.Sign([]Key{{b: []byte(secret)}}, Message{Body: body, Timestamp: ts, ID: "d1"})
	}
	const stdSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	stdKey, _ := standard.ParseKey(stdSecret)
	tests := []struct {
		name   string
		p      *Provider
		secret string
		h      http.Header
		valid  bool
		cause  string
	}{
		{"voisnap valid", voisnap, "vs", vs(now, "vs"), true, ""},
		{"voisnap stale", voisnap, "vs", vs(now.Add(-10*time.Minute), "vs"), false, "signature matches, but the timestamp"},
		{"voisnap without its prefix", voisnap, "vs", http.Header{"X-Webhook-Signature": {strings.TrimPrefix(vs(now, "vs").Get("X-Webhook-Signature"), "sha256=")}, "X-Webhook-Timestamp": {strconv.FormatInt(now.Unix(), 10)}}, false, `does not start with "sha256="`},
		{"voisnap without a timestamp", voisnap, "vs", http.Header{"X-Webhook-Signature": {vs(now, "vs").Get("X-Webhook-Signature")}}, false, "no timestamp"},
		{"standard valid", standard, stdSecret, standard.Sign([]Key{stdKey}, Message{Body: body, Timestamp: now, ID: "msg_1"}), true, ""},
		{"standard signed with the whole string", standard, stdSecret, standard.Sign([]Key{{b: []byte(stdSecret)}}, Message{Body: body, Timestamp: now, ID: "msg_1"}), false, "whole secret string as the key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := tt.p.Diagnose(tt.secret, body, tt.h, now)
			if d.Valid != tt.valid || !strings.Contains(d.Cause, tt.cause) {
				t.Errorf("Valid %v cause %q; want %v and %q", d.Valid, d.Cause, tt.valid, tt.cause)
			}
		})
	}
}
