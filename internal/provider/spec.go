// Package provider is the one place that knows how webhook providers differ:
// how a delivery is signed and which headers carry what, where the event type,
// id and timestamp sit in the body, and the provider's retry schedule and
// response time limit. A provider is a small declarative file (provider.toml)
// plus one JSON file per event type; the built-in providers are written in
// that same form and embedded, and any other HMAC provider can be added as a
// folder.
package provider

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"
)

// Spec is a provider.toml, as written.
type Spec struct {
	Name          string   `toml:"name"`
	Title         string   `toml:"title"`
	Docs          string   `toml:"docs"`
	UserAgent     string   `toml:"user_agent"`
	ContentType   string   `toml:"content_type"`
	ResponseLimit Duration `toml:"response_limit"`
	// Retries are the waits before each attempt, the first one included
	// (usually 0s): their count is the number of attempts.
	Retries []Duration `toml:"retries"`
	// Exhausted says what the provider does when every retry failed.
	Exhausted string `toml:"exhausted"`

	Signature SignatureSpec `toml:"signature"`
	Headers   HeaderSpec    `toml:"headers"`
	Envelope  EnvelopeSpec  `toml:"envelope"`
	// Events lists event types in the order to show them, with a line
	// each; event files not listed follow by name.
	Events []EventSpec `toml:"events"`
}

// EventSpec describes one event type.
type EventSpec struct {
	Name        string `toml:"name"`
	Description string `toml:"description"`
}

// SignatureSpec says how a delivery is signed.
type SignatureSpec struct {
	// Header carries the signature.
	Header string `toml:"header"`
	// Payload is what is signed: {body}, {timestamp} and {id} in a template,
	// e.g. "{timestamp}.{body}".
	Payload string `toml:"payload"`
	// Encoding of the MAC: hex (lower case) or base64.
	Encoding string `toml:"encoding"`
	// Prefix comes before the encoded MAC, e.g. "sha256=" or "v1,".
	Prefix string `toml:"prefix"`
	// Key is how the secret becomes the HMAC key: "secret" (the whole string
	// as UTF-8 bytes) or "base64" (the base64 after KeyPrefix).
	Key       string `toml:"key"`
	KeyPrefix string `toml:"key_prefix"`
	// Separator splits several signatures in one header (key rotation).
	Separator string `toml:"separator"`
	// Tolerance is how far the timestamp may be from now; 0 means the
	// timestamp is not signed and not checked.
	Tolerance Duration `toml:"tolerance"`
}

// HeaderSpec names the headers that travel with a delivery.
type HeaderSpec struct {
	Timestamp string `toml:"timestamp"` // Unix seconds
	ID        string `toml:"id"`        // the delivery id, the same on a retry
	Event     string `toml:"event"`     // the event type
}

// EnvelopeSpec says where things sit in the body, as dotted paths.
type EnvelopeSpec struct {
	Event           string `toml:"event"`
	ID              string `toml:"id"`
	IDPrefix        string `toml:"id_prefix"`
	Timestamp       string `toml:"timestamp"`
	TimestampFormat string `toml:"timestamp_format"` // rfc3339, rfc3339ms or unix
	// Dedup is what identifies one event across retries: body paths, or
	// "header:id" for the delivery id header.
	Dedup []string `toml:"dedup"`
}

// Duration reads "5m", "30s" or "0s" from TOML.
type Duration struct{ time.Duration }

func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("%q is not a duration such as 30s or 5m", b)
	}
	if v < 0 {
		return fmt.Errorf("%q is negative", b)
	}
	d.Duration = v
	return nil
}

func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

var (
	namePattern     = regexp.MustCompile(`^[a-z][a-z0-9-]{0,31}$`)
	headerPattern   = regexp.MustCompile("^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")
	placeholderExpr = regexp.MustCompile(`\{[^}]*\}`)
)

// ParseSpec reads a provider.toml; file names it in errors.
func ParseSpec(file string, data []byte) (*Spec, error) {
	var s Spec
	dec := toml.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		var de *toml.DecodeError
		if errors.As(err, &de) {
			row, col := de.Position()
			return nil, fmt.Errorf("%s: line %d, column %d: %s", file, row, col, de.Error())
		}
		var sm *toml.StrictMissingError
		if errors.As(err, &sm) {
			return nil, fmt.Errorf("%s: unknown field: %s", file, strings.TrimSpace(sm.String()))
		}
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if err := s.check(); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return &s, nil
}

// check validates a spec and fills in defaults; errors name the field.
func (s *Spec) check() error {
	if !namePattern.MatchString(s.Name) {
		return fmt.Errorf("name %q: use lower-case letters, digits and dashes, starting with a letter", s.Name)
	}
	if s.ContentType == "" {
		s.ContentType = "application/json"
	}
	sig := &s.Signature
	if !headerPattern.MatchString(sig.Header) {
		return fmt.Errorf("signature.header %q is not a header name", sig.Header)
	}
	if sig.Payload == "" {
		sig.Payload = "{body}"
	}
	for _, ph := range placeholderExpr.FindAllString(sig.Payload, -1) {
		if ph != "{body}" && ph != "{timestamp}" && ph != "{id}" {
			return fmt.Errorf("signature.payload %q: %s is not one of {body}, {timestamp}, {id}", sig.Payload, ph)
		}
	}
	if strings.Count(sig.Payload, "{body}") != 1 {
		return fmt.Errorf("signature.payload %q must hold {body} once", sig.Payload)
	}
	switch sig.Encoding {
	case "":
		sig.Encoding = "hex"
	case "hex", "base64":
	default:
		return fmt.Errorf("signature.encoding %q: use hex or base64", sig.Encoding)
	}
	switch sig.Key {
	case "":
		sig.Key = "secret"
	case "secret":
	case "base64":
		if sig.KeyPrefix == "" {
			return errors.New("signature.key = \"base64\" needs signature.key_prefix (for example \"whsec_\")")
		}
	default:
		return fmt.Errorf("signature.key %q: use secret (the whole string) or base64 (after key_prefix)", sig.Key)
	}
	for field, h := range map[string]string{"headers.timestamp": s.Headers.Timestamp, "headers.id": s.Headers.ID, "headers.event": s.Headers.Event} {
		if h != "" && !headerPattern.MatchString(h) {
			return fmt.Errorf("%s %q is not a header name", field, h)
		}
	}
	if strings.Contains(sig.Payload, "{timestamp}") && s.Headers.Timestamp == "" {
		return errors.New("signature.payload signs {timestamp}, so headers.timestamp must name the header that carries it")
	}
	if strings.Contains(sig.Payload, "{id}") && s.Headers.ID == "" {
		return errors.New("signature.payload signs {id}, so headers.id must name the header that carries it")
	}
	if sig.Tolerance.Duration > 0 && !strings.Contains(sig.Payload, "{timestamp}") {
		return errors.New("signature.tolerance is set but the timestamp is not signed: add {timestamp} to signature.payload, or drop the tolerance")
	}
	for field, key := range map[string]string{"envelope.event": s.Envelope.Event, "envelope.id": s.Envelope.ID, "envelope.timestamp": s.Envelope.Timestamp} {
		if strings.Contains(key, ".") {
			return fmt.Errorf("%s %q: name a top-level key of the event (nested paths are not supported)", field, key)
		}
	}
	switch s.Envelope.TimestampFormat {
	case "":
		s.Envelope.TimestampFormat = "rfc3339"
	case "rfc3339", "rfc3339ms", "unix":
	default:
		return fmt.Errorf("envelope.timestamp_format %q: use rfc3339, rfc3339ms or unix", s.Envelope.TimestampFormat)
	}
	for _, d := range s.Envelope.Dedup {
		if d == "header:id" && s.Headers.ID == "" {
			return errors.New(`envelope.dedup uses "header:id" but headers.id is not set`)
		}
	}
	return nil
}
