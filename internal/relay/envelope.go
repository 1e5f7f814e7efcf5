package relay

import (
	"net/http"

	"github.com/jasni/jasni-cli/internal/jsonpeek"
)

// Where Jasni puts a delivery's event type and the parts of its dedup key.
// The header comes first: reading it costs nothing. The body is only peeked
// at, never parsed whole, whatever its size.
const headerEvent = "X-Webhook-Event"

var (
	pathEvent     = []string{"event"}
	pathTimestamp = []string{"timestamp"}
	pathDataID    = []string{"data", "id"}
)

func (r *Relay) headerEvent(h http.Header) string { return h.Get(headerEvent) }

func bodyEvent(body []byte) string {
	s, _ := jsonpeek.String(body, pathEvent...)
	return s
}

// dedupKey is the Jasni docs' own: event + data.id + timestamp. A delivery
// without a timestamp has no key and is never called a duplicate.
func dedupKey(event string, body []byte) string {
	found := jsonpeek.Find(body, pathTimestamp, pathDataID)
	if len(found[0]) == 0 {
		return ""
	}
	return event + "|" + string(found[1]) + "|" + string(found[0])
}
