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

// Server is the HTTP server listen runs the relay in, with the limits of
// ServerLimits on what its senders can hold.
type Server struct {
	*http.Server
	lim ServerLimits
}

// NewServer makes the server. Its own error log (bad TLS, malformed
// requests from strangers) is dropped: those are noise the sender caused,
// not something to print on the developer's terminal.
func NewServer(h http.Handler, lim ServerLimits) *Server {
	s := &Server{lim: lim}
	s.Server = &http.Server{
		Handler:           h,
		ReadHeaderTimeout: lim.ReadHeaderTimeout,
		ReadTimeout:       lim.ReadTimeout,
		IdleTimeout:       lim.IdleTimeout,
		WriteTimeout:      lim.WriteTimeout,
		MaxHeaderBytes:    lim.MaxHeaderBytes,
		ErrorLog:          log.New(io.Discard, "", 0),
		ConnState:         trackState,
	}
	return s
}

// Serve serves the connections of ln, within the limits.
func (s *Server) Serve(ln net.Listener) error {
	return s.Server.Serve(LimitListener(ln, s.lim))
}

// trackState keeps each connection's state, for the listener to know which
// connections hold a slot without using it.
func trackState(c net.Conn, st http.ConnState) {
	if lc, ok := c.(*limitConn); ok {
		lc.l.mu.Lock()
		lc.state, lc.since = st, time.Now()
		lc.l.mu.Unlock()
	}
}

// LimitListener caps the connections ln hands out at once, in all and from
// one address (loopback aside). When the cap is met, a connection that holds
// a slot without using it is closed to make room: one idle between requests,
// or one that has sent nothing for a moment, from the address that holds
// the most. So no one address, or a few, can hold the slots a delivery
// needs by opening connections and leaving them be.
func LimitListener(ln net.Listener, lim ServerLimits) net.Listener {
	if lim.MaxConns <= 0 {
		return ln
	}
	return &limitListener{Listener: ln, max: lim.MaxConns, perIP: lim.MaxConnsPerIP,
		conns: map[*limitConn]struct{}{}, byIP: map[string]int{}, room: make(chan struct{}), done: make(chan struct{})}
}

// FreshConn is how long a connection that has sent nothing yet is left
// alone, so that a sender that just connected has time to send.
const FreshConn = 100 * time.Millisecond

// roomWait is how long a connection waits for a slot when every slot is
// busy with a request, before it is closed.
const roomWait = 5 * time.Second

type limitListener struct {
	net.Listener
	max, perIP int

	mu    sync.Mutex
	conns map[*limitConn]struct{}
	byIP  map[string]int // connections by address, loopback included
	room  chan struct{}  // closed, and replaced, when a connection goes
	done  chan struct{}  // closed by Close: nothing more is handed out
	once  sync.Once
}

// Close stops the listener, and any connection waiting for a slot.
func (l *limitListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return l.Listener.Close()
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if lc := l.admit(c); lc != nil {
			return lc, nil
		}
	}
}

// admit gives c a slot, making room if it must; nil means c was closed.
func (l *limitListener) admit(c net.Conn) *limitConn {
	ip := addrIP(c.RemoteAddr())
	counted := l.perIP > 0 && ip != "" && !isLoopback(ip)
	deadline := time.Now().Add(roomWait)
	l.mu.Lock()
	for {
		switch {
		case counted && l.byIP[ip] >= l.perIP:
			// The address's own idle connections make room for it; it
			// gets no more than its share.
			if victim := l.unused(ip, false); victim != nil {
				l.mu.Unlock()
				victim.Close()
				l.mu.Lock()
				continue
			}
			l.mu.Unlock()
			c.Close()
			return nil
		case len(l.conns) >= l.max:
			if victim := l.unused("", true); victim != nil {
				l.mu.Unlock()
				victim.Close()
				l.mu.Lock()
				continue
			}
			// Every slot is busy with a request: wait for one, a while.
			room := l.room
			l.mu.Unlock()
			wait := time.Until(deadline)
			if wait <= 0 {
				c.Close()
				return nil
			}
			t := time.NewTimer(min(wait, FreshConn))
			select {
			case <-room:
			case <-t.C:
			case <-l.done:
				t.Stop()
				c.Close()
				return nil
			}
			t.Stop()
			l.mu.Lock()
			continue
		}
		lc := &limitConn{Conn: c, l: l, ip: ip, counted: counted, state: http.StateNew, since: time.Now()}
		l.conns[lc] = struct{}{}
		l.byIP[ip]++
		l.mu.Unlock()
		return lc
	}
}

// unused picks the connection to close to make room: idle ones first,
// then (when silent is set) ones that have sent nothing for FreshConn,
// oldest first, from the address that holds the most (or from ip, when
// given). Called with l.mu held.
func (l *limitListener) unused(ip string, silent bool) *limitConn {
	var victim *limitConn
	now := time.Now()
	rank := func(c *limitConn) int {
		switch {
		case c.closing:
			return -1
		case c.state == http.StateIdle && now.Sub(c.since) >= FreshConn:
			// Idle for a moment: not one whose next request is on its way.
			return 2
		case silent && c.state == http.StateNew && now.Sub(c.since) >= FreshConn:
			return 1
		}
		return -1
	}
	holds := func(c *limitConn) int { return l.byIP[c.ip] }
	for c := range l.conns {
		r := rank(c)
		if r < 0 || ip != "" && c.ip != ip {
			continue
		}
		if victim == nil {
			victim = c
			continue
		}
		vr := rank(victim)
		switch {
		case r != vr:
			if r > vr {
				victim = c
			}
		case holds(c) != holds(victim):
			if holds(c) > holds(victim) {
				victim = c
			}
		case c.since.Before(victim.since):
			victim = c
		}
	}
	if victim != nil {
		victim.closing = true
	}
	return victim
}

func (l *limitListener) leave(c *limitConn) {
	l.mu.Lock()
	delete(l.conns, c)
	if l.byIP[c.ip]--; l.byIP[c.ip] <= 0 {
		delete(l.byIP, c.ip)
	}
	close(l.room)
	l.room = make(chan struct{})
	l.mu.Unlock()
}

type limitConn struct {
	net.Conn
	l       *limitListener
	ip      string
	counted bool // against its address's cap (not loopback)
	once    sync.Once
	// Under l.mu:
	state   http.ConnState
	since   time.Time
	closing bool
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.leave(c) })
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
