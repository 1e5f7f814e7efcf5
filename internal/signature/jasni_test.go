package signature

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

// docsSignature is the Jasni docs' verification, transcribed: hex HMAC-SHA256
// of the raw body keyed with the secret string.
func docsSignature(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}

func TestJasniSign(t *testing.T) {
	ts := time.Unix(1705314600, 0)
	tests := []struct {
		name, secret, body string
		want               string
	}{
		// Independent vector: printf '%s' '{"event":"email.sent"}' | openssl dgst -sha256 -hmac whsec_test
		{"known vector", "whsec_test", `{"event":"email.sent"}`, "8535ca888c6215c5f1125efe1f490eabf68037fcc793bd214d3e9d0b7988b406"},
		{"empty body", "whsec_test", ``, ""},
		{"unicode body", "whsec_ünï", `{"subject":"héllo ✓"}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := Jasni{}.Sign(tt.secret, Message{Body: []byte(tt.body), Timestamp: ts})
			got := h.Get(HeaderJasniSignature)
			want := docsSignature(tt.secret, []byte(tt.body))
			if got != want {
				t.Errorf("signature = %s, the docs' algorithm gives %s", got, want)
			}
			if tt.want != "" && got != tt.want {
				t.Errorf("signature = %s, want the openssl vector %s", got, tt.want)
			}
			if got != strings.ToLower(got) || len(got) != 64 {
				t.Errorf("signature %q is not 64 lower-case hex characters", got)
			}
			if ts := h.Get(HeaderJasniTimestamp); ts != "1705314600" {
				t.Errorf("timestamp header = %q, want Unix seconds", ts)
			}
		})
	}
}

func TestJasniVerify(t *testing.T) {
	body := []byte(`{"event":"email.received","data":{"id":"1"}}`)
	good := docsSignature("whsec_test", body)
	tests := []struct {
		name    string
		secret  string
		body    []byte
		sig     string
		wantErr error
	}{
		{"valid", "whsec_test", body, good, nil},
		{"valid upper case hex", "whsec_test", body, strings.ToUpper(good), nil},
		{"wrong secret", "whsec_other", body, good, ErrMismatch},
		{"tampered body", "whsec_test", append([]byte(nil), append(body, ' ')...), good, ErrMismatch},
		{"missing", "whsec_test", body, "", ErrMissingSignature},
		{"not hex", "whsec_test", body, "zz" + good[2:], ErrMalformedSignature},
		{"too short", "whsec_test", body, good[:10], ErrMalformedSignature},
		{"prefixed", "whsec_test", body, "sha256=" + good, ErrMalformedSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.sig != "" {
				h.Set(HeaderJasniSignature, tt.sig)
			}
			err := Jasni{}.Verify(tt.secret, tt.body, h)
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("Verify = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestJasniRoundTrip(t *testing.T) {
	for _, body := range []string{"", "{}", `{"a":"<b>&</b>"}`, strings.Repeat("x", 1<<16)} {
		h := Jasni{}.Sign("whsec_abc", Message{Body: []byte(body), Timestamp: time.Now()})
		if err := (Jasni{}).Verify("whsec_abc", []byte(body), h); err != nil {
			t.Errorf("round trip of %d bytes: %v", len(body), err)
		}
	}
}
