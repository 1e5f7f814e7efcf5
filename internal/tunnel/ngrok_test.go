package tunnel

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"golang.ngrok.com/ngrok/v2"
)

// TestNgrokUnreachableEdgeIsBounded points the real SDK at a closed port on
// loopback: the SDK would retry forever, so Ngrok must give up at its
// deadline with a sentence, not hang.
func TestNgrokUnreachableEdgeIsBounded(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err = Ngrok(ctx, NgrokOptions{
		Authtoken:      "test-token",
		ConnectTimeout: time.Second,
		Extra:          []ngrok.AgentOption{ngrok.WithAgentConnectURL(addr)},
	})
	if err == nil {
		t.Fatal("connected to a closed port")
	}
	if ctx.Err() != nil {
		t.Fatal("Ngrok outlived its own deadline")
	}
	msg := err.Error()
	if !strings.Contains(msg, "could not connect to ngrok within 1s") || !strings.Contains(msg, "--tunnel local") {
		t.Errorf("message %q should give the deadline and the way out", msg)
	}
}

func TestNgrokCanceled(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = Ngrok(ctx, NgrokOptions{Authtoken: "t", ConnectTimeout: time.Minute, Extra: []ngrok.AgentOption{ngrok.WithAgentConnectURL(addr)}})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestDescribe(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{errors.New("dial tcp: lookup connect.ngrok-agent.com: no such host"), "unreachable (offline?)"},
		{errors.New("dial tcp 127.0.0.1:1: connect: connection refused"), "use --tunnel local"},
		{errors.New("something else"), "ngrok: something else"},
	}
	for _, tt := range tests {
		if got := describe(tt.err, NgrokOptions{}).Error(); !strings.Contains(got, tt.want) {
			t.Errorf("describe(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}

func TestLocalPortInUse(t *testing.T) {
	first, err := Local(0)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	_, port, _ := net.SplitHostPort(first.Addr().String())
	var n int
	for _, c := range port {
		n = n*10 + int(c-'0')
	}
	if _, err := Local(n); err == nil || !strings.Contains(err.Error(), "already in use") {
		t.Errorf("err = %v, want a port-in-use sentence", err)
	}
	if first.Public() || !strings.HasPrefix(first.URL(), "http://127.0.0.1:") {
		t.Errorf("local tunnel URL %q public=%v", first.URL(), first.Public())
	}
}
