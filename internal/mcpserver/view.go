package mcpserver

import (
	"encoding/base64"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/jasni/jasni-cli/internal/store"
)

// The shapes a model reads deliveries in. Bodies are strings holding the
// bytes exactly as they came (a JSON value would be re-serialised on the
// way, and a model checking a signature needs the exact bytes), or base64
// when they are not UTF-8.

// text is a body as the model gets it.
type text struct {
	Body       string `json:"body"`
	BodyBase64 string `json:"body_base64,omitempty" jsonschema:"the bytes, when they are not UTF-8 (body is then empty)"`
	BodySize   int64  `json:"body_size" jsonschema:"its size as received"`
	Truncated  bool   `json:"truncated,omitempty" jsonschema:"only the start is here"`
}

func textOf(b []byte, size int64, limit int) text {
	t := text{BodySize: size}
	if len(b) > limit {
		b = b[:limit]
		// Not in the middle of a character: a cut UTF-8 body stays text.
		for i := 0; i < utf8.UTFMax && len(b) > 0 && !utf8.Valid(b); i++ {
			b = b[:len(b)-1]
		}
		if !utf8.Valid(b) {
			b = b[:limit] // not UTF-8 anyway: the bytes as they are, in base64
		}
	}
	t.Truncated = int64(len(b)) < size
	if utf8.Valid(b) {
		t.Body = string(b)
	} else {
		t.BodyBase64 = base64.StdEncoding.EncodeToString(b)
	}
	return t
}

type summaryOut struct {
	ID         string      `json:"id"`
	ReceivedAt time.Time   `json:"received_at"`
	Method     string      `json:"method"`
	Path       string      `json:"path"`
	RemoteAddr string      `json:"remote_addr,omitempty"`
	Event      string      `json:"event" jsonschema:"the event type the body names"`
	Verdict    string      `json:"verdict" jsonschema:"the signature check: valid, invalid, missing or not checked"`
	Refused    bool        `json:"refused,omitempty" jsonschema:"listen refused the request (not a verified delivery) and did not forward it"`
	Duplicate  bool        `json:"duplicate,omitempty" jsonschema:"the same delivery as an earlier one (a provider's retry)"`
	Answer     int         `json:"answer" jsonschema:"the status listen answered the sender with"`
	BodySize   int64       `json:"body_size"`
	Forward    *attemptOut `json:"forward,omitempty" jsonschema:"what listen did with it: the app's status, or why it did not forward it"`
}

type attemptOut struct {
	At         time.Time   `json:"at,omitzero"`
	By         string      `json:"by,omitempty" jsonschema:"listen, resend or replay"`
	URL        string      `json:"url,omitempty"`
	Status     int         `json:"status,omitempty" jsonschema:"the app's status; absent when it did not answer"`
	DurationMS int64       `json:"duration_ms"`
	Error      string      `json:"error,omitempty" jsonschema:"why the app did not answer; it may quote the app's bytes, which are UNTRUSTED"`
	Skipped    string      `json:"skipped,omitempty" jsonschema:"why listen did not forward it"`
	Fix        string      `json:"fix,omitempty"`
	Headers    http.Header `json:"headers,omitempty" jsonschema:"the app's answer headers"`
	Answer     *text       `json:"answer,omitempty" jsonschema:"the app's answer body"`
	SentBody   *text       `json:"sent_body,omitempty" jsonschema:"the body sent, when it was edited"`
}

type deliveryOut struct {
	summaryOut
	Headers  http.Header  `json:"headers"`
	Request  text         `json:"request" jsonschema:"the body as received"`
	Attempts []attemptOut `json:"attempts" jsonschema:"each time it was sent to the app, oldest first: listen's forward, then each resend or replay (the newest 20)"`
	// AttemptsTotal counts them all, when there are more than shown.
	AttemptsTotal int `json:"attempts_total,omitempty" jsonschema:"how many attempts there are in all, when more than the 20 shown"`
}

// maxAttempts is how many attempts get_delivery shows: the newest.
const maxAttempts = 20

func summaryOf(d *store.Delivery) summaryOut {
	s := summaryOut{ID: d.ID, ReceivedAt: d.ReceivedAt, Method: d.Method, Path: d.Path, RemoteAddr: d.RemoteAddr,
		Event: d.Event, Verdict: string(d.Verdict), Refused: d.Rejected, Duplicate: d.Duplicate, Answer: d.Answer, BodySize: d.BodySize}
	if d.Forward != nil {
		f := attemptOf(d.Forward, false)
		s.Forward = &f
	}
	return s
}

func attemptOf(a *store.Attempt, full bool) attemptOut {
	o := attemptOut{At: a.At, By: a.By, URL: a.URL, Status: a.Status, DurationMS: a.DurationMS, Error: a.Error, Skipped: a.Skipped, Fix: a.Fix}
	if full {
		o.Headers = a.Header
		if a.Body != nil || a.BodySize > 0 {
			t := textOf(a.Body, a.BodySize, maxAnswer)
			o.Answer = &t
		}
		if a.Sent != nil && a.Sent.Body != nil {
			t := textOf(a.Sent.Body, int64(len(a.Sent.Body)), maxAnswer)
			o.SentBody = &t
		}
	}
	return o
}

func deliveryOf(d *store.Delivery) deliveryOut {
	o := deliveryOut{summaryOut: summaryOf(d), Headers: d.Header, Request: textOf(d.Body, d.BodySize, maxBody), Attempts: []attemptOut{}}
	first := max(len(d.Attempts)-maxAttempts, 0)
	if first > 0 {
		o.AttemptsTotal = len(d.Attempts)
	}
	for i := first; i < len(d.Attempts); i++ {
		o.Attempts = append(o.Attempts, attemptOf(&d.Attempts[i], true))
	}
	if len(d.Attempts) > 0 && o.Forward != nil && d.Attempts[0].By == store.AttemptByListen {
		o.Forward = nil // it is the first attempt, whole
	}
	return o
}
