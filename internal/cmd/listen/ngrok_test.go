package listen_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jasni/jasni-cli/internal/api/apitest"
	"github.com/jasni/jasni-cli/internal/clitest"
	"github.com/jasni/jasni-cli/internal/cmd/listen"
	"github.com/jasni/jasni-cli/internal/cmdutil"
	"github.com/jasni/jasni-cli/internal/config"
	"github.com/jasni/jasni-cli/internal/iostreams"
	"github.com/jasni/jasni-cli/internal/store"
	"github.com/jasni/jasni-cli/internal/tunnel/ngroktest"
	"golang.ngrok.com/ngrok/v2"
)

const apiKey = "jsk_listen_test_0123456789"

type run struct {
	stdout, stderr *clitest.SyncBuffer
	cancel         context.CancelFunc
	done           chan error
	url            string
}

// startListen runs listen in-process against the fake edge and API until
// the returned run is stopped.
func startListen(t *testing.T, edge *ngroktest.Edge, env map[string]string, args ...string) *run {
	t.Helper()
	ios, _, _, _ := iostreams.Test()
	r := &run{stdout: &clitest.SyncBuffer{}, stderr: &clitest.SyncBuffer{}, done: make(chan error, 1)}
	ios.Out, ios.ErrOut = r.stdout, r.stderr
	getenv := func(k string) string { return env[k] }
	f := &cmdutil.Factory{
		IOStreams:  ios,
		HttpClient: func() (*http.Client, error) { return &http.Client{}, nil },
		Config: func() (*config.Config, error) {
			return config.Load(env["JASNI_CONFIG"], "", getenv)
		},
		Now:    time.Now,
		Getenv: getenv,
	}
	ready := make(chan string, 1)
	cmd := listen.NewCmdListen(f, listen.Deps{NgrokExtra: edge.ConnectOptions(), Ready: func(u string) { ready <- u }})
	cmd.SetArgs(args)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() {
		err := cmd.ExecuteContext(ctx)
		// Stopped as Ctrl-C stops it: exit 130, the documented way to stop.
		var silent *cmdutil.SilentError
		if errors.As(err, &silent) && silent.Code == cmdutil.ExitInterrupted && ctx.Err() != nil {
			err = nil
		}
		r.done <- err
	}()
	select {
	case r.url = <-ready:
	case err := <-r.done:
		t.Fatalf("listen stopped before it was ready: %v\n%s", err, r.stderr)
	case <-time.After(30 * time.Second):
		t.Fatalf("listen not ready:\n%s", r.stderr)
	}
	t.Cleanup(func() { r.stop(t) })
	return r
}

func (r *run) stop(t *testing.T) {
	if r.cancel == nil {
		return
	}
	r.cancel()
	r.cancel = nil
	select {
	case err := <-r.done:
		if err != nil {
			t.Errorf("listen returned %v", err)
		}
	case <-time.After(60 * time.Second):
		t.Error("listen did not stop")
	}
}

func TestListenKeepsOneDevelopmentWebhook(t *testing.T) {
	edge := ngroktest.Start(t, ngroktest.Options{Authtokens: []string{"ngrok-token"}})
	api := apitest.New(apiKey)
	defer api.Close()
	dir := t.TempDir()
	env := map[string]string{
		"NGROK_AUTHTOKEN": "ngrok-token", "JASNI_API_KEY": apiKey, "JASNI_API_URL": api.URL,
		"JASNI_CONFIG": filepath.Join(dir, "config.toml"), "JASNI_HISTORY": filepath.Join(dir, "history.db"),
	}

	// First run: a development webhook is created for the tunnel, its secret
	// announced and saved.
	first := startListen(t, edge, env)
	hooks := api.Webhooks()
	if len(hooks) != 1 || hooks[0].URL != "https://jasni-test.ngrok.example/webhooks/jasni" || !hooks[0].Active {
		t.Fatalf("webhooks after the first start: %+v", hooks)
	}
	secret := hooks[0].Secret
	if !strings.Contains(first.stderr.String(), secret) || !strings.Contains(first.stderr.String(), "New development webhook") {
		t.Errorf("the new secret was not announced:\n%s", first.stderr)
	}
	if !strings.Contains(first.stderr.String(), "with the secret from the development webhook") || strings.Contains(first.stderr.String(), "made now") {
		t.Errorf("the banner names the wrong secret:\n%s", first.stderr)
	}

	// A delivery signed as Jasni would sign it arrives verified.
	body := []byte(`{"event":"email.received","timestamp":"2024-01-15T10:30:00.000Z","data":{"id":"1"}}`)
	req, _ := http.NewRequest(http.MethodPost, "https://jasni-test.ngrok.example/webhooks/jasni", bytes.NewReader(body))
	req.Header.Set("X-Webhook-Signature", clitest.JasniSignature(secret, body))
	req.Header.Set("X-Webhook-Event", "email.received")
	resp, err := edge.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("delivery through the tunnel: %v %v", resp, err)
	}
	first.stop(t)
	if !strings.Contains(first.stdout.String(), "\tvalid\t") {
		t.Errorf("the delivery was not shown as verified:\n%s", first.stdout)
	}
	if api.Webhooks()[0].Active {
		t.Error("the webhook is still active after listen stopped")
	}

	// Second run: the same webhook, re-activated, the same secret.
	second := startListen(t, edge, env)
	hooks = api.Webhooks()
	if len(hooks) != 1 || hooks[0].Secret != secret || !hooks[0].Active {
		t.Fatalf("second start: %+v", hooks)
	}
	if strings.Contains(second.stderr.String(), "New development webhook") {
		t.Error("a second start announced a new webhook")
	}
	second.stop(t)

	// Deleted elsewhere: a new one is made and announced.
	req, _ = http.NewRequest(http.MethodDelete, api.URL+"/api/v1/webhooks/"+hooks[0].ID, nil)
	req.Header.Set("Authorization", "Bearer "+apiKey)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Fatalf("delete: %v", err)
	}
	third := startListen(t, edge, env)
	hooks = api.Webhooks()
	if len(hooks) != 1 || hooks[0].Secret == secret {
		t.Fatalf("after deletion: %+v", hooks)
	}
	if !strings.Contains(third.stderr.String(), "deleted elsewhere") || !strings.Contains(third.stderr.String(), hooks[0].Secret) {
		t.Errorf("the replacement was not announced:\n%s", third.stderr)
	}
	// Another listen on the profile takes the webhook over: this one, on
	// exit, leaves it active for the other.
	other := "https://other-tunnel.ngrok.example/webhooks/jasni"
	req, _ = http.NewRequest(http.MethodPatch, api.URL+"/api/v1/webhooks/"+hooks[0].ID, strings.NewReader(`{"url":"`+other+`"}`))
	req.Header.Set("Authorization", "Bearer "+apiKey)
	req.Header.Set("Content-Type", "application/json")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Fatalf("patch: %v %v", resp, err)
	}
	third.stop(t)
	if hooks := api.Webhooks(); !hooks[0].Active || hooks[0].URL != other {
		t.Errorf("the exiting listen paused a webhook another listen uses: %+v", hooks[0])
	}
	if !strings.Contains(third.stderr.String(), "leaving it active") {
		t.Errorf("listen did not say why it left the webhook active:\n%s", third.stderr)
	}

	data, _ := os.ReadFile(env["JASNI_CONFIG"])
	if !strings.Contains(string(data), hooks[0].ID) || !strings.Contains(string(data), hooks[0].Secret) {
		t.Errorf("config does not hold the development webhook:\n%s", data)
	}
	if strings.Contains(string(data), apiKey) || strings.Contains(string(data), "ngrok-token") {
		t.Error("the API key or the ngrok authtoken from the environment was written to the config")
	}
}

func TestListenBadNgrokAuthtoken(t *testing.T) {
	edge := ngroktest.Start(t, ngroktest.Options{Authtokens: []string{"good"}})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	stderr, err := listenUntilError(ctx, t, "bad", listen.Deps{NgrokExtra: edge.ConnectOptions(), NgrokConnectTimeout: 2 * time.Second})
	if err == nil || !strings.Contains(err.Error(), "ngrok rejected the authtoken (ERR_NGROK_107)") {
		t.Errorf("err = %v\n%s", err, stderr)
	}
}

// Ctrl-C through the ngrok tunnel: listen stops taking new connections
// (the endpoint is unbound) but keeps the session until the delivery in
// flight has its answer, and records it; then the session ends.
func TestListenShutdownThroughNgrok(t *testing.T) {
	edge := ngroktest.Start(t, ngroktest.Options{Authtokens: []string{"ngrok-token"}})
	arrived, release := make(chan struct{}, 1), make(chan struct{})
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		select {
		case <-release:
			w.WriteHeader(http.StatusAccepted)
		case <-r.Context().Done():
		}
	}))
	defer app.Close()
	var once sync.Once
	defer once.Do(func() { close(release) })

	dir := t.TempDir()
	history := filepath.Join(dir, "history.db")
	env := map[string]string{"NGROK_AUTHTOKEN": "ngrok-token", "WEBHOOK_SECRET": "whsec_x",
		"JASNI_CONFIG": filepath.Join(dir, "config.toml"), "JASNI_HISTORY": history}
	r := startListen(t, edge, env, "--forward", app.URL)

	body := []byte(`{"event":"email.sent","timestamp":"2024-01-15T10:30:00.000Z","data":{"id":"1"}}`)
	req, _ := http.NewRequest(http.MethodPost, ngroktest.DefaultPublicURL+"/webhooks/jasni", bytes.NewReader(body))
	req.Header.Set("X-Webhook-Signature", clitest.JasniSignature("whsec_x", body))
	answered := make(chan *http.Response, 1)
	failed := make(chan error, 1)
	go func() {
		resp, err := edge.Do(req)
		if err != nil {
			failed <- err
			return
		}
		answered <- resp
	}()
	<-arrived

	r.cancel() // Ctrl-C
	r.cancel = nil
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := edge.WaitUnbound(ctx); err != nil {
		t.Fatalf("listen did not stop accepting: %v", err)
	}
	if edge.Sessions() != 1 {
		t.Fatal("the session ended before the delivery in flight was answered")
	}
	once.Do(func() { close(release) })
	select {
	case resp := <-answered:
		if resp.StatusCode != http.StatusAccepted {
			t.Errorf("the sender got %d, want the app's 202", resp.StatusCode)
		}
	case err := <-failed:
		t.Fatalf("the delivery in flight failed: %v", err)
	}
	if err := <-r.done; err != nil {
		t.Errorf("listen returned %v", err)
	}
	if err := edge.WaitNoSessions(ctx); err != nil {
		t.Errorf("the session was not closed after shutdown: %v", err)
	}
	h, err := store.Open(history, store.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	list, err := h.List(context.Background(), store.Query{})
	if err != nil || len(list) != 1 || list[0].Answer != http.StatusAccepted {
		t.Errorf("history: %+v %v", list, err)
	}
}

// With an authtoken but no way to reach ngrok, listen fails at once with
// the unreachable exit code, not after the connect timeout with 1.
func TestListenNgrokUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err = listenUntilError(ctx, t, "tok", listen.Deps{NgrokExtra: []ngrok.AgentOption{ngrok.WithAgentConnectURL(addr)}, NgrokConnectTimeout: time.Minute})
	if cmdutil.CodeOf(err) != cmdutil.ExitUnreachable || ctx.Err() != nil {
		t.Errorf("err %v (exit %d), want the unreachable exit code at once", err, cmdutil.CodeOf(err))
	}
}

// listenUntilError runs listen in-process with an ngrok authtoken, for the
// cases where it never becomes ready, and returns its error and stderr.
func listenUntilError(ctx context.Context, t *testing.T, token string, deps listen.Deps) (*bytes.Buffer, error) {
	t.Helper()
	ios, _, _, stderr := iostreams.Test()
	dir := t.TempDir()
	env := map[string]string{"NGROK_AUTHTOKEN": token, "JASNI_CONFIG": filepath.Join(dir, "c.toml"), "JASNI_HISTORY": filepath.Join(dir, "h.db"), "WEBHOOK_SECRET": "whsec_x"}
	getenv := func(k string) string { return env[k] }
	f := &cmdutil.Factory{
		IOStreams:  ios,
		HttpClient: func() (*http.Client, error) { return &http.Client{}, nil },
		Config:     func() (*config.Config, error) { return config.Load(env["JASNI_CONFIG"], "", getenv) },
		Now:        time.Now,
		Getenv:     getenv,
	}
	cmd := listen.NewCmdListen(f, deps)
	cmd.SetArgs(nil)
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	return stderr, cmd.ExecuteContext(ctx)
}
