// Package payload builds the body of a delivery: an event taken from a fixture
// or a user's file, made fresh the way a real event would be (new timestamp,
// new ids), then edited with --set overrides. Key order is kept throughout so
// the bytes read like the provider's own.
package payload

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jasni/jasni-cli/internal/lazyre"

	"github.com/jasni/jasni-cli/internal/jsondoc"
	"github.com/jasni/jasni-cli/internal/provider"
)

// TimestampLayout is the envelope's timestamp: ISO 8601 in UTC with milliseconds.
const TimestampLayout = "2006-01-02T15:04:05.000Z"

// Event is a built delivery body.
type Event struct {
	Type      string
	Timestamp time.Time
	Doc       *jsondoc.Object
	Body      []byte
	// Added are the --set paths that added a field the event did not have.
	Added []string
	// Fresh are the values made new for this event (ids, and the envelope
	// timestamp as written), so that a load generator can make each copy
	// new by rewriting them in place.
	Fresh []Fresh
}

// Fresh is one value made new, as it appears in the body (unquoted).
type Fresh struct {
	Value string
	// Stamp marks the envelope timestamp; Layout is its format, or "unix"
	// or "unixms".
	Stamp  bool
	Layout string
}

// Options controls how an event is made fresh.
type Options struct {
	Now     time.Time
	KeepIDs bool
	// Sets are "path=value" overrides, applied last, in order.
	Sets []string
	// Envelope says where the provider puts the event type, timestamp and
	// id; nil means Jasni's.
	Envelope *Envelope
}

// Envelope names the top-level keys of a provider's event, beside "data".
type Envelope struct {
	Event           string // the event type; "" when only a header carries it
	Timestamp       string // "" when the body has none
	TimestampFormat string // rfc3339, rfc3339ms, unix or unixms
	ID              string // the event id, new on each send; "" for none
	IDPrefix        string
}

func (o Options) env() Envelope {
	if o.Envelope == nil {
		return Envelope{Event: "event", Timestamp: "timestamp", TimestampFormat: "rfc3339ms"}
	}
	return *o.Envelope
}

// format writes t the envelope's way.
func (e Envelope) format(t time.Time) jsondoc.Value {
	switch e.TimestampFormat {
	case "unix":
		return json.Number(strconv.FormatInt(t.Unix(), 10))
	case "unixms":
		return json.Number(strconv.FormatInt(t.UnixMilli(), 10))
	case "rfc3339":
		return t.UTC().Format(time.RFC3339)
	}
	return t.UTC().Format(TimestampLayout)
}

// parseTime reads a timestamp written either way.
func parseTime(v jsondoc.Value) (time.Time, bool) {
	switch v := v.(type) {
	case string:
		t, err := time.Parse(time.RFC3339Nano, v)
		return t, err == nil
	case json.Number:
		n, err := v.Int64()
		if n > 1e11 || n < -1e11 { // milliseconds: seconds this large are past the year 5000
			return time.UnixMilli(n), err == nil
		}
		return time.Unix(n, 0), err == nil
	}
	return time.Time{}, false
}

// FromFixture builds an event from a stored fixture: the envelope timestamp
// becomes Now, data timestamps move by the same amount, and ids are new unless
// KeepIDs is set.
func FromFixture(fixture []byte, opts Options) (*Event, error) {
	doc, err := parseEvent(fixture)
	if err != nil {
		return nil, err
	}
	fresh, err := refresh(doc, opts)
	if err != nil {
		return nil, err
	}
	ev, err := finish(doc, opts.Sets, opts.env())
	if ev != nil {
		ev.Fresh = fresh
	}
	return ev, err
}

// refresh makes a stored event new, as a real one would be: its timestamp
// becomes Now, data timestamps move by as much, and its ids are new unless
// KeepIDs is set.
func refresh(doc *jsondoc.Object, opts Options) ([]Fresh, error) {
	var fresh []Fresh
	env := opts.env()
	now := opts.Now.UTC().Truncate(time.Millisecond)
	// An event that has no timestamp field (Slack's url_verification,
	// beside events that have one) is sent without one, as the provider does.
	if old, has := doc.Get(env.Timestamp); env.Timestamp != "" && has {
		if then, ok := parseTime(old); ok {
			if data, ok := doc.Get("data"); ok {
				shiftTimes(data, now.Sub(then))
			}
		}
		stamp := env.format(now)
		doc.Set(env.Timestamp, stamp)
		f := Fresh{Value: fmt.Sprint(stamp), Stamp: true, Layout: "unix"}
		switch env.TimestampFormat {
		case "rfc3339":
			f.Layout = time.RFC3339
		case "unix", "unixms":
			f.Layout = env.TimestampFormat
		default:
			f.Layout = TimestampLayout
		}
		fresh = append(fresh, f)
	}
	if !opts.KeepIDs {
		if env.ID != "" {
			if old, ok := doc.Get(env.ID); ok {
				var id string
				var err error
				if o, isString := old.(string); isString && strings.HasPrefix(o, env.IDPrefix) && len(o) > len(env.IDPrefix) {
					// The same shape: prefix, length, alphabet.
					id, err = freshLike(o[len(env.IDPrefix):])
					id = env.IDPrefix + id
				} else {
					id, err = randomHex(12)
					id = env.IDPrefix + id
				}
				if err != nil {
					return nil, err
				}
				// Fields that repeat the id (Twilio's SmsSid and
				// SmsMessageSid beside MessageSid) take the new one too.
				if o, isString := old.(string); isString {
					for i, m := range doc.Members {
						if v, ok := m.Value.(string); ok && v == o {
							doc.Members[i].Value = id
						}
					}
				}
				doc.Set(env.ID, id)
				fresh = append(fresh, Fresh{Value: id})
			}
		}
		if data, ok := doc.Get("data"); ok {
			if obj, ok := data.(*jsondoc.Object); ok {
				if err := refreshIDs(obj); err != nil {
					return nil, err
				}
				for _, key := range []string{"id", "messageId"} {
					if v, ok := stringAt(obj, key); ok {
						fresh = append(fresh, Fresh{Value: v})
					}
				}
			}
		}
	}
	return fresh, nil
}

// FromFile builds an event from a user's file. A file with both "event" and
// "data" at the top is a whole event, sent as written (a fresh timestamp is
// added only when it has none). Any other object is the data of an event of
// type eventType, wrapped in a fresh envelope.
func FromFile(content []byte, eventType string, opts Options) (*Event, error) {
	v, err := jsondoc.Parse(content)
	if err != nil {
		return nil, fmt.Errorf("not JSON: %w", err)
	}
	obj, ok := v.(*jsondoc.Object)
	if !ok {
		return nil, errors.New("want a JSON object (an event, or the data of one)")
	}
	env := opts.env()
	now := env.format(opts.Now.UTC().Truncate(time.Millisecond))
	if env.Event == "" {
		// The body carries no type: the file is the whole body, sent as
		// written, and the type is the one asked for.
		if eventType == "" {
			return nil, errors.New("this provider's events carry their type in a header only, so name the event type")
		}
		ev, err := finish(obj, opts.Sets, env)
		if err == nil {
			ev.Type = eventType
		}
		return ev, err
	}
	_, hasEvent := obj.Get(env.Event)
	_, hasData := obj.Get("data")
	if hasEvent && hasData {
		fileType, ok := stringAt(obj, env.Event)
		if !ok || fileType == "" {
			return nil, fmt.Errorf("%q must be a non-empty string", env.Event)
		}
		if eventType != "" && eventType != fileType {
			return nil, fmt.Errorf("the file is a %s event but %s was asked for: drop the event name or fix the file", fileType, eventType)
		}
		if _, ok := obj.Get(env.Timestamp); ok {
			// A whole event from a file is sent as a fresh one, like a
			// fixture (a resent timestamp and ids read as a duplicate),
			// unless KeepIDs asks for it exactly as written.
			if !opts.KeepIDs {
				if _, err := refresh(obj, opts); err != nil {
					return nil, err
				}
			}
		} else if env.Timestamp != "" {
			withTime := &jsondoc.Object{}
			for _, m := range obj.Members {
				withTime.Set(m.Key, m.Value)
				if m.Key == env.Event {
					withTime.Set(env.Timestamp, now)
				}
			}
			obj = withTime
		}
		return finish(obj, opts.Sets, env)
	}
	if eventType == "" {
		return nil, fmt.Errorf("the file is a data object, so name the event type (or give a whole event with %q and \"data\")", env.Event)
	}
	doc := &jsondoc.Object{}
	if env.ID != "" {
		fresh, err := randomHex(12)
		if err != nil {
			return nil, err
		}
		doc.Set(env.ID, env.IDPrefix+fresh)
	}
	doc.Set(env.Event, eventType)
	if env.Timestamp != "" {
		doc.Set(env.Timestamp, now)
	}
	doc.Set("data", obj)
	return finish(doc, opts.Sets, env)
}

func parseEvent(raw []byte) (*jsondoc.Object, error) {
	v, err := jsondoc.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("fixture is not JSON: %w", err)
	}
	obj, ok := v.(*jsondoc.Object)
	if !ok {
		return nil, errors.New("fixture is not a JSON object")
	}
	return obj, nil
}

func finish(doc *jsondoc.Object, sets []string, env Envelope) (*Event, error) {
	ev := &Event{Doc: doc}
	for _, s := range sets {
		added, err := applySet(doc, s)
		if err != nil {
			return nil, err
		}
		if added {
			path, _, _ := strings.Cut(s, "=")
			ev.Added = append(ev.Added, path)
		}
	}
	if env.Event != "" {
		ev.Type, _ = stringAt(doc, env.Event)
	}
	if env.Timestamp != "" {
		if ts, ok := doc.Get(env.Timestamp); ok {
			ev.Timestamp, _ = parseTime(ts)
		}
	}
	body, err := jsondoc.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("encode event: %w", err)
	}
	ev.Body = body
	return ev, nil
}

// ApplySet applies one "path=value" override. The value is JSON where it
// parses as JSON, else a string. Paths start at the event: data.subject,
// data.to[0], timestamp.
func ApplySet(doc *jsondoc.Object, set string) error {
	_, err := applySet(doc, set)
	return err
}

// applySet is ApplySet that also says whether the path was not there
// before, so a field was added rather than changed.
func applySet(doc *jsondoc.Object, set string) (added bool, err error) {
	rawPath, value, ok := strings.Cut(set, "=")
	if !ok {
		return false, fmt.Errorf("--set %q: missing =VALUE (write --set %s=VALUE)", set, set)
	}
	path, err := jsondoc.ParsePath(rawPath)
	if err != nil {
		return false, fmt.Errorf("--set %q: %w", set, err)
	}
	root := path[0].Key
	if _, exists := doc.Get(root); !exists {
		hint := ""
		if data, ok := doc.Get("data"); ok {
			if obj, ok := data.(*jsondoc.Object); ok {
				if _, inData := obj.Get(root); inData {
					hint = fmt.Sprintf(" (did you mean data.%s?)", rawPath)
				}
			}
		}
		return false, fmt.Errorf("--set %q: paths start at the event, whose fields are %s; %q is not one of them%s",
			set, strings.Join(doc.Keys(), ", "), root, hint)
	}
	_, getErr := jsondoc.Get(doc, path)
	if err := jsondoc.Set(doc, path, jsondoc.ParseScalar(value)); err != nil {
		return false, fmt.Errorf("--set %q: %w", set, err)
	}
	return getErr != nil, nil
}

func stringAt(obj *jsondoc.Object, key string) (string, bool) {
	v, ok := obj.Get(key)
	if !ok {
		return "", false
	}
	s, ok := v.(string)
	return s, ok
}

// shiftTimes moves every timestamp field ("...At") by d, so that a fixture's
// deliveredAt stays five seconds after its event, whenever it is sent.
func shiftTimes(v jsondoc.Value, d time.Duration) {
	switch v := v.(type) {
	case *jsondoc.Object:
		for i, m := range v.Members {
			if s, ok := m.Value.(string); ok && strings.HasSuffix(m.Key, "At") {
				if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
					v.Members[i].Value = t.Add(d).UTC().Format(TimestampLayout)
				}
				continue
			}
			shiftTimes(m.Value, d)
		}
	case []jsondoc.Value:
		for _, child := range v {
			shiftTimes(child, d)
		}
	}
}

// refreshIDs gives data.id and data.messageId new values of the same shape:
// a numeric UID stays numeric, a <local@domain> Message-ID keeps its domain.
// Where the fixture had id equal to messageId, they stay equal.
func refreshIDs(data *jsondoc.Object) error {
	id, hasID := stringAt(data, "id")
	msgID, hasMsgID := stringAt(data, "messageId")
	if hasID {
		fresh, err := freshLike(id)
		if err != nil {
			return err
		}
		data.Set("id", fresh)
		if hasMsgID && msgID == id {
			data.Set("messageId", fresh)
			return nil
		}
	}
	if hasMsgID {
		fresh, err := freshLike(msgID)
		if err != nil {
			return err
		}
		data.Set("messageId", fresh)
	}
	return nil
}

// freshLike makes a new id in old's shape, so an app that checks the
// form of ids takes it: the same prefix (up to the last "_"), length and
// alphabet (digits, hex, letters of each case; dashes and the like kept
// where they were), a UUID of the same version, an email-style message id
// at the same domain.
func freshLike(old string) (string, error) {
	if strings.HasPrefix(old, "<") && strings.HasSuffix(old, ">") && strings.Contains(old, "@") {
		domain := old[strings.LastIndex(old, "@")+1 : len(old)-1]
		local, err := randomHex(12)
		if err != nil {
			return "", err
		}
		return "<" + local + "@" + domain + ">", nil
	}
	prefix := ""
	if i := strings.LastIndexByte(old, '_'); i >= 0 && i < len(old)-1 {
		prefix = old[:i+1]
	}
	rest := old[len(prefix):]
	if rest == "" {
		id, err := randomHex(12)
		return prefix + id, err
	}
	if strings.Trim(rest, "0123456789") == "" && len(rest) < 6 {
		// A short number: six digits, so that copies sent under load
		// stay apart.
		rest += strings.Repeat("0", 6-len(rest))
	}
	noise := make([]byte, len(rest))
	if _, err := rand.Read(noise); err != nil {
		return "", fmt.Errorf("generate id: %w", err)
	}
	const (
		digits = "0123456789"
		lower  = "abcdefghijklmnopqrstuvwxyz"
		upper  = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		hexLow = "0123456789abcdef"
		hexUp  = "0123456789ABCDEF"
	)
	hexLower := strings.Trim(rest, hexLow+"-") == "" && strings.ContainsAny(rest, "abcdef")
	hexUpper := strings.Trim(rest, hexUp+"-") == "" && strings.ContainsAny(rest, "ABCDEF")
	uuid := uuidPattern().MatchString(rest)
	out := []byte(rest)
	for i, c := range out {
		pick := func(set string) byte { return set[int(noise[i])%len(set)] }
		switch {
		case uuid && (i == 14 || i == 8 || i == 13 || i == 18 || i == 23):
			// the version digit and the dashes stay
		case uuid && i == 19:
			out[i] = "89ab"[noise[i]%4]
		case hexLower && strings.IndexByte(hexLow, c) >= 0:
			out[i] = pick(hexLow)
		case hexUpper && strings.IndexByte(hexUp, c) >= 0:
			out[i] = pick(hexUp)
		case c >= '0' && c <= '9':
			out[i] = pick(digits)
			if i == 0 && strings.Trim(rest, digits) == "" && out[i] == '0' {
				out[i] = '1' // a number keeps its length
			}
		case c >= 'a' && c <= 'z':
			out[i] = pick(lower)
		case c >= 'A' && c <= 'Z':
			out[i] = pick(upper)
		}
	}
	return prefix + string(out), nil
}

var uuidPattern = lazyre.New(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate id: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// EnvelopeOf is where provider p puts the event type, timestamp and id.
func EnvelopeOf(p *provider.Provider) *Envelope {
	env := p.Envelope
	return &Envelope{Event: env.Event, Timestamp: env.Timestamp, TimestampFormat: env.TimestampFormat, ID: env.ID, IDPrefix: env.IDPrefix}
}
