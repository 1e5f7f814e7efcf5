package check

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jasni/jasni-cli/internal/jsondoc"
	"github.com/jasni/jasni-cli/internal/provider"
)

// receiver is a Jasni endpoint written from the docs' Express example:
// the raw body, hex HMAC-SHA256 with the whole secret, compared in constant
// time, 401 on a mismatch, then a switch on the event type that logs and
// ignores unknown ones, and idempotency by event, data.id and timestamp.
// Each defect field breaks one thing, as real handlers do.
type receiver struct {
	secret string
	// Defects.
	acceptsAny, reserialises, crashOnUnknown, crashOnDuplicate, crashOnEmpty bool
	// literal is the docs' verifySignature as written: timingSafeEqual
	// throws on a missing header or a length mismatch (Express: 500).
	literal bool
	delay   time.Duration

	mu   sync.Mutex
	seen map[string]bool
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	time.Sleep(rc.delay) // the handler's own slowness, not synchronisation
	if rc.crashOnEmpty && len(body) == 0 {
		http.Error(w, "Unexpected end of JSON input", http.StatusInternalServerError)
		return
	}
	if sig := r.Header.Get("X-Webhook-Signature"); rc.literal && len(sig) != 64 {
		http.Error(w, "RangeError [ERR_CRYPTO_TIMING_SAFE_EQUAL_LENGTH]: Input buffers must have the same byte length", http.StatusInternalServerError)
		return
	}
	signed := body
	if rc.reserialises {
		// express.json() then JSON.stringify(req.body): the same JSON, other bytes.
		if v, err := jsondoc.Parse(body); err == nil {
			signed, _ = jsondoc.Marshal(v)
		}
	}
	m := hmac.New(sha256.New, []byte(rc.secret))
	m.Write(signed)
	if !rc.acceptsAny && !hmac.Equal([]byte(r.Header.Get("X-Webhook-Signature")), []byte(hex.EncodeToString(m.Sum(nil)))) {
		http.Error(w, "Invalid signature", http.StatusUnauthorized)
		return
	}
	var ev struct {
		Event     string `json:"event"`
		Timestamp string `json:"timestamp"`
		Data      struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &ev); err != nil {
		http.Error(w, "bad JSON", http.StatusBadRequest)
		return
	}
	key := ev.Event + ":" + ev.Data.ID + ":" + ev.Timestamp
	rc.mu.Lock()
	dup := rc.seen[key]
	rc.seen[key] = true
	rc.mu.Unlock()
	if dup && rc.crashOnDuplicate {
		http.Error(w, "duplicate key value violates unique constraint", http.StatusInternalServerError)
		return
	}
	switch ev.Event {
	case "email.received", "email.sent", "email.delivered", "email.bounced", "email.spam", "email.rejected", "email.deleted", "domain.verified":
	default:
		if rc.crashOnUnknown {
			http.Error(w, "unhandled event", http.StatusInternalServerError)
			return
		}
	}
	w.Write([]byte("OK"))
}

// voisnapReceiver verifies "sha256=" + hex HMAC of "<timestamp>.<body>",
// and, unless lax, the 300 s window the docs ask for.
type voisnapReceiver struct {
	secret string
	lax    bool
}

func (rc *voisnapReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	ts := r.Header.Get("X-Webhook-Timestamp")
	m := hmac.New(sha256.New, []byte(rc.secret))
	m.Write([]byte(ts + "." + string(body)))
	if !hmac.Equal([]byte(r.Header.Get("X-Webhook-Signature")), []byte("sha256="+hex.EncodeToString(m.Sum(nil)))) {
		http.Error(w, "Invalid signature", http.StatusUnauthorized)
		return
	}
	n, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || !rc.lax && time.Since(time.Unix(n, 0)).Abs() > 300*time.Second {
		http.Error(w, "Timestamp outside the window", http.StatusUnauthorized)
		return
	}
	if len(body) == 0 || !json.Valid(body) {
		http.Error(w, "bad JSON", http.StatusBadRequest)
		return
	}
	w.WriteHeader(http.StatusOK)
}

func run(t *testing.T, name, secret string, h http.Handler, cfg Config) map[string]Result {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	p, err := provider.Builtin(name)
	if err != nil {
		t.Fatal(err)
	}
	key, err := p.ParseKey(secret)
	if err != nil {
		t.Fatal(err)
	}
	cfg.URL, cfg.Provider, cfg.Keys, cfg.Client = srv.URL+"/webhooks/"+name, p, []provider.Key{key}, srv.Client()
	var order []string
	cfg.OnResult = func(r Result) { order = append(order, r.Name) }
	results, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]Result{}
	for _, r := range results {
		out[r.Name] = r
	}
	if want := Names(p); cfg.Only == nil && !slices.Equal(order, want) {
		t.Errorf("reported in the order %v, want %v", order, want)
	}
	return out
}

// TestDefects: against a docs-style receiver every check passes (replay
// warns); against one with a single defect, the matching checks fail and
// say why, and every other check passes.
func TestDefects(t *testing.T) {
	const secret = "whsec_check_test"
	forgeries := []string{"tampered-body", "wrong-secret", "missing-signature", "other-encoding", "foreign-prefix"}
	tests := []struct {
		name       string
		recv       *receiver
		wantFail   []string
		wantWarn   []string
		wantReason string
	}{
		{name: "docs receiver", recv: &receiver{}},
		{name: "docs receiver as written, timingSafeEqual throwing", recv: &receiver{literal: true}, wantWarn: []string{"missing-signature", "other-encoding", "foreign-prefix"}},
		{name: "accepts any signature", recv: &receiver{acceptsAny: true}, wantFail: forgeries, wantReason: "accepts forgeries"},
		{name: "verifies a re-serialised body", recv: &receiver{reserialises: true}, wantFail: []string{"reformatted-json"}, wantReason: "re-serialised body instead of the raw bytes"},
		{name: "500 on an unknown event", recv: &receiver{crashOnUnknown: true}, wantFail: []string{"unknown-event"}, wantReason: "event type it does not know"},
		{name: "500 on a duplicate", recv: &receiver{crashOnDuplicate: true}, wantFail: []string{"duplicate"}, wantReason: "duplicate should be recognised"},
		{name: "500 on an empty body", recv: &receiver{crashOnEmpty: true}, wantFail: []string{"empty-body"}, wantReason: "crashed instead of rejecting"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.recv.secret, tt.recv.seen = secret, map[string]bool{}
			// Response time has a test of its own: on a loaded machine a
			// loopback answer can take a second, which must not fail this one.
			results := run(t, "jasni", secret, tt.recv, Config{SlowAfter: time.Hour})
			for name, r := range results {
				want := Pass
				switch {
				case slices.Contains(tt.wantFail, name):
					want = Fail
				case name == "replay" || slices.Contains(tt.wantWarn, name):
					want = Warn
				}
				if r.Status != want {
					t.Errorf("%s: %s (%s), want %s", name, r.Status, r.Reason, want)
				}
				if want == Fail && !strings.Contains(r.Reason, tt.wantReason) {
					t.Errorf("%s: reason %q lacks %q", name, r.Reason, tt.wantReason)
				}
			}
			if len(results) != 21 {
				t.Errorf("%d checks ran, want 21", len(results))
			}
		})
	}
}

// A slow handler warns; past the provider's limit it fails.
func TestResponseTime(t *testing.T) {
	const secret = "whsec_slow"
	rc := &receiver{secret: secret, seen: map[string]bool{}, delay: 30 * time.Millisecond}
	r := run(t, "jasni", secret, rc, Config{Only: []string{"response-time"}, SlowAfter: 20 * time.Millisecond})["response-time"]
	if r.Status != Warn || !strings.Contains(r.Reason, "acknowledge first") || len(r.Evidence) != 3 {
		t.Errorf("%s: %s %+v", r.Status, r.Reason, r.Evidence)
	}
	fast := run(t, "jasni", secret, &receiver{secret: secret, seen: map[string]bool{}}, Config{Only: []string{"response-time"}})["response-time"]
	if fast.Status != Pass {
		t.Errorf("fast: %s %s", fast.Status, fast.Reason)
	}
}

// Voisnap signs its timestamp: the window checks replace the replay warning,
// and pass only when the receiver enforces the window.
func TestVoisnapWindow(t *testing.T) {
	const secret = "vs_secret"
	strict := run(t, "voisnap", secret, &voisnapReceiver{secret: secret}, Config{})
	for name, r := range strict {
		if r.Status != Pass {
			t.Errorf("strict receiver: %s: %s %s", name, r.Status, r.Reason)
		}
	}
	if _, ok := strict["replay"]; ok {
		t.Error("replay warned for a scheme that signs its timestamp")
	}
	lax := run(t, "voisnap", secret, &voisnapReceiver{secret: secret, lax: true}, Config{Only: []string{"stale-timestamp", "future-timestamp", "event"}})
	for name, r := range lax {
		want := Pass
		if strings.HasSuffix(name, "-timestamp") {
			want = Fail
		}
		if r.Status != want {
			t.Errorf("lax receiver: %s: %s %s, want %s", name, r.Status, r.Reason, want)
		}
	}
}

func TestSelection(t *testing.T) {
	p, _ := provider.Builtin("jasni")
	all := checks(p)
	tests := []struct {
		only, skip []string
		want       int
		wantErr    string
	}{
		{want: 21},
		{only: []string{"event"}, want: 8},
		{only: []string{"event/email.sent", "https"}, want: 2},
		{skip: []string{"event/", "large-payload"}, want: 12},
		{only: []string{"tampered"}, wantErr: "did you mean tampered-body?"},
		{only: []string{"https"}, skip: []string{"https"}, wantErr: "leave no check"},
	}
	for _, tt := range tests {
		got, err := selectChecks(all, tt.only, tt.skip)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%v %v: %v, want %q", tt.only, tt.skip, err, tt.wantErr)
			}
			continue
		}
		if err != nil || len(got) != tt.want {
			t.Errorf("%v %v: %d checks, %v; want %d", tt.only, tt.skip, len(got), err, tt.want)
		}
	}
}

// relayout writes the same JSON with other bytes.
func TestRelayout(t *testing.T) {
	in := []byte(`{"event":"email.received","data":{"a":"é/x","b":[1,2],"c":{"d":true,"e":null}}}`)
	out, err := relayout(in)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"event": "email.received", "data": {"c": {"e": null, "d": true}, "b": [1, 2], "a": "\u00e9\u002fx"}}`
	if string(out) != want {
		t.Errorf("got  %s\nwant %s", out, want)
	}
	var a, b any
	if json.Unmarshal(in, &a) != nil || json.Unmarshal(out, &b) != nil {
		t.Fatal("not JSON")
	}
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if string(ja) != string(jb) {
		t.Errorf("not the same JSON:\n%s\n%s", ja, jb)
	}
}

func TestEnlarge(t *testing.T) {
	// Terse events grow too.
	for _, name := range []string{"generic", "standard", "voisnap"} {
		p, _ := provider.Builtin(name)
		for _, e := range p.Events() {
			out, err := enlarge(e.JSON, LargePayload)
			if err != nil || len(out) < LargePayload/2 || len(out) > LargePayload+4096 || !json.Valid(out) {
				t.Errorf("%s %s: %d bytes, %v", name, e.Name, len(out), err)
			}
		}
	}
	p, _ := provider.Builtin("jasni")
	fx, _ := p.Event("email.received")
	out, err := enlarge(fx.JSON, LargePayload)
	if err != nil {
		t.Fatal(err)
	}
	var ev struct {
		Data struct {
			To   []string `json:"to"`
			HTML string   `json:"html"`
		} `json:"data"`
	}
	if err := json.Unmarshal(out, &ev); err != nil || len(ev.Data.To) != 200 || len(out) < LargePayload/2 || len(out) > LargePayload {
		t.Errorf("%d bytes, %d recipients, %v", len(out), len(ev.Data.To), err)
	}
	if !strings.HasPrefix(string(out), `{"event":"email.received","timestamp":`) {
		t.Errorf("key order lost: %.80s", out)
	}
}

// Empty lists and odd shapes do not trip the enlarging.
func TestEnlargeOddShapes(t *testing.T) {
	for _, body := range []string{`{"data":{"to":[],"x":[[]],"y":{}}}`, `[]`, `"s"`, `{"a":null}`} {
		if out, err := enlarge([]byte(body), LargePayload); err != nil || !json.Valid(out) {
			t.Errorf("%s: %v", body, err)
		}
	}
}
