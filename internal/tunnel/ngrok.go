package tunnel

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"golang.ngrok.com/ngrok/v2"
)

// DefaultConnectTimeout bounds the first connection to ngrok: the SDK itself
// retries forever, which to a user looks like a hang.
const DefaultConnectTimeout = 20 * time.Second

// Status is a change in the tunnel's connection, for the display.
type Status int

const (
	StatusDisconnected Status = iota // the session dropped; the SDK is reconnecting
	StatusReconnected                // the session is back
)

// NgrokOptions configures an ngrok tunnel.
type NgrokOptions struct {
	Authtoken string
	// Domain is a reserved domain, e.g. myapp.ngrok.app; empty lets ngrok choose.
	Domain         string
	ConnectTimeout time.Duration
	// Logger receives the SDK's logs; nil discards them.
	Logger *slog.Logger
	// OnStatus is told when the session drops and comes back. It must not block.
	OnStatus func(Status, error)
	// Extra options, for tests against a fake edge.
	Extra []ngrok.AgentOption
}

type ngrokTunnel struct {
	ngrok.EndpointListener
	agent  ngrok.Agent
	cancel context.CancelFunc
	url    string
	close  sync.Once
	end    sync.Once
	err    error
}

func (t *ngrokTunnel) URL() string  { return t.url }
func (t *ngrokTunnel) Public() bool { return true }

// Close ends the endpoint: ngrok sends no new connections, while those
// already open go on through the session.
func (t *ngrokTunnel) Close() error {
	t.close.Do(func() { t.err = t.EndpointListener.Close() })
	return t.err
}

// Disconnect ends the endpoint and the session.
func (t *ngrokTunnel) Disconnect() error {
	err := t.Close()
	t.end.Do(func() {
		_ = t.agent.Disconnect()
		t.cancel()
	})
	return err
}

// Ngrok opens a public endpoint through ngrok. The session lives until the
// tunnel is closed or ctx ends; connecting is bounded by ConnectTimeout.
func Ngrok(ctx context.Context, opts NgrokOptions) (Tunnel, error) {
	if opts.ConnectTimeout == 0 {
		opts.ConnectTimeout = DefaultConnectTimeout
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}

	var (
		mu            sync.Mutex
		lastErr       error // the last real failure, for the message if connecting times out
		connected     bool
		everConnected bool
		// unreachable gets the first failure that no retry can mend (the
		// name does not resolve, the address refuses): waiting out the
		// connect timeout would only make the user wait.
		unreachable = make(chan error, 1)
	)
	handler := func(ev ngrok.Event) {
		switch e := ev.(type) {
		case *ngrok.EventAgentDisconnected:
			// The SDK also reports its own shutdown (a context error, then nil):
			// neither is a cause worth showing.
			if e.Error == nil || errors.Is(e.Error, context.Canceled) {
				return
			}
			mu.Lock()
			lastErr = e.Error
			wasConnected := connected
			connected = false
			first := !everConnected
			mu.Unlock()
			if first && offline(e.Error) {
				select {
				case unreachable <- e.Error:
				default:
				}
			}
			if wasConnected && opts.OnStatus != nil {
				opts.OnStatus(StatusDisconnected, e.Error)
			}
		case *ngrok.EventAgentConnectSucceeded:
			mu.Lock()
			reconnect := everConnected
			connected, everConnected = true, true
			mu.Unlock()
			if reconnect && opts.OnStatus != nil {
				opts.OnStatus(StatusReconnected, nil)
			}
		}
	}
	agentOpts := append([]ngrok.AgentOption{
		ngrok.WithAuthtoken(opts.Authtoken),
		ngrok.WithLogger(logger),
		ngrok.WithEventHandler(handler),
	}, opts.Extra...)
	agent, err := ngrok.NewAgent(agentOpts...)
	if err != nil {
		return nil, fmt.Errorf("ngrok: %w", err)
	}

	// The session's context must outlive the connect deadline, and ctx too:
	// when the user presses Ctrl-C, deliveries in flight still have to answer
	// through the tunnel. Close ends the session.
	sessCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	type result struct {
		ln  ngrok.EndpointListener
		err error
	}
	done := make(chan result, 1)
	go func() {
		if err := agent.Connect(sessCtx); err != nil {
			done <- result{err: err}
			return
		}
		var epOpts []ngrok.EndpointOption
		if opts.Domain != "" {
			epOpts = append(epOpts, ngrok.WithURL("https://"+opts.Domain))
		}
		ln, err := agent.Listen(sessCtx, epOpts...)
		done <- result{ln: ln, err: err}
	}()

	timer := time.NewTimer(opts.ConnectTimeout)
	defer timer.Stop()
	select {
	case r := <-done:
		if r.err != nil {
			cancel()
			return nil, describe(r.err, opts)
		}
		return &ngrokTunnel{EndpointListener: r.ln, agent: agent, cancel: cancel, url: strings.TrimRight(r.ln.URL().String(), "/")}, nil
	case err := <-unreachable:
		cancel()
		<-done
		return nil, describe(err, opts)
	case <-timer.C:
		cancel()
		r := <-done
		mu.Lock()
		cause := lastErr
		mu.Unlock()
		// Connect's own error gathers every attempt's; prefer it when it
		// carries an ngrok error code.
		var ne ngrok.Error
		if r.err != nil && errors.As(r.err, &ne) {
			cause = r.err
		}
		if r.ln != nil {
			_ = r.ln.Close()
		}
		if cause == nil {
			return nil, fmt.Errorf("could not connect to ngrok within %s (no answer); check your network, or use --tunnel local", opts.ConnectTimeout)
		}
		return nil, fmt.Errorf("could not connect to ngrok within %s: %w", opts.ConnectTimeout, describe(cause, opts))
	case <-ctx.Done():
		cancel()
		<-done
		return nil, ctx.Err()
	}
}

// describe turns the SDK's errors into what to do about them.
func describe(err error, opts NgrokOptions) error {
	var ne ngrok.Error
	if errors.As(err, &ne) {
		switch code := ne.Code(); code {
		case "ERR_NGROK_105", "ERR_NGROK_107", "ERR_NGROK_106":
			return fmt.Errorf("ngrok rejected the authtoken (%s): copy it again from https://dashboard.ngrok.com/get-started/your-authtoken into NGROK_AUTHTOKEN or --ngrok-authtoken", code)
		case "ERR_NGROK_108":
			return fmt.Errorf("your ngrok account already has the most agent sessions its plan allows (%s): stop another ngrok agent, or use --tunnel local", code)
		case "ERR_NGROK_320", "ERR_NGROK_319", "ERR_NGROK_9036":
			return fmt.Errorf("ngrok will not give this account the domain %q (%s): reserve it in the ngrok dashboard, or drop --ngrok-domain", opts.Domain, code)
		default:
			return fmt.Errorf("ngrok refused (%s): %s", code, firstLine(ne.Error()))
		}
	}
	msg := err.Error()
	if offline(err) || strings.Contains(msg, "i/o timeout") {
		return fmt.Errorf("%w (offline?): %s; use --tunnel local to work without it", ErrUnreachable, firstLine(msg))
	}
	return fmt.Errorf("ngrok: %s", firstLine(msg))
}

// ErrUnreachable says ngrok's service could not be reached at all.
var ErrUnreachable = errors.New("ngrok's service is unreachable")

// offline reports errors that mean the network or the name is not there.
func offline(err error) bool {
	var dns *net.DNSError
	if errors.As(err, &dns) && !dns.IsTemporary {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "no such host") || strings.Contains(msg, "connection refused") || strings.Contains(msg, "network is unreachable")
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return strings.TrimSpace(s[:i])
	}
	return strings.TrimSpace(s)
}
