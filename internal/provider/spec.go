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
	"reflect"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/jasni/jasni-cli/internal/lazyre"

	"github.com/jasni/jasni-cli/internal/suggest"

	"github.com/pelletier/go-toml/v2"
)

// Spec is a provider.toml, as written.
type Spec struct {
	Name          string   `toml:"name" json:"name,omitempty"`
	Title         string   `toml:"title" json:"title,omitempty"`
	Docs          string   `toml:"docs" json:"docs,omitempty"`
	UserAgent     string   `toml:"user_agent" json:"user_agent,omitempty"`
	ContentType   string   `toml:"content_type" json:"content_type,omitempty"`
	ResponseLimit Duration `toml:"response_limit" json:"response_limit,omitempty"`
	// Retries are the waits before each attempt, the first one included
	// (usually 0s): their count is the number of attempts.
	Retries []Duration `toml:"retries" json:"retries,omitempty"`
	// Exhausted says what the provider does when every retry failed.
	Exhausted string `toml:"exhausted" json:"exhausted,omitempty"`

	Signature SignatureSpec `toml:"signature" json:"signature,omitempty"`
	Handshake HandshakeSpec `toml:"handshake" json:"handshake,omitempty"`
	// API says how the provider's webhook registrations are managed.
	API      APISpec      `toml:"api" json:"api,omitempty"`
	Headers  HeaderSpec   `toml:"headers" json:"headers,omitempty"`
	Envelope EnvelopeSpec `toml:"envelope" json:"envelope,omitempty"`
	// Events lists event types in the order to show them, with a line
	// each; event files not listed follow by name.
	Events []EventSpec `toml:"events" json:"events,omitempty"`
}

// EventSpec describes one event type.
type EventSpec struct {
	Name        string `toml:"name" json:"name,omitempty"`
	Description string `toml:"description" json:"description,omitempty"`
	// File is the event's file, without .json, when the name cannot be one
	// (Shopify's orders/create); default the name.
	File string `toml:"file" json:"file,omitempty"`
	// Header is what the event header carries for it, when that differs
	// from the name (GitHub's pull_request for pull_request.opened).
	Header string `toml:"header" json:"header,omitempty"`
}

// SignatureSpec says how a delivery is signed.
type SignatureSpec struct {
	// Header carries the signature.
	Header string `toml:"header" json:"header,omitempty"`
	// Algorithm is the MAC: hmac-sha256 (the default), hmac-sha1 or
	// hmac-sha512; or ed25519, a signature jasni makes with a private key
	// and listen checks with the public key (Discord's).
	Algorithm string `toml:"algorithm" json:"algorithm,omitempty"`
	// Payload is what is signed: {body}, {timestamp} and {id} in a template,
	// e.g. "{timestamp}.{body}". {timestamp} is the timestamp as it travels
	// (Unix seconds, milliseconds or RFC 3339 text).
	Payload string `toml:"payload" json:"payload,omitempty"`
	// Encoding of the MAC: hex (lower case) or base64.
	Encoding string `toml:"encoding" json:"encoding,omitempty"`
	// Prefix comes before the encoded MAC, e.g. "sha256=" or "v1,".
	Prefix string `toml:"prefix" json:"prefix,omitempty"`
	// Key is how the secret becomes the HMAC key: "secret" (the whole string
	// as UTF-8 bytes), "base64" (the base64 after KeyPrefix) or "hex" (the
	// hex after KeyPrefix).
	Key       string `toml:"key" json:"key,omitempty"`
	KeyPrefix string `toml:"key_prefix" json:"key_prefix,omitempty"`
	// Items, when set, makes the header a list of name=value items split
	// by it ("," for Stripe's t=…,v1=…; ";" for Paddle's ts=…;h1=…): Item
	// names the items that hold a signature (any may match), and
	// TimestampItem the one that holds the timestamp.
	Items         string `toml:"items" json:"items,omitempty"`
	Item          string `toml:"item" json:"item,omitempty"`
	TimestampItem string `toml:"timestamp_item" json:"timestamp_item,omitempty"`
	// Timestamp says where the signed or checked timestamp travels:
	// "header" (headers.timestamp), "item" (TimestampItem of the signature
	// header) or "body" (envelope.timestamp). Default: item when
	// timestamp_item is set, else header when headers.timestamp is.
	Timestamp string `toml:"timestamp" json:"timestamp,omitempty"`
	// TimestampUnit is how a header or item writes it: s (Unix seconds,
	// the default), ms, or rfc3339.
	TimestampUnit string `toml:"timestamp_unit" json:"timestamp_unit,omitempty"`
	// Separator splits several signatures in one header (key rotation).
	Separator string `toml:"separator" json:"separator,omitempty"`
	// Tolerance is how far the timestamp may be from now; 0 means the
	// timestamp is not signed and not checked.
	Tolerance Duration `toml:"tolerance" json:"tolerance,omitempty"`
}

// HeaderSpec names the headers that travel with a delivery.
type HeaderSpec struct {
	Timestamp string `toml:"timestamp" json:"timestamp,omitempty"` // see signature.timestamp_unit
	ID        string `toml:"id" json:"id,omitempty"`               // the delivery id, the same on a retry
	Event     string `toml:"event" json:"event,omitempty"`         // the event type
	// Extra are constant headers every delivery carries (Shopify's shop
	// domain and API version).
	Extra map[string]string `toml:"extra" json:"extra,omitempty"`
}

// EnvelopeSpec says where things sit in the body, as dotted paths.
type EnvelopeSpec struct {
	Event           string `toml:"event" json:"event,omitempty"`
	ID              string `toml:"id" json:"id,omitempty"`
	IDPrefix        string `toml:"id_prefix" json:"id_prefix,omitempty"`
	Timestamp       string `toml:"timestamp" json:"timestamp,omitempty"`
	TimestampFormat string `toml:"timestamp_format" json:"timestamp_format,omitempty"` // rfc3339, rfc3339ms, unix or unixms
	// Dedup is what identifies one event across retries: body paths, or
	// "header:id" for the delivery id header.
	Dedup []string `toml:"dedup" json:"dedup,omitempty"`
	// EventCode is the key of a provider that numbers its event types
	// (Discord's interaction "type"), and EventCodes names each number:
	// the event type of a body with no envelope.event.
	EventCode  string            `toml:"event_code" json:"event_code,omitempty"`
	EventCodes map[string]string `toml:"event_codes" json:"event_codes,omitempty"`
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
	headerPattern   = lazyre.New("^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")
	placeholderExpr = lazyre.New(`\{[^}]*\}`)
	fileNamePattern = lazyre.New(`^[A-Za-z0-9_.-]+$`)
)

// Form reports a provider whose deliveries are HTML forms
// (application/x-www-form-urlencoded): its event files hold the fields as
// a JSON object of strings, sent form-encoded.
func (s *Spec) Form() bool {
	return strings.HasPrefix(strings.ToLower(s.ContentType), "application/x-www-form-urlencoded")
}

// goType reads the Go type out of go-toml's "cannot decode" message.
var goType = lazyre.New(`cannot decode TOML (\w+) into struct field (\S+) of type (\S+)`)

// wrongType says what a field of the wrong type should be, in TOML's
// terms rather than Go's.
func wrongType(e *toml.DecodeError) string {
	m := goType().FindStringSubmatch(e.Error())
	if m == nil {
		return strings.TrimPrefix(e.Error(), "toml: ")
	}
	want := map[string]string{
		"string":               "a string in quotes",
		"[]string":             `a list of strings, such as ["a", "b"]`,
		"[]provider.Duration":  `a list of durations, such as ["0s", "1m", "5m"]`,
		"provider.Duration":    `a duration in quotes, such as "5m"`,
		"map[string]string":    "a table of strings",
		"[]provider.EventSpec": "[[events]] entries",
	}[m[3]]
	if want == "" {
		want = "another kind of value"
	}
	name := strings.Join(e.Key(), ".")
	if name == "" {
		name = tomlPath(m[2])
	}
	return fmt.Sprintf("%s is a TOML %s here, but it takes %s", name, m[1], want)
}

// tomlPath turns go-toml's Go field path (provider.EnvelopeSpec.Dedup)
// into the file's (envelope.dedup).
func tomlPath(goPath string) string {
	parts := strings.Split(goPath, ".")
	if len(parts) < 2 {
		return "this value"
	}
	owner, field := parts[len(parts)-2], parts[len(parts)-1]
	var find func(t reflect.Type, prefix []string) []string
	find = func(t reflect.Type, prefix []string) []string {
		for t.Kind() == reflect.Slice || t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct {
			return nil
		}
		if f, ok := t.FieldByName(field); ok && t.Name() == owner {
			return append(prefix, f.Tag.Get("toml"))
		}
		for i := range t.NumField() {
			f := t.Field(i)
			if tag := f.Tag.Get("toml"); tag != "" {
				if p := find(f.Type, append(slices.Clone(prefix), tag)); p != nil {
					return p
				}
			}
		}
		return nil
	}
	if p := find(reflect.TypeOf(Spec{}), nil); p != nil {
		return strings.Join(p, ".")
	}
	return "this value"
}

// unknownField says which field of provider.toml is not one, and which
// fields its table has.
func unknownField(e toml.DecodeError) string {
	key := e.Key()
	row, _ := e.Position()
	t := reflect.TypeOf(Spec{})
	where := "the top level"
	for _, k := range key[:max(len(key)-1, 0)] {
		f, ok := fieldByTag(t, k)
		if !ok {
			break
		}
		t = f.Type
		for t.Kind() == reflect.Slice || t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		where = "[" + strings.Join(key[:len(key)-1], ".") + "]"
	}
	var names []string
	if t.Kind() == reflect.Struct {
		for i := range t.NumField() {
			if tag := t.Field(i).Tag.Get("toml"); tag != "" {
				names = append(names, tag)
			}
		}
	}
	name := strings.Join(key, ".")
	msg := fmt.Sprintf("line %d: unknown field %q in %s", row, name, where)
	if len(names) > 0 {
		sort.Strings(names)
		msg += "; the fields there are: " + strings.Join(names, ", ")
		if near := suggest.Closest(key[len(key)-1], names); near != "" {
			msg += " (did you mean " + near + "?)"
		}
	}
	return msg
}

func fieldByTag(t reflect.Type, tag string) (reflect.StructField, bool) {
	if t.Kind() != reflect.Struct {
		return reflect.StructField{}, false
	}
	for i := range t.NumField() {
		if t.Field(i).Tag.Get("toml") == tag {
			return t.Field(i), true
		}
	}
	return reflect.StructField{}, false
}

// ParseSpec reads a provider.toml; file names it in errors.
func ParseSpec(file string, data []byte) (*Spec, error) {
	var s Spec
	dec := toml.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		var de *toml.DecodeError
		if errors.As(err, &de) {
			row, col := de.Position()
			return nil, fmt.Errorf("%s: line %d, column %d: %s", file, row, col, wrongType(de))
		}
		var sm *toml.StrictMissingError
		if errors.As(err, &sm) && len(sm.Errors) > 0 {
			return nil, fmt.Errorf("%s: %s", file, unknownField(sm.Errors[0]))
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
	if !validName(s.Name) {
		return fmt.Errorf("name %q: use lower-case letters, digits and dashes, starting with a letter", s.Name)
	}
	if s.ContentType == "" {
		s.ContentType = "application/json"
	}
	sig := &s.Signature
	if !headerPattern().MatchString(sig.Header) {
		return fmt.Errorf("signature.header %q is not a header name", sig.Header)
	}
	switch sig.Algorithm {
	case "":
		sig.Algorithm = "hmac-sha256"
	case "hmac-sha256", "hmac-sha1", "hmac-sha512":
	case "ed25519":
		if sig.Key != "" && sig.Key != "hex" {
			return fmt.Errorf("signature.key %q: an ed25519 key is hex (a 32-byte public key verifies, a 64-byte private key signs)", sig.Key)
		}
		sig.Key = "hex"
	default:
		return fmt.Errorf("signature.algorithm %q: use hmac-sha256, hmac-sha1, hmac-sha512 or ed25519", sig.Algorithm)
	}
	if sig.Payload == "" {
		sig.Payload = "{body}"
	}
	for _, ph := range placeholderExpr().FindAllString(sig.Payload, -1) {
		if !slices.Contains([]string{"{body}", "{timestamp}", "{id}", "{url}", "{params}"}, ph) {
			return fmt.Errorf("signature.payload %q: %s is not one of {body}, {timestamp}, {id}, {url}, {params}", sig.Payload, ph)
		}
	}
	switch {
	case strings.Contains(sig.Payload, "{params}"):
		if strings.Contains(sig.Payload, "{body}") || !strings.HasSuffix(sig.Payload, "{params}") {
			return fmt.Errorf("signature.payload %q: {params} (the form's fields, sorted) ends the payload, and stands for the body", sig.Payload)
		}
		if !s.Form() {
			return fmt.Errorf("signature.payload %q signs {params}, the fields of a form: set content_type = \"application/x-www-form-urlencoded\"", sig.Payload)
		}
	case strings.Count(sig.Payload, "{body}") != 1:
		return fmt.Errorf("signature.payload %q must hold {body} once", sig.Payload)
	}
	if strings.Count(sig.Payload, "{url}") > 1 || strings.Contains(sig.Payload, "{url}") && !strings.HasPrefix(sig.Payload, "{url}") {
		return fmt.Errorf("signature.payload %q: {url} starts the payload, once", sig.Payload)
	}
	for field, v := range map[string]string{"signature.prefix": sig.Prefix, "signature.key_prefix": sig.KeyPrefix, "signature.item": sig.Item, "signature.timestamp_item": sig.TimestampItem} {
		if ph := placeholderExpr().FindString(v); ph != "" {
			return fmt.Errorf("%s %q: placeholders such as %s belong in signature.payload; this is sent as written", field, v, ph)
		}
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
	case "secret", "hex":
	case "base64":
		if sig.KeyPrefix == "" {
			return errors.New("signature.key = \"base64\" needs signature.key_prefix (for example \"whsec_\")")
		}
	default:
		return fmt.Errorf("signature.key %q: use secret (the whole string), base64 (after key_prefix) or hex (after key_prefix)", sig.Key)
	}
	if sig.Items != "" {
		if sig.Item == "" {
			return fmt.Errorf("signature.items %q makes the header a list of name=value items: signature.item must name the one that holds the signature (Stripe's v1)", sig.Items)
		}
		if sig.Separator != "" {
			return errors.New("signature.separator and signature.items both split the header: with items, several signatures are several items of the same name")
		}
	} else if sig.Item != "" || sig.TimestampItem != "" {
		return errors.New("signature.item and signature.timestamp_item name items of a combined header: set signature.items to the character between them")
	}
	for field, h := range map[string]string{"headers.timestamp": s.Headers.Timestamp, "headers.id": s.Headers.ID, "headers.event": s.Headers.Event} {
		if h != "" && !headerPattern().MatchString(h) {
			return fmt.Errorf("%s %q is not a header name", field, h)
		}
	}
	for name := range s.Headers.Extra {
		if !headerPattern().MatchString(name) {
			return fmt.Errorf("headers.extra: %q is not a header name", name)
		}
	}
	switch sig.Timestamp {
	case "":
		switch {
		case sig.TimestampItem != "":
			sig.Timestamp = "item"
		case s.Headers.Timestamp != "":
			sig.Timestamp = "header"
		}
	case "item":
		if sig.TimestampItem == "" {
			return errors.New("signature.timestamp = \"item\" needs signature.timestamp_item: the item of the signature header that holds it (Stripe's t)")
		}
	case "header":
		if s.Headers.Timestamp == "" {
			return errors.New("signature.timestamp = \"header\" needs headers.timestamp: the header that carries it")
		}
	case "body":
		if s.Envelope.Timestamp == "" {
			return errors.New("signature.timestamp = \"body\" needs envelope.timestamp: the body field that holds it")
		}
	default:
		return fmt.Errorf("signature.timestamp %q: use header, item or body", sig.Timestamp)
	}
	switch sig.TimestampUnit {
	case "":
		sig.TimestampUnit = "s"
	case "s", "ms", "rfc3339":
	default:
		return fmt.Errorf("signature.timestamp_unit %q: use s (Unix seconds), ms (Unix milliseconds) or rfc3339", sig.TimestampUnit)
	}
	if strings.Contains(sig.Payload, "{timestamp}") && sig.Timestamp == "" {
		return errors.New("signature.payload signs {timestamp}: set headers.timestamp to the header that carries it, or signature.timestamp_item to the item of the signature header")
	}
	if strings.Contains(sig.Payload, "{id}") && s.Headers.ID == "" {
		return errors.New("signature.payload signs {id}, so headers.id must name the header that carries it")
	}
	if sig.Tolerance.Duration > 0 && sig.Timestamp == "" {
		return errors.New("signature.tolerance is set but no timestamp travels with a delivery: set headers.timestamp, signature.timestamp_item or signature.timestamp = \"body\", or drop the tolerance")
	}
	switch env := s.Envelope; {
	case env.EventCode != "" && env.Event != "":
		return errors.New("envelope.event_code is for a provider whose events carry a number, not a name: set envelope.event or envelope.event_code, not both")
	case env.EventCode != "" && len(env.EventCodes) == 0:
		return errors.New(`envelope.event_code needs envelope.event_codes, naming each number: event_codes = { 1 = "PING" }`)
	case env.EventCode == "" && len(env.EventCodes) > 0:
		return errors.New("envelope.event_codes needs envelope.event_code: the key of the body that holds the number")
	}
	for field, key := range map[string]string{"envelope.event": s.Envelope.Event, "envelope.id": s.Envelope.ID, "envelope.timestamp": s.Envelope.Timestamp, "envelope.event_code": s.Envelope.EventCode} {
		if strings.Contains(key, ".") {
			return fmt.Errorf("%s %q: name a top-level key of the event (nested paths are not supported)", field, key)
		}
	}
	switch s.Envelope.TimestampFormat {
	case "":
		s.Envelope.TimestampFormat = "rfc3339"
	case "rfc3339", "rfc3339ms", "unix", "unixms":
	default:
		return fmt.Errorf("envelope.timestamp_format %q: use rfc3339, rfc3339ms, unix or unixms", s.Envelope.TimestampFormat)
	}
	if err := s.Handshake.check(); err != nil {
		return err
	}
	if err := s.API.check(); err != nil {
		return err
	}
	for i, e := range s.Events {
		if e.Name == "" {
			return fmt.Errorf("events: entry %d has no name: give each [[events]] the event type it describes", i+1)
		}
		if e.File != "" && !fileNamePattern().MatchString(e.File) {
			return fmt.Errorf("events %q: file %q: a file name without .json, of letters, digits, dots, dashes and underscores", e.Name, e.File)
		}
	}
	for _, d := range s.Envelope.Dedup {
		if d == "header:id" && s.Headers.ID == "" {
			return errors.New(`envelope.dedup uses "header:id" but headers.id is not set`)
		}
	}
	return nil
}

// validName reports a provider name: a lower-case letter, then up to 31
// lower-case letters, digits and dashes.
func validName(name string) bool {
	if name == "" || len(name) > 32 || name[0] < 'a' || name[0] > 'z' {
		return false
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}
