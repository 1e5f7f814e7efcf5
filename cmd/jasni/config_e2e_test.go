package main_test

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/jasni/jasni-cli/internal/api/apitest"
)

// The built binary against the fake Jasni API: login, config, auth status
// and the API trace, with the key checked absent from everything printed
// except where the user asks for it (config get api_key).
func TestConfigAuthAndTraceEndToEnd(t *testing.T) {
	const key = "jsk_live_e2e_7f3a9c0d1b2e4f56"
	srv := apitest.New(key)
	defer srv.Close()
	configHome := t.TempDir()
	env := []string{"XDG_CONFIG_HOME=" + configHome, "JASNI_API_URL=" + srv.URL, "NO_COLOR=1"}
	var printed strings.Builder
	run := func(stdin string, extraEnv []string, args ...string) (string, string, int) {
		t.Helper()
		stdout, stderr, code := jasniWithStdin(t, append(env[:len(env):len(env)], extraEnv...), stdin, args...)
		if !(len(args) == 3 && args[0] == "config" && args[1] == "get" && args[2] == "api_key") {
			printed.WriteString(stdout + stderr)
		}
		return stdout, stderr, code
	}
	expect := func(ok bool, what, stdout, stderr string) {
		t.Helper()
		if !ok {
			t.Fatalf("%s\nstdout:\n%s\nstderr:\n%s", what, stdout, stderr)
		}
	}

	stdout, stderr, code := run("", nil, "auth", "status")
	expect(code == 5 && strings.Contains(stdout, "API key   none"), "status before login", stdout, stderr)

	stdout, stderr, code = run(key+"\n", nil, "login")
	expect(code == 0 && strings.Contains(stderr, "jsk_…4f56"), "login", stdout, stderr)

	stdout, stderr, code = run("", nil, "auth", "status")
	expect(code == 0 && strings.Contains(stdout, "jsk_…4f56") && strings.Contains(stdout, "the API accepts the key (0 webhooks)"), "status after login", stdout, stderr)

	stdout, stderr, code = run("", nil, "config", "list")
	expect(code == 0 && strings.Contains(stdout, "api_key\tjsk_…4f56\t"), "config list", stdout, stderr)

	stdout, stderr, code = run("", nil, "config", "get", "api_key")
	expect(code == 0 && stdout == key+"\n", "config get api_key prints it whole", stdout, stderr)

	// JASNI_DEBUG=api traces the create, and the secret shown once is on stdout only.
	stdout, stderr, code = run("", []string{"JASNI_DEBUG=api"}, "webhooks", "create", "--url", "https://app.example.com/webhooks/jasni", "-o", "json")
	expect(code == 0 && strings.Contains(stderr, "* [1] POST "+srv.URL+"/api/v1/webhooks") &&
		strings.Contains(stderr, "> Authorization: Bearer [redacted]") && strings.Contains(stderr, `"secret":"whsec_[redacted]"`),
		"create with JASNI_DEBUG=api", stdout, stderr)
	secret := srv.Webhooks()[0].Secret
	if !strings.Contains(stdout, secret) || strings.Contains(stderr, secret) {
		t.Errorf("the secret should be on stdout alone:\nstdout %s\nstderr %s", stdout, stderr)
	}

	stdout, stderr, code = run("", nil, "--debug", "webhooks", "list")
	expect(code == 0 && strings.Contains(stderr, "* [1] 200 OK in ") && strings.Contains(stderr, "< Content-Type: application/json"), "list with --debug", stdout, stderr)

	stdout, stderr, code = run("", nil, "webhooks", "list")
	expect(code == 0 && !strings.Contains(stderr, "* [1]"), "no trace without asking", stdout, stderr)

	stdout, stderr, code = run("", nil, "auth", "status", "--profile", "Staging")
	expect(code == 1 && strings.Contains(stderr, `profile "Staging" is not in`) && strings.Contains(stderr, "Known profiles: default"), "unknown profile", stdout, stderr)

	if strings.Contains(printed.String(), key) {
		t.Errorf("the API key was printed:\n%s", printed.String())
	}
	data, err := os.ReadFile(filepath.Join(configHome, "jasni", "config.toml"))
	if err != nil || !strings.Contains(string(data), key) {
		t.Errorf("config file: %v\n%s", err, data)
	}
}

// A listen that cannot start (its port is taken) leaves no secret behind
// in the profile: one it made and saved would be used by the next run
// without a word that it was made.
func TestListenThatFailsSavesNoSecret(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	port := strconv.Itoa(taken.Addr().(*net.TCPAddr).Port)
	dir := t.TempDir()
	config := filepath.Join(dir, "config.toml")
	_, stderr, code := jasni(t, []string{"JASNI_CONFIG=" + config, "XDG_STATE_HOME=" + dir}, "listen", "--tunnel", "local", "--port", port, "--inspect=false")
	if code == 0 {
		t.Fatalf("listen on a taken port exited 0:\n%s", stderr)
	}
	if data, err := os.ReadFile(config); err == nil && strings.Contains(string(data), "webhook_secret") {
		t.Errorf("a secret was saved by a listen that never started:\n%s", data)
	}
}

// With jasni listen running here, trigger needs neither a URL nor a
// secret: it finds both, as the README's tour does it, and says where it
// sends. Once listen stops, it asks for a URL again.
func TestTriggerFindsTheRunningListen(t *testing.T) {
	dir := t.TempDir()
	env := []string{"JASNI_CONFIG=" + filepath.Join(dir, "config.toml"), "XDG_STATE_HOME=" + dir}
	l := runListen(t, env, "--inspect=false")
	_, stderr, code := jasni(t, env, "trigger", "--all")
	if code != 0 || !strings.Contains(stderr, "Sending to the jasni listen running here: "+l.url+"/webhooks/jasni") {
		t.Fatalf("trigger with listen running: exit %d\n%s", code, stderr)
	}
	if _, stderr, code := jasni(t, env, "trigger", "--all", "--provider", "stripe", "--secret", "whsec_x"); code != 2 || !strings.Contains(stderr, "verifies jasni deliveries, not stripe") {
		t.Errorf("another provider: exit %d\n%s", code, stderr)
	}
	if _, stderr, code := jasni(t, env, "events", "reset", "--yes"); code != 1 || !strings.Contains(stderr, "is writing to this history: stop it first") {
		t.Errorf("events reset under a running listen: exit %d\n%s", code, stderr)
	}
	out, _, _ := l.stop()
	if strings.Count(out, "\tvalid\t") != 8 {
		t.Errorf("listen verified %d of 8:\n%s", strings.Count(out, "\tvalid\t"), out)
	}
	if _, stderr, code := jasni(t, env, "trigger", "--all"); code != 2 || !strings.Contains(stderr, "or start jasni listen here first") {
		t.Errorf("after listen stopped: exit %d\n%s", code, stderr)
	}
}
