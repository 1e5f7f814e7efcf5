// Package ngroktest is a fake ngrok edge on loopback that the real ngrok SDK
// (golang.ngrok.com/ngrok/v2) connects to, so the ngrok tunnel is tested end
// to end without ngrok's cloud.
//
// It speaks the agent protocol the SDK uses: TLS, then a muxado session of
// typed streams carrying JSON RPCs. Type 0 is Auth, 1 Bind, 2 Unbind, 8
// SrvInfo; the edge opens type 3 streams to deliver a visitor's connection,
// preceded by an int64 little-endian length and a JSON proxy header. The
// protocol is private to ngrok: the structs below carry only the fields the
// SDK reads, with its JSON names.
package ngroktest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"golang.ngrok.com/muxado/v2"
	"golang.ngrok.com/ngrok/v2"
)

// Stream types of the agent protocol.
const (
	typeAuth    muxado.StreamType = 0
	typeBind    muxado.StreamType = 1
	typeUnbind  muxado.StreamType = 2
	typeProxy   muxado.StreamType = 3
	typeSrvInfo muxado.StreamType = 8
)

// BadAuthtokenMessage is what the edge answers an unknown token with, in the
// form ngrok's service uses: a message, then the error code on a line.
const BadAuthtokenMessage = "The authtoken you specified does not look like a proper ngrok tunnel authtoken.\n\nERR_NGROK_107\n"

// Options configures the edge.
type Options struct {
	Authtokens []string
	PublicURL  string
}

// Edge is the fake ngrok service.
type Edge struct {
	opts Options
	ln   net.Listener
	pool *x509.CertPool

	mu       sync.Mutex
	sessions []*session
	binds    map[string]*session
	lastBind string
	authed   int
	changed  chan struct{} // closed and replaced whenever authed changes
	nextID   int
	wg       sync.WaitGroup
	closed   bool
}

type session struct {
	conn net.Conn
	mux  *muxado.Heartbeat
}

// Start runs an edge on 127.0.0.1 with a fresh self-signed certificate. It
// stops when the test ends.
func Start(t testing.TB, opts Options) *Edge {
	t.Helper()
	if opts.PublicURL == "" {
		opts.PublicURL = "https://jasni-test.ngrok.example"
	}
	cert, pool, err := selfSigned()
	if err != nil {
		t.Fatalf("ngroktest: certificate: %v", err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatalf("ngroktest: listen: %v", err)
	}
	e := &Edge{opts: opts, ln: ln, pool: pool, binds: map[string]*session{}, changed: make(chan struct{})}
	e.wg.Add(1)
	go e.serve()
	t.Cleanup(e.Close)
	return e
}

// Addr is the host:port agents connect to.
func (e *Edge) Addr() string { return e.ln.Addr().String() }

// CAs trusts the edge's certificate.
func (e *Edge) CAs() *x509.CertPool { return e.pool }

// AgentOptions point an agent at this edge with authtoken.
func (e *Edge) AgentOptions(authtoken string) []ngrok.AgentOption {
	return append(e.ConnectOptions(), ngrok.WithAuthtoken(authtoken))
}

// ConnectOptions point an agent at this edge, leaving the authtoken to the caller.
func (e *Edge) ConnectOptions() []ngrok.AgentOption {
	return []ngrok.AgentOption{
		ngrok.WithAgentConnectURL(e.Addr()),
		ngrok.WithAgentConnectCAs(e.pool),
	}
}

// Close stops the edge and every session.
func (e *Edge) Close() {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return
	}
	e.closed = true
	sessions := slices.Clone(e.sessions)
	e.mu.Unlock()
	e.ln.Close()
	for _, s := range sessions {
		s.mux.Close()
	}
	e.wg.Wait()
}

// DropSessions cuts every agent connection, as a network failure would.
func (e *Edge) DropSessions() {
	e.mu.Lock()
	sessions := e.sessions
	e.sessions = nil
	e.binds = map[string]*session{}
	e.mu.Unlock()
	for _, s := range sessions {
		s.conn.Close()
	}
}

// WaitSessions blocks until n sessions have authenticated in all, or ctx ends.
func (e *Edge) WaitSessions(ctx context.Context, n int) error {
	for {
		e.mu.Lock()
		authed, changed := e.authed, e.changed
		e.mu.Unlock()
		if authed >= n {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("ngroktest: %d of %d sessions authenticated: %w", authed, n, ctx.Err())
		}
	}
}

// WaitBound blocks until an endpoint is bound on a live session, or ctx ends.
func (e *Edge) WaitBound(ctx context.Context) error { return e.waitBound(ctx, true) }

// WaitUnbound blocks until the last endpoint is gone (unbound, or its session
// closed), or ctx ends.
func (e *Edge) WaitUnbound(ctx context.Context) error { return e.waitBound(ctx, false) }

func (e *Edge) waitBound(ctx context.Context, want bool) error {
	for {
		e.mu.Lock()
		_, bound := e.binds[e.lastBind]
		changed := e.changed
		e.mu.Unlock()
		if bound == want {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("ngroktest: waiting for bound=%v: %w", want, ctx.Err())
		}
	}
}

func (e *Edge) notify() {
	close(e.changed)
	e.changed = make(chan struct{})
}

func (e *Edge) serve() {
	defer e.wg.Done()
	for {
		conn, err := e.ln.Accept()
		if err != nil {
			return
		}
		e.wg.Add(1)
		go func() {
			defer e.wg.Done()
			e.handle(conn)
		}()
	}
}

func (e *Edge) handle(conn net.Conn) {
	typed := muxado.NewTypedStreamSession(muxado.Server(conn, &muxado.Config{}))
	heart := muxado.NewHeartbeat(typed, func(time.Duration, bool) {}, muxado.NewHeartbeatConfig())
	heart.Start()
	s := &session{conn: conn, mux: heart}
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		heart.Close()
		return
	}
	e.sessions = append(e.sessions, s)
	e.mu.Unlock()
	defer func() {
		heart.Close()
		e.mu.Lock()
		for id, bound := range e.binds {
			if bound == s {
				delete(e.binds, id)
			}
		}
		e.notify()
		e.mu.Unlock()
	}()
	for {
		stream, err := heart.AcceptTypedStream()
		if err != nil {
			return
		}
		go e.rpc(s, stream)
	}
}

func (e *Edge) rpc(s *session, stream muxado.TypedStream) {
	defer stream.Close()
	dec := json.NewDecoder(stream)
	reply := func(v any) { _ = json.NewEncoder(stream).Encode(v) }
	switch stream.StreamType() {
	case typeAuth:
		var req struct {
			Extra struct{ Authtoken string }
		}
		if dec.Decode(&req) != nil {
			return
		}
		if !slices.Contains(e.opts.Authtokens, req.Extra.Authtoken) {
			reply(map[string]any{"Version": "3", "Error": BadAuthtokenMessage})
			return
		}
		e.mu.Lock()
		e.authed++
		n := e.authed
		e.notify()
		e.mu.Unlock()
		reply(map[string]any{
			"Version":  "3",
			"ClientId": fmt.Sprintf("client-%d", n),
			"Extra": map[string]any{
				"Version": "ngroktest", "Region": "local", "Cookie": "cookie",
				"AccountName": "test", "PlanName": "test", "AgentSessionID": fmt.Sprintf("as_%d", n),
			},
		})
	case typeBind:
		var req struct {
			ID    string `json:"Id"`
			Proto string
		}
		if dec.Decode(&req) != nil {
			return
		}
		e.mu.Lock()
		if req.ID == "" {
			e.nextID++
			req.ID = fmt.Sprintf("bind-%d", e.nextID)
		}
		e.binds[req.ID] = s
		e.lastBind = req.ID
		e.notify()
		e.mu.Unlock()
		proto := req.Proto
		if proto == "" {
			proto = "https"
		}
		reply(map[string]any{"Id": req.ID, "URL": e.opts.PublicURL, "Proto": proto, "Extra": map[string]any{"TunnelID": "tn_" + req.ID}})
	case typeUnbind:
		var req struct {
			ID string `json:"Id"`
		}
		_ = dec.Decode(&req)
		e.mu.Lock()
		delete(e.binds, req.ID)
		e.notify()
		e.mu.Unlock()
		reply(map[string]any{})
	case typeSrvInfo:
		reply(map[string]any{"Region": "local"})
	default:
		// An RPC this edge does not know: answer with an error rather than
		// leave the agent waiting.
		reply(map[string]any{"Error": fmt.Sprintf("ngroktest: stream type %d is not supported", stream.StreamType())})
	}
}

// ErrNoEndpoint is returned by Do when no agent has bound an endpoint.
var ErrNoEndpoint = errors.New("ngroktest: no endpoint is bound")

// Do sends req through the tunnel as a visitor on the internet would, and
// returns the agent's answer with its body read.
func (e *Edge) Do(req *http.Request) (*http.Response, error) {
	e.mu.Lock()
	id := e.lastBind
	s := e.binds[id]
	e.mu.Unlock()
	if s == nil {
		return nil, ErrNoEndpoint
	}
	stream, err := s.mux.OpenTypedStream(typeProxy)
	if err != nil {
		return nil, fmt.Errorf("ngroktest: open proxy stream: %w", err)
	}
	defer stream.Close()
	header, err := json.Marshal(map[string]any{"Id": id, "ClientAddr": "203.0.113.7:40000", "Proto": "https", "EdgeType": "3"})
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	_ = binary.Write(&buf, binary.LittleEndian, int64(len(header)))
	buf.Write(header)
	if err := req.Write(&buf); err != nil {
		return nil, fmt.Errorf("ngroktest: encode request: %w", err)
	}
	if _, err := stream.Write(buf.Bytes()); err != nil {
		return nil, fmt.Errorf("ngroktest: write request: %w", err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(stream), req)
	if err != nil {
		return nil, fmt.Errorf("ngroktest: read response: %w", err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("ngroktest: read response body: %w", err)
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}

func selfSigned() (tls.Certificate, *x509.CertPool, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "ngroktest"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:              []string{"localhost"},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool, nil
}
