package relay

import (
	"io"
	"log"
	"net"
	"net/http"
	"time"

	"golang.org/x/net/netutil"
)

// ServerLimits bound what the senders of requests can hold: time, header
// bytes and connections. Body bytes are bounded by the Relay itself.
type ServerLimits struct {
	// ReadHeaderTimeout bounds the request line and headers; ReadTimeout the
	// whole request, body included; IdleTimeout a kept-alive connection
	// waiting for its next request; WriteTimeout everything after the
	// headers, the forward to the app included.
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	IdleTimeout       time.Duration
	WriteTimeout      time.Duration
	MaxHeaderBytes    int
	// MaxConns is the most connections open at once; more wait to be
	// accepted.
	MaxConns int
}

// DefaultServerLimits suit a webhook sender: Jasni gives up on a delivery
// after 30 s, so a request that takes longer than that to arrive is not one.
var DefaultServerLimits = ServerLimits{
	ReadHeaderTimeout: 10 * time.Second,
	ReadTimeout:       30 * time.Second,
	IdleTimeout:       30 * time.Second,
	WriteTimeout:      30*time.Second + DefaultForwardTimeout + 5*time.Second,
	MaxHeaderBytes:    64 << 10,
	MaxConns:          512,
}

// NewServer is the HTTP server listen runs the relay in. Its own error log
// (bad TLS, malformed requests from strangers) is dropped: those are noise
// the sender caused, not something to print on the developer's terminal.
func NewServer(h http.Handler, lim ServerLimits) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: lim.ReadHeaderTimeout,
		ReadTimeout:       lim.ReadTimeout,
		IdleTimeout:       lim.IdleTimeout,
		WriteTimeout:      lim.WriteTimeout,
		MaxHeaderBytes:    lim.MaxHeaderBytes,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
}

// LimitListener caps the connections ln hands out at once.
func LimitListener(ln net.Listener, lim ServerLimits) net.Listener {
	if lim.MaxConns <= 0 {
		return ln
	}
	return netutil.LimitListener(ln, lim.MaxConns)
}
