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
	"github.com/jasni/jasni-cli/internal/termsafe"
	"github.com/jasni/jasni-cli/internal/tunnel"
	"github.com/jasni/jasni-cli/internal/ui"
)

// display prints one line per delivery; deliveries arrive concurrently, so
// every write holds the lock. Everything that came from the network goes
// through termsafe first. Rejected requests are shown at a bounded rate, so
// a flood of junk cannot bury the real deliveries on the screen.
type display struct {
	mu        sync.Mutex
	io        *iostreams.IOStreams
	out, err  *ui.Styles
	printJSON bool
	now       func() time.Time

	rejected   throttle // lines for rejected requests
	recordErrs throttle // warnings that the history could not keep a delivery
	totalRej   int
}

// throttle lets a burst of lines through, then one a second, and counts
// what it held back so the next line can say so.
type throttle struct {
	burst   int
	window  time.Time
	shown   int
	dropped int
}

const throttleBurst = 10

// allow reports whether a line may be shown now, and how many were held
// back since the last one shown.
func (t *throttle) allow(now time.Time) (bool, int) {
	if now.Sub(t.window) >= time.Second {
		t.window, t.shown = now, 0
	}
	if t.shown >= throttleBurst {
		t.dropped++
		return false, 0
	}
	t.shown++
	dropped := t.dropped
	t.dropped = 0
	return true, dropped
}

func newDisplay(ios *iostreams.IOStreams, printJSON bool) *display {
	return &display{
		io:        ios,
		out:       ui.New(ios.Out, ios.ColorEnabled()),
		err:       ui.New(ios.ErrOut, ios.ErrColorEnabled()),
		printJSON: printJSON,
		now:       time.Now,
	}
}

// deliveryJSON is one line of --output json.
type deliveryJSON struct {
	ID         string          `json:"id"`
	ReceivedAt time.Time       `json:"received_at"`
	Method     string          `json:"method"`
	Path       string          `json:"path"`
	Event      string          `json:"event"`
	Verdict    string          `json:"verdict"`
	Rejected   bool            `json:"rejected"`
	Duplicate  bool            `json:"duplicate"`
	Answer     int             `json:"answer"`
	Forward    *store.Forward  `json:"forward,omitempty"`
	Payload    json.RawMessage `json:"payload,omitempty"`
}

func (d *display) delivery(dl *store.Delivery) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if dl.Rejected {
		d.totalRej++
	}
	if d.io.JSON() {
		line := deliveryJSON{ID: dl.ID, ReceivedAt: dl.ReceivedAt, Method: dl.Method, Path: dl.Path, Event: dl.Event,
			Verdict: string(dl.Verdict), Rejected: dl.Rejected, Duplicate: dl.Duplicate, Answer: dl.Answer, Forward: dl.Forward}
		if d.printJSON && !dl.Rejected && json.Valid(dl.Body) {
			line.Payload = dl.Body
		}
		_ = d.io.WriteJSON(line)
		return
	}
	line := formatLine(d.out, dl)
	if dl.Rejected {
		ok, dropped := d.rejected.allow(d.now())
		if !ok {
			return
		}
		if dropped > 0 {
			line += d.out.Muted(fmt.Sprintf("  (%d more rejected requests not shown)", dropped))
		}
	}
	fmt.Fprintln(d.io.Out, line)
	if d.printJSON && !dl.Rejected {
		var pretty bytes.Buffer
		if json.Indent(&pretty, dl.Body, "    ", "  ") == nil {
			fmt.Fprintf(d.io.Out, "    %s\n", termsafe.Text(pretty.String()))
		} else {
			fmt.Fprintf(d.io.Out, "    %s\n", termsafe.Text(strings.TrimSpace(string(dl.Body))))
		}
	}
}

// formatLine is: time, event, signature verdict, what happened, latency.
func formatLine(s *ui.Styles, dl *store.Delivery) string {
	event := termsafe.Line(dl.Event)
	if event == "" {
		event = "(no event type)"
	}
	if dl.Rejected && dl.Method != http.MethodPost {
		event = termsafe.Line(dl.Method + " " + dl.Path)
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
		if dl.Rejected {
			verdict = s.Failure(fmt.Sprintf("%-15s", "✗ refused"))
		} else {
			verdict = s.Warning(fmt.Sprintf("%-15s", "! unchecked"))
		}
	}
	var outcome string
	f := dl.Forward
	switch {
	case f == nil:
		outcome = fmt.Sprintf("answered %d", dl.Answer)
	case f.Skipped != "":
		outcome = s.Muted(termsafe.Line(fmt.Sprintf("answered %d, not forwarded: %s", dl.Answer, f.Skipped)))
	case f.Error != "":
		outcome = s.Failure(termsafe.Line(fmt.Sprintf("→ %d %s", dl.Answer, f.Error)))
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

// recordError warns that a delivery could not be kept, at a bounded rate.
func (d *display) recordError(err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	ok, dropped := d.recordErrs.allow(d.now())
	if !ok {
		return
	}
	msg := termsafe.Line(err.Error())
	if dropped > 0 {
		msg += fmt.Sprintf(" (and %d more like it)", dropped)
	}
	fmt.Fprintf(d.io.ErrOut, "%s %s\n", d.err.WarningIcon(), msg)
}

// summary says, at exit, how much junk was turned away.
func (d *display) summary() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.totalRej > 0 && !d.io.JSON() {
		fmt.Fprintf(d.io.ErrOut, "%s %d requests were refused (unsigned, badly signed, or not a webhook); see them with: jasni events list --rejected\n",
			d.err.WarningIcon(), d.totalRej)
	}
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
		d.warn(fmt.Sprintf("ngrok connection lost (%s); reconnecting...", termsafe.Line(fmt.Sprint(err))))
	case tunnel.StatusReconnected:
		d.info(d.err.SuccessIcon() + " ngrok reconnected; the public URL is unchanged")
	}
}
