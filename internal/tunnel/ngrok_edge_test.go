package tunnel

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jasni/jasni-cli/internal/tunnel/ngroktest"
)

// These tests run the real ngrok SDK against a fake edge on loopback.

func connect(t *testing.T, edge *ngroktest.Edge, token string, onStatus func(Status, error)) (Tunnel, error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	return Ngrok(ctx, NgrokOptions{
		Authtoken:      token,
		ConnectTimeout: 15 * time.Second,
		OnStatus:       onStatus,
		Extra:          edge.ConnectOptions(),
	})
}

func serveEcho(t *testing.T, tun Tunnel) {
	t.Helper()
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Seen-Signature", r.Header.Get("X-Webhook-Signature"))
		w.WriteHeader(http.StatusAccepted)
		w.Write(append([]byte(r.URL.Path+" "), body...))
	})}
	go srv.Serve(tun)
	t.Cleanup(func() { srv.Close() })
}

func deliver(t *testing.T, edge *ngroktest.Edge, body string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, "https://jasni-test.ngrok.example/webhooks/jasni", strings.NewReader(body))
	req.Header.Set("X-Webhook-Signature", "abc123")
	resp, err := edge.Do(req)
	if err != nil {
		t.Fatalf("deliver through the tunnel: %v", err)
	}
	return resp
}

func TestNgrokThroughFakeEdge(t *testing.T) {
	edge := ngroktest.Start(t, ngroktest.Options{Authtokens: []string{"good-token"}})
	tun, err := connect(t, edge, "good-token", nil)
	if err != nil {
		t.Fatal(err)
	}
	if tun.URL() != "https://jasni-test.ngrok.example" || !tun.Public() {
		t.Errorf("URL %q public=%v", tun.URL(), tun.Public())
	}
	serveEcho(t, tun)
	resp := deliver(t, edge, `{"event":"email.sent"}`)
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusAccepted || string(body) != `/webhooks/jasni {"event":"email.sent"}` || resp.Header.Get("X-Seen-Signature") != "abc123" {
		t.Errorf("answer %d %q %v", resp.StatusCode, body, resp.Header)
	}

	// Clean shutdown: Close returns, and the endpoint is gone from the edge.
	done := make(chan error, 1)
	go func() { done <- tun.Close() }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		t.Fatal("Close hung")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := edge.WaitUnbound(ctx); err != nil {
		t.Fatalf("the endpoint is still bound after Close: %v", err)
	}
	if _, err := edge.Do(httpRequest()); err == nil {
		t.Error("a request still goes through after Close")
	}
}

func httpRequest() *http.Request {
	req, _ := http.NewRequest(http.MethodGet, "https://jasni-test.ngrok.example/", nil)
	return req
}

func TestNgrokBadAuthtoken(t *testing.T) {
	edge := ngroktest.Start(t, ngroktest.Options{Authtokens: []string{"good-token"}})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	_, err := Ngrok(ctx, NgrokOptions{Authtoken: "bad-token", ConnectTimeout: 3 * time.Second, Extra: edge.ConnectOptions()})
	if err == nil {
		t.Fatal("connected with a bad authtoken")
	}
	if took := time.Since(start); took > 20*time.Second {
		t.Errorf("took %v: the first connection must be bounded", took)
	}
	msg := err.Error()
	if !strings.Contains(msg, "ngrok rejected the authtoken (ERR_NGROK_107)") || !strings.Contains(msg, "NGROK_AUTHTOKEN") {
		t.Errorf("message %q should name the bad authtoken and where to fix it", msg)
	}
	if strings.Contains(msg, "bad-token") {
		t.Errorf("the authtoken appears in %q", msg)
	}
}

func TestNgrokReconnectsAfterADrop(t *testing.T) {
	edge := ngroktest.Start(t, ngroktest.Options{Authtokens: []string{"good-token"}})
	statuses := make(chan Status, 8)
	tun, err := connect(t, edge, "good-token", func(s Status, _ error) { statuses <- s })
	if err != nil {
		t.Fatal(err)
	}
	defer tun.Close()
	serveEcho(t, tun)
	deliver(t, edge, "before")

	edge.DropSessions()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, want := range []Status{StatusDisconnected, StatusReconnected} {
		select {
		case got := <-statuses:
			if got != want {
				t.Fatalf("status %v, want %v", got, want)
			}
		case <-ctx.Done():
			t.Fatalf("no status %v: %v", want, ctx.Err())
		}
	}
	if err := edge.WaitSessions(ctx, 2); err != nil {
		t.Fatal(err)
	}
	if err := edge.WaitBound(ctx); err != nil {
		t.Fatal(err)
	}
	resp := deliver(t, edge, "after")
	body, _ := io.ReadAll(resp.Body)
	if string(body) != "/webhooks/jasni after" {
		t.Errorf("after reconnect: %q", body)
	}
	if tun.URL() != "https://jasni-test.ngrok.example" {
		t.Errorf("URL changed to %q", tun.URL())
	}
}
