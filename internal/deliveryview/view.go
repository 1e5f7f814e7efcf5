// Package deliveryview shows a received delivery the same way everywhere:
// listen's live lines, `events list` and `events show`. There are three
// forms: a line for a terminal that fits its width, tab-separated fields
// for pipes, and one JSON object shape.
//
// Everything but what jasni computed came from the network, so each field
// goes through termsafe before it is shown.
package deliveryview

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jasni/jasni-cli/internal/store"
	"github.com/jasni/jasni-cli/internal/termsafe"
	"github.com/jasni/jasni-cli/internal/ui"
)

// Object is the JSON shape of a delivery, for `listen --output json`,
// `events list --output json` and `events show --output json`.
type Object struct {
	// Type is "delivery" in a stream (listen --output json), where other
	// objects ("ready") come too.
	Type       string        `json:"type,omitempty"`
	ID         string        `json:"id"`
	ReceivedAt time.Time     `json:"received_at"`
	Method     string        `json:"method"`
	Path       string        `json:"path"`
	RemoteAddr string        `json:"remote_addr,omitempty"`
	Event      string        `json:"event"`
	Verdict    store.Verdict `json:"verdict"`
	Rejected   bool          `json:"rejected"`
	Duplicate  bool          `json:"duplicate"`
	Answer     int           `json:"answer"`
	BodySize   int64         `json:"body_size"`
	Forward    *Attempt      `json:"forward,omitempty"`
	Attempts   []Attempt     `json:"attempts,omitempty"`
	Headers    http.Header   `json:"headers,omitempty"`
	// Body is the body as JSON when it is JSON, else as a string.
	Body json.RawMessage `json:"body,omitempty"`
	// BodyBase64 is the body's bytes, when they are not UTF-8 (Body then
	// shows them with U+FFFD in place of what is not).
	BodyBase64 string `json:"body_base64,omitempty"`
	Truncated  bool   `json:"truncated,omitempty"`
	// NotKept marks, in a stream, a delivery the history could not keep.
	NotKept bool `json:"not_kept,omitempty"`
}

// JSON is d as an Object: with headers and body when full is set.
func JSON(d *store.Delivery, full bool) Object {
	o := Object{
		ID: d.ID, ReceivedAt: d.ReceivedAt, Method: d.Method, Path: d.Path, RemoteAddr: d.RemoteAddr,
		Event: d.Event, Verdict: d.Verdict, Rejected: d.Rejected, Duplicate: d.Duplicate,
		Answer: d.Answer, BodySize: d.BodySize,
	}
	if d.Forward != nil {
		// Whole, the forward is listen's attempt, answer and all; the
		// forward kept for lists has no answer body to show.
		f := attemptJSON(d.Forward, false)
		if full && len(d.Attempts) > 0 && d.Attempts[0].By == store.AttemptByListen {
			f = attemptJSON(&d.Attempts[0], true)
			f.Skipped, f.Fix = d.Forward.Skipped, d.Forward.Fix
		}
		o.Forward = &f
	}
	if full {
		o.Headers = d.Header
		o.Body = rawOrString(d.Body)
		if !utf8.Valid(d.Body) {
			o.BodyBase64 = base64.StdEncoding.EncodeToString(d.Body)
		}
		o.Truncated = d.Truncated()
		for i := range d.Attempts {
			o.Attempts = append(o.Attempts, attemptJSON(&d.Attempts[i], true))
		}
	}
	return o
}

// Attempt is the JSON shape of one time a delivery was sent to an app (or
// of why listen did not): with the app's answer headers and body when the
// whole delivery is asked for.
type Attempt struct {
	At         time.Time   `json:"at,omitzero"`
	By         string      `json:"by,omitempty"`
	URL        string      `json:"url,omitempty"`
	Status     int         `json:"status,omitempty"`
	DurationMS int64       `json:"duration_ms"`
	Error      string      `json:"error,omitempty"`
	Skipped    string      `json:"skipped,omitempty"`
	Fix        string      `json:"fix,omitempty"`
	Summary    string      `json:"summary,omitempty"`
	Sent       *Sent       `json:"sent,omitempty"`
	Headers    http.Header `json:"headers,omitempty"`
	// Body is the start of the app's answer, as JSON when it is JSON, else
	// as a string; BodySize is the whole answer's size.
	Body      json.RawMessage `json:"body,omitempty"`
	BodySize  int64           `json:"body_size,omitempty"`
	Truncated bool            `json:"truncated,omitempty"`
}

// Sent is how an attempt differed from the delivery as received.
type Sent struct {
	Headers http.Header     `json:"headers,omitempty"`
	Body    json.RawMessage `json:"body,omitempty"`
}

// AttemptJSON is a whole, answer included.
func AttemptJSON(a *store.Attempt) Attempt { return attemptJSON(a, true) }

func attemptJSON(a *store.Attempt, full bool) Attempt {
	o := Attempt{At: a.At, By: a.By, URL: a.URL, Status: a.Status, DurationMS: a.DurationMS, Error: a.Error,
		Skipped: a.Skipped, Fix: a.Fix, Summary: a.Summary, BodySize: a.BodySize}
	if full {
		o.Headers = a.Header
		if a.Body != nil || a.BodySize > 0 {
			o.Body = rawOrString(a.Body)
		}
		o.Truncated = a.Truncated()
		if a.Sent != nil {
			o.Sent = &Sent{Headers: a.Sent.Header}
			if a.Sent.Body != nil {
				o.Sent.Body = rawOrString(a.Sent.Body)
			}
		}
	}
	return o
}

func rawOrString(b []byte) json.RawMessage {
	if json.Valid(b) {
		return b
	}
	s, _ := json.Marshal(string(b))
	return s
}

// Columns of a line: time, what, verdict, outcome, id. The outcome takes
// what the others leave.
const (
	whatWidth    = 15
	verdictWidth = 11
)

// Line is d on one terminal line of at most width columns:
//
//	15:04:05 email.received  ✓ signed    → 200 OK 12ms        dlv_0193a4c2b1f0a1b2c3
//
// timeLayout is the time's format ("15:04:05" live, with the date in a list).
func Line(s *ui.Styles, d *store.Delivery, width int, timeLayout string) string {
	when := d.ReceivedAt.Local().Format(timeLayout)
	id := termsafe.Line(d.ID)
	// Under idWidthMin columns the id gives way to the outcome: why a
	// delivery failed matters more on a line than which one it was
	// (events list and events show --last have it).
	if width < idWidthMin {
		id = ""
	}
	flex := width - ui.Width(when) - whatWidth - verdictWidth - ui.Width(id) - 4
	if flex < 12 {
		flex = 12 // narrower than anyone uses: let it wrap rather than show nothing
	}
	// The most that fits: in full, compact, then the status alone.
	var outcome string
	for _, o := range []string{Outcome(d), compactOutcome(d), statusOutcome(d)} {
		if outcome = o; ui.Width(o) <= flex {
			break
		}
	}
	outcome = ui.Truncate(outcome, flex)
	var styled string
	switch {
	case d.Rejected || d.Forward != nil && d.Forward.Error != "":
		styled = s.Failure(outcome)
	case d.Forward != nil && d.Forward.Skipped != "":
		styled = s.Muted(outcome)
	case d.Forward != nil && (d.Forward.Status < 200 || d.Forward.Status > 299):
		styled = s.Warning(outcome)
	case d.Forward != nil:
		styled = s.Success(outcome)
	default:
		styled = outcome
	}
	line := s.Muted(when) + " " +
		ui.Pad(ui.Truncate(What(d), whatWidth), whatWidth) + " " +
		ui.Pad(styleVerdict(s, d), verdictWidth) + " "
	if id == "" {
		return line + styled
	}
	return line + ui.Pad(styled, flex) + " " + s.Muted(id)
}

// idWidthMin is the narrowest terminal whose lines keep the id.
const idWidthMin = 100

// Fields are d as plain values, for tab-separated output: id, time
// (RFC 3339), what, verdict, answer, outcome, "duplicate" or "".
func Fields(d *store.Delivery) []string {
	dup := ""
	if d.Duplicate {
		dup = "duplicate"
	}
	return []string{
		termsafe.Line(d.ID), d.ReceivedAt.UTC().Format(time.RFC3339Nano), What(d), string(d.Verdict),
		answerText(d.Answer), Outcome(d), dup,
	}
}

// What names a delivery: its event type, or for a refused request that was
// not a POST, its method and path.
func What(d *store.Delivery) string {
	switch {
	case d.Rejected && d.Method != http.MethodPost:
		return termsafe.Line(d.Method + " " + d.Path)
	case d.Event == "":
		return "(no event type)"
	}
	return termsafe.Line(d.Event)
}

// VerdictText is the signature verdict in words, at most verdictWidth
// columns.
func VerdictText(d *store.Delivery) string {
	switch {
	case d.Verdict == store.VerdictValid && d.Duplicate:
		return "✓ duplicate"
	case d.Verdict == store.VerdictValid:
		return "✓ signed"
	case d.Verdict == store.VerdictInvalid:
		return "✗ invalid"
	case d.Verdict == store.VerdictMissing:
		return "✗ unsigned"
	case d.Rejected:
		return "✗ refused"
	}
	return "! unchecked"
}

func styleVerdict(s *ui.Styles, d *store.Delivery) string {
	text := VerdictText(d)
	switch {
	case d.Verdict == store.VerdictValid && d.Duplicate:
		return s.Warning(text)
	case d.Verdict == store.VerdictValid:
		return s.Success(text)
	case strings.HasPrefix(text, "✗"):
		return s.Failure(text)
	}
	return s.Warning(text)
}

// Outcome is what became of a delivery: the app's answer, why it was not
// forwarded, or what jasni answered.
func Outcome(d *store.Delivery) string {
	f := d.Forward
	switch {
	case d.Answer == 0:
		return "… forwarding"
	case d.Rejected && f != nil && f.Skipped != "":
		return termsafe.Line(fmt.Sprintf("answered %d: %s", d.Answer, f.Skipped))
	case d.Rejected:
		return fmt.Sprintf("answered %d %s", d.Answer, refusal(d))
	case f == nil:
		return fmt.Sprintf("answered %d", d.Answer)
	case f.Skipped != "":
		return termsafe.Line(fmt.Sprintf("answered %d, not forwarded: %s", d.Answer, f.Skipped))
	case f.Error != "":
		return termsafe.Line(fmt.Sprintf("→ %d %s", d.Answer, f.Error))
	case f.Summary != "":
		return fmt.Sprintf("→ %d %s %dms: %s", f.Status, http.StatusText(f.Status), f.DurationMS, termsafe.Line(f.Summary))
	}
	return fmt.Sprintf("→ %d %s %dms", f.Status, http.StatusText(f.Status), f.DurationMS)
}

// compactOutcome is Outcome for a narrow column: the status, what matters
// most about it, and the rest left to `events show`.
func compactOutcome(d *store.Delivery) string {
	f := d.Forward
	switch {
	case d.Answer == 0:
		return "…"
	case d.Rejected && f != nil && f.Skipped != "":
		// The cause, without the words the verdict column already says.
		why := strings.TrimPrefix(strings.TrimPrefix(f.Skipped, "signature invalid: "), "unsigned: ")
		return termsafe.Line(fmt.Sprintf("%d %s", d.Answer, why))
	case d.Rejected:
		return fmt.Sprintf("%d %s", d.Answer, refusal(d))
	case f == nil:
		return fmt.Sprintf("answered %d", d.Answer)
	case f.Skipped != "":
		return fmt.Sprintf("%d, not forwarded", d.Answer)
	case f.Error != "" && f.Summary != "":
		return termsafe.Line(fmt.Sprintf("%d %s", d.Answer, f.Summary))
	case f.Error != "":
		return termsafe.Line(fmt.Sprintf("%d %s", d.Answer, f.Error))
	case f.Summary != "":
		return fmt.Sprintf("→ %d: %s", f.Status, termsafe.Line(f.Summary))
	}
	return fmt.Sprintf("→ %d %dms", f.Status, f.DurationMS)
}

// statusOutcome is the status alone, for the narrowest column.
func statusOutcome(d *store.Delivery) string {
	f := d.Forward
	switch {
	case d.Answer == 0:
		return "…"
	case d.Rejected && f != nil && f.Skipped != "":
		return compactOutcome(d) // why it was refused matters more, cut short
	case d.Rejected:
		return fmt.Sprintf("%d refused", d.Answer)
	case f != nil && f.Skipped != "":
		return fmt.Sprintf("%d skipped", d.Answer)
	case f != nil && f.Error != "":
		return compactOutcome(d) // why it failed matters more, cut short
	case f != nil:
		return fmt.Sprintf("→ %d", f.Status)
	}
	return fmt.Sprintf("answered %d", d.Answer)
}

// refusal says in a word or two why listen refused a request, by the
// status it answered.
func refusal(d *store.Delivery) string {
	switch status := d.Answer; status {
	case http.StatusUnauthorized:
		if d.Verdict == store.VerdictMissing {
			return "unsigned"
		}
		return "bad signature"
	case http.StatusNotFound:
		return "wrong path"
	case http.StatusMethodNotAllowed:
		return "wrong method"
	case http.StatusRequestEntityTooLarge:
		return "too large"
	case http.StatusRequestHeaderFieldsTooLarge:
		return "headers too large"
	case http.StatusServiceUnavailable:
		return "busy"
	}
	return http.StatusText(d.Answer)
}

// ForwardText is one forward or resend, for `events show`.
func ForwardText(f *store.Attempt) string {
	switch {
	case f == nil:
		return "-"
	case f.Skipped != "":
		return "not forwarded: " + termsafe.Line(f.Skipped)
	case f.Error != "":
		return "failed: " + termsafe.Line(f.Error) + " (" + termsafe.Line(f.URL) + ")"
	}
	text := fmt.Sprintf("%d %s from %s in %dms", f.Status, http.StatusText(f.Status), termsafe.Line(f.URL), f.DurationMS)
	if f.Summary != "" {
		text += ": " + termsafe.Line(f.Summary)
	}
	return text
}

func answerText(status int) string {
	if status == 0 {
		return "…" // still being forwarded
	}
	return strconv.Itoa(status)
}
