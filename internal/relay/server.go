package relay

import (
	"io"
	"log"
	"net"
	"net/http"
	"sync"
	"time"
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
	// accepted. MaxConnsPerIP is the most from one address (loopback aside):
	// past it a connection is closed at once, so one sender cannot take
	// every slot.
	MaxConns      int
	MaxConnsPerIP int
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
	MaxConnsPerIP:     64,
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

// LimitListener caps the connections ln hands out at once, in all and from
// one address.
func LimitListener(ln net.Listener, lim ServerLimits) net.Listener {
	if lim.MaxConns <= 0 {
		return ln
	}
	return &limitListener{Listener: ln, sem: make(chan struct{}, lim.MaxConns), perIP: lim.MaxConnsPerIP,
		byIP: map[string]int{}, done: make(chan struct{})}
}

type limitListener struct {
	net.Listener
	sem   chan struct{}
	perIP int
	done  chan struct{}
	once  sync.Once

	mu   sync.Mutex
	byIP map[string]int
}

func (l *limitListener) Accept() (net.Conn, error) {
	select {
	case l.sem <- struct{}{}:
	case <-l.done:
		return nil, net.ErrClosed
	}
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			<-l.sem
			return nil, err
		}
		ip := addrIP(c.RemoteAddr())
		if !l.admit(ip) {
			c.Close()
			continue
		}
		return &limitConn{Conn: c, release: func() { l.leave(ip) }}, nil
	}
}

func (l *limitListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return l.Listener.Close()
}

func (l *limitListener) admit(ip string) bool {
	if l.perIP <= 0 || ip == "" || isLoopback(ip) {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.byIP[ip] >= l.perIP {
		return false
	}
	l.byIP[ip]++
	return true
}

func (l *limitListener) leave(ip string) {
	if l.perIP > 0 && ip != "" && !isLoopback(ip) {
		l.mu.Lock()
		if l.byIP[ip]--; l.byIP[ip] <= 0 {
			delete(l.byIP, ip)
		}
		l.mu.Unlock()
	}
	<-l.sem
}

type limitConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

func addrIP(a net.Addr) string {
	if a == nil {
		return ""
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return host
}

func isLoopback(ip string) bool {
	p := net.ParseIP(ip)
	return p != nil && p.IsLoopback()
}
