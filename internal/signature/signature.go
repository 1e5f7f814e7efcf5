// Package signature signs and verifies webhook deliveries. Each provider's
// scheme is one type behind the Scheme interface; they are pure functions of
// the secret, the raw body and the delivery's metadata.
package signature

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"time"
)

// Message is what a scheme signs: the raw body bytes, exactly as sent, and the
// metadata some schemes mix into the signature.
type Message struct {
	Body      []byte
	Timestamp time.Time
	// ID identifies the delivery, for schemes that sign it (Standard Webhooks)
	// or send it as an idempotency key (Voisnap).
	ID string
}

// Scheme is one provider's signature format.
type Scheme interface {
	// Name is the scheme's identifier, as given to --scheme.
	Name() string
	// Sign returns every header the scheme defines for msg: the signature and
	// the metadata headers that travel with it.
	Sign(secret string, msg Message) http.Header
	// Verify checks the signature in h against msg.Body. It returns nil when
	// the signature is valid, else an error matching one of the Err values.
	Verify(secret string, body []byte, h http.Header) error
	// CheckHeader looks at the headers alone: ErrMissingSignature or
	// ErrMalformedSignature when no body could make them valid, so a
	// listener can refuse before reading the body.
	CheckHeader(h http.Header) error
}

var (
	ErrMissingSignature   = errors.New("no signature header")
	ErrMalformedSignature = errors.New("signature is not in the scheme's format")
	ErrMismatch           = errors.New("signature does not match the body and secret")
)

// hmacSHA256 is the primitive every current scheme builds on.
func hmacSHA256(key, data []byte) []byte {
	mac := hmac.New(sha256.New, key)
	mac.Write(data)
	return mac.Sum(nil)
}

// checkHex reports whether s is a hex SHA-256 MAC, in either case.
func checkHex(s string) error {
	if len(s) != 2*sha256.Size {
		return ErrMalformedSignature
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return ErrMalformedSignature
		}
	}
	return nil
}

// equalHex compares a received hex signature with the expected MAC in
// constant time. Hex case is not significant.
func equalHex(received string, expected []byte) (bool, error) {
	got, err := hex.DecodeString(received)
	if err != nil || len(got) != sha256.Size {
		return false, ErrMalformedSignature
	}
	return hmac.Equal(got, expected), nil
}
