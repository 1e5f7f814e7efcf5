package delivery

import (
	"fmt"
	"net/http"
	"time"

	"github.com/jasni/jasni-cli/internal/payload"
	"github.com/jasni/jasni-cli/internal/provider"
)

// Event is what one signed delivery of an event is made from: the
// provider's fixture (or a body of the user's), made fresh, with
// overrides, signed with keys. Trigger, check and jasni mcp make every
// delivery they send through it.
type Event struct {
	Provider *provider.Provider
	// Name is the fixture's event type; with Body, the type to send when
	// the body does not carry one.
	Name string
	// Body, when set, is sent instead of the fixture (trigger --data-file).
	Body    []byte
	Now     time.Time
	KeepIDs bool
	// Sets are "path=value" overrides, applied last.
	Sets []string
	// Keys sign the delivery; none sends it unsigned.
	Keys []provider.Key
	// Timestamp is the signing time; zero is Now.
	Timestamp time.Time
	URL       string
	// Extra headers go on top of the provider's; Removed are taken away.
	Extra   http.Header
	Removed []string
}

// ErrNoFixture is returned for an event type the provider has no fixture of.
type ErrNoFixture struct{ Provider, Event string }

func (e *ErrNoFixture) Error() string {
	return fmt.Sprintf("%s has no event %q", e.Provider, e.Event)
}

// Build makes the delivery: the request as the provider would send it,
// and the event it carries. One delivery id is made here, so every retry
// of the request sends the same one. When the event itself cannot be made
// (a bad body or override), the event returned is nil.
func (e Event) Build() (Request, *payload.Event, error) {
	popts := payload.Options{Now: e.Now, KeepIDs: e.KeepIDs, Sets: e.Sets, Envelope: payload.EnvelopeOf(e.Provider)}
	var (
		ev  *payload.Event
		err error
	)
	if e.Body != nil {
		ev, err = payload.FromFile(e.Body, e.Name, popts)
	} else {
		fixture, ok := e.Provider.Event(e.Name)
		if !ok {
			return Request{}, nil, &ErrNoFixture{Provider: e.Provider.Title, Event: e.Name}
		}
		ev, err = payload.FromFixture(fixture.JSON, popts)
		if err == nil && ev.Type == "" {
			ev.Type = e.Name // the provider carries the type in a header only
		}
	}
	if err != nil {
		return Request{}, nil, err // the event could not be made
	}
	sign := Signing{Provider: e.Provider, Keys: e.Keys, Timestamp: e.Timestamp}
	if sign.Timestamp.IsZero() {
		sign.Timestamp = e.Now
	}
	req, err := NewRequest(e.URL, ev.Body, ev.Type, sign, e.Extra, e.Removed)
	return req, ev, err
}

// HandshakeCheck is what a Sender expects of the answer to req: for a
// provider's handshake (Slack's url_verification, Zoom's), the answer the
// provider requires, judged with keys; nil for any other delivery, where
// a 2xx will do.
func HandshakeCheck(p *provider.Provider, keys []provider.Key, req Request) func(http.Header, []byte) string {
	if !p.IsHandshake(req.Header, req.Body) {
		return nil
	}
	return func(_ http.Header, answer []byte) string {
		return p.JudgeHandshakeAnswer(req.Header, req.Body, keys, answer)
	}
}
