// Package tunnel gives the listener an address the sender can reach: a
// public ngrok endpoint, or a plain listener on this machine. Both are a
// net.Listener plus the URL to give the sender.
package tunnel

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"syscall"
)

// Tunnel is where deliveries arrive.
type Tunnel interface {
	// Close stops accepting connections; those already accepted can still
	// answer, which a clean shutdown needs.
	net.Listener
	// URL is the base URL senders use, without a trailing slash.
	URL() string
	// Public reports whether the URL is reachable from the internet.
	Public() bool
	// Disconnect ends the tunnel, and with it any connection still open
	// through it. It implies Close.
	Disconnect() error
}

type local struct {
	net.Listener
	url string
}

func (l *local) URL() string  { return l.url }
func (l *local) Public() bool { return false }

func (l *local) Disconnect() error {
	_ = l.Close()
	return nil
}

// Local listens on 127.0.0.1:port; port 0 lets the system choose a free one.
func Local(port int) (Tunnel, error) {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return nil, fmt.Errorf("port %d is already in use: stop what uses it, or pass another --port (0 picks a free one)", port)
		}
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	return &local{Listener: ln, url: "http://" + ln.Addr().String()}, nil
}
