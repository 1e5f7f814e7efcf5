package inspect_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/jasni/jasni-cli/internal/clitest"
	"github.com/jasni/jasni-cli/internal/feed"
	"github.com/jasni/jasni-cli/internal/inspect"
	"github.com/jasni/jasni-cli/internal/provider"
	"github.com/jasni/jasni-cli/internal/relay"
	"github.com/jasni/jasni-cli/internal/replay"
	"github.com/jasni/jasni-cli/internal/store"
	"github.com/jasni/jasni-cli/internal/tunnel"
)

const secret = "whsec_inspect_test"

// received is one request the app saw, and whether it verified.
type received struct {
	body     []byte
	verified bool
}

// rig is listen in miniature: a relay recording to a history and
// publishing to a feed, forwarding to an app that verifies as the docs
// say, and an inspector on both.
type rig struct {
	relayURL string
	url      string // the inspector's
	token    string
	store    *store.Store
	writer   *store.Writer

	mu  sync.Mutex
	got []received
	// arrived is signalled on each request the app sees.
	arrived chan struct{}
}

func newRig(t testing.TB) *rig {
	t.Helper()
	p, err := provider.Builtin("jasni")
	if err != nil {
		t.Fatal(err)
	}
	key, err := p.ParseKey(secret)
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{arrived: make(chan struct{}, 1000)}
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		ok := p.Verify([]provider.Key{key}, body, req.Header, time.Now()) == nil
		r.mu.Lock()
		r.got = append(r.got, received{body, ok})
		r.mu.Unlock()
		r.arrived <- struct{}{}
		if !ok {
			http.Error(w, `{"error":"bad signature"}`, http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	t.Cleanup(app.Close)
	forward, _ := url.Parse(app.URL)

	if r.store, err = store.Open(filepath.Join(t.TempDir(), "h.db"), store.DefaultLimits); err != nil {
		t.Fatal(err)
	}
	r.writer = r.store.NewWriter(store.WriterOptions{})
	t.Cleanup(func() {
		r.writer.Close(context.Background())
		r.store.Close()
	})
	hub := &feed.Hub{}
	tun, err := tunnel.Local(0)
	if err != nil {
		t.Fatal(err)
	}
	srv := relay.NewServer(relay.New(relay.Config{Secret: secret, Forward: forward, Recorder: r.writer, Feed: hub}), relay.DefaultServerLimits)
	go srv.Serve(tun)
	t.Cleanup(func() { srv.Close() })
	r.relayURL = tun.URL() + relay.DefaultPath

	insp, err := inspect.New(inspect.Options{
		Store: r.store, Feed: hub, BaseURL: tun.URL(), Version: "test",
		Replayer: &replay.Replayer{Client: &http.Client{}, Timeout: 10 * time.Second, Provider: p,
			Keys: []provider.Key{key}, Forward: forward, By: store.AttemptByReplay},
	})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go insp.Serve(ln)
	t.Cleanup(func() { insp.Close() })
	r.url, r.token = inspect.URL(ln), insp.Token()
	return r
}

// send posts a signed delivery through the relay and waits for its
// answer; with extra headers as given.
func (r *rig) send(t testing.TB, body string, header ...string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, r.relayURL, bytes.NewReader([]byte(body)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Webhook-Signature", clitest.JasniSignature(secret, []byte(body)))
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	<-r.arrived
}

// kept waits until the history holds n deliveries and returns them,
// newest first.
func (r *rig) kept(t testing.TB, n int) []store.Delivery {
	t.Helper()
	if err := r.writer.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	ds, err := r.store.List(context.Background(), store.Query{})
	if err != nil || len(ds) != n {
		t.Fatalf("history holds %d deliveries (%v), want %d", len(ds), err, n)
	}
	return ds
}

func (r *rig) last() received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.got[len(r.got)-1]
}

var tokenMeta = regexp.MustCompile(`<meta name="jasni-token" content="([0-9a-f]+)">`)
