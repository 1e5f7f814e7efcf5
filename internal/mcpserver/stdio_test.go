package mcpserver_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/jasni/jasni-cli/internal/config"
	"github.com/jasni/jasni-cli/internal/exampleapp"
	"github.com/jasni/jasni-cli/internal/mcpserver"
)

// One bad line from a client is answered with a JSON-RPC error, and the
// session goes on: the agent keeps its tools.
func TestBadLinesDoNotEndTheSession(t *testing.T) {
	cfg, _ := config.Load(filepath.Join(t.TempDir(), "c.toml"), "", func(string) string { return "" })
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- mcpserver.New(mcpserver.Config{Config: cfg}).Run(ctx, &mcpserver.Lines{In: inR, Out: outW, Max: 1 << 10})
	}()
	answers := bufio.NewScanner(outR)
	answers.Buffer(nil, 1<<20)
	send := func(line string) map[string]any {
		t.Helper()
		if _, err := io.WriteString(inW, line+"\n"); err != nil {
			t.Fatal(err)
		}
		if !answers.Scan() {
			t.Fatalf("no answer to %.40q: %v", line, answers.Err())
		}
		var m map[string]any
		json.Unmarshal(answers.Bytes(), &m)
		return m
	}
	for _, tt := range []struct {
		line string
		code float64
	}{
		{"this is not json", -32700},
		{`[{"jsonrpc":"2.0","id":1,"method":"ping"}]`, -32600},
		{`{"jsonrpc":"2.0","id":1,"method":"tools/list"} {"jsonrpc":"2.0","id":2}`, -32700},
		{`{"jsonrpc":"2.0","id":1,"params":"` + strings.Repeat("x", 4<<10) + `"}`, -32600},
	} {
		m := send(tt.line)
		e, _ := m["error"].(map[string]any)
		if e == nil || e["code"] != tt.code {
			t.Errorf("%.40q: answered %v, want error %v", tt.line, m, tt.code)
		}
	}
	m := send(`{"jsonrpc":"2.0","id":7,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`)
	if m["id"] != float64(7) || m["result"] == nil {
		t.Errorf("initialize after the bad lines: %v", m)
	}
	inW.Close() // the client goes away: the server ends
	<-done
}

// A proxy in the environment never carries a request the tools checked
// was for this machine (Go sends LOCALHOST through one).
func TestNoProxy(t *testing.T) {
	var proxied atomic.Int32
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { proxied.Add(1) }))
	defer proxy.Close()
	app := exampleapp.New(secret)
	appSrv := httptest.NewServer(app.Handler())
	defer appSrv.Close()
	e := start(t, func(c *mcpserver.Config) {
		c.HTTPClient = &http.Client{Transport: &http.Transport{Proxy: func(*http.Request) (*url.URL, error) { return url.Parse(proxy.URL) }}}
	})
	target := strings.Replace(appSrv.URL, "127.0.0.1", "LOCALHOST", 1) + "/webhooks/jasni"
	var out struct{ Accepted int }
	if res := e.call("trigger", map[string]any{"events": []string{"email.sent"}, "url": target}, &out); res.IsError || out.Accepted != 1 || proxied.Load() != 0 {
		t.Errorf("%s %+v: the proxy saw %d requests", errText(res), out, proxied.Load())
	}
}
