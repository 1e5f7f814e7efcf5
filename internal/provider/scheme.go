package provider

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1" //nolint:gosec // the HMAC some providers (Intercom) sign with
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jasni/jasni-cli/internal/jsonpeek"
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

// Key is a secret made into the HMAC key the provider's way; for ed25519,
// a public key, with its private key when it can sign.
type Key struct {
	b    []byte
	pub  ed25519.PublicKey
	priv ed25519.PrivateKey
}

// CanSign reports whether the key can sign (not an ed25519 public key).
func (k Key) CanSign() bool { return k.pub == nil || k.priv != nil }

// ErrPublicKey is signing with an ed25519 public key.
var ErrPublicKey = errors.New("this is a public key, which verifies but cannot sign: give the private key (jasni providers show names its form)")

func (s *Spec) isEd25519() bool { return s.Signature.Algorithm == "ed25519" }

// SigningKey is ParseKey for signing: an ed25519 public key, which only
// verifies, is ErrPublicKey.
func (s *Spec) SigningKey(secret string) (Key, error) {
	k, err := s.ParseKey(secret)
	if err == nil && !k.CanSign() {
		return Key{}, ErrPublicKey
	}
	return k, err
}

// ParseKey turns a secret into a key, or says why it cannot be one.
func (s *Spec) ParseKey(secret string) (Key, error) {
	if secret == "" {
		return Key{}, errors.New("the secret is empty")
	}
	if s.isEd25519() {
		b, err := hex.DecodeString(strings.TrimPrefix(secret, s.Signature.KeyPrefix))
		switch {
		case err == nil && len(b) == ed25519.PublicKeySize:
			return Key{pub: b}, nil
		case err == nil && len(b) == ed25519.PrivateKeySize:
			priv := ed25519.PrivateKey(b)
			return Key{pub: priv.Public().(ed25519.PublicKey), priv: priv}, nil
		}
		return Key{}, fmt.Errorf("a %s key is hex: 64 characters for the public key that verifies, 128 for the private key that signs (seed and public key); this is neither", s.Title)
	}
	form := s.Signature.Key
	if form == "secret" || form == "" {
		return Key{b: []byte(secret)}, nil
	}
	rest, ok := strings.CutPrefix(secret, s.Signature.KeyPrefix)
	if !ok {
		return Key{}, fmt.Errorf("a %s secret starts with %q followed by %s; this one does not start with %q", s.Title, s.Signature.KeyPrefix, form, s.Signature.KeyPrefix)
	}
	var b []byte
	var err error
	if form == "hex" {
		b, err = hex.DecodeString(rest)
	} else {
		b, err = base64.StdEncoding.DecodeString(rest)
	}
	if err != nil || len(b) == 0 {
		if s.Signature.KeyPrefix == "" {
			return Key{}, fmt.Errorf("a %s secret is %s; this one is not", s.Title, form)
		}
		return Key{}, fmt.Errorf("a %s secret is %q followed by %s; what follows %q here is not %s", s.Title, s.Signature.KeyPrefix, form, s.Signature.KeyPrefix, form)
	}
	return Key{b: b}, nil
}

// Message is what is signed: the raw body as sent, and the metadata some
// schemes mix in.
type Message struct {
	Body      []byte
	Timestamp time.Time
	ID        string
	// URL is the delivery's URL as the sender addressed it, for schemes
	// that sign it (Twilio's).
	URL string
	// stamp is the timestamp as it travels, when it was read from a
	// delivery rather than made.
	stamp string
}

// newHash is the scheme's hash for its HMAC.
func (s *Spec) newHash() func() hash.Hash {
	switch s.Signature.Algorithm {
	case "hmac-sha1":
		return sha1.New
	case "hmac-sha512":
		return sha512.New
	}
	return sha256.New
}

// macSize is the size of one MAC or signature.
func (s *Spec) macSize() int {
	if s.isEd25519() {
		return ed25519.SignatureSize
	}
	return s.newHash()().Size()
}

// FormatTimestamp writes t as the scheme sends it: Unix seconds,
// milliseconds or RFC 3339.
func (s *Spec) FormatTimestamp(t time.Time) string {
	switch s.Signature.TimestampUnit {
	case "ms":
		return strconv.FormatInt(t.UnixMilli(), 10)
	case "rfc3339":
		return t.UTC().Format(time.RFC3339Nano)
	}
	return strconv.FormatInt(t.Unix(), 10)
}

// parseTimestamp reads a timestamp as the scheme sends it.
func (s *Spec) parseTimestamp(raw string) (time.Time, error) {
	switch s.Signature.TimestampUnit {
	case "ms":
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			return time.Time{}, fmt.Errorf("%q is not Unix milliseconds", raw)
		}
		return time.UnixMilli(n), nil
	case "rfc3339":
		t, err := time.Parse(time.RFC3339Nano, raw)
		if err != nil {
			return time.Time{}, fmt.Errorf("%q is not an RFC 3339 time", raw)
		}
		return t, nil
	}
	n, err := strconv.ParseInt(raw, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not Unix seconds", raw)
	}
	return time.Unix(n, 0), nil
}

// stampOf is m's timestamp as it travels.
func (s *Spec) stampOf(m Message) string {
	if m.stamp != "" {
		return m.stamp
	}
	if s.Signature.Timestamp == "body" {
		return "" // in the body, which is signed whole
	}
	return s.FormatTimestamp(m.Timestamp)
}

// appendPart appends a part of the payload template to buf, with its
// {timestamp} and {id} filled in from m (stamp is the timestamp's text).
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
			buf = append(buf, m.stamp...)
			part = part[len("{timestamp}"):]
		case strings.HasPrefix(part, "{id}"):
			buf = append(buf, m.ID...)
			part = part[len("{id}"):]
		case strings.HasPrefix(part, "{url}"):
			buf = append(buf, m.URL...)
			part = part[len("{url}"):]
		case strings.HasPrefix(part, "{params}"):
			part = part[len("{params}"):] // written apart: formParams
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

// signatureValues are the signatures the header carries, encoded, and the
// timestamp item's value when the scheme has one.
func (s *Spec) signatureValues(h http.Header) (sigs []string, stamp string, err error) {
	raw := strings.TrimSpace(h.Get(s.Signature.Header))
	if raw == "" {
		return nil, "", ErrMissingSignature
	}
	sig := s.Signature
	switch {
	case sig.Items != "":
		for _, item := range strings.Split(raw, sig.Items) {
			name, value, ok := strings.Cut(strings.TrimSpace(item), "=")
			if !ok {
				continue
			}
			switch name {
			case sig.Item:
				sigs = append(sigs, value)
			case sig.TimestampItem:
				stamp = value
			}
		}
	case sig.Separator != "":
		sigs = strings.Split(raw, sig.Separator)
	default:
		sigs = []string{raw}
	}
	return sigs, stamp, nil
}

// candidates are the MACs the signature header carries, decoded, and the
// timestamp item's value.
func (s *Spec) candidates(h http.Header) ([][]byte, string, error) {
	sigs, stamp, err := s.signatureValues(h)
	if err != nil {
		return nil, "", err
	}
	size := s.macSize()
	var out [][]byte
	for _, p := range sigs {
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
		if err == nil && len(b) == size {
			out = append(out, b)
		}
	}
	if len(out) == 0 {
		return nil, stamp, ErrMalformedSignature
	}
	return out, stamp, nil
}

// CheckHeader looks at the headers alone: ErrMissingSignature or
// ErrMalformedSignature when no body could make them valid.
func (s *Spec) CheckHeader(h http.Header) error {
	_, _, err := s.candidates(h)
	return err
}

// TimestampText is the timestamp a delivery carries in its headers (a
// header, or an item of the signature header), as written; "" when it
// carries none there.
func (s *Spec) TimestampText(h http.Header) string {
	switch s.Signature.Timestamp {
	case "header":
		return strings.TrimSpace(h.Get(s.Headers.Timestamp))
	case "item":
		_, stamp, _ := s.signatureValues(h)
		return stamp
	}
	return ""
}

// ClaimedTime is the time a delivery says it was sent, from its headers or
// its body, when it says one.
func (s *Spec) ClaimedTime(h http.Header, body []byte) (time.Time, bool) {
	if s.Signature.Timestamp == "body" {
		return s.bodyTime(body)
	}
	raw := s.TimestampText(h)
	if raw == "" {
		return time.Time{}, false
	}
	t, err := s.parseTimestamp(raw)
	return t, err == nil
}

// bodyTime reads envelope.timestamp from the body.
func (s *Spec) bodyTime(body []byte) (time.Time, bool) {
	raw := jsonpeek.Find(body, splitPath(s.Envelope.Timestamp))[0]
	text := strings.Trim(string(raw), `"`)
	if text == "" {
		return time.Time{}, false
	}
	switch s.Envelope.TimestampFormat {
	case "unix", "unixms":
		n, err := strconv.ParseInt(text, 10, 64)
		if err != nil {
			return time.Time{}, false
		}
		if s.Envelope.TimestampFormat == "unixms" {
			return time.UnixMilli(n), true
		}
		return time.Unix(n, 0), true
	}
	t, err := time.Parse(time.RFC3339Nano, text)
	return t, err == nil
}

// SignsBodyAlone reports a scheme whose signature depends on the body
// alone, with no time limit: a stored delivery's own signature stays valid.
func (s *Spec) SignsBodyAlone() bool {
	return s.Signature.Payload == "{body}" && s.Signature.Tolerance.Duration == 0
}

// EventHeader is what the event header carries for the event name.
func (s *Spec) EventHeader(name string) string {
	for _, e := range s.Events {
		if e.Name == name && e.Header != "" {
			return e.Header
		}
	}
	return name
}

// MultiSignature reports whether a delivery may carry several signatures
// (one per key, during a key rotation).
func (s *Spec) MultiSignature() bool { return s.Signature.Separator != "" || s.Signature.Items != "" }

// Verify checks a delivery as a receiver following the provider's docs
// would: the signature against any of keys, and, when the scheme signs a
// timestamp, that it is within the tolerance of now.
func (s *Spec) Verify(keys []Key, body []byte, h http.Header, now time.Time) error {
	return s.VerifyURL(keys, body, h, now, "")
}

// VerifyURL is Verify for a delivery sent to url, which some schemes sign.
func (s *Spec) VerifyURL(keys []Key, body []byte, h http.Header, now time.Time, target string) error {
	c := s.NewCheckURL(keys, h, now, target)
	_, _ = c.Write(body)
	return c.Verify()
}

// SignsURL reports a scheme that signs the URL the delivery was sent to.
func (s *Spec) SignsURL() bool { return strings.Contains(s.Signature.Payload, "{url}") }

// signsParams reports a scheme that signs a form's fields, not its bytes.
func (s *Spec) signsParams() bool { return strings.Contains(s.Signature.Payload, "{params}") }

// formParams is what {params} stands for: the fields of a form body,
// sorted by name, each name followed by its value (Twilio's).
func formParams(body []byte) []byte {
	values, _ := url.ParseQuery(string(body))
	names := make([]string, 0, len(values))
	for k := range values {
		names = append(names, k)
	}
	sort.Strings(names)
	var out []byte
	for _, k := range names {
		vs := slices.Clone(values[k])
		sort.Strings(vs)
		for _, v := range vs {
			out = append(out, k...)
			out = append(out, v...)
		}
	}
	return out
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
	now   time.Time
	// body is the body as it arrives, kept only when Verify needs it
	// whole: for the timestamp in it, a form's fields, or an ed25519
	// signature over prefix, body and after.
	keep, form, stampInBody bool
	body                    []byte
	prefix                  []byte
	pubs                    []ed25519.PublicKey
}

// NewCheck starts checking a delivery's signature in h with keys, as of
// now; the body goes to Write.
func (s *Spec) NewCheck(keys []Key, h http.Header, now time.Time) *Check {
	return s.NewCheckURL(keys, h, now, "")
}

// NewCheckURL is NewCheck for a delivery sent to url, which some schemes
// sign.
func (s *Spec) NewCheckURL(keys []Key, h http.Header, now time.Time, target string) *Check {
	c := &Check{spec: s, now: now}
	macs, stamp, err := s.candidates(h)
	if err != nil {
		c.err = err
		return c
	}
	c.sums = macs
	m := Message{stamp: stamp, URL: target}
	c.form = s.signsParams()
	c.keep = c.form
	// The timestamp matters when it is signed or checked; a header the
	// scheme only sends along is not looked at.
	used := strings.Contains(s.Signature.Payload, "{timestamp}") || s.Signature.Tolerance.Duration > 0
	switch ts := s.Signature.Timestamp; {
	case !used:
	case ts == "header" || ts == "item":
		if ts == "header" {
			m.stamp = strings.TrimSpace(h.Get(s.Headers.Timestamp))
		}
		if m.stamp == "" {
			c.err = ErrMissingTimestamp
			return c
		}
		t, err := s.parseTimestamp(m.stamp)
		if err != nil {
			c.err = fmt.Errorf("%w: the timestamp %v", ErrMalformedSignature, err)
			return c
		}
		if err := s.fresh(t, now); err != nil {
			c.err = err
			return c
		}
	case ts == "body":
		c.keep, c.stampInBody = true, true
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
	if s.isEd25519() {
		// A signature is checked over the whole message at once.
		c.keep, c.prefix = true, prefix
		for _, k := range keys {
			c.pubs = append(c.pubs, k.pub)
		}
		return c
	}
	for _, k := range keys {
		mac := hmac.New(s.newHash(), k.b)
		mac.Write(prefix)
		c.macs = append(c.macs, mac)
	}
	return c
}

// fresh checks t against the tolerance.
func (s *Spec) fresh(t, now time.Time) error {
	if tol := s.Signature.Tolerance.Duration; tol > 0 {
		if skew := now.Sub(t); skew > tol || -skew > tol {
			return fmt.Errorf("%w (%s off, %s allowed)", ErrStale, skew.Round(time.Second).Abs(), tol)
		}
	}
	return nil
}

// Write takes the next part of the body. It never fails.
func (c *Check) Write(p []byte) (int, error) {
	if c.keep {
		c.body = append(c.body, p...)
	}
	if !c.form { // a form's fields are signed, not its bytes
		for _, mac := range c.macs {
			mac.Write(p)
		}
	}
	return len(p), nil
}

// Verify says whether the body written matches the signature: nil, or
// why not (the errors Verify returns).
func (c *Check) Verify() error {
	if c.err != nil {
		return c.err
	}
	ok := false
	if c.pubs != nil {
		msg := slices.Concat(c.prefix, c.body, c.after)
		for _, pub := range c.pubs {
			for _, sig := range c.sums {
				if pub != nil && ed25519.Verify(pub, msg, sig) {
					ok = true
				}
			}
		}
	}
	for _, mac := range c.macs {
		if c.form {
			mac.Write(formParams(c.body))
		}
		mac.Write(c.after)
		want := mac.Sum(nil)
		for _, got := range c.sums {
			if hmac.Equal(got, want) {
				ok = true
			}
		}
	}
	if !ok {
		return ErrMismatch
	}
	if c.stampInBody {
		t, found := c.spec.bodyTime(c.body)
		if !found {
			return fmt.Errorf("%w: the body has no %s", ErrMissingTimestamp, c.spec.Envelope.Timestamp)
		}
		return c.spec.fresh(t, c.now)
	}
	return nil
}

// Signer signs one delivery after another with the same keys, reusing its
// MAC state and buffers: a load generator signs thousands a second.
type Signer struct {
	spec          *Spec
	macs          []hash.Hash
	before, after string
	buf, sum      []byte
	sigs          []string
	privs         []ed25519.PrivateKey
}

// NewSigner returns a Signer for keys (not safe for concurrent use).
func (s *Spec) NewSigner(keys []Key) *Signer {
	g := &Signer{spec: s}
	if s.isEd25519() {
		for _, k := range keys {
			if k.priv != nil {
				g.privs = append(g.privs, k.priv)
			}
		}
		g.before, g.after, _ = strings.Cut(s.Signature.Payload, "{body}")
		return g
	}
	for _, k := range keys {
		g.macs = append(g.macs, hmac.New(s.newHash(), k.b))
	}
	g.before, g.after, _ = strings.Cut(s.Signature.Payload, "{body}")
	return g
}

// SignInto sets m's signature, timestamp and id headers on h, as Sign
// would return them; h's other headers are left alone.
func (g *Signer) SignInto(h http.Header, m Message) {
	s := g.spec
	m.stamp = s.stampOf(m)
	g.sigs = g.sigs[:0]
	if len(g.privs) > 0 {
		msg := appendPart(nil, g.before, m)
		msg = append(msg, m.Body...)
		msg = appendPart(msg, g.after, m)
		for _, priv := range g.privs {
			g.sigs = append(g.sigs, s.encode(ed25519.Sign(priv, msg)))
			if !s.MultiSignature() {
				break
			}
		}
	}
	for _, mac := range g.macs {
		mac.Reset()
		g.write(mac, g.before, m)
		if s.signsParams() {
			mac.Write(formParams(m.Body))
		} else {
			mac.Write(m.Body)
		}
		g.write(mac, g.after, m)
		g.sum = mac.Sum(g.sum[:0])
		g.sigs = append(g.sigs, s.encode(g.sum))
		if !s.MultiSignature() {
			break // the scheme carries one signature
		}
	}
	sig := s.Signature
	switch {
	case sig.Items != "":
		items := make([]string, 0, len(g.sigs)+1)
		if sig.TimestampItem != "" {
			items = append(items, sig.TimestampItem+"="+m.stamp)
		}
		for _, v := range g.sigs {
			items = append(items, sig.Item+"="+v)
		}
		setOne(h, sig.Header, strings.Join(items, sig.Items))
	default:
		setOne(h, sig.Header, strings.Join(g.sigs, sig.Separator))
	}
	if s.Headers.Timestamp != "" && sig.Timestamp == "header" {
		setOne(h, s.Headers.Timestamp, m.stamp)
	}
	if s.Headers.ID != "" && m.ID != "" {
		setOne(h, s.Headers.ID, m.ID)
	}
	if len(g.macs) == 0 && len(g.privs) == 0 {
		h.Del(sig.Header)
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
	if s.isEd25519() {
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return "", fmt.Errorf("generate a key: %w", err)
		}
		return s.Signature.KeyPrefix + hex.EncodeToString(priv), nil
	}
	switch s.Signature.Key {
	case "base64":
		return s.Signature.KeyPrefix + base64.StdEncoding.EncodeToString(b), nil
	case "hex":
		return s.Signature.KeyPrefix + hex.EncodeToString(b), nil
	}
	return "whsec_" + hex.EncodeToString(b), nil
}

// WireBody is an event's body as the provider sends it: the event file
// itself, or for a form provider the file's fields, form-encoded.
func (s *Spec) WireBody(body []byte) ([]byte, error) {
	if !s.Form() {
		return body, nil
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil {
		return nil, fmt.Errorf("a %s event is an object of form fields: %w", s.Title, err)
	}
	values := url.Values{}
	for k, raw := range fields {
		var str string
		if json.Unmarshal(raw, &str) == nil {
			values.Set(k, str)
			continue
		}
		if len(raw) > 0 && (raw[0] == '{' || raw[0] == '[') {
			return nil, fmt.Errorf("a %s event is an object of form fields: %s holds an object or array, which a form cannot carry", s.Title, k)
		}
		values.Set(k, string(raw))
	}
	return []byte(values.Encode()), nil
}
