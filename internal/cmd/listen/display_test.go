package listen

import (
	"testing"
	"time"

	"github.com/jasni/jasni-cli/internal/feed"
	"github.com/jasni/jasni-cli/internal/iostreams"
	"github.com/jasni/jasni-cli/internal/store"
)

// blockedWriter is a terminal that stopped reading (Ctrl-S, a stuck pager).
type blockedWriter struct{ release chan struct{} }

func (b blockedWriter) Write(p []byte) (int, error) {
	<-b.release
	return len(p), nil
}

// A terminal that does not read never holds up deliveries: lines beyond the
// queue are dropped and counted, and closing does not hang.
func TestDisplayNeverWaitsForTheTerminal(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	stuck := blockedWriter{release: make(chan struct{})}
	defer close(stuck.release)
	ios.Out, ios.ErrOut = stuck, stuck
	d := newDisplay(ios, false)
	hub := &feed.Hub{}
	shown := d.subscribe(hub)
	done := make(chan struct{})
	go func() {
		for range 3 * displayQueue {
			hub.Publish(feed.Answered, &store.Delivery{ID: "dlv_x", Event: "email.sent", Verdict: store.VerdictValid, Answer: 200}, nil)
		}
		hub.Close()
		<-shown
		d.close()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("deliveries waited for a terminal that does not read")
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.dropped == 0 {
		t.Error("no lines counted as dropped")
	}
}
