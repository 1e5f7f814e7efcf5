package provider

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Errors from Verify and CheckHeader.
var (
	ErrMissingSignature   = errors.New("no signature header")
	ErrMalformedSignature = errors.New("signature is not in the scheme's format")
	ErrMismatch           = errors.New("signature does not match the body and secret")
	ErrMissingTimestamp   = errors.New("no timestamp header")
	ErrStale              = errors.New("the timestamp is outside the provider's tolerance")
	ErrMissingID          = errors.New("no delivery id header")
)

// Key is a secret made into the HMAC key the provider's way.
type Key struct{ b []byte }

// ParseKey turns a secret into a key, or says why it cannot be one.
func (s *Spec) ParseKey(secret string) (Key, error) {
	if secret == "" {
		return Key{}, errors.New("the secret is empty")
	}
	if s.Signature.Key != "base64" {
		return Key{b: []byte(secret)}, nil
	}
	rest, ok := strings.CutPrefix(secret, s.Signature.KeyPrefix)
	if !ok {
		return Key{}, fmt.Errorf("a %s secret starts with %q followed by base64; this one does not start with %q", s.Title, s.Signature.KeyPrefix, s.Signature.KeyPrefix)
	}
	b, err := base64.StdEncoding.DecodeString(rest)
	if err != nil || len(b) == 0 {
		return Key{}, fmt.Errorf("a %s secret is %q followed by base64; what follows %q here is not base64", s.Title, s.Signature.KeyPrefix, s.Signature.KeyPrefix)
	}
	return Key{b: b}, nil
}

// Message is what is signed: the raw body as sent, and the metadata some
// schemes mix in.
type Message struct {
	Body      []byte
	Timestamp time.Time
	ID        string
}

// appendPart appends a part of the payload template to buf, with its
// {timestamp} and {id} filled in from m.
func appendPart(buf []byte, part string, m Message) []byte {
	for part != "" {
		i := strings.IndexByte(part, '{')
		if i < 0 {
			return append(buf, part...)
		}
		buf = append(buf, part[:i]...)
		part = part[i:]
		switch {
		case strings.HasPrefix(part, "{timestamp}"):
			buf = strconv.AppendInt(buf, m.Timestamp.Unix(), 10)
			part = part[len("{timestamp}"):]
		case strings.HasPrefix(part, "{id}"):
			buf = append(buf, m.ID...)
			part = part[len("{id}"):]
		default:
			buf = append(buf, '{')
			part = part[1:]
		}
	}
	return buf
}

func (s *Spec) encode(mac []byte) string {
	if s.Signature.Encoding == "base64" {
		return s.Signature.Prefix + base64.StdEncoding.EncodeToString(mac)
	}
	return s.Signature.Prefix + hex.EncodeToString(mac)
}

// Sign returns the headers that carry m's signature and metadata: the
// signature (one per key, for key rotation where the scheme allows several),
// the timestamp and the delivery id when the provider sends them.
func (s *Spec) Sign(keys []Key, m Message) http.Header {
	h := http.Header{}
	s.NewSigner(keys).SignInto(h, m)
	return h
}

// CheckHeader looks at the headers alone: ErrMissingSignature or
// ErrMalformedSignature when no body could make them valid.
func (s *Spec) CheckHeader(h http.Header) error {
	_, err := s.candidates(h)
	return err
}

// candidates are the MACs the signature header carries, decoded.
func (s *Spec) candidates(h http.Header) ([][]byte, error) {
	raw := strings.TrimSpace(h.Get(s.Signature.Header))
	if raw == "" {
		return nil, ErrMissingSignature
	}
	parts := []string{raw}
	if s.Signature.Separator != "" {
		parts = strings.Split(raw, s.Signature.Separator)
	}
	var out [][]byte
	for _, p := range parts {
		p, ok := strings.CutPrefix(strings.TrimSpace(p), s.Signature.Prefix)
		if !ok {
			continue // another version of the scheme, or garbage
		}
		var b []byte
		var err error
		if s.Signature.Encoding == "base64" {
			b, err = base64.StdEncoding.DecodeString(p)
		} else if p == strings.ToLower(p) {
			// Lower case only, as the providers send it: their own receivers
			// compare the strings, and upper case fails there.
			b, err = hex.DecodeString(p)
		}
		if err == nil && len(b) == sha256.Size {
			out = append(out, b)
		}
	}
	if len(out) == 0 {
		return nil, ErrMalformedSignature
	}
	return out, nil
}

// Verify checks a delivery as a receiver following the provider's docs
// would: the signature against any of keys, and, when the scheme signs a
// timestamp, that it is within the tolerance of now.
func (s *Spec) Verify(keys []Key, body []byte, h http.Header, now time.Time) error {
	c := s.NewCheck(keys, h, now)
	_, _ = c.Write(body)
	return c.Verify()
}

// Check is Verify fed the body as it arrives, so that a body is verified
// as soon as its last byte is in rather than read a second time: the MAC
// of a 10 MiB body takes as long as reading it from a socket.
type Check struct {
	spec  *Spec
	err   error // what the headers alone say is wrong
	macs  []hash.Hash
	sums  [][]byte
	after []byte
}

// NewCheck starts checking a delivery's signature in h with keys, as of
// now; the body goes to Write.
func (s *Spec) NewCheck(keys []Key, h http.Header, now time.Time) *Check {
	c := &Check{spec: s}
	macs, err := s.candidates(h)
	if err != nil {
		c.err = err
		return c
	}
	c.sums = macs
	var m Message
	if strings.Contains(s.Signature.Payload, "{timestamp}") {
		raw := strings.TrimSpace(h.Get(s.Headers.Timestamp))
		if raw == "" {
			c.err = ErrMissingTimestamp
			return c
		}
		secs, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			c.err = fmt.Errorf("%w: %s %q is not Unix seconds", ErrMalformedSignature, s.Headers.Timestamp, raw)
			return c
		}
		m.Timestamp = time.Unix(secs, 0)
		if tol := s.Signature.Tolerance.Duration; tol > 0 {
			if skew := now.Sub(m.Timestamp); skew > tol || -skew > tol {
				c.err = fmt.Errorf("%w (%s off, %s allowed)", ErrStale, skew.Round(time.Second).Abs(), tol)
				return c
			}
		}
	}
	if strings.Contains(s.Signature.Payload, "{id}") {
		if m.ID = strings.TrimSpace(h.Get(s.Headers.ID)); m.ID == "" {
			c.err = ErrMissingID
			return c
		}
	}
	before, after, _ := strings.Cut(s.Signature.Payload, "{body}")
	prefix := appendPart(nil, before, m)
	c.after = appendPart(nil, after, m)
	for _, k := range keys {
		mac := hmac.New(sha256.New, k.b)
		mac.Write(prefix)
		c.macs = append(c.macs, mac)
	}
	return c
}

// Write takes the next part of the body. It never fails.
func (c *Check) Write(p []byte) (int, error) {
	for _, mac := range c.macs {
		mac.Write(p)
	}
	return len(p), nil
}

// Verify says whether the body written matches the signature: nil, or
// why not (the errors Verify returns).
func (c *Check) Verify() error {
	if c.err != nil {
		return c.err
	}
	for _, mac := range c.macs {
		mac.Write(c.after)
		want := mac.Sum(nil)
		for _, got := range c.sums {
			if hmac.Equal(got, want) {
				return nil
			}
		}
	}
	return ErrMismatch
}

// Signer signs one delivery after another with the same keys, reusing its
// MAC state and buffers: a load generator signs thousands a second.
type Signer struct {
	spec          *Spec
	macs          []hash.Hash
	before, after string
	buf, sum      []byte
	sigs          []string
}

// NewSigner returns a Signer for keys (not safe for concurrent use).
func (s *Spec) NewSigner(keys []Key) *Signer {
	g := &Signer{spec: s}
	for _, k := range keys {
		g.macs = append(g.macs, hmac.New(sha256.New, k.b))
	}
	g.before, g.after, _ = strings.Cut(s.Signature.Payload, "{body}")
	return g
}

// SignInto sets m's signature, timestamp and id headers on h, as Sign
// would return them; h's other headers are left alone.
func (g *Signer) SignInto(h http.Header, m Message) {
	s := g.spec
	g.sigs = g.sigs[:0]
	for _, mac := range g.macs {
		mac.Reset()
		g.write(mac, g.before, m)
		mac.Write(m.Body)
		g.write(mac, g.after, m)
		g.sum = mac.Sum(g.sum[:0])
		g.sigs = append(g.sigs, s.encode(g.sum))
		if s.Signature.Separator == "" {
			break // the scheme carries one signature
		}
	}
	setOne(h, s.Signature.Header, strings.Join(g.sigs, s.Signature.Separator))
	if s.Headers.Timestamp != "" {
		setOne(h, s.Headers.Timestamp, strconv.FormatInt(m.Timestamp.Unix(), 10))
	}
	if s.Headers.ID != "" && m.ID != "" {
		setOne(h, s.Headers.ID, m.ID)
	}
	if len(g.macs) == 0 {
		h.Del(s.Signature.Header)
	}
}

// write writes a part of the payload template with its placeholders filled.
func (g *Signer) write(w io.Writer, part string, m Message) {
	if part == "" {
		return
	}
	g.buf = appendPart(g.buf[:0], part, m)
	_, _ = w.Write(g.buf)
}

// setOne sets a header's single value, reusing its slice.
func setOne(h http.Header, key, value string) {
	key = http.CanonicalHeaderKey(key)
	if v := h[key]; len(v) == 1 {
		v[0] = value
		return
	}
	h[key] = []string{value}
}

// NewSecret makes a random secret in the form this scheme's keys take:
// whsec_ and hex for a secret used whole, KeyPrefix and base64 for a
// base64 key.
func (s *Spec) NewSecret() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate a secret: %w", err)
	}
	if s.Signature.Key == "base64" {
		return s.Signature.KeyPrefix + base64.StdEncoding.EncodeToString(b), nil
	}
	return "whsec_" + hex.EncodeToString(b), nil
}
