package relay_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jasni/jasni-cli/internal/feed"
	"github.com/jasni/jasni-cli/internal/relay"
	"github.com/jasni/jasni-cli/internal/store"
	"github.com/jasni/jasni-cli/internal/tunnel"
)

// Only POST to the webhook path is verified and forwarded: a captured signed
// body replayed elsewhere or with another method never reaches the app.
func TestOnlyTheWebhookRouteIsForwarded(t *testing.T) {
	var mu sync.Mutex
	received := 0
	appSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		received++
		mu.Unlock()
	}))
	defer appSrv.Close()
	count := func() int { mu.Lock(); defer mu.Unlock(); return received }

	tests := []struct {
		name       string
		cfg        relay.Config
		method     string
		path       string
		wantStatus int
		wantApp    int
	}{
		{"replayed as DELETE elsewhere", relay.Config{}, http.MethodDelete, "/admin/users/1", 404, 0},
		{"replayed as GET", relay.Config{}, http.MethodGet, "/webhooks/jasni", 405, 0},
		{"POST to another path", relay.Config{}, http.MethodPost, "/admin", 404, 0},
		{"the webhook route", relay.Config{}, http.MethodPost, "/webhooks/jasni", 200, 1},
		{"a path chosen with --path", relay.Config{Paths: []string{"/hooks"}}, http.MethodPost, "/hooks", 200, 1},
		{"the default path once --path moved it", relay.Config{Paths: []string{"/hooks"}}, http.MethodPost, "/webhooks/jasni", 404, 0},
		{"any path and method on purpose", relay.Config{Paths: []string{relay.Any}, Methods: []string{relay.Any}}, http.MethodPut, "/anything", 200, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Forward = mustURL(appSrv.URL)
			h := start(t, tt.cfg)
			before := count()
			req, _ := http.NewRequest(tt.method, h.url+tt.path, bytes.NewReader(event))
			req.Header.Set("X-Webhook-Signature", sign(event))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("answer %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			if tt.wantStatus == 405 && resp.Header.Get("Allow") != "POST" {
				t.Errorf("Allow = %q", resp.Header.Get("Allow"))
			}
			if got := count() - before; got != tt.wantApp {
				t.Errorf("app got %d, want %d", got, tt.wantApp)
			}
			d := h.deliveries()[0]
			if d.Rejected != (tt.wantApp == 0) {
				t.Errorf("rejected = %v", d.Rejected)
			}
		})
	}
}

// An unsigned copy that arrives first does not make the real delivery a
// "duplicate": only verified deliveries count.
func TestDuplicatesAmongVerifiedOnly(t *testing.T) {
	h := start(t, relay.Config{})
	post(t, h.url+"/webhooks/jasni", event, "", nil)
	post(t, h.url+"/webhooks/jasni", event, strings.Repeat("0", 64), nil)
	post(t, h.url+"/webhooks/jasni", event, sign(event), nil)
	post(t, h.url+"/webhooks/jasni", event, sign(event), nil)
	ds := h.deliveries()
	if ds[2].Duplicate || ds[2].Rejected {
		t.Errorf("the first verified delivery: duplicate=%v rejected=%v", ds[2].Duplicate, ds[2].Rejected)
	}
	if !ds[3].Duplicate {
		t.Error("the second verified copy should be a duplicate")
	}
}

// 1,500 unsigned requests never push a verified delivery out of the history,
// and what is kept of them is small.
func TestJunkNeverEvictsDeliveries(t *testing.T) {
	h := start(t, relay.Config{})
	var real []string
	for i := range 3 {
		body := []byte(fmt.Sprintf(`{"event":"email.sent","timestamp":"2024-01-15T10:30:00.000Z","data":{"id":"r%d"}}`, i))
		post(t, h.url+"/webhooks/jasni", body, sign(body), nil)
	}
	for _, d := range h.deliveries() {
		real = append(real, d.ID)
	}
	junk := bytes.Repeat([]byte("J"), 2048)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	var wg sync.WaitGroup
	jobs := make(chan int)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				sig := ""
				if i%2 == 0 {
					sig = sign(junk) + "00" // malformed
				}
				req, _ := http.NewRequest(http.MethodPost, h.url+"/webhooks/jasni", bytes.NewReader(junk))
				if sig != "" {
					req.Header.Set("X-Webhook-Signature", sig)
				}
				resp, err := client.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 401 {
					t.Errorf("junk answered %d", resp.StatusCode)
				}
			}
		}()
	}
	for i := range 1500 {
		jobs <- i
	}
	close(jobs)
	wg.Wait()

	list := h.list(t, store.Query{})
	if len(list) != 3 {
		t.Fatalf("%d deliveries left after the junk, want 3", len(list))
	}
	for _, id := range real {
		if d := h.get(t, id); d.Rejected {
			t.Errorf("%s is marked rejected", id)
		}
	}
	if n, _ := h.store.Count(context.Background(), true); n > store.DefaultLimits.MaxRejected {
		t.Errorf("%d rejected records kept, over the quota of %d", n, store.DefaultLimits.MaxRejected)
	}
}

// TestInFlightBodiesBounded: bodies held at once stay within the budget; a
// body only announced holds its share until a sender who needs the room
// comes, and is then stopped (503 with Retry-After), and what was held is
// given back.
func TestInFlightBodiesBounded(t *testing.T) {
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.Copy(io.Discard, r.Body) }))
	defer app.Close()
	const size = 600 << 10
	h := start(t, relay.Config{Forward: mustURL(app.URL), MaxBody: 1 << 20, MaxInFlight: 1 << 20, SkipVerify: true})
	full := func() int {
		resp := post(t, h.url+"/webhooks/jasni", bytes.Repeat([]byte("b"), size), "", nil)
		io.Copy(io.Discard, resp.Body)
		return resp.StatusCode
	}

	// Announced, and a little of it sent.
	c, err := net.Dial("tcp", strings.TrimPrefix(h.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "POST /webhooks/jasni HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", size)
	c.Write(bytes.Repeat([]byte("a"), 1000))
	// The relay takes the announced body's share when it starts reading
	// it, just after it says the request was received: the full body is
	// sent only then (on a loaded machine it could otherwise come first).
	for e := range h.events.Events() {
		if e.Kind == feed.Received {
			break
		}
	}
	if got := full(); got != 200 {
		t.Fatalf("a body next to one only announced: %d, want 200 (the announced one stopped to make room)", got)
	}
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil || resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("the body only announced: %v %v, want 503 with Retry-After", resp, err)
	}
	for range 3 {
		if got := full(); got != 200 {
			t.Errorf("after the stopped body: %d, want 200 (budget given back)", got)
		}
	}
}

func TestBodyLimits(t *testing.T) {
	h := start(t, relay.Config{MaxBody: 1 << 10})
	big := bytes.Repeat([]byte("x"), 100<<10)
	tests := []struct {
		name    string
		body    io.Reader
		sig     string
		want    int
		keepMax int
	}{
		{"chunked over --max-body", io.MultiReader(bytes.NewReader(big)), sign(big), 413, 0},
		{"unsigned large body: only its start is read and kept", bytes.NewReader(big), "", 401, store.RejectedBodyKeep},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, h.url+"/webhooks/jasni", tt.body)
			if tt.sig != "" {
				req.Header.Set("X-Webhook-Signature", tt.sig)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Errorf("answer %d, want %d", resp.StatusCode, tt.want)
			}
			ds := h.deliveries()
			d := h.get(t, ds[len(ds)-1].ID)
			if !d.Rejected || len(d.Body) > tt.keepMax {
				t.Errorf("kept %d bytes, rejected=%v", len(d.Body), d.Rejected)
			}
		})
	}
}

// failingRecorder refuses every record with err, or takes it and fails
// it later with written (a commit that failed).
type failingRecorder struct {
	err     error
	written error
}

func (f failingRecorder) Record(_ *store.Delivery, written func(error)) error {
	if f.err != nil {
		return f.err
	}
	if written != nil {
		go written(f.written)
	}
	return nil
}
func (failingRecorder) Finish(*store.Delivery) {}

// A sink's 200 promises the delivery is kept; when it cannot be, the sender
// is told to retry. A history that cannot keep up now keeps deliveries from
// being forwarded (503 before the app sees them); one broken for good lets
// listen go on forwarding, as it does when it starts without one.
func TestUnrecordedDeliveries(t *testing.T) {
	var reached atomic.Int64
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { reached.Add(1) }))
	defer app.Close()
	behind := failingRecorder{err: store.ErrBehind}
	broken := failingRecorder{err: &store.DamagedError{Path: "h.db", Err: store.ErrMoved}}
	diskFull := failingRecorder{written: errors.New("database or disk is full")}
	for _, tt := range []struct {
		name    string
		rec     failingRecorder
		forward bool
		want    int
		reached int64
	}{
		{"sink, behind", behind, false, 503, 0},
		{"sink, broken", broken, false, 503, 0},
		{"sink, the commit fails", diskFull, false, 503, 0},
		{"forward, behind", behind, true, 503, 0},
		{"forward, broken", broken, true, 200, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			reached.Store(0)
			var warned atomic.Int64
			cfg := relay.Config{Recorder: tt.rec, OnRecordError: func(error) { warned.Add(1) }}
			if tt.forward {
				cfg.Forward = mustURL(app.URL)
			}
			h := start(t, cfg)
			resp := post(t, h.url+"/webhooks/jasni", event, sign(event), nil)
			if resp.StatusCode != tt.want || reached.Load() != tt.reached {
				t.Errorf("answered %d with the app reached %d times, want %d and %d", resp.StatusCode, reached.Load(), tt.want, tt.reached)
			}
			if tt.want == 503 && resp.Header.Get("Retry-After") == "" {
				t.Error("a 503 without Retry-After")
			}
			if tt.rec.err != nil && warned.Load() != 1 {
				t.Errorf("warned %d times, want once", warned.Load())
			}
		})
	}
}

// TestSlowBodiesAreStopped: connections that trickle large bodies with
// well-formed but wrong signatures (checked only once the body is whole)
// cannot hold the in-flight budget that genuine deliveries need: the
// slowest are stopped to make room, and answered 503 with Retry-After.
func TestSlowBodiesAreStopped(t *testing.T) {
	const maxBody = 2 << 20
	// Room for three of the trickles: they fill it.
	h := start(t, relay.Config{MaxBody: maxBody, MaxInFlight: 3 * (maxBody + 1)})
	addr := strings.TrimPrefix(h.url, "http://")
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var stopped atomic.Int64
	forged := strings.Repeat("ab", 32)
	for range 7 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				c, err := net.Dial("tcp", addr)
				if err != nil {
					return
				}
				fmt.Fprintf(c, "POST /webhooks/jasni HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\nX-Webhook-Signature: %s\r\n\r\n", maxBody, forged)
				// Half the body at once, then the rest a trickle.
				c.Write(bytes.Repeat([]byte("x"), maxBody/2))
				answered := make(chan struct{})
				go func() {
					defer close(answered)
					if resp, err := http.ReadResponse(bufio.NewReader(c), nil); err == nil && resp.StatusCode == 503 {
						stopped.Add(1)
					}
				}()
			trickle:
				for {
					select {
					case <-stop:
						break trickle
					case <-answered:
						break trickle
					case <-time.After(20 * time.Millisecond):
						c.Write([]byte("x"))
					}
				}
				c.Close()
				<-answered
			}
		}()
	}
	defer func() { close(stop); wg.Wait() }()
	// Genuine deliveries keep coming while the trickles hold what they can.
	for i := range 20 {
		body := numbered(i)
		resp := post(t, h.url+"/webhooks/jasni", body, sign(body), nil)
		io.Copy(io.Discard, resp.Body)
		if resp.StatusCode != 200 {
			t.Errorf("genuine delivery %d answered %d while slow bodies held the budget", i, resp.StatusCode)
		}
		time.Sleep(25 * time.Millisecond) // a steady stream, not synchronisation
	}
	if stopped.Load() == 0 {
		t.Error("no slow body was stopped: the test did not fill the budget")
	}
}

// The server's own limits: a header block too large, a sender that never
// finishes its headers, and more connections than the cap.
func TestServerLimits(t *testing.T) {
	serve := func(t *testing.T, lim relay.ServerLimits) string {
		tun, err := tunnel.Local(0)
		if err != nil {
			t.Fatal(err)
		}
		srv := relay.NewServer(relay.New(relay.Config{Secret: secret}), lim)
		go srv.Serve(tun)
		t.Cleanup(func() { srv.Close() })
		return strings.TrimPrefix(tun.URL(), "http://")
	}

	t.Run("header too large", func(t *testing.T) {
		addr := serve(t, relay.DefaultServerLimits)
		req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/webhooks/jasni", bytes.NewReader(event))
		req.Header.Set("X-Big", strings.Repeat("h", 128<<10))
		resp, err := (&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Errorf("answer %d, want 431", resp.StatusCode)
		}
	})

	t.Run("slow headers are cut off", func(t *testing.T) {
		lim := relay.DefaultServerLimits
		lim.ReadHeaderTimeout = 300 * time.Millisecond
		conn, err := net.Dial("tcp", serve(t, lim))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conn.Write([]byte("POST /webhooks/jasni HTTP/1.1\r\nHost: x\r\n"))
		conn.SetReadDeadline(time.Now().Add(20 * time.Second))
		// The server closes the connection (with or without a 408 first).
		_, err = io.ReadAll(conn)
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatal("the connection was still open after 20s")
		}
	})

	t.Run("idle connections make room", func(t *testing.T) {
		lim := relay.DefaultServerLimits
		lim.MaxConns = 2
		addr := serve(t, lim)
		var held []*bufio.Reader
		var conns []net.Conn
		for range 2 {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			// A complete request each, so they are kept alive, idle.
			fmt.Fprintf(c, "GET /webhooks/jasni HTTP/1.1\r\nHost: x\r\n\r\n")
			r := bufio.NewReader(c)
			if resp, err := http.ReadResponse(r, nil); err != nil {
				t.Fatal(err)
			} else {
				io.Copy(io.Discard, resp.Body)
			}
			held, conns = append(held, r), append(conns, c)
		}
		third, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer third.Close()
		fmt.Fprintf(third, "GET /webhooks/jasni HTTP/1.1\r\nHost: x\r\n\r\n")
		third.SetReadDeadline(time.Now().Add(20 * time.Second))
		if line, err := bufio.NewReader(third).ReadString('\n'); err != nil || !strings.Contains(line, "405") {
			t.Fatalf("a third connection, with two idle ones holding the cap: %q %v", line, err)
		}
		// An idle one made room: one of the two is closed.
		closed := 0
		for i, c := range conns {
			c.SetReadDeadline(time.Now().Add(time.Second))
			if _, err := held[i].ReadByte(); err == io.EOF {
				closed++
			}
		}
		if closed != 1 {
			t.Errorf("%d of the two idle connections were closed to make room, want 1", closed)
		}
	})

	t.Run("thousands of idle connections", func(t *testing.T) {
		lim := relay.DefaultServerLimits
		lim.MaxConns = 64
		addr := serve(t, lim)
		// Connections that say nothing, and connections kept alive after a
		// request, from loopback (no per-address cap), many times the cap.
		for i := range 400 {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if i%2 == 0 {
				fmt.Fprintf(c, "GET /webhooks/jasni HTTP/1.1\r\nHost: x\r\n\r\n")
			}
		}
		time.Sleep(2 * relay.FreshConn) // the silent ones are no longer new: the condition under test
		client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
		for i := range 3 {
			body := numbered(i)
			req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/webhooks/jasni", bytes.NewReader(body))
			req.Header.Set("X-Webhook-Signature", sign(body))
			resp, err := client.Do(req)
			if err != nil {
				t.Fatalf("a signed delivery among idle connections: %v", err)
			}
			resp.Body.Close()
			if resp.StatusCode != 503 && resp.StatusCode != 200 { // no history here: 503 says it was looked at
				t.Errorf("answer %d", resp.StatusCode)
			}
		}
	})
}

func TestEventComesFromTheSignedBody(t *testing.T) {
	h := start(t, relay.Config{Events: []string{"email.received"}})
	post(t, h.url+"/webhooks/jasni", event, sign(event), nil)
	resp := post(t, h.url+"/webhooks/jasni", event, sign(event), map[string]string{"X-Webhook-Event": "email.bounced"})
	if resp.StatusCode != 200 {
		t.Fatalf("answer %d", resp.StatusCode)
	}
	d := h.deliveries()[1]
	if d.Event != "email.received" || !d.Duplicate || d.Forward.Skipped != "no --forward" {
		t.Errorf("event %q duplicate %v forward %+v", d.Event, d.Duplicate, d.Forward)
	}
}

// The path is compared as sent: an encoded slash is another path.
func TestEncodedPathIsAnotherPath(t *testing.T) {
	h := start(t, relay.Config{})
	req, _ := http.NewRequest(http.MethodPost, h.url+"/webhooks%2fjasni", bytes.NewReader(event))
	req.Header.Set("X-Webhook-Signature", sign(event))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("answer %d, want 404", resp.StatusCode)
	}
}

// A refused sender that waits for "100 Continue" is not invited to send.
func TestNoContinueForRefused(t *testing.T) {
	h := start(t, relay.Config{})
	conn, err := net.Dial("tcp", strings.TrimPrefix(h.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /webhooks/jasni HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\nExpect: 100-continue\r\n\r\n")
	status, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil || !strings.Contains(status, "401") {
		t.Errorf("first answer %q %v, want 401 (no 100 Continue)", status, err)
	}
}

type fakeListener struct{ conns chan net.Conn }

func (f fakeListener) Accept() (net.Conn, error) { return <-f.conns, nil }
func (f fakeListener) Close() error              { return nil }
func (f fakeListener) Addr() net.Addr            { return &net.TCPAddr{} }

type fromAddr struct {
	net.Conn
	remote net.Addr
}

func (c fromAddr) RemoteAddr() net.Addr { return c.remote }

// One address cannot take every connection slot: past its share, its
// connections are closed at once while others are still let in.
func TestConnectionsPerAddress(t *testing.T) {
	lim := relay.DefaultServerLimits
	lim.MaxConns, lim.MaxConnsPerIP = 10, 2
	fl := fakeListener{conns: make(chan net.Conn, 8)}
	ln := relay.LimitListener(fl, lim)
	dial := func(ip string) net.Conn {
		server, client := net.Pipe()
		fl.conns <- fromAddr{Conn: server, remote: &net.TCPAddr{IP: net.ParseIP(ip), Port: 1}}
		return client
	}
	var accepted []net.Conn
	for range 2 {
		dial("203.0.113.5")
		c, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		accepted = append(accepted, c)
	}
	third := dial("203.0.113.5")
	dial("198.51.100.7")
	c, err := ln.Accept()
	if err != nil || c.RemoteAddr().String() != "198.51.100.7:1" {
		t.Fatalf("accepted %v %v, want the other address", c.RemoteAddr(), err)
	}
	if _, err := third.Read(make([]byte, 1)); err == nil {
		t.Error("the third connection from one address was not closed")
	}
	accepted[0].Close()
	dial("203.0.113.5")
	if c, err := ln.Accept(); err != nil || c.RemoteAddr().String() != "203.0.113.5:1" {
		t.Errorf("after one closed, the address is let in again: %v %v", c, err)
	}
}

// TestEveryAnsweredDeliveryIsKept: under a burst of large bodies, every
// delivery answered 2xx or handed to the app is in the history; what could
// not be kept was answered 503 before the app saw it.
func TestEveryAnsweredDeliveryIsKept(t *testing.T) {
	for _, forward := range []bool{true, false} {
		t.Run(fmt.Sprintf("forward=%v", forward), func(t *testing.T) {
			var handed sync.Map
			app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				handed.Store(string(body[:64]), true)
			}))
			defer app.Close()
			cfg := relay.Config{MaxBody: 2 << 20, MaxInFlight: 8 << 20}
			if forward {
				cfg.Forward = mustURL(app.URL)
			}
			h := start(t, cfg)
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 32}}
			var wg sync.WaitGroup
			sem := make(chan struct{}, 32)
			for i := range 64 {
				wg.Add(1)
				sem <- struct{}{}
				go func() {
					defer func() { <-sem; wg.Done() }()
					body := []byte(fmt.Sprintf(`{"event":"email.received","data":{"id":"%08d"},"pad":"%s"}`, i, strings.Repeat("p", 1<<20)))
					req, _ := http.NewRequest(http.MethodPost, h.url+"/webhooks/jasni", bytes.NewReader(body))
					req.Header.Set("X-Webhook-Signature", sign(body))
					if resp, err := client.Do(req); err == nil {
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
					}
				}()
			}
			wg.Wait()
			kept := map[string]bool{}
			for _, d := range h.list(t, store.Query{}) {
				kept[d.ID] = true
			}
			var answered int
			for _, d := range h.deliveries() {
				if d.Rejected {
					continue
				}
				ok := d.Answer >= 200 && d.Answer < 300
				if ok {
					answered++
				}
				if (ok || d.Forward != nil && d.Forward.URL != "") && !kept[d.ID] {
					t.Errorf("delivery %s answered %d is not in the history", d.ID, d.Answer)
				}
			}
			if answered == 0 {
				t.Error("nothing was answered 2xx")
			}
			n := 0
			handed.Range(func(any, any) bool { n++; return true })
			if forward && n > len(kept) {
				t.Errorf("the app was handed %d deliveries, the history keeps %d", n, len(kept))
			}
		})
	}
}

// TestSteadyBodiesAreNotStopped: genuine bodies that arrive at a steady
// pace, more of them than there is room for at once, wait for one another
// rather than stop each other: a body nearly in is not stopped to make room.
func TestSteadyBodiesAreNotStopped(t *testing.T) {
	const size = 1 << 20
	h := start(t, relay.Config{MaxBody: 2 * size, MaxInFlight: 4 * size})
	var wg sync.WaitGroup
	statuses := make(chan int, 8)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := []byte(fmt.Sprintf(`{"event":"email.received","data":{"id":"%d"},"pad":"%s"}`, i, strings.Repeat("p", size-64)))
			pr, pw := io.Pipe()
			go func() {
				// About 2 MiB a second: half a second a body.
				for rest := body; len(rest) > 0; rest = rest[min(len(rest), 64<<10):] {
					pw.Write(rest[:min(len(rest), 64<<10)])
					time.Sleep(30 * time.Millisecond) // the pace under test
				}
				pw.Close()
			}()
			req, _ := http.NewRequest(http.MethodPost, h.url+"/webhooks/jasni", pr)
			req.ContentLength = int64(len(body))
			req.Header.Set("X-Webhook-Signature", sign(body))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				statuses <- -1
				return
			}
			resp.Body.Close()
			statuses <- resp.StatusCode
		}()
		time.Sleep(60 * time.Millisecond) // arrivals spread out, as a sender's retries are
	}
	wg.Wait()
	close(statuses)
	for s := range statuses {
		if s != 200 {
			t.Errorf("a steady body answered %d", s)
		}
	}
}

// A large body is hashed as it arrives, aside: one signed right verifies,
// one changed by a byte does not.
func TestLargeBodiesVerified(t *testing.T) {
	h := start(t, relay.Config{MaxBody: 4 << 20})
	body := []byte(fmt.Sprintf(`{"event":"email.received","data":{"id":"big"},"pad":"%s"}`, strings.Repeat("p", 3<<20)))
	sig := sign(body)
	tampered := bytes.Clone(body)
	tampered[len(tampered)/2] = 'q'
	for _, tt := range []struct {
		body []byte
		want int
	}{{body, 200}, {tampered, 401}} {
		resp := post(t, h.url+"/webhooks/jasni", tt.body, sig, nil)
		io.Copy(io.Discard, resp.Body)
		if resp.StatusCode != tt.want {
			t.Errorf("answered %d, want %d", resp.StatusCode, tt.want)
		}
	}
}
