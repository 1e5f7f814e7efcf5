// Package ngroktest is a fake ngrok edge on loopback that the real ngrok SDK
// (golang.ngrok.com/ngrok/v2) connects to, so the ngrok tunnel is tested end
// to end without ngrok's cloud.
//
// It speaks the agent protocol of SDK v2.4.0: TLS, then a muxado session of
// typed streams, each carrying one JSON request and one JSON answer. The agent
// opens type 0 (Auth), 1 (Bind), 2 (Unbind) and 8 (SrvInfo); the edge opens
// type 3 to hand the agent a visitor's connection, which starts with an int64
// little-endian length and a JSON proxy header. Heartbeats travel on muxado's
// own stream type and are echoed. The protocol is private to ngrok, so the
// structs in wire.go copy only the fields the SDK reads or that tests want to
// see, with the SDK's JSON names.
//
// What the edge does not do: TCP and TLS endpoints, labeled tunnels, traffic
// policy, TLS between visitor and edge (Do writes plain HTTP into the tunnel,
// as ngrok does after terminating TLS), and the server-initiated Stop,
// Restart and Update requests.
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

// DefaultPublicURL is the URL the edge reports when Options.PublicURL is empty.
const DefaultPublicURL = "https://jasni-test.ngrok.example"

// BadAuthtokenMessage is the edge's answer to an unknown authtoken, in the
// shape ngrok's service uses: a message, then the error code on its own line.
// The SDK finds the code with a regular expression over this text.
const BadAuthtokenMessage = "The authtoken you specified does not look like a proper ngrok tunnel authtoken.\n\nERR_NGROK_107\n"

// VisitorAddr is the client address Do reports to the agent, so a handler can
// tell a request that came through the tunnel (r.RemoteAddr) from a local one.
const VisitorAddr = "203.0.113.7:40000"

// ErrNoEndpoint is returned by Do when no agent has an endpoint bound, for
// instance while the SDK is reconnecting after DropSessions.
var ErrNoEndpoint = errors.New("ngroktest: no endpoint is bound; connect an agent and call Listen first (or WaitBound)")

// Options configures the edge.
type Options struct {
	// Authtokens are the tokens the edge accepts. Any other token, an empty
	// one included, is refused with ERR_NGROK_107; with no Authtokens every
	// agent is refused.
	Authtokens []string
	// PublicURL is the URL reported for an endpoint that asks for none
	// (agent.Listen without ngrok.WithURL). An endpoint that asks for a URL
	// gets that URL back, as from ngrok. Default DefaultPublicURL.
	PublicURL string
}

// Edge is the fake ngrok service. Its methods are safe for concurrent use.
type Edge struct {
	opts Options
	ln   net.Listener
	pool *x509.CertPool

	mu       sync.Mutex
	sessions map[*agentSession]struct{} // connected, authenticated or not
	binds    map[string]*endpoint       // live endpoints by bind id
	lastBind string                     // the endpoint Do delivers to
	authed   int                        // sessions authenticated since Start
	refused  int                        // Auth requests refused since Start
	nextBind int
	changed  chan struct{} // closed and replaced on every change, for the Wait methods
	closed   bool

	wg sync.WaitGroup // the accept loop, the sessions and their RPCs
}

type agentSession struct {
	raw net.Conn // under TLS, so DropSessions can cut the line without a goodbye
	mux *muxado.Heartbeat
}

type endpoint struct {
	sess  *agentSession
	proto string
}

// Start runs an edge on 127.0.0.1 with a self-signed certificate made for this
// edge alone. It stops when the test ends.
func Start(t testing.TB, opts Options) *Edge {
	t.Helper()
	if opts.PublicURL == "" {
		opts.PublicURL = DefaultPublicURL
	}
	cert, pool, err := selfSigned()
	if err != nil {
		t.Fatalf("ngroktest: make a TLS certificate: %v", err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS12,
	})
	if err != nil {
		t.Fatalf("ngroktest: listen on loopback: %v", err)
	}
	e := &Edge{
		opts:     opts,
		ln:       ln,
		pool:     pool,
		sessions: map[*agentSession]struct{}{},
		binds:    map[string]*endpoint{},
		changed:  make(chan struct{}),
	}
	e.wg.Add(1)
	go e.serve()
	t.Cleanup(e.Close)
	return e
}

// Addr is the host:port to pass to ngrok.WithAgentConnectURL.
func (e *Edge) Addr() string { return e.ln.Addr().String() }

// CAs trusts the edge's certificate; pass it to ngrok.WithAgentConnectCAs.
func (e *Edge) CAs() *x509.CertPool { return e.pool }

// ConnectOptions point an agent at this edge and leave the authtoken, the
// logger and the event handlers to the caller.
//
// No ngrok.WithTLSConfig is needed: the SDK sets the TLS server name to the
// host of the connect address, 127.0.0.1, which the certificate carries as
// an IP address. Leaving it out also leaves that single option free for the
// caller (the SDK keeps only the last one given).
func (e *Edge) ConnectOptions() []ngrok.AgentOption {
	return []ngrok.AgentOption{
		ngrok.WithAgentConnectURL(e.Addr()),
		ngrok.WithAgentConnectCAs(e.pool),
	}
}

// AgentOptions are ConnectOptions plus the authtoken. Add
// ngrok.WithLogger(slog.New(slog.DiscardHandler)) to keep the SDK's logs out
// of the test output.
func (e *Edge) AgentOptions(authtoken string) []ngrok.AgentOption {
	return append(e.ConnectOptions(), ngrok.WithAuthtoken(authtoken))
}

// Close stops the edge and ends every session. It is idempotent.
func (e *Edge) Close() {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return
	}
	e.closed = true
	sessions := e.liveSessions()
	e.mu.Unlock()
	_ = e.ln.Close()
	for _, s := range sessions {
		_ = s.mux.Close()
	}
	e.wg.Wait()
}

// DropSessions cuts every agent's connection at the TCP level, with no muxado
// GOAWAY or TLS close_notify, as a network failure would. The SDK notices at
// once (its read fails) and reconnects; its endpoints are rebound under the
// same bind ids.
func (e *Edge) DropSessions() {
	e.mu.Lock()
	sessions := e.liveSessions()
	e.mu.Unlock()
	for _, s := range sessions {
		_ = s.raw.Close()
	}
}

// Sessions is how many agent sessions have authenticated since Start,
// reconnections included.
func (e *Edge) Sessions() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.authed
}

// Refused is how many Auth requests the edge has refused since Start. The SDK
// retries a refused token with backoff, so this grows while Connect waits.
func (e *Edge) Refused() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.refused
}

// WaitSessions blocks until n sessions have authenticated since Start, or ctx
// ends. To wait for a reconnection, read Sessions before DropSessions (after
// it, the agent may already be back):
//
//	n := edge.Sessions()
//	edge.DropSessions()
//	err := edge.WaitSessions(ctx, n+1)
func (e *Edge) WaitSessions(ctx context.Context, n int) error {
	return e.wait(ctx, fmt.Sprintf("%d authenticated sessions", n), func() bool { return e.authed >= n })
}

// WaitNoSessions blocks until no agent is connected, or ctx ends: after
// agent.Disconnect, it returns once the edge has seen the session end.
func (e *Edge) WaitNoSessions(ctx context.Context) error {
	return e.wait(ctx, "every agent session to end", func() bool { return len(e.sessions) == 0 })
}

// WaitBound blocks until the last endpoint an agent bound is bound on a live
// session, so Do can deliver to it, or ctx ends.
func (e *Edge) WaitBound(ctx context.Context) error {
	return e.wait(ctx, "an endpoint to be bound", func() bool { return e.binds[e.lastBind] != nil })
}

// WaitUnbound blocks until the last endpoint is gone (unbound by the agent, or
// its session ended), or ctx ends.
func (e *Edge) WaitUnbound(ctx context.Context) error {
	return e.wait(ctx, "the endpoint to be unbound", func() bool { return e.binds[e.lastBind] == nil })
}

// wait re-checks cond, under e.mu, every time the edge's state changes.
func (e *Edge) wait(ctx context.Context, what string, cond func() bool) error {
	for {
		e.mu.Lock()
		ok, changed := cond(), e.changed
		e.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("ngroktest: waiting for %s: %w", what, ctx.Err())
		}
	}
}

// notify wakes the Wait methods. The caller holds e.mu.
func (e *Edge) notify() {
	close(e.changed)
	e.changed = make(chan struct{})
}

// liveSessions copies the session set. The caller holds e.mu.
func (e *Edge) liveSessions() []*agentSession {
	out := make([]*agentSession, 0, len(e.sessions))
	for s := range e.sessions {
		out = append(out, s)
	}
	return out
}

func (e *Edge) serve() {
	defer e.wg.Done()
	for {
		conn, err := e.ln.Accept()
		if err != nil {
			return // the listener is closed
		}
		e.wg.Add(1)
		go func() {
			defer e.wg.Done()
			e.handle(conn)
		}()
	}
}

// handle runs one agent session until it ends.
func (e *Edge) handle(conn net.Conn) {
	raw := conn
	if tc, ok := conn.(*tls.Conn); ok {
		raw = tc.NetConn()
	}
	// The heartbeat wrapper answers the agent's heartbeats. It is not
	// started: the agent detects dead links itself, and the edge learns of
	// them when the connection fails.
	heart := muxado.NewHeartbeat(
		muxado.NewTypedStreamSession(muxado.Server(conn, &muxado.Config{})),
		func(time.Duration, bool) {}, muxado.NewHeartbeatConfig())
	s := &agentSession{raw: raw, mux: heart}

	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		_ = heart.Close()
		return
	}
	e.sessions[s] = struct{}{}
	e.notify()
	e.mu.Unlock()

	defer func() {
		_ = heart.Close()
		e.mu.Lock()
		delete(e.sessions, s)
		for id, b := range e.binds {
			if b.sess == s {
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
		e.wg.Add(1)
		go func() {
			defer e.wg.Done()
			defer stream.Close()
			e.answer(s, stream)
		}()
	}
}

// answer reads one request from an agent's stream and writes the answer.
func (e *Edge) answer(s *agentSession, stream muxado.TypedStream) {
	dec := json.NewDecoder(stream)
	reply := func(v any) { _ = json.NewEncoder(stream).Encode(v) }
	switch stream.StreamType() {
	case streamAuth:
		var req authReq
		if err := dec.Decode(&req); err != nil {
			return
		}
		reply(e.auth(req))
	case streamBind:
		var req bindReq
		if err := dec.Decode(&req); err != nil {
			return
		}
		reply(e.bind(s, req))
	case streamUnbind:
		var req unbindReq
		if err := dec.Decode(&req); err != nil {
			return
		}
		e.mu.Lock()
		if b := e.binds[req.ID]; b != nil && b.sess == s {
			delete(e.binds, req.ID)
			e.notify()
		}
		e.mu.Unlock()
		reply(unbindResp{})
	case streamSrvInfo:
		reply(srvInfoResp{Region: "local"})
	default:
		// Label tunnels, state patches and the rest: answer with an error
		// rather than leave the agent waiting on the stream.
		reply(errorResp{Error: fmt.Sprintf("ngroktest: requests of stream type %d are not supported by the fake edge", stream.StreamType())})
	}
}

func (e *Edge) auth(req authReq) authResp {
	if !slices.Contains(req.Version, protoVersion) {
		return authResp{Error: fmt.Sprintf("ngroktest: the agent offers protocol versions %v; the fake edge speaks only %s", req.Version, protoVersion)}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if !slices.Contains(e.opts.Authtokens, req.Extra.Authtoken) {
		// The session stays open: the SDK closes it itself before retrying.
		e.refused++
		e.notify()
		return authResp{Version: protoVersion, Error: BadAuthtokenMessage}
	}
	e.authed++
	e.notify()
	n := e.authed
	return authResp{
		Version: protoVersion,
		// ClientId stays empty, though ngrok's service sends one: when it
		// is set, the SDK (v2.4.0, rawSession.Auth) swaps its logger without
		// a lock while the heartbeat goroutine reads it, and the race
		// detector fails any test whose session lives to its first
		// heartbeat (10 s by default). The SDK needs the id for nothing
		// else.
		Extra: authRespExtra{
			Version:        "ngroktest",
			Region:         "local",
			Cookie:         fmt.Sprintf("ngroktest-cookie-%d", n),
			AccountName:    "ngroktest",
			PlanName:       "Free",
			AgentSessionID: fmt.Sprintf("as_ngroktest_%d", n),
		},
	}
}

func (e *Edge) bind(s *agentSession, req bindReq) bindResp {
	if req.Proto != "http" && req.Proto != "https" {
		return bindResp{Error: fmt.Sprintf("ngroktest: the fake edge binds only http and https endpoints, not %q", req.Proto)}
	}
	url := e.opts.PublicURL
	if req.Opts.URL != "" {
		url = req.Opts.URL
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	// A reconnecting agent rebinds under the id it was given, and the SDK
	// files the endpoint under that id, so the id must be kept.
	id := req.ID
	if id == "" {
		e.nextBind++
		id = fmt.Sprintf("ngroktest-bind-%d", e.nextBind)
	}
	e.binds[id] = &endpoint{sess: s, proto: req.Proto}
	e.lastBind = id
	e.notify()
	return bindResp{
		ID:    id,
		URL:   url,
		Proto: req.Proto,
		Opts:  httpEndpoint{URL: url},
		Extra: bindRespExtra{Token: "ngroktest-token-" + id, TunnelID: "tn_" + id},
	}
}

// Do sends req through the tunnel as a visitor on the internet would: it
// opens a proxy stream to the agent holding the last bound endpoint, writes
// the proxy header and the request, and reads the agent's answer. The
// response body is read in full before Do returns, so closing it is
// optional. req.Context() bounds the exchange.
func (e *Edge) Do(req *http.Request) (*http.Response, error) {
	e.mu.Lock()
	id := e.lastBind
	b := e.binds[id]
	e.mu.Unlock()
	if b == nil {
		return nil, ErrNoEndpoint
	}
	ctx := req.Context()
	stream, err := b.sess.mux.OpenTypedStream(streamProxy)
	if err != nil {
		return nil, fmt.Errorf("ngroktest: open a proxy stream to the agent: %w", err)
	}
	defer stream.Close()
	// Unblock reads and writes when the caller gives up; the stream has no
	// other way to observe ctx.
	stop := context.AfterFunc(ctx, func() { _ = stream.SetDeadline(time.Now()) })
	defer stop()
	wrap := func(what string, err error) error {
		if ctxErr := ctx.Err(); ctxErr != nil {
			err = ctxErr
		}
		return fmt.Errorf("ngroktest: %s: %w", what, err)
	}

	header, err := json.Marshal(proxyHeader{ID: id, ClientAddr: VisitorAddr, Proto: b.proto})
	if err != nil {
		return nil, wrap("encode the proxy header", err)
	}
	var buf bytes.Buffer
	_ = binary.Write(&buf, binary.LittleEndian, int64(len(header)))
	buf.Write(header)
	// Keep the stream open after the request: a half-close would read to the
	// agent's HTTP server as the visitor hanging up, which cancels the
	// handler's context.
	if err := req.Write(&buf); err != nil {
		return nil, wrap("encode the request", err)
	}
	if _, err := stream.Write(buf.Bytes()); err != nil {
		return nil, wrap("write the request to the agent", err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(stream), req)
	if err != nil {
		return nil, wrap("read the agent's response", err)
	}
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		return nil, wrap("read the agent's response body", err)
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}

// selfSigned makes a certificate for 127.0.0.1 and localhost, valid for a day,
// and a pool that trusts it.
func selfSigned() (tls.Certificate, *x509.CertPool, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 64))
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "ngroktest fake edge"},
		NotBefore:             time.Now().Add(-time.Hour), // tolerate clock skew between test processes
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
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
