package main_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/jasni/jasni-cli/fixtures"
)

// mcpClient runs the reference TypeScript SDK's client (testdata/mcpclient)
// against the built `jasni mcp`, one step at a time, and decodes what it
// printed.
func mcpClient(t *testing.T, env []string, out any, step ...string) {
	t.Helper()
	dir := filepath.Join("testdata", "mcpclient")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@modelcontextprotocol", "sdk")); err != nil {
		if os.Getenv("JASNI_REQUIRE_SDK") != "" {
			t.Fatalf("the TypeScript MCP SDK is not installed: npm ci --prefix %s", dir)
		}
		t.Skipf("the TypeScript MCP SDK is not installed (npm ci --prefix %s)", dir)
	}
	cmd := exec.Command("node", append([]string{"client.mjs", filepath.Join(binDir, "jasni")}, step...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	if err != nil {
		t.Fatalf("node client.mjs %v: %v\n%s", step, err, stderr.String())
	}
	if err := json.Unmarshal(stdout, out); err != nil {
		t.Fatalf("%v: %v\n%s", step, err, stdout)
	}
}

// TestMCPWithTheTypeScriptSDK is issue 22's acceptance test: a client of
// another implementation spawns `jasni mcp`, lists its tools, triggers
// every Jasni event at a receiver written from the docs (all accepted),
// reads back what a `jasni listen` session kept, and is refused a URL off
// this machine with a message naming --allow-host.
func TestMCPWithTheTypeScriptSDK(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not installed")
	}
	const secret = "whsec_mcp_e2e"
	dir := t.TempDir()
	env := []string{"JASNI_CONFIG=" + filepath.Join(dir, "config.toml"), "XDG_STATE_HOME=" + dir, "WEBHOOK_SECRET=" + secret}

	var tools []struct {
		Name                string
		ReadOnly, OpenWorld bool
	}
	mcpClient(t, env, &tools, "tools")
	if len(tools) != 10 {
		t.Errorf("tools: %+v", tools)
	}

	recv := exec.Command("node", "testdata/receiver.js")
	recv.Env = append(os.Environ(), "WEBHOOK_SECRET="+secret)
	base, lines := startReceiver(t, recv)
	var triggered struct {
		Sent, Accepted int
		Deliveries     []struct {
			Event  string
			OK     bool
			Status int
		}
	}
	mcpClient(t, env, &triggered, "trigger", base+"/webhooks/jasni")
	if triggered.Sent != len(fixtures.Names()) || triggered.Accepted != triggered.Sent {
		t.Fatalf("trigger: %+v", triggered)
	}
	for _, name := range fixtures.Names() {
		if !lines.Scan() || lines.Text() != "received "+name+" "+name {
			t.Errorf("the receiver logged %q, want %q", lines.Text(), "received "+name+" "+name)
		}
	}

	// A listen session forwarding to the receiver, fed by jasni trigger;
	// after it, the client reads the deliveries back.
	l := runListen(t, env, "--forward", base)
	if _, stderr, code := jasni(t, env, "trigger", "--all", "--url", l.url+"/webhooks/jasni"); code != 0 {
		t.Fatalf("trigger through listen: %d %s", code, stderr)
	}
	l.stop()
	var history struct {
		List struct {
			Deliveries []struct{ ID, Event, Verdict string }
		}
		Details []struct {
			ID, Event string
			Headers   map[string][]string
			Request   struct{ Body string }
			Attempts  []struct{ Status int }
		}
	}
	mcpClient(t, env, &history, "history")
	if len(history.List.Deliveries) != len(fixtures.Names()) || len(history.Details) != len(fixtures.Names()) {
		t.Fatalf("history: %+v", history)
	}
	var events []string
	for _, d := range history.Details {
		events = append(events, d.Event)
		if len(d.Attempts) != 1 || d.Attempts[0].Status != 200 || !strings.Contains(d.Request.Body, `"event"`) || len(d.Headers) == 0 {
			t.Errorf("get_delivery %s: %+v", d.ID, d)
		}
	}
	slices.Sort(events)
	want := slices.Sorted(slices.Values(fixtures.Names()))
	if !slices.Equal(events, want) {
		t.Errorf("events %v, want %v", events, want)
	}

	var refused struct{ Error string }
	mcpClient(t, env, &refused, "refused", "https://app.example.com/webhooks/jasni")
	if !strings.Contains(refused.Error, "--allow-host app.example.com") {
		t.Errorf("a URL off this machine: %+v", refused)
	}
}
