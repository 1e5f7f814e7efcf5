package relay_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jasni/jasni-cli/internal/relay"
	"github.com/jasni/jasni-cli/internal/store"
)

// countingApp counts each delivery it is handed, by its body.
type countingApp struct {
	mu   sync.Mutex
	seen map[string]int
}

func (a *countingApp) see(body []byte) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.seen == nil {
		a.seen = map[string]int{}
	}
	a.seen[string(body)]++
	return a.seen[string(body)]
}

func (a *countingApp) twice() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []string
	for body, n := range a.seen {
		if n > 1 {
			out = append(out, fmt.Sprintf("%dx %s", n, body))
		}
	}
	return out
}

func numbered(i int) []byte {
	return []byte(fmt.Sprintf(`{"event":"email.received","timestamp":"2024-01-15T10:30:00.000Z","data":{"id":"%d"}}`, i))
}

// TestAppClosesIdleConnections: apps close kept-alive connections when they
// like (Node after 5 s, a Go server after its IdleTimeout). Bursts of
// deliveries after pauses longer than that must never meet a connection the
// app has closed: no 502 the app did not cause, each delivery seen once.
func TestAppClosesIdleConnections(t *testing.T) {
	for _, tt := range []struct {
		name string
		// appIdle is when the app closes an idle connection; relayIdle when
		// the relay does; pause is the quiet time between bursts.
		appIdle, relayIdle, pause time.Duration
	}{
		// Generous margins: a delivery is never held up long enough to
		// meet the app's timeout inside a burst, even under -race on a
		// loaded machine.
		{"the app closes first", 200 * time.Millisecond, time.Minute, 600 * time.Millisecond},
		{"the relay closes first", 400 * time.Millisecond, 100 * time.Millisecond, 500 * time.Millisecond},
	} {
		t.Run(tt.name, func(t *testing.T) {
			counts := &countingApp{}
			app := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				counts.see(body)
			}))
			app.Config.IdleTimeout = tt.appIdle
			app.Start()
			defer app.Close()
			tr := relay.NewForwardTransport()
			tr.IdleConnTimeout = tt.relayIdle
			h := start(t, relay.Config{Forward: mustURL(app.URL), Transport: tr})

			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
			n := 0
			for burst := range 4 {
				if burst > 0 {
					time.Sleep(tt.pause) // the quiet time under test, not synchronisation
				}
				var wg sync.WaitGroup
				statuses := make(chan int, 32)
				for range 32 {
					n++
					body := numbered(n)
					wg.Add(1)
					go func() {
						defer wg.Done()
						req, _ := http.NewRequest(http.MethodPost, h.url+"/webhooks/jasni", bytes.NewReader(body))
						req.Header.Set("X-Webhook-Signature", sign(body))
						resp, err := client.Do(req)
						if err != nil {
							statuses <- -1
							return
						}
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						statuses <- resp.StatusCode
					}()
				}
				wg.Wait()
				close(statuses)
				for s := range statuses {
					if s != http.StatusOK {
						t.Errorf("burst %d: a delivery was answered %d", burst, s)
					}
				}
			}
			if twice := counts.twice(); len(twice) > 0 {
				t.Errorf("the app was handed deliveries more than once: %v", twice)
			}
		})
	}
}

// TestAppFailsAfterReading: an app that takes a delivery and then resets
// the connection, or crashes on it, is handed it once: a POST is not sent
// again once the app may have seen it.
func TestAppFailsAfterReading(t *testing.T) {
	for _, tt := range []struct {
		name string
		fail func(w http.ResponseWriter)
		want string
	}{
		{"reset", func(w http.ResponseWriter) {
			c, _, err := http.NewResponseController(w).Hijack()
			if err != nil {
				panic(err)
			}
			c.(*net.TCPConn).SetLinger(0)
			c.Close()
		}, "closed the connection without answering"},
		{"panic", func(http.ResponseWriter) { panic("the handler crashed") }, "closed the connection without answering"},
	} {
		// An Idempotency-Key header makes net/http's Transport replay a POST
		// it can rewind: the relay's never is.
		for _, extra := range []map[string]string{nil, {"Idempotency-Key": "k1"}, {"X-Idempotency-Key": "k2"}} {
			t.Run(fmt.Sprint(tt.name, extra), func(t *testing.T) {
				counts := &countingApp{}
				app := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					body, _ := io.ReadAll(r.Body)
					if counts.see(body) >= 1 && bytes.Contains(body, []byte(`"id":"2"`)) {
						tt.fail(w)
					}
				}))
				app.Config.ErrorLog = quietLog()
				app.Start()
				defer app.Close()
				h := start(t, relay.Config{Forward: mustURL(app.URL)})
				// The first delivery leaves a kept-alive connection that the
				// second one reuses.
				for i, want := range []int{200, 502} {
					body := numbered(i + 1)
					resp := post(t, h.url+"/webhooks/jasni", body, sign(body), extra)
					io.Copy(io.Discard, resp.Body)
					if resp.StatusCode != want {
						t.Errorf("delivery %d answered %d, want %d", i+1, resp.StatusCode, want)
					}
				}
				if twice := counts.twice(); len(twice) > 0 {
					t.Errorf("the app was handed a delivery more than once: %v", twice)
				}
				d := h.deliveries()[1]
				if d.Forward == nil || !strings.Contains(d.Forward.Error, tt.want) {
					t.Errorf("forward = %+v, want an error saying %q", d.Forward, tt.want)
				}
			})
		}
	}
}

// TestAppAnswerIsKept: each attempt keeps the app's status, headers and
// the start of its body, and a summary of a failure.
func TestAppAnswerIsKept(t *testing.T) {
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Request-Id", "req_42")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusInternalServerError)
		io.WriteString(w, `{"error":"boom"}`)
	}))
	defer app.Close()
	h := start(t, relay.Config{Forward: mustURL(app.URL)})
	resp := post(t, h.url+"/webhooks/jasni", event, sign(event), nil)
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 500 || string(body) != `{"error":"boom"}` || resp.Header.Get("X-Request-Id") != "req_42" {
		t.Errorf("the sender got %d %q %v, want the app's answer", resp.StatusCode, body, resp.Header)
	}
	live := h.deliveries()[0]
	if live.Forward.Summary != "boom" {
		t.Errorf("summary %q, want boom", live.Forward.Summary)
	}
	d := h.get(t, live.ID)
	if len(d.Attempts) != 1 {
		t.Fatalf("attempts %+v, want one", d.Attempts)
	}
	a := d.Attempts[0]
	if a.By != store.AttemptByListen || a.Status != 500 || a.Header.Get("X-Request-Id") != "req_42" ||
		string(a.Body) != `{"error":"boom"}` || a.BodySize != 16 || a.At.IsZero() {
		t.Errorf("kept attempt %+v", a)
	}
	if d.Forward.Summary != "boom" || d.Forward.Body != nil {
		t.Errorf("the brief forward %+v should have the summary and no body", d.Forward)
	}
}

// TestLargeAnswers: an answer larger than what is kept reaches the sender
// whole; one cut short by the app reaches it as a broken answer, never as a
// whole one that is shorter than it says.
func TestLargeAnswers(t *testing.T) {
	big := bytes.Repeat([]byte("x"), 11<<20)
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/length":
			w.Header().Set("Content-Length", fmt.Sprint(len(big)))
			w.Write(big)
		case "/chunked":
			w.Write(big[:1<<20])
			w.(http.Flusher).Flush()
			w.Write(big[1<<20:])
		case "/cut":
			w.Header().Set("Content-Length", "100000")
			w.WriteHeader(200)
			w.Write(big[:1000])
			w.(http.Flusher).Flush()
			c, _, _ := http.NewResponseController(w).Hijack()
			c.Close()
		case "/headers":
			w.Header().Set("X-Huge", strings.Repeat("h", 100<<10))
		}
	}))
	app.Config.ErrorLog = quietLog()
	defer app.Close()
	h := start(t, relay.Config{Forward: mustURL(app.URL), Paths: []string{relay.Any}})
	for _, path := range []string{"/length", "/chunked"} {
		resp := post(t, h.url+path, event, sign(event), nil)
		got, err := io.ReadAll(resp.Body)
		if err != nil || len(got) != len(big) {
			t.Errorf("%s: the sender got %d of %d bytes (%v)", path, len(got), len(big), err)
		}
	}
	d := h.get(t, h.deliveries()[0].ID)
	if a := d.Attempts[0]; len(a.Body) != store.AnswerKeep || a.BodySize != int64(len(big)) {
		t.Errorf("kept %d bytes of an answer of %d, want %d of %d", len(a.Body), a.BodySize, store.AnswerKeep, len(big))
	}

	req, _ := http.NewRequest(http.MethodPost, h.url+"/cut", bytes.NewReader(event))
	req.Header.Set("X-Webhook-Signature", sign(event))
	if resp, err := http.DefaultClient.Do(req); err == nil {
		// The headers may have gone out already; the body must not end well.
		if got, err := io.ReadAll(resp.Body); err == nil {
			t.Errorf("an answer the app cut short reached the sender as whole (%d bytes, %d)", len(got), resp.StatusCode)
		}
		resp.Body.Close()
	}
	resp := post(t, h.url+"/headers", event, sign(event), nil)
	io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != 502 || resp.Header.Get("X-Huge") != "" {
		t.Errorf("answer headers over the bound: %d", resp.StatusCode)
	}
	if f := h.deliveries()[3].Forward; !strings.Contains(f.Error, "headers larger than") {
		t.Errorf("forward %+v, want it to name the headers", f)
	}
}

// TestContinueAndOldApps: an app that sends 100 Continue, or answers in
// HTTP/1.0 without a length, is passed on as it answered.
func TestContinueAndOldApps(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	counts := &countingApp{}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				req, err := http.ReadRequest(br)
				if err != nil {
					return
				}
				io.WriteString(c, "HTTP/1.1 100 Continue\r\n\r\n")
				body, _ := io.ReadAll(req.Body)
				counts.see(body)
				io.WriteString(c, "HTTP/1.0 202 Accepted\r\nContent-Type: text/plain\r\n\r\nqueued, thanks")
			}()
		}
	}()
	h := start(t, relay.Config{Forward: mustURL("http://" + ln.Addr().String())})
	for i := range 3 {
		body := numbered(i)
		resp := post(t, h.url+"/webhooks/jasni", body, sign(body), nil)
		got, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 202 || string(got) != "queued, thanks" {
			t.Errorf("the sender got %d %q", resp.StatusCode, got)
		}
	}
	if twice := counts.twice(); len(twice) > 0 {
		t.Errorf("the app was handed a delivery more than once: %v", twice)
	}
}

// quietLog keeps an app's complaints about the failures a test makes on
// purpose out of the test's output.
func quietLog() *log.Logger { return log.New(io.Discard, "", 0) }
