// Package sendview shows deliveries jasni sent and what came back, the
// same way for every command that sends (trigger, and what follows it): a
// line per attempt on a terminal, a JSON object per attempt for scripts,
// and a summary with what to do when some failed.
//
// The answers are the receiver's words, so each goes through termsafe
// before it reaches a terminal.
package sendview

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/jasni/jasni-cli/internal/delivery"
	"github.com/jasni/jasni-cli/internal/iostreams"
	"github.com/jasni/jasni-cli/internal/termsafe"
	"github.com/jasni/jasni-cli/internal/ui"
)

// Result is one attempt as reported in --output json.
type Result struct {
	Event        string          `json:"event"`
	URL          string          `json:"url"`
	Status       int             `json:"status"`
	DurationMS   int64           `json:"duration_ms"`
	Attempt      int             `json:"attempt"`
	Attempts     int             `json:"attempts"`
	Repeat       int             `json:"repeat,omitempty"`
	OK           bool            `json:"ok"`
	Final        bool            `json:"final"`
	BodySHA256   string          `json:"body_sha256"`
	Error        string          `json:"error,omitempty"`
	Location     string          `json:"location,omitempty"`
	RequestBody  json.RawMessage `json:"request_body,omitempty"`
	ResponseBody *string         `json:"response_body,omitempty"`
}

// Reporter writes each attempt as it ends.
type Reporter struct {
	IO *iostreams.IOStreams
	// Width is the event column's width, for aligned lines.
	Width int
	// Repeats is how many copies of each delivery are sent (--repeat).
	Repeats int
	// PrintBody shows what was sent and the whole answer.
	PrintBody bool

	styles *ui.Styles
}

// Attempt reports one attempt at sending req, of event type event; repeat
// is which copy it is, 0 when there is one.
func (r *Reporter) Attempt(event string, req delivery.Request, a delivery.Attempt, repeat int) error {
	if r.IO.JSON() {
		return r.IO.WriteJSON(r.result(event, req, a, repeat))
	}
	if r.styles == nil {
		r.styles = ui.New(r.IO.Out, r.IO.ColorEnabled())
	}
	out := r.styles
	icon, status := out.SuccessIcon(), out.Success(StatusText(a))
	if !a.OK() {
		icon, status = out.FailureIcon(), out.Failure(StatusText(a))
	}
	line := fmt.Sprintf("%s %-*s  %s  %s  %s", icon, r.Width, event, status,
		out.Muted(FormatDuration(a.Duration)), out.Muted(fmt.Sprintf("attempt %d/%d", a.Number, a.Of)))
	if repeat > 0 {
		line += out.Muted(fmt.Sprintf("  copy %d/%d", repeat, r.Repeats))
	}
	if !a.OK() {
		line += "  " + termsafe.Line(Detail(a)) // the answer is the server's words
	}
	if _, err := fmt.Fprintln(r.IO.Out, line); err != nil {
		return err
	}
	if r.PrintBody {
		fmt.Fprintf(r.IO.Out, "  %s\n%s\n", out.Bold("sent:"), indent(termsafe.Text(string(prettyJSON(req.Body)))))
		answer := termsafe.Text(string(a.Body))
		if a.Truncated {
			answer += fmt.Sprintf("\n… (cut at %d KiB)", delivery.MaxResponseBody>>10)
		}
		fmt.Fprintf(r.IO.Out, "  %s\n%s\n", out.Bold("answer:"), indent(answer))
	}
	return nil
}

func (r *Reporter) result(event string, req delivery.Request, a delivery.Attempt, repeat int) Result {
	sum := sha256.Sum256(req.Body)
	res := Result{
		Event: event, URL: req.URL, Status: a.Status, DurationMS: a.Duration.Milliseconds(),
		Attempt: a.Number, Attempts: a.Of, Repeat: repeat, OK: a.OK(),
		Final:      a.OK() || a.Number == a.Of,
		BodySHA256: hex.EncodeToString(sum[:]), Location: a.Location,
	}
	if a.Err != nil {
		res.Error = a.Err.Error()
	} else if !a.OK() {
		res.Error = DescribeStatus(a)
	}
	if r.PrintBody {
		res.RequestBody = req.Body
		body := string(a.Body)
		res.ResponseBody = &body
	}
	return res
}

// Tally counts the final attempts of a run.
type Tally struct {
	Sent, OK, Rejected, Unreachable int
	// LastProblem is the last failure, in words.
	LastProblem string
	// SignatureRejected: a receiver answered 401 or 403.
	SignatureRejected bool
	// NotFound: a receiver answered 404 or 405 (no route at that URL).
	NotFound bool
}

// Count adds a delivery's final attempt.
func (t *Tally) Count(a delivery.Attempt) {
	t.Sent++
	switch {
	case a.OK():
		t.OK++
	case a.Err != nil:
		t.Unreachable++
		t.LastProblem = a.Err.Error()
	default:
		t.Rejected++
		t.LastProblem = DescribeStatus(a)
		switch a.Status {
		case http.StatusUnauthorized, http.StatusForbidden:
			t.SignatureRejected = true
		case http.StatusNotFound, http.StatusMethodNotAllowed:
			t.NotFound = true
		}
	}
}

// Summary is how a run ended, for Summarise.
type Summary struct {
	URL string
	// Retried: every delivery had more than one attempt.
	Retried bool
	// Exhausted is what the provider does when every attempt fails.
	Exhausted string
	// Signed, and with the secret from SecretSource.
	Signed       bool
	SecretSource string
	// Outside, when the deliveries were signed with a timestamp outside
	// the provider's window (--timestamp), says so: a refusal is then the
	// answer a receiver should give, not a secret to check.
	Outside string
}

// Summarise writes how the run went to stderr: a line when all went well
// (on a terminal), else what failed and what to look at.
func (t Tally) Summarise(ios *iostreams.IOStreams, s Summary) {
	errOut := ui.New(ios.ErrOut, ios.ErrColorEnabled())
	if t.OK == t.Sent {
		if ios.IsStderrTTY() {
			fmt.Fprintf(ios.ErrOut, "%s %s delivered to %s\n", errOut.SuccessIcon(), Plural(t.Sent, "event"), s.URL)
		}
		return
	}
	fmt.Fprintf(ios.ErrOut, "%s %d of %s failed: %s\n", errOut.FailureIcon(), t.Sent-t.OK, Plural(t.Sent, "delivery"), termsafe.Line(t.LastProblem))
	if s.Retried && s.Exhausted != "" {
		fmt.Fprintf(ios.ErrOut, "  Every attempt failed: in production, %s.\n", s.Exhausted)
	}
	if t.NotFound {
		fmt.Fprintf(ios.ErrOut, "  Nothing takes a POST at %s: check the URL's path against your app's webhook route.\n", termsafe.Line(s.URL))
	}
	switch {
	case t.SignatureRejected && s.Outside != "":
		fmt.Fprintf(ios.ErrOut, "  The receiver refused the request, as it should: %s.\n", s.Outside)
	case t.SignatureRejected && s.Signed:
		fmt.Fprintf(ios.ErrOut, "  The receiver refused the request. If it checks the signature, it must use the same secret as jasni (from %s) and the raw request body; `jasni verify --help` explains the usual causes.\n", s.SecretSource)
	}
}

// StatusText is an attempt's outcome in a few words: "200 OK", "no response".
func StatusText(a delivery.Attempt) string {
	if a.Err != nil {
		return "no response"
	}
	return fmt.Sprintf("%d %s", a.Status, http.StatusText(a.Status))
}

// Detail is why an attempt failed.
func Detail(a delivery.Attempt) string {
	if a.Err != nil {
		return a.Err.Error()
	}
	return DescribeStatus(a)
}

// DescribeStatus says why an answer counts as a failure.
func DescribeStatus(a delivery.Attempt) string {
	if a.Wrong != "" {
		return a.Wrong
	}
	if a.Status >= 300 && a.Status < 400 {
		return fmt.Sprintf("redirect to %q not followed (Jasni does not follow redirects): use the final URL", a.Location)
	}
	msg := fmt.Sprintf("answered %d", a.Status)
	if snippet := firstLine(a.Body, 100); snippet != "" {
		msg += ": " + snippet
	}
	return msg
}

func firstLine(b []byte, limit int) string {
	s := strings.TrimSpace(string(b))
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i]
	}
	if len(s) > limit {
		s = s[:limit] + "…"
	}
	return s
}

// FormatDuration is a duration as a person reads it: 12ms, 1.5s.
func FormatDuration(d time.Duration) string {
	if d < time.Second {
		return fmt.Sprintf("%dms", d.Milliseconds())
	}
	return fmt.Sprintf("%.1fs", d.Seconds())
}

func prettyJSON(b []byte) []byte {
	var buf bytes.Buffer
	if err := json.Indent(&buf, b, "", "  "); err != nil {
		return b
	}
	return buf.Bytes()
}

func indent(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = "    " + l
	}
	return strings.Join(lines, "\n")
}

// Plural is n words: "1 event", "3 events", "2 deliveries".
func Plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	if strings.HasSuffix(word, "y") {
		return fmt.Sprintf("%d %sies", n, strings.TrimSuffix(word, "y"))
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// Countdown waits between attempts showing the time left on the terminal,
// so a 5-minute retry wait does not look like a hang.
func Countdown(w io.Writer) func(ctx context.Context, d time.Duration) error {
	return func(ctx context.Context, d time.Duration) error {
		if d <= 0 {
			return nil
		}
		deadline := time.Now().Add(d)
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		defer fmt.Fprint(w, "\r\033[K")
		for {
			left := time.Until(deadline)
			if left <= 0 {
				return nil
			}
			fmt.Fprintf(w, "\r\033[K  next attempt in %s (Ctrl-C to stop)", left.Round(time.Second))
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-tick.C:
			case <-time.After(left):
			}
		}
	}
}
