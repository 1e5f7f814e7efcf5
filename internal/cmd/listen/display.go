package listen

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/jasni/jasni-cli/internal/iostreams"
	"github.com/jasni/jasni-cli/internal/store"
	"github.com/jasni/jasni-cli/internal/tunnel"
	"github.com/jasni/jasni-cli/internal/ui"
)

// display prints one line per delivery; deliveries arrive concurrently, so
// every write holds the lock.
type display struct {
	mu        sync.Mutex
	io        *iostreams.IOStreams
	out, err  *ui.Styles
	printJSON bool
}

func newDisplay(ios *iostreams.IOStreams, printJSON bool) *display {
	return &display{
		io:        ios,
		out:       ui.New(ios.Out, ios.ColorEnabled()),
		err:       ui.New(ios.ErrOut, ios.ErrColorEnabled()),
		printJSON: printJSON,
	}
}

// deliveryJSON is one line of --output json.
type deliveryJSON struct {
	ID         string          `json:"id"`
	ReceivedAt time.Time       `json:"received_at"`
	Event      string          `json:"event"`
	Verdict    string          `json:"verdict"`
	Duplicate  bool            `json:"duplicate"`
	Answer     int             `json:"answer"`
	Forward    *store.Forward  `json:"forward,omitempty"`
	Payload    json.RawMessage `json:"payload,omitempty"`
}

func (d *display) delivery(dl *store.Delivery) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.io.JSON() {
		line := deliveryJSON{ID: dl.ID, ReceivedAt: dl.ReceivedAt, Event: dl.Event, Verdict: string(dl.Verdict),
			Duplicate: dl.Duplicate, Answer: dl.Answer, Forward: dl.Forward}
		if d.printJSON && json.Valid(dl.Body) {
			line.Payload = dl.Body
		}
		_ = d.io.WriteJSON(line)
		return
	}
	fmt.Fprintln(d.io.Out, formatLine(d.out, dl))
	if d.printJSON {
		var pretty bytes.Buffer
		if json.Indent(&pretty, dl.Body, "    ", "  ") == nil {
			fmt.Fprintf(d.io.Out, "    %s\n", pretty.String())
		} else {
			fmt.Fprintf(d.io.Out, "    %s\n", strings.TrimSpace(string(dl.Body)))
		}
	}
}

// formatLine is: time, event, signature verdict, what happened, latency.
func formatLine(s *ui.Styles, dl *store.Delivery) string {
	event := dl.Event
	if event == "" {
		event = "(no event type)"
	}
	// Pad before styling: escape codes would count as width.
	var verdict string
	switch dl.Verdict {
	case store.VerdictValid:
		verdict = s.Success(fmt.Sprintf("%-15s", "✓ signed"))
	case store.VerdictInvalid:
		verdict = s.Failure(fmt.Sprintf("%-15s", "✗ bad signature"))
	case store.VerdictMissing:
		verdict = s.Failure(fmt.Sprintf("%-15s", "✗ unsigned"))
	default:
		verdict = s.Warning(fmt.Sprintf("%-15s", "! unchecked"))
	}
	var outcome string
	f := dl.Forward
	switch {
	case f == nil:
		outcome = fmt.Sprintf("answered %d", dl.Answer)
	case f.Skipped != "":
		outcome = s.Muted(fmt.Sprintf("answered %d, not forwarded: %s", dl.Answer, f.Skipped))
	case f.Error != "":
		outcome = s.Failure(fmt.Sprintf("→ %d %s", dl.Answer, f.Error))
	default:
		text := fmt.Sprintf("→ %d %s", f.Status, http.StatusText(f.Status))
		if f.Status >= 200 && f.Status < 300 {
			outcome = s.Success(text)
		} else {
			outcome = s.Warning(text)
		}
		outcome += s.Muted(fmt.Sprintf("  %dms", f.DurationMS))
	}
	line := fmt.Sprintf("%s  %-16s %s  %s", s.Muted(dl.ReceivedAt.Format("15:04:05")), event, verdict, outcome)
	if dl.Duplicate {
		line += "  " + s.Warning("(duplicate)")
	}
	return line + s.Muted("  "+dl.ID)
}

func (d *display) warn(msg string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	fmt.Fprintf(d.io.ErrOut, "%s %s\n", d.err.WarningIcon(), msg)
}

func (d *display) info(msg string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	fmt.Fprintln(d.io.ErrOut, msg)
}

// tunnelStatus is called by the SDK's event handler and must not block for
// long: it only prints.
func (d *display) tunnelStatus(st tunnel.Status, err error) {
	switch st {
	case tunnel.StatusDisconnected:
		d.warn(fmt.Sprintf("ngrok connection lost (%v); reconnecting...", err))
	case tunnel.StatusReconnected:
		d.info(d.err.SuccessIcon() + " ngrok reconnected; the public URL is unchanged")
	}
}
