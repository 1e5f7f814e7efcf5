package signature

import (
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
)

// The headers Jasni sends with every delivery.
const (
	HeaderJasniSignature = "X-Webhook-Signature"
	HeaderJasniTimestamp = "X-Webhook-Timestamp"
)

// Jasni is Jasni's scheme: the lowercase hex HMAC-SHA256 of the raw body,
// keyed with the whole secret string (whsec_ prefix included) as UTF-8 bytes.
// The timestamp header travels with it but is not signed.
type Jasni struct{}

func (Jasni) Name() string { return "jasni" }

// Compute returns the hex signature of body.
func (Jasni) Compute(secret string, body []byte) string {
	return hex.EncodeToString(hmacSHA256([]byte(secret), body))
}

func (j Jasni) Sign(secret string, msg Message) http.Header {
	h := http.Header{}
	h.Set(HeaderJasniSignature, j.Compute(secret, msg.Body))
	h.Set(HeaderJasniTimestamp, strconv.FormatInt(msg.Timestamp.Unix(), 10))
	return h
}

func (Jasni) CheckHeader(h http.Header) error {
	sig := strings.TrimSpace(h.Get(HeaderJasniSignature))
	if sig == "" {
		return ErrMissingSignature
	}
	return checkHex(sig)
}

func (Jasni) Verify(secret string, body []byte, h http.Header) error {
	sig := strings.TrimSpace(h.Get(HeaderJasniSignature))
	if sig == "" {
		return ErrMissingSignature
	}
	ok, err := equalHex(sig, hmacSHA256([]byte(secret), body))
	if err != nil {
		return err
	}
	if !ok {
		return ErrMismatch
	}
	return nil
}
