package ngroktest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.ngrok.com/ngrok/v2"
)

// These tests drive the real SDK against the fake edge. Every wait is bounded
// by waitTimeout, generous for a slow, loaded CI machine.

const (
	goodToken   = "good-token"
	waitTimeout = 15 * time.Second
)

// waitCtx bounds one wait of a test.
func waitCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	t.Cleanup(cancel)
	return ctx
}

// newAgent makes an agent for edge whose logs are discarded.
func newAgent(t *testing.T, edge *Edge, token string, extra ...ngrok.AgentOption) ngrok.Agent {
	t.Helper()
	opts := append(edge.AgentOptions(token), ngrok.WithLogger(slog.New(slog.DiscardHandler)))
	agent, err := ngrok.NewAgent(append(opts, extra...)...)
	if err != nil {
		t.Fatalf("NewAgent: %v", err)
	}
	t.Cleanup(func() { _ = agent.Disconnect() })
	return agent
}

// sendEvents passes the agent's events of the given types to events. It never
// blocks, as the SDK requires, and never reports to t, since the SDK may
// still emit events while the test's cleanups run: an event that does not
// fit is dropped, and the test waiting for it fails.
func sendEvents(events chan<- ngrok.Event, types ...ngrok.EventType) ngrok.AgentOption {
	return ngrok.WithEventHandler(func(ev ngrok.Event) {
		if !slices.Contains(types, ev.EventType()) {
			return
		}
		select {
		case events <- ev:
		default:
		}
	})
}

// connect connects agent for the rest of the test. Connect's context owns the
// session, so it cannot carry the connect deadline: a timer cancels it only
// if connecting takes too long.
func connect(t *testing.T, agent ngrok.Agent) context.Context {
	t.Helper()
	sessCtx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	stop := context.AfterFunc(waitCtx(t), cancel)
	err := agent.Connect(sessCtx)
	if !stop() {
		t.Fatalf("Connect did not return within %s", waitTimeout)
	}
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	return sessCtx
}

// echo answers with what it received, so a test sees what crossed the tunnel.
func echo(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("X-Method", r.Method)
	w.Header().Set("X-Path", r.URL.RequestURI())
	w.Header().Set("X-Host", r.Host)
	w.Header().Set("X-Remote-Addr", r.RemoteAddr)
	w.Header().Set("X-Signature", r.Header.Get("X-Webhook-Signature"))
	w.WriteHeader(http.StatusAccepted)
	_, _ = w.Write(body)
}

// serve serves echo on ln until the test ends.
func serve(t *testing.T, ln net.Listener) {
	t.Helper()
	srv := &http.Server{Handler: http.HandlerFunc(echo), ReadHeaderTimeout: waitTimeout}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	t.Cleanup(func() {
		_ = srv.Close()
		<-done
	})
}

// roundTrip sends a POST through edge and checks that it arrived intact.
func roundTrip(t *testing.T, edge *Edge, path, body string) {
	t.Helper()
	req, err := http.NewRequestWithContext(waitCtx(t), http.MethodPost, DefaultPublicURL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Webhook-Signature", "v1,abc123")
	resp, err := edge.Do(req)
	if err != nil {
		t.Fatalf("Do: %v", err)
	}
	got, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusAccepted || string(got) != body ||
		resp.Header.Get("X-Path") != path || resp.Header.Get("X-Signature") != "v1,abc123" {
		t.Fatalf("through the tunnel: %d %q %v; want 202, the body %q, the path %q and the signature", resp.StatusCode, got, resp.Header, body, path)
	}
}

func TestListenAndDeliver(t *testing.T) {
	const custom = "https://custom.ngrok.example"
	big := strings.Repeat("0123456789abcdef", 64<<10) // 1 MiB: more than a muxado window
	tests := []struct {
		name    string
		edge    Options
		listen  []ngrok.EndpointOption
		wantURL string
		method  string
		path    string
		body    string
		header  http.Header
	}{
		{
			name:    "default URL, POST with a body",
			wantURL: DefaultPublicURL,
			method:  http.MethodPost, path: "/webhooks/jasni?x=1", body: `{"type":"email.sent"}`,
			header: http.Header{"X-Webhook-Signature": {"v1,abc123"}, "Content-Type": {"application/json"}},
		},
		{
			name:    "PublicURL option, GET",
			edge:    Options{PublicURL: "https://other.ngrok.example"},
			wantURL: "https://other.ngrok.example",
			method:  http.MethodGet, path: "/",
		},
		{
			name:    "URL asked for with WithURL",
			listen:  []ngrok.EndpointOption{ngrok.WithURL(custom)},
			wantURL: custom,
			method:  http.MethodPut, path: "/big", body: big,
			header: http.Header{"X-Webhook-Signature": {"v1,big"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.edge.Authtokens = []string{goodToken}
			edge := Start(t, tt.edge)
			agent := newAgent(t, edge, goodToken)
			sessCtx := connect(t, agent)
			ln, err := agent.Listen(sessCtx, tt.listen...)
			if err != nil {
				t.Fatalf("Listen: %v", err)
			}
			if got := ln.URL().String(); got != tt.wantURL {
				t.Errorf("URL() = %q, want %q", got, tt.wantURL)
			}
			serve(t, ln)

			req, err := http.NewRequestWithContext(waitCtx(t), tt.method, tt.wantURL+tt.path, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tt.header {
				req.Header[k] = v
			}
			resp, err := edge.Do(req)
			if err != nil {
				t.Fatalf("Do: %v", err)
			}
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusAccepted {
				t.Errorf("status %d, want 202", resp.StatusCode)
			}
			if string(body) != tt.body {
				t.Errorf("body: got %d bytes, want the %d sent", len(body), len(tt.body))
			}
			wantHost := strings.TrimPrefix(tt.wantURL, "https://")
			for h, want := range map[string]string{
				"X-Method":      tt.method,
				"X-Path":        tt.path,
				"X-Host":        wantHost,
				"X-Remote-Addr": VisitorAddr,
				"X-Signature":   tt.header.Get("X-Webhook-Signature"),
			} {
				if got := resp.Header.Get(h); got != want {
					t.Errorf("%s: handler saw %q, want %q", h, got, want)
				}
			}
		})
	}
}

func TestConnectFails(t *testing.T) {
	// The edge starts first, so the free port below cannot become its port.
	edge := Start(t, Options{Authtokens: []string{goodToken}})
	// A port nothing listens on: bind one, then free it.
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := closed.Addr().String()
	_ = closed.Close()

	tests := []struct {
		name  string
		token string
		addr  func(edge *Edge) string
		check func(t *testing.T, edge *Edge, err error)
	}{
		{
			name:  "bad authtoken",
			token: "bad-token",
			addr:  (*Edge).Addr,
			check: func(t *testing.T, edge *Edge, err error) {
				// Connect keeps only the first ngrok.Error of its attempts:
				// the server's text, with no "authentication failed" prefix
				// and no trace of the context's end.
				var ne ngrok.Error
				if !errors.As(err, &ne) {
					t.Fatalf("error %T %q is not an ngrok.Error", err, err)
				}
				if ne.Code() != "ERR_NGROK_107" {
					t.Errorf("Code() = %q, want ERR_NGROK_107", ne.Code())
				}
				if err.Error() != BadAuthtokenMessage {
					t.Errorf("message %q, want the edge's %q", err, BadAuthtokenMessage)
				}
				if errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("the SDK now wraps the context error too; update the notes")
				}
				if edge.Refused() < 1 || edge.Sessions() != 0 {
					t.Errorf("edge refused %d and accepted %d sessions; want >= 1 and 0", edge.Refused(), edge.Sessions())
				}
			},
		},
		{
			name:  "unreachable edge",
			token: goodToken,
			addr:  func(*Edge) string { return closedAddr },
			check: func(t *testing.T, _ *Edge, err error) {
				// Every failed dial, then the context's error, joined.
				var ne ngrok.Error
				if errors.As(err, &ne) {
					t.Errorf("a dial failure is an ngrok.Error with code %q", ne.Code())
				}
				if !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("error %q does not wrap context.DeadlineExceeded", err)
				}
				if !errors.Is(err, syscall.ECONNREFUSED) {
					t.Errorf("error %q does not wrap ECONNREFUSED", err)
				}
				wantStart := fmt.Sprintf("failed to dial ngrok server with address %q: ", closedAddr)
				if !strings.HasPrefix(err.Error(), wantStart) {
					t.Errorf("message %q should start %q", err, wantStart)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel() // each waits out its deadline
			events := make(chan ngrok.Event, 64)
			opts := []ngrok.AgentOption{
				ngrok.WithAgentConnectCAs(edge.CAs()),
				ngrok.WithAgentConnectURL(tt.addr(edge)),
				ngrok.WithAuthtoken(tt.token),
				ngrok.WithLogger(slog.New(slog.DiscardHandler)),
				sendEvents(events, ngrok.EventTypeAgentDisconnected),
			}
			agent, err := ngrok.NewAgent(opts...)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = agent.Disconnect() })

			// The SDK retries until the context ends, so the deadline is
			// the caller's only bound. The guard turns a hang into a failure.
			const deadline = 2 * time.Second
			ctx, cancel := context.WithTimeout(context.Background(), deadline)
			defer cancel()
			done := make(chan error, 1)
			start := time.Now()
			go func() { done <- agent.Connect(ctx) }()
			select {
			case err = <-done:
			case <-waitCtx(t).Done():
				t.Fatalf("Connect did not return within %s; its deadline was %s", waitTimeout, deadline)
			}
			t.Logf("Connect returned after %s: %T %q", time.Since(start).Round(time.Millisecond), err, err)
			if err == nil {
				t.Fatal("Connect succeeded")
			}
			if ctx.Err() == nil {
				t.Errorf("Connect gave up before its deadline; the notes say it retries until the context ends")
			}
			tt.check(t, edge, err)

			// Each failed attempt was also reported as a disconnection, so
			// an event handler can show the cause while Connect waits.
			var disconnects int
			for len(events) > 0 {
				if d, ok := (<-events).(*ngrok.EventAgentDisconnected); ok && d.Error != nil && !errors.Is(d.Error, context.DeadlineExceeded) {
					disconnects++
				}
			}
			if disconnects == 0 {
				t.Error("the event handler saw no failed attempt")
			}
		})
	}
}

func TestReconnectAfterDrop(t *testing.T) {
	edge := Start(t, Options{Authtokens: []string{goodToken}})
	events := make(chan ngrok.Event, 16)
	agent := newAgent(t, edge, goodToken, sendEvents(events, ngrok.EventTypeAgentConnectSucceeded, ngrok.EventTypeAgentDisconnected))
	sessCtx := connect(t, agent)
	ln, err := agent.Listen(sessCtx)
	if err != nil {
		t.Fatalf("Listen: %v", err)
	}
	serve(t, ln)
	roundTrip(t, edge, "/before", "before the drop")

	next := func(want ngrok.EventType) ngrok.Event {
		t.Helper()
		select {
		case ev := <-events:
			if ev.EventType() != want {
				t.Fatalf("event %v, want %v", ev.EventType(), want)
			}
			return ev
		case <-waitCtx(t).Done():
			t.Fatalf("no %v event within %s", want, waitTimeout)
			return nil
		}
	}
	next(ngrok.EventTypeAgentConnectSucceeded)

	edge.DropSessions()
	if d := next(ngrok.EventTypeAgentDisconnected).(*ngrok.EventAgentDisconnected); d.Error == nil {
		t.Error("the disconnection carries no error; nil means the SDK stopped for good")
	}
	next(ngrok.EventTypeAgentConnectSucceeded)
	if err := edge.WaitSessions(waitCtx(t), 2); err != nil {
		t.Fatal(err)
	}
	// The SDK rebinds before it reports the reconnection, so the endpoint
	// is back already.
	roundTrip(t, edge, "/after", "after the drop")
	if got := ln.URL().String(); got != DefaultPublicURL {
		t.Errorf("URL() = %q after the reconnection, want %q", got, DefaultPublicURL)
	}
}

func TestHeartbeat(t *testing.T) {
	// The edge must echo heartbeats, or the SDK drops every session after
	// its tolerance (25 s by default) and long tests see reconnections.
	edge := Start(t, Options{Authtokens: []string{goodToken}})
	beats := make(chan ngrok.Event, 16)
	agent := newAgent(t, edge, goodToken,
		ngrok.WithHeartbeatInterval(50*time.Millisecond),
		ngrok.WithHeartbeatTolerance(waitTimeout),
		sendEvents(beats, ngrok.EventTypeAgentHeartbeatReceived, ngrok.EventTypeAgentDisconnected))
	connect(t, agent)
	for range 3 {
		select {
		case ev := <-beats:
			if ev.EventType() != ngrok.EventTypeAgentHeartbeatReceived {
				t.Fatalf("%v while waiting for heartbeats", ev.EventType())
			}
		case <-waitCtx(t).Done():
			t.Fatalf("no heartbeat answered within %s", waitTimeout)
		}
	}
}

func TestShutdown(t *testing.T) {
	tests := []struct {
		name          string
		closeListener bool // before Disconnect
	}{
		{name: "listener closed, then the agent disconnected", closeListener: true},
		{name: "agent disconnected with the listener open"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			edge := Start(t, Options{Authtokens: []string{goodToken}})
			events := make(chan ngrok.Event, 16)
			agent := newAgent(t, edge, goodToken, sendEvents(events, ngrok.EventTypeAgentConnectSucceeded, ngrok.EventTypeAgentDisconnected))
			sessCtx := connect(t, agent)
			ln, err := agent.Listen(sessCtx)
			if err != nil {
				t.Fatalf("Listen: %v", err)
			}
			accepted := make(chan error, 1)
			go func() {
				for {
					conn, err := ln.Accept()
					if err != nil {
						accepted <- err
						return
					}
					_ = conn.Close()
				}
			}()
			if err := edge.WaitBound(waitCtx(t)); err != nil {
				t.Fatal(err)
			}

			returns := func(what string, f func() error) {
				t.Helper()
				done := make(chan error, 1)
				go func() { done <- f() }()
				select {
				case err := <-done:
					if err != nil {
						t.Errorf("%s: %v", what, err)
					}
				case <-waitCtx(t).Done():
					t.Fatalf("%s did not return within %s", what, waitTimeout)
				}
			}
			if tt.closeListener {
				returns("closing the listener", ln.Close)
				if err := edge.WaitUnbound(waitCtx(t)); err != nil {
					t.Fatal(err)
				}
			}
			returns("Disconnect", agent.Disconnect)
			if err := edge.WaitNoSessions(waitCtx(t)); err != nil {
				t.Fatal(err)
			}
			if err := edge.WaitUnbound(waitCtx(t)); err != nil {
				t.Fatal(err)
			}
			select {
			case <-accepted:
			case <-waitCtx(t).Done():
				t.Fatal("Accept still blocks after the shutdown")
			}
			if _, err := edge.Do(httptestRequest(t)); !errors.Is(err, ErrNoEndpoint) {
				t.Errorf("Do after the shutdown: %v, want ErrNoEndpoint", err)
			}

			// The SDK's last word is a disconnection with a nil error: it
			// will not reconnect.
			for {
				select {
				case ev := <-events:
					if d, ok := ev.(*ngrok.EventAgentDisconnected); ok && d.Error == nil {
						return
					}
				case <-waitCtx(t).Done():
					t.Fatal("no final disconnection event")
				}
			}
		})
	}
}

func httptestRequest(t *testing.T) *http.Request {
	t.Helper()
	req, err := http.NewRequestWithContext(waitCtx(t), http.MethodGet, DefaultPublicURL+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}
