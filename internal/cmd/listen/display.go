package listen

import (
	"bufio"
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

// display prints one line per delivery. Deliveries arrive concurrently and
// must never wait for the terminal (a paused terminal or a pager that stopped
// reading would otherwise stall every sender), so lines are queued and one
// goroutine writes them; when the queue is full, lines are counted and
// dropped, and the next line written says how many. Everything that came
// from the network goes through termsafe first. Refused requests are shown
// at a bounded rate, so a flood of junk cannot bury the real deliveries.
type display struct {
	mu        sync.Mutex
	io        *iostreams.IOStreams
	out, err  *ui.Styles
	printJSON bool
	now       func() time.Time

	lines   chan line
	dropped int // lines dropped since the last one written; under mu
	done    chan struct{}
	closed  bool

	rejected   throttle // lines for refused requests
	recordErrs throttle // warnings that the history could not keep a delivery
	totalRej   int
}

type line struct {
	text   string
	stderr bool
}

// displayQueue is how many lines may wait for the terminal.
const displayQueue = 4096

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
	d := &display{
		io:        ios,
		out:       ui.New(ios.Out, ios.ColorEnabled()),
		err:       ui.New(ios.ErrOut, ios.ErrColorEnabled()),
		printJSON: printJSON,
		now:       time.Now,
		lines:     make(chan line, displayQueue),
		done:      make(chan struct{}),
	}
	go d.write()
	return d
}

// write prints the queued lines, buffered while more are waiting, so that
// under load many lines share one write.
func (d *display) write() {
	defer close(d.done)
	out, errOut := bufio.NewWriter(d.io.Out), bufio.NewWriter(d.io.ErrOut)
	for l := range d.lines {
		w, other := out, errOut
		if l.stderr {
			w, other = errOut, out
		}
		// Lines keep their order across the two streams.
		if other.Buffered() > 0 {
			_ = other.Flush()
		}
		_, _ = w.WriteString(l.text)
		if len(d.lines) == 0 {
			_ = w.Flush()
		}
	}
	_ = out.Flush()
	_ = errOut.Flush()
}

// emit queues text (whole lines); it never blocks. Called with d.mu held.
func (d *display) emit(text string, stderr bool) {
	if d.closed {
		return
	}
	if d.dropped > 0 {
		note := fmt.Sprintf("%s %d lines were not shown: the terminal was not keeping up\n", d.err.WarningIcon(), d.dropped)
		select {
		case d.lines <- line{text: note, stderr: true}:
			d.dropped = 0
		default:
		}
	}
	select {
	case d.lines <- line{text: text, stderr: stderr}:
	default:
		d.dropped++
	}
}

// close writes what is queued, waiting at most a moment for a terminal that
// does not read: exiting must not hang on it.
func (d *display) close() {
	d.mu.Lock()
	if !d.closed {
		d.closed = true
		close(d.lines)
	}
	d.mu.Unlock()
	select {
	case <-d.done:
	case <-time.After(2 * time.Second):
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
		if b, err := iostreams.JSONLine(line); err == nil {
			d.emit(string(b), false)
		}
		return
	}
	text := formatLine(d.out, dl)
	if dl.Rejected {
		ok, dropped := d.rejected.allow(d.now())
		if !ok {
			return
		}
		if dropped > 0 {
			text += d.out.Muted(fmt.Sprintf("  (%d more rejected requests not shown)", dropped))
		}
	}
	text += "\n"
	if d.printJSON && !dl.Rejected {
		text += payloadText(dl)
	}
	d.emit(text, false)
}

// Bounds on what --print-json shows of one payload: indenting a deeply
// nested document multiplies its size, and a terminal is no place for
// megabytes. Beyond them the start is shown on one line, with where to see
// the rest.
const (
	printMaxBytes = 64 << 10
	printMaxDepth = 16
)

func payloadText(dl *store.Delivery) string {
	if len(dl.Body) <= printMaxBytes && jsonDepth(dl.Body) <= printMaxDepth {
		var pretty bytes.Buffer
		if json.Indent(&pretty, dl.Body, "    ", "  ") == nil {
			return "    " + termsafe.Text(pretty.String()) + "\n"
		}
	}
	// Not JSON, or too big to lay out: one line, so that its own newlines
	// cannot draw a fake delivery line.
	head := dl.Body[:min(len(dl.Body), 4<<10)]
	text := "    " + termsafe.Line(strings.TrimSpace(string(head)))
	if len(head) < len(dl.Body) || len(dl.Body) > printMaxBytes {
		text += fmt.Sprintf(" … (%d bytes; jasni events show %s)", len(dl.Body), dl.ID)
	}
	return text + "\n"
}

// jsonDepth is how deeply brackets nest in doc, strings aside.
func jsonDepth(doc []byte) int {
	depth, deepest, inString, escaped := 0, 0, false, false
	for _, c := range doc {
		switch {
		case escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case c == '"':
			inString = !inString
		case inString:
		case c == '{' || c == '[':
			depth++
			deepest = max(deepest, depth)
		case c == '}' || c == ']':
			depth--
		}
	}
	return deepest
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
	d.emit(fmt.Sprintf("%s %s\n", d.err.WarningIcon(), msg), true)
}

// summary says, at exit, how much junk was turned away.
func (d *display) summary() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.totalRej > 0 && !d.io.JSON() {
		d.emit(fmt.Sprintf("%s %d requests were refused (unsigned, badly signed, or not a webhook); see them with: jasni events list --rejected\n",
			d.err.WarningIcon(), d.totalRej), true)
	}
}

func (d *display) warn(msg string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.emit(fmt.Sprintf("%s %s\n", d.err.WarningIcon(), msg), true)
}

func (d *display) info(msg string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.emit(msg+"\n", true)
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
