package check

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jasni/jasni-cli/internal/delivery"
	"github.com/jasni/jasni-cli/internal/jsondoc"
	"github.com/jasni/jasni-cli/internal/provider"
)

// checks is the checklist for p, in the order it runs.
func checks(p *provider.Provider) []check {
	var out []check
	for _, e := range p.EventNames() {
		out = append(out, check{name: "event/" + e, title: "a signed " + e + " is accepted", run: func(ctx context.Context, r *runner) Result {
			return r.accepted(ctx, e)
		}})
	}
	out = append(out,
		check{name: "unknown-event", title: "an unknown event type is accepted and ignored", run: unknownEvent},
		check{name: "reformatted-json", title: "JSON laid out differently is verified on its raw bytes", run: reformattedJSON},
		check{name: "duplicate", title: "the same delivery twice is accepted both times", run: duplicate},
		check{name: "large-payload", title: "a large, realistic payload is accepted", run: largePayload},
		check{name: "tampered-body", title: "a body changed after signing is rejected", run: forgery(wellFormed, tamperedBody)},
		check{name: "wrong-secret", title: "a delivery signed with another secret is rejected", run: forgery(wellFormed, wrongSecret)},
		check{name: "missing-signature", title: "a delivery without a signature is rejected", run: forgery(malformed, missingSignature)},
		check{name: "other-encoding", title: "a signature in another encoding is rejected", run: forgery(malformed, otherEncoding)},
		check{name: "foreign-prefix", title: "a signature with a prefix " + p.Title + " does not use is rejected", run: forgery(malformed, foreignPrefix)},
		check{name: "empty-body", title: "an empty body is rejected", run: forgery(wellFormed, emptyBody)},
	)
	if strings.Contains(p.Signature.Payload, "{timestamp}") && p.Signature.Tolerance.Duration > 0 {
		out = append(out,
			check{name: "stale-timestamp", title: "a delivery signed 10 minutes ago is rejected", run: forgery(outsideWindow, shiftedTimestamp(-10*time.Minute))},
			check{name: "future-timestamp", title: "a delivery signed 10 minutes ahead is rejected", run: forgery(outsideWindow, shiftedTimestamp(10*time.Minute))},
		)
	} else {
		out = append(out, check{name: "replay", title: "replayed deliveries", run: replay})
	}
	out = append(out,
		check{name: "https", title: "the endpoint uses HTTPS", run: httpsCheck},
		check{name: "response-time", title: "answers well within " + p.Title + "'s time limit", alone: true, run: responseTime},
	)
	return out
}

// accepted sends a fresh delivery of event and expects a 2xx.
func (r *runner) accepted(ctx context.Context, event string, sets ...string) Result {
	req, err := r.build(event, sets...)
	if err != nil {
		return Result{Status: Fail, Reason: "could not build the delivery: " + err.Error()}
	}
	a, e := r.send(ctx, event, req)
	return r.judgeAccepted(a, []Evidence{e}, "")
}

// judgeAccepted expects a 2xx for a correct delivery; onRefused explains a
// 401 or 403 in this check's terms.
func (r *runner) judgeAccepted(a delivery.Attempt, ev []Evidence, onRefused string) Result {
	res := Result{Evidence: ev}
	switch {
	case a.Err != nil:
		res = r.noAnswer(a, ev)
	case a.Status == http.StatusNotFound || a.Status == http.StatusMethodNotAllowed:
		res.Status, res.Reason = Fail, fmt.Sprintf("answered %d: there is no webhook endpoint at this URL; check --url", a.Status)
	case a.Status >= 300 && a.Status < 400:
		res.Status, res.Reason = Fail, fmt.Sprintf("answered %d, a redirect: providers do not follow redirects; register the final URL", a.Status)
	case a.OK() && a.Duration > r.limit:
		res.Status, res.Reason = Fail, fmt.Sprintf("answered %d after %s, past %s's %s limit: %s counts it as failed and retries", a.Status, a.Duration.Round(time.Millisecond), r.cfg.Provider.Title, r.limit, r.cfg.Provider.Title)
	case a.OK():
		res.Status, res.Reason = Pass, fmt.Sprintf("answered %d in %s", a.Status, latency(a.Duration))
	case (a.Status == http.StatusUnauthorized || a.Status == http.StatusForbidden) && onRefused != "":
		res.Status, res.Reason = Fail, fmt.Sprintf("answered %d: %s", a.Status, onRefused)
	case a.Status == http.StatusUnauthorized || a.Status == http.StatusForbidden:
		res.Status, res.Reason = Fail, fmt.Sprintf("answered %d to a correctly signed delivery: the endpoint verifies with another secret, or verifies something other than the raw body", a.Status)
	case a.Status >= 500:
		res.Status, res.Reason = Fail, fmt.Sprintf("answered %d: the handler failed on a delivery it should accept", a.Status)
	default:
		res.Status, res.Reason = Fail, fmt.Sprintf("answered %d; %s retries anything but a 2xx", a.Status, r.cfg.Provider.Title)
	}
	return res
}

// forgeryKind says how a forgery is judged.
type forgeryKind int

const (
	// wellFormed forgeries look like a real delivery (a changed body,
	// another secret): only a 4xx passes, and a 5xx fails.
	wellFormed forgeryKind = iota
	// malformed ones carry no signature, or one of the wrong length or
	// form: a 5xx means the verification code threw (the docs' own
	// timingSafeEqual does on a length mismatch) but did not accept it,
	// so it warns.
	malformed
	// outsideWindow ones are correctly signed at a time outside the
	// provider's window: any 4xx passes.
	outsideWindow
)

// judgeRejected expects a 4xx for a forgery, ideally 401.
func (r *runner) judgeRejected(kind forgeryKind, a delivery.Attempt, ev []Evidence) Result {
	res := Result{Evidence: ev}
	switch {
	case a.Err != nil:
		res = r.noAnswer(a, ev)
	case a.Status == http.StatusNotFound || a.Status == http.StatusMethodNotAllowed:
		res.Status, res.Reason = Fail, fmt.Sprintf("answered %d: there is no webhook endpoint at this URL; check --url", a.Status)
	case kind == outsideWindow && a.Status >= 400 && a.Status < 500:
		res.Status, res.Reason = Pass, fmt.Sprintf("rejected with %d", a.Status)
	case kind == outsideWindow && a.Status >= 200 && a.Status < 300:
		res.Status, res.Reason = Fail, fmt.Sprintf("answered %d: the endpoint accepts a correctly signed delivery outside the window, so a captured one can be replayed; reject timestamps more than %s from now", a.Status, r.cfg.Provider.Signature.Tolerance.Duration)
	case a.Status == http.StatusUnauthorized || a.Status == http.StatusForbidden:
		res.Status, res.Reason = Pass, fmt.Sprintf("rejected with %d", a.Status)
	case a.Status >= 400 && a.Status < 500:
		res.Status, res.Reason = Pass, fmt.Sprintf("rejected with %d (401 says best that the signature failed)", a.Status)
	case a.Status >= 500 && kind == malformed:
		res.Status, res.Reason = Warn, fmt.Sprintf("answered %d: not accepted, but the verification code threw instead of answering 401 (crypto.timingSafeEqual throws when the lengths differ: compare lengths, and check the header is there, first)", a.Status)
	case a.Status >= 500:
		res.Status, res.Reason = Fail, fmt.Sprintf("answered %d: the endpoint crashed instead of rejecting it (answer 401)", a.Status)
	case a.Status >= 200 && a.Status < 300:
		res.Status, res.Reason = Fail, fmt.Sprintf("answered %d: the endpoint accepts forgeries; verify the signature over the raw body before anything else", a.Status)
	default:
		res.Status, res.Reason = Fail, fmt.Sprintf("answered %d; a forgery should get 401", a.Status)
	}
	return res
}

// noAnswer judges a request that got no response: nothing listening is
// unreachable; no answer in time is past the provider's limit.
func (r *runner) noAnswer(a delivery.Attempt, ev []Evidence) Result {
	var te *delivery.TransportError
	if errors.As(a.Err, &te) && te.Kind == delivery.KindTimeout {
		return Result{Evidence: ev, Status: Fail, Reason: fmt.Sprintf("no answer within %s, %s's limit: it counts the delivery failed and retries it; acknowledge first, process after", r.limit, r.cfg.Provider.Title)}
	}
	return Result{Evidence: ev, Status: Fail, Unreachable: true, Reason: "no answer: " + a.Err.Error()}
}

// forgery turns a valid delivery into a bad one with spoil and expects it
// rejected.
func forgery(kind forgeryKind, spoil func(r *runner, req delivery.Request) (delivery.Request, string)) func(context.Context, *runner) Result {
	return func(ctx context.Context, r *runner) Result {
		req, err := r.build(firstEvent(r.cfg.Provider))
		if err != nil {
			return Result{Status: Fail, Reason: "could not build the delivery: " + err.Error()}
		}
		bad, what := spoil(r, req)
		a, e := r.send(ctx, what, bad)
		return r.judgeRejected(kind, a, []Evidence{e})
	}
}

func tamperedBody(_ *runner, req delivery.Request) (delivery.Request, string) {
	body := bytes.Replace(req.Body, []byte(`"data":{`), []byte(`"data":{"tampered":true,`), 1)
	if bytes.Equal(body, req.Body) {
		body = append(bytes.TrimRight(req.Body[:len(req.Body)-1], " \n"), []byte(`,"tampered":true}`)...)
	}
	req.Body = body
	return req, `a field added after signing ("tampered":true)`
}

func wrongSecret(r *runner, req delivery.Request) (delivery.Request, string) {
	req.Header = req.Header.Clone()
	p := r.cfg.Provider
	signing := delivery.Signing{Provider: p, Keys: []provider.Key{otherKey(p)}, Timestamp: r.cfg.Now()}
	if p.Headers.ID != "" {
		signing.ID = req.Header.Get(p.Headers.ID)
	}
	_ = delivery.Sign(req.Header, req.Body, signing)
	return req, "signed with a random secret"
}

func missingSignature(r *runner, req delivery.Request) (delivery.Request, string) {
	req.Header = req.Header.Clone()
	req.Header.Del(r.cfg.Provider.Signature.Header)
	return req, "no " + r.cfg.Provider.Signature.Header + " header"
}

// otherEncoding re-encodes the right MAC: base64 for a hex scheme, hex for
// a base64 one. A receiver that decodes leniently would take it.
func otherEncoding(r *runner, req delivery.Request) (delivery.Request, string) {
	sig := r.cfg.Provider.Signature
	req.Header = req.Header.Clone()
	value := strings.TrimPrefix(strings.Fields(req.Header.Get(sig.Header) + " ")[0], sig.Prefix)
	what := "the right signature in base64 instead of hex"
	if sig.Encoding == "hex" {
		if mac, err := hex.DecodeString(value); err == nil {
			value = base64.StdEncoding.EncodeToString(mac)
		}
	} else {
		what = "the right signature in hex instead of base64"
		if mac, err := base64.StdEncoding.DecodeString(value); err == nil {
			value = hex.EncodeToString(mac)
		}
	}
	req.Header.Set(sig.Header, sig.Prefix+value)
	return req, what
}

// foreignPrefix sends the right MAC behind a prefix the scheme does not
// use, as another provider would.
func foreignPrefix(r *runner, req delivery.Request) (delivery.Request, string) {
	sig := r.cfg.Provider.Signature
	req.Header = req.Header.Clone()
	value := strings.TrimPrefix(strings.Fields(req.Header.Get(sig.Header) + " ")[0], sig.Prefix)
	prefix := "sha256="
	if sig.Prefix == prefix {
		prefix = "sha1="
	}
	req.Header.Set(sig.Header, prefix+value)
	return req, "the right signature behind " + prefix
}

func emptyBody(_ *runner, req delivery.Request) (delivery.Request, string) {
	req.Body = nil
	return req, "an empty body with the signature of a real one"
}

func shiftedTimestamp(by time.Duration) func(*runner, delivery.Request) (delivery.Request, string) {
	return func(r *runner, req delivery.Request) (delivery.Request, string) {
		signed, err := r.signed(req.Body, firstEvent(r.cfg.Provider), r.cfg.Now().Add(by))
		if err != nil {
			return req, err.Error()
		}
		if by < 0 {
			return signed, fmt.Sprintf("correctly signed, %s ago", -by)
		}
		return signed, fmt.Sprintf("correctly signed, %s ahead", by)
	}
}

func unknownEvent(ctx context.Context, r *runner) Result {
	p := r.cfg.Provider
	const name = "check.unknown_event"
	var sets []string
	if p.Envelope.Event != "" {
		sets = append(sets, p.Envelope.Event+"="+name)
	}
	req, err := r.build(firstEvent(p), sets...)
	if err != nil {
		return Result{Status: Fail, Reason: "could not build the delivery: " + err.Error()}
	}
	if p.Headers.Event != "" {
		req.Header.Set(p.Headers.Event, name)
	}
	a, e := r.send(ctx, name, req)
	res := r.judgeAccepted(a, []Evidence{e}, "")
	if res.Status == Fail && a.Status >= 500 {
		res.Reason = fmt.Sprintf("answered %d to an event type it does not know: handlers should log it and answer 200, since providers add types", a.Status)
	}
	return res
}

func reformattedJSON(ctx context.Context, r *runner) Result {
	req, err := r.build(firstEvent(r.cfg.Provider))
	if err != nil {
		return Result{Status: Fail, Reason: "could not build the delivery: " + err.Error()}
	}
	body, err := relayout(req.Body)
	if err != nil {
		return Result{Status: Fail, Reason: "could not lay out the delivery: " + err.Error()}
	}
	signed, err := r.signed(body, firstEvent(r.cfg.Provider), r.cfg.Now())
	if err != nil {
		return Result{Status: Fail, Reason: err.Error()}
	}
	a, e := r.send(ctx, `the same event with ", " and ": " separators, \u-escaped characters and data's keys reversed, signed over those exact bytes`, signed)
	return r.judgeAccepted(a, []Evidence{e},
		"the handler verifies a parsed and re-serialised body instead of the raw bytes received; verify the raw body (Express: express.raw({type: 'application/json'}))")
}

func duplicate(ctx context.Context, r *runner) Result {
	req, err := r.build(firstEvent(r.cfg.Provider))
	if err != nil {
		return Result{Status: Fail, Reason: "could not build the delivery: " + err.Error()}
	}
	first, e1 := r.send(ctx, "first delivery", req)
	if !first.OK() {
		res := r.judgeAccepted(first, []Evidence{e1}, "")
		res.Reason = "the first copy: " + res.Reason
		return res
	}
	second, e2 := r.send(ctx, "the same delivery again, as a retry", req)
	res := r.judgeAccepted(second, []Evidence{e1, e2}, "")
	if res.Status == Fail && second.Err == nil {
		res.Reason = fmt.Sprintf("the second copy got %d: a duplicate should be recognised (by the provider's dedup key) and answered 2xx, or the provider retries it", second.Status)
	}
	return res
}

func largePayload(ctx context.Context, r *runner) Result {
	p := r.cfg.Provider
	event, size := firstEvent(p), 0
	for _, e := range p.Events() {
		if len(e.JSON) > size {
			event, size = e.Name, len(e.JSON)
		}
	}
	req, err := r.build(event)
	if err != nil {
		return Result{Status: Fail, Reason: "could not build the delivery: " + err.Error()}
	}
	body, err := enlarge(req.Body, LargePayload)
	if err != nil {
		return Result{Status: Fail, Reason: "could not enlarge the delivery: " + err.Error()}
	}
	signed, err := r.signed(body, event, r.cfg.Now())
	if err != nil {
		return Result{Status: Fail, Reason: err.Error()}
	}
	a, e := r.send(ctx, fmt.Sprintf("%s of %.1f KiB: long text, lists of 200", event, float64(len(body))/1024), signed)
	res := r.judgeAccepted(a, []Evidence{e}, "")
	if a.Status == http.StatusRequestEntityTooLarge {
		res.Reason = "answered 413: raise the body size limit to what the provider sends (this is under Express's 100kb default; large emails are bigger)"
	}
	return res
}

func replay(_ context.Context, r *runner) Result {
	return Result{Status: Warn, Advisory: true, Reason: r.cfg.Provider.Title + " does not sign a timestamp, so a captured delivery verifies forever: " +
		"replays are the receiver's to stop (deduplicate by the event's id and timestamp, and ignore events much older than the newest seen)"}
}

func httpsCheck(_ context.Context, r *runner) Result {
	switch {
	case strings.HasPrefix(r.cfg.URL, "https://"):
		return Result{Status: Pass, Reason: "https"}
	case isLoopback(r.cfg.URL):
		return Result{Status: Pass, Reason: "plain http on this machine, for testing; register an https URL"}
	}
	return Result{Status: Warn, Reason: "plain http: deliveries and their signatures travel in clear; register an https URL"}
}

// responseTime sends a few deliveries one after the other, alone, and
// judges the slowest against the provider's limit and the advice to answer
// at once.
func responseTime(ctx context.Context, r *runner) Result {
	var (
		ev      []Evidence
		slowest delivery.Attempt
	)
	for i := range 3 {
		req, err := r.build(firstEvent(r.cfg.Provider))
		if err != nil {
			return Result{Status: Fail, Reason: "could not build the delivery: " + err.Error()}
		}
		a, e := r.send(ctx, fmt.Sprintf("delivery %d of 3", i+1), req)
		ev = append(ev, e)
		if !a.OK() {
			return r.judgeAccepted(a, ev, "")
		}
		if a.Duration >= slowest.Duration {
			slowest = a
		}
	}
	res := r.judgeAccepted(slowest, ev, "")
	if res.Status == Pass && slowest.Duration > r.cfg.SlowAfter {
		res.Status = Warn
		res.Reason = fmt.Sprintf("the slowest answer took %s: acknowledge first (200 at once), then process, so a burst cannot reach %s's %s limit",
			slowest.Duration.Round(time.Millisecond), r.cfg.Provider.Title, r.limit)
	} else if res.Status == Pass {
		res.Reason = fmt.Sprintf("the slowest of 3 answered in %s (limit %s)", latency(slowest.Duration), r.limit)
	}
	return res
}

// relayout writes the same JSON with other bytes: Python's separators,
// non-ASCII and "/" escaped as \u sequences, and the keys of every object
// but the top level in reverse order.
func relayout(body []byte) ([]byte, error) {
	doc, err := jsondoc.Parse(body)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	writeRelaidOut(&out, doc, 0)
	return out.Bytes(), nil
}

func writeRelaidOut(out *bytes.Buffer, v jsondoc.Value, depth int) {
	switch v := v.(type) {
	case *jsondoc.Object:
		members := slices.Clone(v.Members)
		if depth > 0 {
			slices.Reverse(members)
		}
		out.WriteByte('{')
		for i, m := range members {
			if i > 0 {
				out.WriteString(", ")
			}
			writeString(out, m.Key)
			out.WriteString(": ")
			writeRelaidOut(out, m.Value, depth+1)
		}
		out.WriteByte('}')
	case []jsondoc.Value:
		out.WriteByte('[')
		for i, item := range v {
			if i > 0 {
				out.WriteString(", ")
			}
			writeRelaidOut(out, item, depth+1)
		}
		out.WriteByte(']')
	case string:
		writeString(out, v)
	case json.Number:
		out.WriteString(v.String())
	case bool:
		out.WriteString(strconv.FormatBool(v))
	case nil:
		out.WriteString("null")
	}
}

// writeString writes s as a JSON string with every character past ASCII,
// and "/", as a \u escape: valid JSON that a compact serialiser never writes.
func writeString(out *bytes.Buffer, s string) {
	out.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			out.WriteByte('\\')
			out.WriteRune(r)
		case r == '/' || r < 0x20 || r > 0x7e:
			if r > 0xffff {
				r -= 0x10000
				fmt.Fprintf(out, `\u%04x\u%04x`, 0xd800+(r>>10), 0xdc00+(r&0x3ff))
			} else {
				fmt.Fprintf(out, `\u%04x`, r)
			}
		default:
			out.WriteRune(r)
		}
	}
	out.WriteByte('"')
}

// LargePayload is the size large-payload sends: many times an ordinary
// delivery, and under Express's 100kb default body limit, which the docs'
// own receiver keeps.
const LargePayload = 96 << 10

// enlarge grows a delivery the way a big real one is big: every list of
// addresses to 200 entries, and long strings (text, HTML, transcripts)
// repeated, until the body is about size bytes. Key order is kept.
func enlarge(body []byte, size int) ([]byte, error) {
	doc, err := jsondoc.Parse(body)
	if err != nil {
		return nil, err
	}
	longest := 0
	visit(doc, func(v jsondoc.Value) jsondoc.Value {
		if s, ok := v.(string); ok {
			longest = max(longest, len(s))
		}
		return v
	})
	grown := len(body)
	doc = visit(doc, func(v jsondoc.Value) jsondoc.Value {
		switch v := v.(type) {
		case []jsondoc.Value:
			if len(v) == 0 {
				return v
			}
			if first, ok := v[0].(string); ok && strings.Contains(first, "@") {
				for i := len(v); i < 200; i++ {
					addr := fmt.Sprintf("recipient%03d@example.com", i)
					v = append(v, addr)
					grown += len(addr) + 3
				}
			}
			return v
		case string:
			if len(v) >= 40 && len(v)*2 >= longest && grown < size {
				if n := min((size-grown)/len(v)/2, 4000); n > 1 {
					grown += len(v) * n
					return strings.Repeat(v+"\n", n)
				}
			}
		}
		return v
	})
	if top, ok := doc.(*jsondoc.Object); ok && grown < size/2 {
		// Nothing long to grow (a terse event): a field of text, inside
		// data when there is one, as large bodies carry.
		target := top
		if data, ok := top.Get("data"); ok {
			if obj, ok := data.(*jsondoc.Object); ok {
				target = obj
			}
		}
		target.Set("notes", strings.Repeat("Lorem ipsum dolor sit amet, consectetur adipiscing elit. ", (size-grown)/58))
	}
	return jsondoc.Marshal(doc)
}

// visit replaces v by fn(v), then does the same inside what fn returned,
// depth first, in document order.
func visit(v jsondoc.Value, fn func(jsondoc.Value) jsondoc.Value) jsondoc.Value {
	v = fn(v)
	switch v := v.(type) {
	case *jsondoc.Object:
		for i := range v.Members {
			v.Members[i].Value = visit(v.Members[i].Value, fn)
		}
	case []jsondoc.Value:
		for i := range v {
			v[i] = visit(v[i], fn)
		}
	}
	return v
}

// latency is a duration as people read answer times: 0.4ms, 12ms, 2.1s.
func latency(d time.Duration) string {
	switch {
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	}
	return fmt.Sprintf("%.1fs", d.Seconds())
}
