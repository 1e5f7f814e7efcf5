package feed_test

import (
	"testing"

	"github.com/jasni/jasni-cli/internal/feed"
	"github.com/jasni/jasni-cli/internal/store"
)

// A subscriber that does not read never holds up a publisher: what it
// cannot take is counted for it, and it gets each event as a snapshot the
// publisher cannot change afterwards.
func TestSlowSubscriberMissesAndCounts(t *testing.T) {
	var hub feed.Hub
	slow := hub.Subscribe(2)
	fast := hub.Subscribe(10)
	d := &store.Delivery{ID: "dlv_1", Answer: 200}
	for range 5 {
		hub.Publish(feed.Answered, d, nil)
	}
	d.Answer = 500 // the relay goes on with its own copy
	if n := slow.Missed(); n != 3 {
		t.Errorf("slow subscriber missed %d, want 3", n)
	}
	if n := slow.Missed(); n != 0 {
		t.Errorf("Missed counts since it was last asked: %d", n)
	}
	if n := fast.Missed(); n != 0 {
		t.Errorf("fast subscriber missed %d", n)
	}
	e := <-fast.Events()
	if e.Kind != feed.Answered || e.Delivery.Answer != 200 || e.Delivery == d {
		t.Errorf("event %+v: want a snapshot of the delivery as published", e)
	}
	slow.Close()
	hub.Publish(feed.Answered, d, nil) // no panic on a closed subscriber
	hub.Close()
	n := 0
	for range fast.Events() {
		n++
	}
	if n != 5 {
		t.Errorf("fast subscriber drained %d more after close, want 5", n)
	}
	var none *feed.Hub
	none.Publish(feed.Received, d, nil) // a relay without a feed
}
