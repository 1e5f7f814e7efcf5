package relay_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jasni/jasni-cli/internal/clitest"
	"github.com/jasni/jasni-cli/internal/exampleapp"
	"github.com/jasni/jasni-cli/internal/feed"
	"github.com/jasni/jasni-cli/internal/relay"
	"github.com/jasni/jasni-cli/internal/store"
	"github.com/jasni/jasni-cli/internal/tunnel"
)

const secret = "whsec_relay_test"

type harness struct {
	url       string
	store     *store.Store
	writer    *store.Writer
	events    *feed.Subscription
	delivered []*store.Delivery
	// busy counts the requests being handled.
	mu   sync.Mutex
	idle *sync.Cond
	busy int
}

// start serves a relay on a local tunnel, the way listen does.
func start(t *testing.T, cfg relay.Config) *harness {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "h.db"), store.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{store: st, writer: st.NewWriter(store.WriterOptions{})}
	h.idle = sync.NewCond(&h.mu)
	t.Cleanup(func() {
		h.writer.Close(context.Background())
		st.Close()
	})
	if cfg.Secret == "" {
		cfg.Secret = secret
	}
	if cfg.Recorder == nil {
		cfg.Recorder = h.writer
	}
	cfg.Feed = &feed.Hub{}
	h.events = cfg.Feed.Subscribe(100000)
	tun, err := tunnel.Local(0)
	if err != nil {
		t.Fatal(err)
	}
	rl := relay.New(cfg)
	counted := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		h.busy++
		h.mu.Unlock()
		defer func() {
			h.mu.Lock()
			h.busy--
			h.idle.Broadcast()
			h.mu.Unlock()
		}()
		rl.ServeHTTP(w, r)
	})
	srv := relay.NewServer(counted, limits)
	go srv.Serve(tun)
	t.Cleanup(func() { srv.Close() })
	h.url = tun.URL()
	return h
}

// limits are the server limits tests run with; a test may shorten them.
var limits = relay.DefaultServerLimits

// get reads a delivery from the history once everything queued is written.
func (h *harness) get(t *testing.T, id string) *store.Delivery {
	t.Helper()
	if err := h.writer.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	d, err := h.store.Get(context.Background(), id)
	if err != nil {
		t.Fatalf("delivery %s: %v", id, err)
	}
	return d
}

func (h *harness) list(t *testing.T, q store.Query) []store.Delivery {
	t.Helper()
	if err := h.writer.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	list, err := h.store.List(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	return list
}

// deliveries are the deliveries answered so far, in the order they were,
// once every request being handled is done.
func (h *harness) deliveries() []*store.Delivery {
	h.mu.Lock()
	defer h.mu.Unlock()
	for h.busy > 0 {
		h.idle.Wait()
	}
	for {
		select {
		case e := <-h.events.Events():
			if e.Kind == feed.Answered || e.Kind == feed.Refused {
				h.delivered = append(h.delivered, e.Delivery)
			}
		default:
			return append([]*store.Delivery(nil), h.delivered...)
		}
	}
}

func post(t *testing.T, url string, body []byte, sig string, extra map[string]string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Webhook-Event", "email.received")
	req.Header.Set("X-Webhook-Timestamp", "1705314600")
	req.Header.Set("User-Agent", "JasniAI-Webhooks/1.0")
	if sig != "" {
		req.Header.Set("X-Webhook-Signature", sig)
	}
	for k, v := range extra {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func sign(body []byte) string { return clitest.JasniSignature(secret, body) }

var event = []byte(`{"event":"email.received","timestamp":"2024-01-15T10:30:00.000Z","data":{"id":"1","subject":"<b>hi</b>"}}`)

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

func TestForwardsVerifiedDeliveriesUntouched(t *testing.T) {
	app := exampleapp.New(secret)
	appSrv := httptest.NewServer(app.Handler())
	defer appSrv.Close()
	h := start(t, relay.Config{Forward: mustURL(appSrv.URL), Header: http.Header{"X-Extra": {"1"}}})

	resp := post(t, h.url+"/webhooks/jasni?x=1", event, sign(event), nil)
	answer, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || string(answer) != "OK" {
		t.Fatalf("answer %d %q, want the app's 200 OK", resp.StatusCode, answer)
	}
	got := app.Received()
	if len(got) != 1 || !got[0].Verified || !bytes.Equal(got[0].Body, event) {
		t.Fatalf("app got %+v", got)
	}
	for k, want := range map[string]string{
		"X-Webhook-Signature": sign(event), "X-Webhook-Event": "email.received", "X-Webhook-Timestamp": "1705314600",
		"User-Agent": "JasniAI-Webhooks/1.0", "Content-Type": "application/json", "X-Extra": "1",
		"X-Forwarded-Proto": "http", "X-Forwarded-For": "127.0.0.1", "X-Forwarded-Host": strings.TrimPrefix(h.url, "http://"),
	} {
		if v := got[0].Header.Get(k); v != want {
			t.Errorf("%s = %q, want %q", k, v, want)
		}
	}
	d := h.deliveries()[0]
	if d.Verdict != store.VerdictValid || d.Forward.Status != 200 || d.Forward.URL != appSrv.URL+"/webhooks/jasni?x=1" {
		t.Errorf("delivery %+v forward %+v", d, d.Forward)
	}
	stored := h.get(t, d.ID)
	if !bytes.Equal(stored.Body, event) || stored.Forward.Status != 200 || stored.Answer != 200 {
		t.Errorf("history: %+v", stored)
	}
}

func TestRejectsAndFailures(t *testing.T) {
	app := exampleapp.New(secret)
	appSrv := httptest.NewServer(app.Handler())
	defer appSrv.Close()

	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	defer close(release)

	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	down := "http://" + ln.Addr().String()
	ln.Close()

	tampered := bytes.Replace(event, []byte("hi"), []byte("ho"), 1)
	tests := []struct {
		name       string
		cfg        relay.Config
		body       []byte
		sig        string
		wantStatus int
		wantApp    int // deliveries the app should see
		verdict    store.Verdict
		note       string
		rejected   bool
	}{
		{"tampered", relay.Config{Forward: mustURL(appSrv.URL)}, tampered, sign(event), 401, 0, store.VerdictInvalid, "signature invalid", true},
		{"unsigned", relay.Config{Forward: mustURL(appSrv.URL)}, event, "", 401, 0, store.VerdictMissing, "unsigned: there is no X-Webhook-Signature header", true},
		// The words jasni verify would use.
		{"a newline added", relay.Config{Forward: mustURL(appSrv.URL)}, append(bytes.Clone(event), '\n'), sign(event), 401, 0, store.VerdictInvalid, "signature invalid: the body has a trailing newline that was not signed", true},
		{"garbage signature", relay.Config{Forward: mustURL(appSrv.URL)}, event, "zz", 401, 0, store.VerdictInvalid, "signature invalid", true},
		{"upper-case hex is still hex", relay.Config{Forward: mustURL(appSrv.URL)}, tampered, strings.ToUpper(sign(event)), 401, 0, store.VerdictInvalid, "signature invalid", true},
		{"skip verify forwards anything", relay.Config{Forward: mustURL(appSrv.URL), SkipVerify: true}, event, "", 401, 1, store.VerdictSkipped, "", false},
		{"app down", relay.Config{Forward: mustURL(down)}, event, sign(event), 502, 0, store.VerdictValid, "not running (connection refused)", false},
		{"app slow", relay.Config{Forward: mustURL(slow.URL), ForwardTimeout: 200 * time.Millisecond}, event, sign(event), 504, 0, store.VerdictValid, "did not answer within 200ms", false},
		{"too large", relay.Config{Forward: mustURL(appSrv.URL), MaxBody: 16}, event, sign(event), 413, 0, store.VerdictSkipped, "larger than 16 bytes", true},
		{"filtered event", relay.Config{Forward: mustURL(appSrv.URL), Events: []string{"email.sent"}}, event, sign(event), 200, 0, store.VerdictValid, "event not in --events", false},
		{"sink", relay.Config{}, event, sign(event), 200, 0, store.VerdictValid, "no --forward", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(app.Received())
			h := start(t, tt.cfg)
			resp := post(t, h.url+"/webhooks/jasni", tt.body, tt.sig, nil)
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("answer %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			// What the sender reads: no signature is not a wrong one.
			if body, _ := io.ReadAll(resp.Body); tt.wantStatus == 401 && !tt.cfg.SkipVerify {
				want := map[store.Verdict]string{store.VerdictMissing: "missing signature\n", store.VerdictInvalid: "invalid signature\n"}[tt.verdict]
				if string(body) != want {
					t.Errorf("answer body %q, want %q", body, want)
				}
			}
			if n := len(app.Received()) - before; n != tt.wantApp {
				t.Errorf("app got %d deliveries, want %d", n, tt.wantApp)
			}
			ds := h.deliveries()
			if len(ds) != 1 {
				t.Fatalf("%d deliveries reported, want 1", len(ds))
			}
			d := ds[0]
			if d.Verdict != tt.verdict || d.Answer != tt.wantStatus || d.Rejected != tt.rejected {
				t.Errorf("verdict %q answer %d rejected %v", d.Verdict, d.Answer, d.Rejected)
			}
			if tt.note != "" && (d.Forward == nil || !strings.Contains(d.Forward.Skipped+d.Forward.Error, tt.note)) {
				t.Errorf("forward %+v, want a note %q", d.Forward, tt.note)
			}
			if stored := h.get(t, d.ID); stored.Answer != tt.wantStatus || stored.Rejected != tt.rejected {
				t.Errorf("history: answer %d rejected %v", stored.Answer, stored.Rejected)
			}
		})
	}
}

func TestAppAnswerIsPassedBack(t *testing.T) {
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-App", "yes")
		w.WriteHeader(http.StatusTeapot)
		io.WriteString(w, "short and stout")
	}))
	defer app.Close()
	h := start(t, relay.Config{Forward: mustURL(app.URL + "/custom/path")})
	resp := post(t, h.url+"/webhooks/jasni", event, sign(event), nil)
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 418 || string(body) != "short and stout" || resp.Header.Get("X-App") != "yes" {
		t.Errorf("answer %d %q %v", resp.StatusCode, body, resp.Header)
	}
	if got := h.deliveries()[0].Forward.URL; got != app.URL+"/custom/path" {
		t.Errorf("forwarded to %s, want the --forward path kept", got)
	}
}

func TestDuplicatesAndConcurrency(t *testing.T) {
	app := exampleapp.New(secret)
	appSrv := httptest.NewServer(app.Handler())
	defer appSrv.Close()
	h := start(t, relay.Config{Forward: mustURL(appSrv.URL)})

	const n = 20
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := []byte(fmt.Sprintf(`{"event":"email.received","timestamp":"2024-01-15T10:30:00.000Z","data":{"id":"c%d"}}`, i))
			req, _ := http.NewRequest(http.MethodPost, h.url+"/webhooks/jasni", bytes.NewReader(body))
			req.Header.Set("X-Webhook-Signature", sign(body))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Errorf("delivery %d: %d", i, resp.StatusCode)
			}
		}()
	}
	wg.Wait()
	if got := len(app.Received()); got != n {
		t.Errorf("app got %d, want %d", got, n)
	}
	if list := h.list(t, store.Query{}); len(list) != n {
		t.Errorf("history has %d, want %d", len(list), n)
	}

	post(t, h.url+"/webhooks/jasni", event, sign(event), nil)
	post(t, h.url+"/webhooks/jasni", event, sign(event), nil)
	ds := h.deliveries()
	if ds[len(ds)-2].Duplicate || !ds[len(ds)-1].Duplicate {
		t.Error("the second identical delivery should be marked duplicate, the first not")
	}
}

func TestTarget(t *testing.T) {
	tests := []struct{ forward, incoming, want string }{
		{"http://localhost:3000", "/webhooks/jasni?a=1", "http://localhost:3000/webhooks/jasni?a=1"},
		{"http://localhost:3000/", "/webhooks/jasni", "http://localhost:3000/webhooks/jasni"},
		{"http://localhost:3000/hook", "/webhooks/jasni", "http://localhost:3000/hook"},
		{"http://localhost:3000/hook?k=v", "/x?a=1", "http://localhost:3000/hook?k=v"},
	}
	for _, tt := range tests {
		in, _ := url.ParseRequestURI(tt.incoming)
		if got := relay.Target(mustURL(tt.forward), in).String(); got != tt.want {
			t.Errorf("Target(%s, %s) = %s, want %s", tt.forward, tt.incoming, got, tt.want)
		}
	}
}
