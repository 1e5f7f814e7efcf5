// Package inspect is the local web inspector of `jasni listen` and `jasni
// inspect`: a page, embedded in the binary, that lists the deliveries of
// the history as they arrive, shows each one whole, and replays, diffs and
// exports them, and the JSON API the page is built on.
//
// Every byte it shows came from the internet. The page never turns any of
// it into markup (it builds the DOM with textContent only, under a strict
// Content-Security-Policy); the server answers only requests addressed to
// loopback by name (no DNS rebinding), and a request that changes anything
// needs the run's token and the inspector's own Origin. Replays go only to
// the configured forward target.
package inspect

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jasni/jasni-cli/internal/feed"
	"github.com/jasni/jasni-cli/internal/replay"
	"github.com/jasni/jasni-cli/internal/store"
)

// DefaultPort is ngrok's inspector's port, which developers know.
const DefaultPort = 4040

// Options set up an inspector.
type Options struct {
	// Store is the history it shows.
	Store *store.Store
	// Feed, when set, streams listen's deliveries live; without it the
	// history is read for new deliveries every PollEvery.
	Feed      *feed.Hub
	PollEvery time.Duration
	// Replayer sends deliveries again; nil refuses replays, saying why
	// (NoReplay).
	Replayer *replay.Replayer
	NoReplay string
	// BaseURL is where deliveries were received (the tunnel's URL), for
	// HAR and curl; Version is jasni's.
	BaseURL string
	Version string
}

// Server is a running inspector.
type Server struct {
	o     Options
	token string
	srv   *http.Server
	done  chan struct{}
	// streams counts the pages following /api/stream.
	streams atomic.Int32
}

// New makes an inspector; Serve starts it.
func New(o Options) (*Server, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("make the inspector's token: %w", err)
	}
	if o.PollEvery <= 0 {
		o.PollEvery = 500 * time.Millisecond
	}
	s := &Server{o: o, token: hex.EncodeToString(b), done: make(chan struct{})}
	s.srv = &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		MaxHeaderBytes:    64 << 10,
		IdleTimeout:       60 * time.Second,
	}
	return s, nil
}

// Token is the run's token, which requests that change anything carry.
func (s *Server) Token() string { return s.token }

// ErrNotLoopback is an --inspect address that is not on this machine only.
var ErrNotLoopback = errors.New("the inspector listens on loopback only (127.0.0.1, ::1 or localhost): anyone who reaches it can read every delivery")

// Listen opens the inspector's address: addr as given (a port, or
// host:port on loopback), or with addr "" the default port, or the next
// free one after it.
func Listen(addr string) (net.Listener, error) {
	if addr == "" {
		var last error
		for port := DefaultPort; port < DefaultPort+20; port++ {
			ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
			if err == nil {
				return ln, nil
			}
			last = err
			if !errors.Is(err, syscall.EADDRINUSE) {
				break
			}
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("start the inspector: %w (first try: %v)", err, last)
		}
		return ln, nil
	}
	host, port, err := splitAddr(addr)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, port))
	if err != nil {
		return nil, fmt.Errorf("start the inspector on %s: %w (choose another with --inspect PORT, or --inspect=false for none)", net.JoinHostPort(host, port), err)
	}
	return ln, nil
}

// splitAddr reads "4041", ":4041", "localhost:4041" or "127.0.0.1:4041".
func splitAddr(addr string) (host, port string, err error) {
	if _, err := strconv.ParseUint(addr, 10, 16); err == nil {
		return "127.0.0.1", addr, nil
	}
	host, port, err = net.SplitHostPort(addr)
	if err != nil {
		return "", "", fmt.Errorf("--inspect %q: want a port (4041) or a loopback address with a port (127.0.0.1:4041)", addr)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return "", "", fmt.Errorf("--inspect %q: the port %q is not a number from 0 to 65535", addr, port)
	}
	switch host {
	case "", "localhost":
		return "127.0.0.1", port, nil
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return "", "", fmt.Errorf("--inspect %q: %w", addr, ErrNotLoopback)
	}
	return host, port, nil
}

// Serve serves on ln until Close.
func (s *Server) Serve(ln net.Listener) error {
	err := s.srv.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// URL is the page's address, once Serve has started (or for ln).
func URL(ln net.Listener) string {
	a := ln.Addr().(*net.TCPAddr)
	return "http://" + net.JoinHostPort(a.IP.String(), strconv.Itoa(a.Port))
}

// Close stops serving: live streams end, requests in flight are cut.
func (s *Server) Close() error {
	select {
	case <-s.done:
	default:
		close(s.done)
	}
	return s.srv.Close()
}

// Handler is the inspector's handler, with its guards.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.page)
	mux.Handle("GET /static/app.js", staticFiles())
	mux.Handle("GET /static/app.css", staticFiles())
	mux.HandleFunc("GET /api/deliveries", s.list)
	mux.HandleFunc("GET /api/deliveries/{id}", s.get)
	mux.HandleFunc("POST /api/deliveries/{id}/replay", s.replay)
	mux.HandleFunc("GET /api/deliveries/{id}/har", s.harOne)
	mux.HandleFunc("GET /api/deliveries/{id}/fixture", s.fixture)
	mux.HandleFunc("GET /api/export.har", s.harMany)
	mux.HandleFunc("GET /api/stream", s.stream)
	mux.HandleFunc("GET /api/info", s.info)
	return s.guard(mux)
}

// guard answers only requests addressed to loopback by name, and only
// changes anything for the page itself: the token, and no foreign Origin.
func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		h.Set("Cache-Control", "no-store")
		if !loopbackHost(r.Host) {
			apiError(w, http.StatusForbidden, "forbidden_host", "this inspector answers only http://127.0.0.1 or http://localhost: open it by that address")
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			if o := r.Header.Get("Origin"); o != "" && !sameOrigin(o, r.Host) {
				apiError(w, http.StatusForbidden, "forbidden_origin", "requests that change anything are taken from the inspector's own page only")
				return
			}
			if subtle.ConstantTimeCompare([]byte(r.Header.Get("X-Jasni-Token")), []byte(s.token)) != 1 {
				apiError(w, http.StatusForbidden, "missing_token", "send the run's token in the X-Jasni-Token header: the page has it in <meta name=\"jasni-token\">")
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// loopbackHost reports a Host of 127.0.0.1, ::1 or localhost, with or
// without a port.
func loopbackHost(host string) bool {
	if h, port, err := net.SplitHostPort(host); err == nil {
		if _, err := strconv.ParseUint(port, 10, 16); err != nil {
			return false
		}
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func sameOrigin(origin, host string) bool {
	return origin == "http://"+host
}

// ParseFlag reads --inspect: "" or "true" for the default address,
// "false" (or off, none) for no inspector, else an address for Listen.
func ParseFlag(v string) (addr string, off bool, err error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", "true", "on", "yes":
		return "", false, nil
	case "false", "off", "no", "none":
		return "", true, nil
	}
	if _, _, err := splitAddr(v); err != nil {
		return "", false, err
	}
	return v, false, nil
}
