// Package feed is the stream of what happens to each delivery that `jasni
// listen` receives: received, refused or verified, forwarded, answered,
// recorded or not kept. The relay and the history publish; the terminal
// lines, the JSON stream and the inspector subscribe, each chosen once from
// listen's options. Publishing never waits: each subscriber has a bounded
// buffer, and what it missed while it was slow is counted for it to say.
package feed

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/jasni/jasni-cli/internal/store"
)

// Kind is a step in a delivery's life.
type Kind string

const (
	// Received: a request arrived at the webhook path (headers read).
	Received Kind = "received"
	// Refused: it was not a verified delivery (wrong path or method,
	// unsigned, badly signed, too large, or no room); it was answered and
	// kept apart. Its last event.
	Refused Kind = "refused"
	// Verified: the signature checked out (or was not checked, by choice).
	Verified Kind = "verified"
	// Forwarded: it is on its way to the app.
	Forwarded Kind = "forwarded"
	// Answered: the sender has its answer; Delivery holds the outcome.
	Answered Kind = "answered"
	// Recorded: it is in the history. NotKept: the history could not keep
	// it; Err says why.
	Recorded Kind = "recorded"
	NotKept  Kind = "not_kept"
)

// Event is one step of one delivery. Delivery is a snapshot, shared by
// every subscriber: read it, never change it.
type Event struct {
	Kind     Kind
	At       time.Time
	Delivery *store.Delivery
	Err      error
}

// Hub hands events to its subscribers. The zero value has none.
type Hub struct {
	mu   sync.RWMutex
	subs []*Subscription
}

// Subscription is one subscriber's buffer of events.
type Subscription struct {
	hub    *Hub
	c      chan Event
	missed atomic.Int64
	once   sync.Once
}

// Subscribe adds a subscriber with room for buffer events.
func (h *Hub) Subscribe(buffer int) *Subscription {
	s := &Subscription{hub: h, c: make(chan Event, buffer)}
	h.mu.Lock()
	h.subs = append(h.subs, s)
	h.mu.Unlock()
	return s
}

// Events is the subscriber's stream; it is closed by Close or by the hub's
// Close.
func (s *Subscription) Events() <-chan Event { return s.c }

// Missed returns how many events were dropped since it was last called,
// because the subscriber was not keeping up.
func (s *Subscription) Missed() int64 { return s.missed.Swap(0) }

// Close stops the subscription and closes its stream.
func (s *Subscription) Close() {
	h := s.hub
	h.mu.Lock()
	for i, o := range h.subs {
		if o == s {
			h.subs = append(h.subs[:i:i], h.subs[i+1:]...)
			break
		}
	}
	h.mu.Unlock()
	s.once.Do(func() { close(s.c) })
}

// Publish hands e to every subscriber that has room, and counts it as
// missed for the others. It never blocks. A nil hub drops it.
func (h *Hub) Publish(kind Kind, d *store.Delivery, err error) {
	if h == nil {
		return
	}
	h.mu.RLock()
	defer h.mu.RUnlock()
	if len(h.subs) == 0 {
		return
	}
	snapshot := *d
	e := Event{Kind: kind, At: time.Now(), Delivery: &snapshot, Err: err}
	for _, s := range h.subs {
		select {
		case s.c <- e:
		default:
			s.missed.Add(1)
		}
	}
}

// Close ends every subscription: their streams are closed once drained.
func (h *Hub) Close() {
	h.mu.Lock()
	subs := h.subs
	h.subs = nil
	h.mu.Unlock()
	for _, s := range subs {
		s.once.Do(func() { close(s.c) })
	}
}
