package delivery

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"time"

	"github.com/jasni/jasni-cli/internal/provider"
)

// Signing is how a request is signed: by which provider, with which keys
// (none: the request goes unsigned, its timestamp and id headers still
// set), at what time, and under which delivery id.
type Signing struct {
	Provider  *provider.Provider
	Keys      []provider.Key
	Timestamp time.Time
	// ID is the delivery id for providers that send one; "" makes a new one.
	ID string
	// URL is where it is sent, for schemes that sign it; NewRequest sets it.
	URL string
}

// NewRequest builds a delivery the way the provider sends one: its content
// type, event header and user agent, the signature headers, then extra on
// top and removed taken away (--header).
func NewRequest(url string, body []byte, event string, s Signing, extra http.Header, removed []string) (Request, error) {
	p := s.Provider
	body, err := p.WireBody(body)
	if err != nil {
		return Request{}, err
	}
	if s.URL == "" {
		s.URL = url
	}
	h := http.Header{}
	h.Set("Content-Type", p.ContentType)
	if p.Headers.Event != "" && event != "" {
		h.Set(p.Headers.Event, p.EventHeader(event))
	}
	for k, v := range p.Headers.Extra {
		h.Set(k, v)
	}
	if name, value, ok := p.HandshakeHeader(event); ok {
		h.Set(name, value)
	}
	if p.UserAgent != "" {
		h.Set("User-Agent", p.UserAgent)
	}
	if err := Sign(h, body, s); err != nil {
		return Request{}, err
	}
	for k, v := range extra {
		h[k] = v
	}
	for _, k := range removed {
		h.Del(k)
	}
	return Request{URL: url, Body: body, Header: h}, nil
}

// Sign sets the signature, timestamp and delivery id headers on h for
// body, replacing any there.
func Sign(h http.Header, body []byte, s Signing) error {
	p := s.Provider
	msg := provider.Message{Body: body, Timestamp: s.Timestamp, ID: s.ID, URL: s.URL}
	if msg.Timestamp.IsZero() {
		msg.Timestamp = time.Now()
	}
	if p.Headers.ID != "" && msg.ID == "" {
		b := make([]byte, 12)
		if _, err := rand.Read(b); err != nil {
			return fmt.Errorf("generate a delivery id: %w", err)
		}
		msg.ID = "msg_" + hex.EncodeToString(b)
	}
	signed := p.Sign(s.Keys, msg)
	if len(s.Keys) == 0 {
		signed.Del(p.Signature.Header)
	}
	for k, v := range signed {
		h[k] = v
	}
	return nil
}
