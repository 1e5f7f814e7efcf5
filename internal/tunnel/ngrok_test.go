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

// TestNgrokUnreachableEdgeIsBounded points the real SDK at loopback
// addresses where no ngrok answers. The SDK would retry forever: a refused
// connection fails at once (no retry can mend it), and an address that
// accepts but never speaks fails at the connect deadline, both with a
// sentence and the way out.
func TestNgrokUnreachableEdgeIsBounded(t *testing.T) {
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := closed.Addr().String()
	closed.Close()
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			defer c.Close() // held open, never answered
		}
	}()

	tests := []struct {
		name, addr  string
		timeout     time.Duration
		unreachable bool
		want        string
	}{
		{"refused: at once", refused, time.Minute, true, "unreachable"},
		{"silent: at the deadline", silent.Addr().String(), time.Second, false, "could not connect to ngrok within 1s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			_, err := Ngrok(ctx, NgrokOptions{
				Authtoken:      "test-token",
				ConnectTimeout: tt.timeout,
				Extra:          []ngrok.AgentOption{ngrok.WithAgentConnectURL(tt.addr)},
			})
			if err == nil {
				t.Fatal("connected where no ngrok is")
			}
			if ctx.Err() != nil {
				t.Fatal("Ngrok outlived the test's deadline")
			}
			if errors.Is(err, ErrUnreachable) != tt.unreachable || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "--tunnel local") {
				t.Errorf("err %q: unreachable=%v, want %v and %q", err, errors.Is(err, ErrUnreachable), tt.unreachable, tt.want)
			}
		})
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
