package inspect

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/jasni/jasni-cli/internal/deliveryview"
	"github.com/jasni/jasni-cli/internal/feed"
	"github.com/jasni/jasni-cli/internal/store"
)

// Bounds of one page's live stream: what it may fall behind by before it
// misses deliveries (it is told, and reloads the list), and how long one
// write may wait before a page that stopped reading is cut off.
const (
	// maxStreams bounds the pages that follow the stream at once: each
	// one costs the relay an encoding of every delivery.
	maxStreams    = 8
	streamBuffer  = 256
	writeDeadline = 5 * time.Second
	keepAlive     = 15 * time.Second
)

// stream: GET /api/stream, server-sent events: one "delivery" event per
// delivery, its list object as data; "missed" when the page fell behind.
// It is a subscriber of listen's feed, so a slow page never slows a
// delivery; without a feed (jasni inspect) it reads the history for new
// deliveries every PollEvery.
func (s *Server) stream(w http.ResponseWriter, r *http.Request) {
	if s.streams.Add(1) > maxStreams {
		s.streams.Add(-1)
		apiError(w, http.StatusServiceUnavailable, "too_many_pages", fmt.Sprintf("%d inspector pages are following deliveries already: close one", maxStreams))
		return
	}
	defer s.streams.Add(-1)
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	send := func(event string, v any) bool {
		data, err := json.Marshal(v)
		if err != nil {
			return false
		}
		_ = rc.SetWriteDeadline(time.Now().Add(writeDeadline))
		if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, data); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	// Subscribed before hello: a page that acts on hello (sends, or loads
	// the list) gets every delivery from then on.
	var sub *feed.Subscription
	if s.o.Feed != nil {
		sub = s.o.Feed.Subscribe(streamBuffer)
		defer sub.Close()
	}
	if !send("hello", map[string]bool{"live": s.o.Feed != nil}) {
		return
	}
	tick := time.NewTicker(keepAlive)
	defer tick.Stop()
	if sub == nil {
		s.poll(r, send, tick.C)
		return
	}
	// A delivery is shown when it arrives and again when it is answered:
	// with a history, once it is kept (so its detail can be read), and its
	// answer as it comes. Kept may come after answered; the answered
	// snapshot is the newer then.
	answered := map[string]bool{}
	for {
		select {
		case <-s.done:
			return
		case <-r.Context().Done():
			return
		case <-tick.C:
			if !send("ping", struct{}{}) {
				return
			}
		case e, ok := <-sub.Events():
			if !ok {
				return
			}
			if n := sub.Missed(); n > 0 && !send("missed", map[string]int64{"count": n}) {
				return
			}
			id := e.Delivery.ID
			switch e.Kind {
			case feed.Recorded:
				if answered[id] {
					delete(answered, id)
					continue
				}
			case feed.Answered, feed.Refused:
				if s.o.Store != nil {
					if len(answered) > 4096 {
						clear(answered) // kept never came for some: at worst a row shows in flight again
					}
					answered[id] = true
				}
			case feed.NotKept:
				delete(answered, id)
			default:
				continue
			}
			o := deliveryview.JSON(e.Delivery, false)
			o.NotKept = e.Kind == feed.NotKept
			if !send("delivery", o) {
				return
			}
		}
	}
}

// poll sends what the history gains, oldest first.
func (s *Server) poll(r *http.Request, send func(string, any) bool, ping <-chan time.Time) {
	if s.o.Store == nil {
		return
	}
	last := map[bool]string{}
	for _, refused := range []bool{false, true} {
		if ds, err := s.o.Store.List(r.Context(), store.Query{Rejected: refused, Limit: 1}); err == nil && len(ds) > 0 {
			last[refused] = ds[0].ID
		}
	}
	t := time.NewTicker(s.o.PollEvery)
	defer t.Stop()
	for {
		select {
		case <-s.done:
			return
		case <-r.Context().Done():
			return
		case <-ping:
			if !send("ping", struct{}{}) {
				return
			}
		case <-t.C:
			for _, refused := range []bool{false, true} {
				ds, err := s.o.Store.List(r.Context(), store.Query{Rejected: refused, After: last[refused], Limit: streamBuffer})
				if err != nil {
					continue
				}
				if len(ds) == streamBuffer && !send("missed", map[string]int{"count": 1}) {
					return
				}
				for i := len(ds) - 1; i >= 0; i-- {
					if !send("delivery", deliveryview.JSON(&ds[i], false)) {
						return
					}
				}
				if len(ds) > 0 {
					last[refused] = ds[0].ID
				}
			}
		}
	}
}
