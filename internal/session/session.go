// Package session runs what `jasni listen` is made of, from start to a
// clean stop: the history and its writer, the tunnel, the development
// webhook pointed at it, the relay and its server, and the shutdown that
// lets every delivery in flight get its answer and its record. The command
// only resolves flags, subscribes its views to the feed and renders.
package session

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime/debug"
	"sync"
	"time"

	"github.com/jasni/jasni-cli/internal/devwebhook"
	"github.com/jasni/jasni-cli/internal/feed"
	"github.com/jasni/jasni-cli/internal/provider"
	"github.com/jasni/jasni-cli/internal/relay"
	"github.com/jasni/jasni-cli/internal/store"
	"github.com/jasni/jasni-cli/internal/termsafe"
	"github.com/jasni/jasni-cli/internal/tunnel"
)

// Reporter is told what the session does that the user should know.
type Reporter interface {
	devwebhook.Reporter
	// HistoryFailed says the history could not write what it had taken:
	// loudly, once; the deliveries it concerns come as feed.NotKept.
	HistoryFailed(err error)
	// RecordRefused says a delivery could not be taken by the history
	// (it was answered 503, or forwarded unkept when the history is gone).
	RecordRefused(err error)
}

// Options set up a session.
type Options struct {
	// HistoryPath is the history's file; a history that cannot be opened
	// is reported and the session goes on without one.
	HistoryPath string
	// OpenTunnel opens the tunnel deliveries arrive through.
	OpenTunnel func(context.Context) (tunnel.Tunnel, error)
	// Path is the webhook path the public URL ends with.
	Path string
	// Relay configures the relay; its Recorder and Feed are the session's.
	Relay  relay.Config
	Limits relay.ServerLimits
	Feed   *feed.Hub
	Report Reporter

	// DevWebhook, when set, is pointed at the tunnel for DevEvents on
	// start and paused on stop. When it comes with a new secret, Rekey
	// makes the relay's keys of it.
	DevWebhook *devwebhook.Webhook
	DevEvents  []string
	Rekey      func(secret string) ([]provider.Key, error)
}

// Session is a running listen.
type Session struct {
	o         Options
	History   *store.Store // nil when there is none
	writer    *store.Writer
	Tunnel    tunnel.Tunnel
	Relay     *relay.Relay
	server    *relay.Server
	served    chan error
	PublicURL string
	// DevSecret is the secret a development webhook created now came with.
	DevSecret string
	stopMem   func()
	closers   []func()
	trimmed   sync.Once
}

// ErrForwardLoop is a --forward that names the session's own address.
var ErrForwardLoop = errors.New("--forward is where listen itself listens: every delivery would go round in a loop. Point --forward at your app")

// Start opens everything and starts serving. On error, what was opened is
// closed again.
func Start(ctx context.Context, o Options) (_ *Session, err error) {
	s := &Session{o: o, served: make(chan error, 1)}
	defer func() {
		if err != nil {
			s.closeAll()
		}
	}()
	s.openHistory()
	limitMemory(o.Relay.MaxBody)

	if s.Tunnel, err = o.OpenTunnel(ctx); err != nil {
		return nil, err
	}
	s.closers = append(s.closers, func() { disconnect(s.Tunnel, o.Report) })
	if forwardsToItself(o.Relay.Forward, s.Tunnel) {
		return nil, ErrForwardLoop
	}
	s.PublicURL = s.Tunnel.URL() + o.Path

	if o.DevWebhook != nil {
		secret, err := o.DevWebhook.Activate(ctx, s.PublicURL, o.DevEvents, o.Report)
		if err != nil {
			return nil, err
		}
		s.closers = append(s.closers, func() { o.DevWebhook.Deactivate(o.Report) })
		if secret != "" {
			s.DevSecret = secret
			if o.Relay.Keys, err = o.Rekey(secret); err != nil {
				return nil, err
			}
			o.Relay.Secret = secret
		}
	}

	cfg := o.Relay
	cfg.Feed = o.Feed
	cfg.PublicURL = s.Tunnel.URL()
	cfg.OnRecordError = o.Report.RecordRefused
	if s.writer != nil {
		cfg.Recorder = s.writer
	}
	s.Relay = relay.New(cfg)
	s.stopMem = returnMemory(s.Relay)
	s.server = relay.NewServer(s.Relay, o.Limits)
	go func() { s.served <- s.server.Serve(s.Tunnel) }()
	return s, nil
}

// openHistory opens the history for writing, or says why there is none:
// a damaged history never stops the relay.
func (s *Session) openHistory() {
	if s.o.HistoryPath == "" {
		return
	}
	hist, err := store.Open(s.o.HistoryPath, store.DefaultLimits)
	if err != nil {
		s.o.Report.Warn(termsafe.Line(err.Error()) + ". Listening goes on without a history.")
		return
	}
	if n := hist.Notice(); n != "" {
		s.o.Report.Info(n)
	}
	s.History = hist
	s.writer = hist.NewWriter(store.WriterOptions{
		// The relay's in-flight budget bounds what waits to be written;
		// this is a second bound, never met in practice.
		MaxQueuedBytes: 2 * max(relay.DefaultMaxInFlight, s.o.Relay.MaxBody),
		OnError:        s.o.Report.HistoryFailed,
		OnRetry: func(err error) {
			s.o.Report.Warn(termsafe.Line(fmt.Sprintf("history: a write failed, retrying: %v", err)))
		},
		OnTrim: func(int) {
			s.trimmed.Do(func() {
				l := store.DefaultLimits
				s.o.Report.Warn(fmt.Sprintf("The history is full (it keeps the latest %d deliveries, %d MiB of bodies): the oldest are being removed to make room. Keep what you need with: jasni events show ID --output json",
					l.MaxCount, l.MaxBytes>>20))
			})
		},
	})
}

// Wait serves until ctx ends (nil) or the tunnel fails (its error).
func (s *Session) Wait(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return nil
	case err := <-s.served:
		if err != nil && !errors.Is(err, http.ErrServerClosed) && ctx.Err() == nil {
			return fmt.Errorf("the tunnel stopped: %w", err)
		}
		return nil
	}
}

// Close stops accepting, waits until every answer in flight has been sent
// (at most the forward timeout), writes what the history still holds,
// pauses the development webhook and closes the tunnel. The tunnel goes
// last, so the answers in flight still get through.
func (s *Session) Close() {
	if s.server != nil {
		ctx, cancel := context.WithTimeout(context.Background(), relay.DefaultForwardTimeout)
		if s.server.Shutdown(ctx) != nil {
			_ = s.server.Close()
		}
		cancel()
	}
	if s.stopMem != nil {
		s.stopMem()
	}
	s.closeAll()
}

func (s *Session) closeAll() {
	if s.writer != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := s.writer.Close(ctx); err != nil {
			s.o.Report.Warn(termsafe.Line(err.Error()))
		}
		cancel()
		s.writer = nil
	}
	if s.History != nil {
		s.History.Close()
	}
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
	s.closers = nil
}

// forwardsToItself reports a --forward that names the tunnel's own local
// port, by address or by a name that resolves to this machine.
func forwardsToItself(forward *url.URL, tun tunnel.Tunnel) bool {
	if forward == nil || tun.Public() {
		return false
	}
	_, port, err := net.SplitHostPort(tun.Addr().String())
	if err != nil || forward.Port() != port {
		return false
	}
	host := forward.Hostname()
	addrs := []string{host}
	if host != "localhost" && net.ParseIP(host) == nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		addrs, _ = net.DefaultResolver.LookupHost(ctx, host)
	}
	for _, a := range addrs {
		ip := net.ParseIP(a)
		if a == "localhost" || ip != nil && (ip.IsLoopback() || ip.IsUnspecified()) {
			return true
		}
	}
	return false
}

// disconnect ends the tunnel, without hanging on a network that is gone.
func disconnect(tun tunnel.Tunnel, report Reporter) {
	done := make(chan struct{})
	go func() {
		_ = tun.Disconnect()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		report.Warn("the tunnel did not close within 5s; exiting anyway")
	}
}

// limitMemory sets a soft memory limit that fits the relay's own bounds,
// so a burst of large bodies makes the garbage collector work harder
// rather than the process grow. GOMEMLIMIT, when set, wins.
func limitMemory(maxBody int64) {
	if os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	inflight := max(int64(relay.DefaultMaxInFlight), maxBody)
	// Bodies being read, forwarded or waiting for the history (one budget
	// bounds them all), and room for the rest: the process's resident size
	// also holds the program itself and what is not Go's heap.
	debug.SetMemoryLimit(inflight + 32<<20)
}

// returnMemory gives memory back to the system once a burst of large
// bodies is over: the runtime would keep it for the next one, and listen
// runs for hours beside the developer's own app.
func returnMemory(rl *relay.Relay) (stop func()) {
	done := make(chan struct{})
	go func() {
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		var (
			big   bool
			quiet int // seconds in a row with no body held
		)
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			now, peak := rl.BodyMemory()
			big = big || peak >= 16<<20
			if now == 0 && peak == 0 {
				quiet++
			} else {
				quiet = 0
			}
			// Once the burst is over (two quiet seconds), not between two
			// bodies of a steady stream, which would fault it all in again.
			if big && quiet >= 2 {
				debug.FreeOSMemory()
				big = false
			}
		}
	}()
	return func() { close(done) }
}
