package signature

import (
	"encoding/base64"
	"strings"
	"testing"
)

func TestDiagnoseJasni(t *testing.T) {
	const secret = "whsec_dGVzdHNlY3JldGtleQ=="
	body := []byte(`{"event":"email.received","timestamp":"2024-01-15T10:30:00.000Z","data":{"subject":"a<b","id":"1"}}`)
	sign := func(key string, b []byte) string { return Jasni{}.Compute(key, b) }
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
		wantNote  string
	}{
		{name: "valid", secret: secret, body: body, sig: sign(secret, body), valid: true},
		{name: "valid with header name", secret: secret, body: body, sig: "X-Webhook-Signature: " + sign(secret, body), valid: true},
		{name: "valid upper case", secret: secret, body: body, sig: strings.ToUpper(sign(secret, body)), valid: true, wantNote: "upper case"},
		{name: "sha256 prefix", secret: secret, body: body, sig: "sha256=" + sign(secret, body), valid: true, wantNote: "sha256="},
		{name: "trailing newline added to the copy", secret: secret, body: append(append([]byte(nil), body...), '\n'), sig: sign(secret, body), wantCause: "trailing newline"},
		{name: "newline lost from the copy", secret: secret, body: body, sig: sign(secret, append(append([]byte(nil), body...), '\n')), wantCause: "ended with a newline"},
		{name: "copy is pretty-printed", secret: secret, body: pretty, sig: sign(secret, body), wantCause: "compacted"},
		{name: "signer saw pretty JSON", secret: secret, body: body, sig: sign(secret, pretty), wantCause: "pretty-printed"},
		{name: "python json.dumps", secret: secret, body: body, sig: sign(secret, python), wantCause: "Python"},
		{name: "sorted keys", secret: secret, body: body, sig: sign(secret, []byte(`{"data":{"id":"1","subject":"a\u003cb"},"event":"email.received","timestamp":"2024-01-15T10:30:00.000Z"}`)), wantCause: "keys sorted"},
		{name: "secret without prefix", secret: secret, body: body, sig: sign(strings.TrimPrefix(secret, "whsec_"), body), wantCause: "without its \"whsec_\" prefix"},
		{name: "secret base64-decoded", secret: secret, body: body, sig: sign(string(decoded), body), wantCause: "base64-decoded"},
		{name: "user dropped the prefix", secret: strings.TrimPrefix(secret, "whsec_"), body: body, sig: sign(secret, body), wantCause: "\"whsec_\" in front"},
		{name: "secret with newline", secret: secret + "\n", body: body, sig: sign(secret, body), wantCause: "whitespace"},
		{name: "wrong secret", secret: "whsec_other", body: body, sig: sign(secret, body), wantCause: "not the one"},
		{name: "standard webhooks", secret: secret, body: body, sig: "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", wantCause: "Standard Webhooks"},
		{name: "base64", secret: secret, body: body, sig: base64.StdEncoding.EncodeToString(make([]byte, 32)), wantCause: "base64"},
		{name: "garbage", secret: secret, body: body, sig: "hello", wantCause: "not a hex SHA-256"},
		{name: "empty", secret: secret, body: body, sig: "  ", wantCause: "no signature"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := DiagnoseJasni(tt.secret, tt.body, tt.sig)
			if d.Valid != tt.valid {
				t.Fatalf("Valid = %v, want %v (cause %q)", d.Valid, tt.valid, d.Cause)
			}
			if !strings.Contains(d.Cause, tt.wantCause) {
				t.Errorf("Cause = %q, want it to mention %q", d.Cause, tt.wantCause)
			}
			if !tt.valid && d.Fix == "" {
				t.Error("no Fix for a failure")
			}
			if tt.wantNote != "" && !strings.Contains(strings.Join(d.Notes, "\n"), tt.wantNote) {
				t.Errorf("Notes = %q, want one mentioning %q", d.Notes, tt.wantNote)
			}
		})
	}
}
