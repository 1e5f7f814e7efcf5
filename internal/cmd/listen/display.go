package listen

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jasni/jasni-cli/internal/deliveryview"
	"github.com/jasni/jasni-cli/internal/feed"
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
	// queued is the bytes of the lines waiting: with --print-json a line
	// holds a whole body, so the queue is bounded in bytes as well.
	queued atomic.Int64
	done   chan struct{}
	closed bool

	// secretAdvice says, when the app refuses what listen verified, which
	// secret listen used and how to give it to the app; "" for no advice.
	secretAdvice string
	secretHinted bool

	rejected   throttle // lines for refused requests
	recordErrs throttle // warnings that the history could not keep a delivery
	totalRej   int
	totalBusy  int // refused with 503: no room, or the history could not keep them
	// The last reason the history could not take a delivery, when it was
	// said, and how often it came again since.
	lastRecordErr  string
	lastRecordAt   time.Time
	sameRecordErrs int
	// lost counts the deliveries the history took and could not write
	// after all; historySaid, that it was said.
	lost        int
	historySaid bool
}

type line struct {
	text   string
	stderr bool
	// flushed, when set, is closed once this line and all before it are
	// written.
	flushed chan struct{}
}

// displayQueue is how many lines may wait for the terminal, and
// displayQueueBytes how many bytes.
const (
	displayQueue      = 4096
	displayQueueBytes = 16 << 20
)

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
		d.queued.Add(-int64(len(l.text)))
		if len(d.lines) == 0 || l.flushed != nil {
			_ = w.Flush()
		}
		if l.flushed != nil {
			close(l.flushed)
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
			d.queued.Add(int64(len(note)))
			d.dropped = 0
		default:
		}
	}
	if d.queued.Load()+int64(len(text)) > displayQueueBytes {
		d.dropped++
		return
	}
	select {
	case d.lines <- line{text: text, stderr: stderr}:
		d.queued.Add(int64(len(text)))
	default:
		d.dropped++
	}
}

// flush waits until what is queued is written, at most a moment: the
// banner is shown whole before listen says it is ready.
func (d *display) flush() {
	done := make(chan struct{})
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return
	}
	select {
	case d.lines <- line{stderr: true, flushed: done}:
	default:
		close(done)
	}
	d.mu.Unlock()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
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

// subscribe shows what the feed tells, in the form the output mode asks
// for (chosen once): a line per delivery, or a JSON object per line. It
// returns a channel closed once the feed is closed and all it held shown.
func (d *display) subscribe(hub *feed.Hub) <-chan struct{} {
	show := d.line
	if d.io.JSON() {
		show = d.jsonLine
	}
	sub := hub.Subscribe(displayQueue)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for e := range sub.Events() {
			if n := sub.Missed(); n > 0 {
				d.warn(fmt.Sprintf("%d delivery events were not shown: the terminal was not keeping up", n))
			}
			switch e.Kind {
			case feed.Answered, feed.Refused:
				show(e.Delivery)
			case feed.NotKept:
				d.notKept(e)
			}
		}
	}()
	return done
}

// jsonLine shows a delivery as one JSON object on a line of its own.
func (d *display) jsonLine(dl *store.Delivery) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.count(dl)
	obj := deliveryview.JSON(dl, false)
	obj.Type = "delivery"
	if d.printJSON && !dl.Rejected && json.Valid(dl.Body) {
		obj.Body = dl.Body
	}
	if b, err := iostreams.JSONLine(obj); err == nil {
		d.emit(string(b), false)
	}
}

// ready writes the object that starts `listen --output json`.
func (d *display) ready(obj any) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if b, err := iostreams.JSONLine(obj); err == nil {
		d.emit(string(b), false)
	}
}

// line shows a delivery on a line that fits the terminal, or as
// tab-separated fields when piped.
func (d *display) line(dl *store.Delivery) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.count(dl)
	var text string
	if d.io.IsStdoutTTY() {
		text = deliveryview.Line(d.out, dl, d.io.TerminalWidth(), "15:04:05")
	} else {
		text = strings.Join(deliveryview.Fields(dl), "\t")
	}
	if dl.Rejected {
		ok, dropped := d.rejected.allow(d.now())
		if !ok {
			return
		}
		if dropped > 0 {
			// On its own line: the delivery line already fills the width.
			d.emit(fmt.Sprintf("%s %d more refused requests were not shown\n", d.err.WarningIcon(), dropped), true)
		}
	}
	text += "\n"
	if d.printJSON && !dl.Rejected {
		text += deliveryview.Body(dl.Body, "    ")
	}
	d.emit(text, false)
	d.hintSecret(dl)
}

// count tallies what the summary at exit says. Called with d.mu held.
func (d *display) count(dl *store.Delivery) {
	switch {
	case dl.Answer == http.StatusServiceUnavailable:
		d.totalBusy++
	case dl.Rejected:
		d.totalRej++
	}
}

func (d *display) setSecretAdvice(advice string) {
	d.mu.Lock()
	d.secretAdvice = advice
	d.mu.Unlock()
}

// hintSecret says, once, what an app that refuses deliveries listen
// verified most likely needs: the same secret.
func (d *display) hintSecret(dl *store.Delivery) {
	f := dl.Forward
	if d.secretHinted || d.secretAdvice == "" || dl.Verdict != store.VerdictValid || f == nil ||
		(f.Status != http.StatusUnauthorized && f.Status != http.StatusForbidden) {
		return
	}
	d.secretHinted = true
	d.emit(fmt.Sprintf("%s Your app answered %d to a delivery listen verified: it checks with another secret. %s\n",
		d.err.WarningIcon(), f.Status, d.secretAdvice), true)
}

// recordError warns that a delivery could not be kept: each new reason at
// once, the same one again at most every 10 s, with how many times it
// came meanwhile (a full disk refuses every delivery).
func (d *display) recordError(err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	why, now := termsafe.Line(err.Error()), d.now()
	if why == d.lastRecordErr && now.Sub(d.lastRecordAt) < 10*time.Second {
		d.sameRecordErrs++
		return
	}
	msg := why
	if d.sameRecordErrs > 0 && why == d.lastRecordErr {
		msg += fmt.Sprintf(" (%d more times since it was last said)", d.sameRecordErrs)
	}
	d.lastRecordErr, d.lastRecordAt, d.sameRecordErrs = why, now, 0
	d.emit(fmt.Sprintf("%s %s\n", d.err.WarningIcon(), msg), true)
}

// historyFailed says, loudly and once, that the history could not write
// what it had taken; the deliveries concerned are counted as they come
// (notKept).
func (d *display) historyFailed(err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.historySaid {
		return
	}
	d.historySaid = true
	what := "check the disk"
	if errors.Is(err, store.ErrMoved) {
		what = "restart listen to record into a new history" // the error says the file was moved
	}
	d.emit(fmt.Sprintf("%s The history could not write what it was given: %s. Deliveries it had taken are not kept; %s. Listen says how many at exit.\n",
		d.err.FailureIcon(), termsafe.Line(err.Error()), what), true)
}

// notKept counts a delivery the history took and could not write.
func (d *display) notKept(e feed.Event) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.lost++
	if ok, _ := d.recordErrs.allow(d.now()); ok && d.lost > 1 && d.lost%100 == 0 {
		d.emit(fmt.Sprintf("%s The history still cannot write: %d deliveries not kept so far\n", d.err.FailureIcon(), d.lost), true)
	}
}

// summary says, at exit, how much junk was turned away and what the
// history could not keep.
func (d *display) summary() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.lost > 0 {
		d.emit(fmt.Sprintf("%s %d deliveries were forwarded or answered but are not in the history: it could not write them\n", d.err.FailureIcon(), d.lost), true)
	}
	if d.totalBusy > 0 && !d.io.JSON() {
		d.emit(fmt.Sprintf("%s %d deliveries were answered 503 while listen had no room for them or could not keep them; their senders retry\n",
			d.err.WarningIcon(), d.totalBusy), true)
	}
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
