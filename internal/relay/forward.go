package relay

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"syscall"
	"time"
)

// conns forwards to a plain-http app over kept-alive connections, from the
// handler's own goroutine: http.Transport hands each request to two
// goroutines of its own and back, which on a 2-core machine was most of
// what the relay added to a delivery. It also leaves the request alone
// where Transport would not: no Accept-Encoding is added and no gzip
// answer is unpacked, so the app sees what the sender sent and the sender
// gets what the app answered.
type conns struct {
	addr    string
	maxIdle int
	dialer  net.Dialer

	mu   sync.Mutex
	idle []*conn
}

type conn struct {
	net.Conn
	br *bufio.Reader
	bw *bufio.Writer
}

// answer is the app's response, its body read (within maxAnswerBody).
type answer struct {
	status int
	header http.Header
	body   []byte
}

func newConns(target *url.URL, maxIdle int) *conns {
	port := target.Port()
	if port == "" {
		port = "80"
	}
	return &conns{addr: net.JoinHostPort(target.Hostname(), port), maxIdle: maxIdle}
}

func (p *conns) get(ctx context.Context) (c *conn, reused bool, err error) {
	p.mu.Lock()
	if n := len(p.idle); n > 0 {
		c = p.idle[n-1]
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		return c, true, nil
	}
	p.mu.Unlock()
	nc, err := p.dialer.DialContext(ctx, "tcp", p.addr)
	if err != nil {
		return nil, false, err
	}
	return &conn{Conn: nc, br: bufio.NewReaderSize(nc, 16<<10), bw: bufio.NewWriterSize(nc, 16<<10)}, false, nil
}

func (p *conns) put(c *conn) {
	_ = c.SetDeadline(time.Time{})
	p.mu.Lock()
	if len(p.idle) < p.maxIdle {
		p.idle = append(p.idle, c)
		c = nil
	}
	p.mu.Unlock()
	if c != nil {
		c.Close()
	}
}

// do sends req (whose body can be written again) and reads the answer. A
// connection that the app closed while it sat idle fails before any answer
// arrives; the request is then sent once more on a new connection.
func (p *conns) do(ctx context.Context, req *http.Request) (*answer, error) {
	for attempt := 0; ; attempt++ {
		c, reused, err := p.get(ctx)
		if err != nil {
			return nil, err
		}
		a, err := p.exchange(ctx, c, req)
		if err == nil {
			return a, nil
		}
		c.Close()
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, ctxErr
		}
		if !reused || attempt > 0 || !stale(err) {
			return nil, err
		}
		if req.GetBody != nil {
			if req.Body, err = req.GetBody(); err != nil {
				return nil, err
			}
		}
	}
}

func (p *conns) exchange(ctx context.Context, c *conn, req *http.Request) (*answer, error) {
	// The sender hanging up, or the forward timeout, unblocks the exchange;
	// by then ctx.Err() says which.
	stop := context.AfterFunc(ctx, func() { _ = c.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	if err := req.Write(c.bw); err != nil {
		return nil, err
	}
	if err := c.bw.Flush(); err != nil {
		return nil, err
	}
	var resp *http.Response
	for {
		var err error
		if resp, err = http.ReadResponse(c.br, req); err != nil {
			return nil, err
		}
		// 1xx answers are interim; the real one follows.
		if resp.StatusCode >= 200 || resp.StatusCode == http.StatusSwitchingProtocols {
			break
		}
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBody))
	if err != nil {
		return nil, err
	}
	// Reusable only if the answer was read to its end and the app keeps
	// the connection open.
	var probe [1]byte
	n, _ := resp.Body.Read(probe[:])
	resp.Body.Close()
	if n == 0 && !resp.Close && resp.ProtoAtLeast(1, 1) && resp.StatusCode != http.StatusSwitchingProtocols && stop() {
		p.put(c)
	} else {
		c.Close()
	}
	return &answer{status: resp.StatusCode, header: resp.Header, body: body}, nil
}

// stale reports an error from a kept-alive connection the app had closed.
func stale(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}
