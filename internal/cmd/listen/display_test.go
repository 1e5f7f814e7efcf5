package listen

import (
	"strings"
	"testing"
	"time"

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
	done := make(chan struct{})
	go func() {
		for range 3 * displayQueue {
			d.delivery(&store.Delivery{ID: "dlv_x", Event: "email.sent", Verdict: store.VerdictValid, Answer: 200})
		}
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

func TestPayloadText(t *testing.T) {
	deep := strings.Repeat("[", 9000) + strings.Repeat("]", 9000)
	tests := []struct {
		name, body string
		want       []string
		maxLen     int
	}{
		{"small JSON is indented", `{"event":"email.sent","data":{"id":"1"}}`, []string{"\n      \"event\": \"email.sent\""}, 200},
		{"deep nesting is not laid out", deep, []string{"[[[", "bytes; jasni events show dlv_1"}, 5000},
		{"not JSON stays on one line", "05:00:00 fake\n✓ signed → 200 OK\x1b[2J", []string{`fake\n✓ signed → 200 OK\x1b[2J`}, 200},
		{"huge is cut", `{"a":"` + strings.Repeat("x", 100<<10) + `"}`, []string{"bytes; jasni events show dlv_1"}, 5000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := payloadText(&store.Delivery{ID: "dlv_1", Body: []byte(tt.body)})
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("lacks %q:\n%s", w, got)
				}
			}
			if len(got) > tt.maxLen {
				t.Errorf("%d bytes shown", len(got))
			}
			if strings.Count(got, "\n") > 1 && !strings.HasPrefix(tt.name, "small") {
				t.Errorf("more than one line:\n%s", got)
			}
		})
	}
}
