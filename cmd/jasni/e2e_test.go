package main_test

// End-to-end tests: build the real binary, run it as a user would, against
// real servers on loopback.

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jasni/jasni-cli/fixtures"
	"github.com/jasni/jasni-cli/internal/api/apitest"
	"github.com/jasni/jasni-cli/internal/clitest"
	"github.com/jasni/jasni-cli/internal/exampleapp"
)

var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "jasni-e2e")
	if err != nil {
		panic(err)
	}
	binDir = dir
	build := exec.Command("go", "build", "-o", dir+string(filepath.Separator), "../...")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		os.RemoveAll(dir)
		panic("build jasni: " + err.Error())
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func jasni(t *testing.T, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return jasniWithStdin(t, env, "", args...)
}

// jasniWithStdin is jasni with stdin.
func jasniWithStdin(t *testing.T, env []string, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(filepath.Join(binDir, "jasni"), args...)
	// A clean environment: nothing from the developer's shell or config leaks in.
	cmd.Env = append([]string{"HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH")}, env...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exitErr *exec.ExitError
	switch {
	case errors.As(err, &exitErr):
		code = exitErr.ExitCode()
	case err != nil:
		t.Fatalf("run jasni: %v", err)
	}
	return out.String(), errOut.String(), code
}

func TestEveryEventReachesADocsStyleReceiver(t *testing.T) {
	const secret = "whsec_e2e_0123456789abcdef"
	app := exampleapp.New(secret)
	srv := httptest.NewServer(app.Handler())
	defer srv.Close()
	url := srv.URL + "/webhooks/jasni"

	stdout, stderr, code := jasni(t, []string{"WEBHOOK_SECRET=" + secret}, "trigger", "--all", "--url", url, "--output", "json")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	lines := 0
	sc := bufio.NewScanner(strings.NewReader(stdout))
	for sc.Scan() {
		var r struct {
			Event  string `json:"event"`
			Status int    `json:"status"`
			OK     bool   `json:"ok"`
		}
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil || !r.OK || r.Status != 200 {
			t.Errorf("line %q: %v", sc.Text(), err)
		}
		lines++
	}
	if lines != 8 {
		t.Errorf("%d result lines, want 8", lines)
	}

	received := map[string]bool{}
	for _, d := range app.Received() {
		if !d.Verified {
			t.Errorf("%s arrived with a signature the docs' check rejects", d.Event)
		}
		received[d.Event] = true
	}
	for _, name := range fixtures.Names() {
		if !received[name] {
			t.Errorf("%s never arrived", name)
		}
	}

	_, stderr, code = jasni(t, []string{"WEBHOOK_SECRET=whsec_wrong"}, "trigger", "--all", "--url", url)
	if code != 3 {
		t.Errorf("wrong secret: exit %d, want 3\n%s", code, stderr)
	}
	if !strings.Contains(stderr, "8 of 8 deliveries failed") || !strings.Contains(stderr, "from WEBHOOK_SECRET") {
		t.Errorf("wrong secret: stderr does not explain:\n%s", stderr)
	}
}

func TestBadInputNeverPanics(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
	}{
		{"unknown command", []string{"trigerr"}, 2},
		{"unknown flag", []string{"trigger", "--nope"}, 2},
		{"unknown event", []string{"trigger", "email.recieved", "--url", "http://127.0.0.1:1/x", "--secret", "s"}, 2},
		{"bad output", []string{"version", "--output", "yaml"}, 2},
		{"no secret", []string{"trigger", "email.sent", "--url", "http://127.0.0.1:1/x"}, 2},
		{"verify from a missing file", []string{"verify", "missing.json", "--signature", "ab", "--secret", "s"}, 2},
		{"fixtures show unknown", []string{"fixtures", "show", "bounced"}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := jasni(t, nil, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d\n%s", code, tt.code, stderr)
			}
			if strings.Contains(stderr, "goroutine ") || strings.Contains(stderr, "panic:") {
				t.Errorf("stack trace:\n%s", stderr)
			}
			if !strings.HasPrefix(stderr, "Error: ") || strings.Count(stderr, "Error:") != 1 {
				t.Errorf("want exactly one error message, got:\n%s", stderr)
			}
			if stdout != "" {
				t.Errorf("stdout should be empty on error, got %q", stdout)
			}
		})
	}
}

func TestVersion(t *testing.T) {
	stdout, _, code := jasni(t, nil, "--version")
	if code != 0 || !regexp.MustCompile(`^jasni version \S+ \(commit \S+, built \S+\)\n$`).MatchString(stdout) {
		t.Errorf("--version: exit %d, %q", code, stdout)
	}
	stdout, _, code = jasni(t, nil, "version", "--output", "json")
	var info map[string]string
	if code != 0 || json.Unmarshal([]byte(stdout), &info) != nil || info["version"] == "" {
		t.Errorf("version --output json: exit %d, %q", code, stdout)
	}
}

// TestReadmeMainJob runs the README's fresh-machine "main job" command and
// the trigger it suggests, as written but for the built binary standing in
// for `go run ./cmd/jasni`, so the README cannot drift from what works.
func TestReadmeMainJob(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var listenLine, triggerLine string
	for _, line := range strings.Split(string(readme), "\n") {
		switch {
		case listenLine == "" && strings.HasPrefix(line, "go run ./cmd/jasni listen"):
			listenLine = line
		case triggerLine == "" && strings.HasPrefix(line, "go run ./cmd/jasni trigger --all"):
			triggerLine = line
		}
	}
	if listenLine == "" || triggerLine == "" {
		t.Fatal("README lacks the main-job listen command or the trigger that goes with it")
	}
	args := func(line string) []string { return strings.Fields(strings.TrimPrefix(line, "go run ./cmd/jasni "))[1:] }
	env := []string{"XDG_CONFIG_HOME=" + t.TempDir(), "XDG_STATE_HOME=" + t.TempDir()}

	listenArgs := args(listenLine)
	// The README names a fixed port; a test must not depend on it being free.
	for i, a := range listenArgs {
		if a == "--port" && i+1 < len(listenArgs) {
			listenArgs[i+1] = "0"
		}
	}
	base, stop := startListen(t, env, listenArgs...)
	triggerArgs := args(triggerLine)
	for i, a := range triggerArgs {
		if strings.HasPrefix(a, "http://127.0.0.1:") {
			triggerArgs[i] = base + "/webhooks/jasni"
		}
	}
	stdout, stderr, code := jasni(t, env, append([]string{"trigger"}, triggerArgs...)...)
	if code != 0 {
		t.Fatalf("README trigger: exit %d\n%s\n%s", code, stdout, stderr)
	}
	out, _, _ := stop()
	if n := strings.Count(out, "\tvalid\t"); n != 8 {
		t.Errorf("listen showed %d verified deliveries, want 8:\n%s", n, out)
	}
}

// TestNodeReceiver checks jasni against the docs' own language: a Node
// receiver transcribed from the Express example verifies every event.
func TestNodeReceiver(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed")
	}
	const secret = "whsec_node_e2e"
	recv := exec.Command(node, "testdata/receiver.js")
	recv.Env = append(os.Environ(), "WEBHOOK_SECRET="+secret)
	base, lines := startReceiver(t, recv)
	url := base + "/webhooks/jasni"

	stdout, stderr, code := jasni(t, nil, "trigger", "--all", "--url", url, "--secret", secret)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, name := range fixtures.Names() {
		if !lines.Scan() || lines.Text() != "received "+name+" "+name {
			t.Errorf("receiver logged %q, want %q", lines.Text(), "received "+name+" "+name)
		}
	}

	_, _, code = jasni(t, nil, "trigger", "email.sent", "--url", url, "--secret", "whsec_wrong")
	if code != 3 || !lines.Scan() || lines.Text() != "rejected" {
		t.Errorf("wrong secret: exit %d, receiver logged %q", code, lines.Text())
	}
}

// TestWebhooksAgainstTheFakeAPI drives registration end to end with the
// built binary: login, create (secret shown once), list, update, delete.
func TestWebhooksAgainstTheFakeAPI(t *testing.T) {
	const key = "jsk_e2e_0123456789abcdef"
	srv := apitest.New(key)
	defer srv.Close()
	config := filepath.Join(t.TempDir(), "config.toml")
	env := []string{"JASNI_CONFIG=" + config, "JASNI_API_URL=" + srv.URL}
	run := func(stdin string, args ...string) (string, string, int) {
		t.Helper()
		stdout, stderr, code := jasniWithStdin(t, env, stdin, args...)
		if strings.Contains(stdout+stderr, key) {
			t.Errorf("%v printed the API key", args)
		}
		return stdout, stderr, code
	}

	if _, stderr, code := run(key+"\n", "login"); code != 0 {
		t.Fatalf("login: %d %s", code, stderr)
	}
	stdout, stderr, code := run("", "webhooks", "create", "--url", "https://app.example.com/webhooks/jasni", "--events", "email.received", "--save-secret", "default")
	if code != 0 {
		t.Fatalf("create: %d %s", code, stderr)
	}
	wh := srv.Webhooks()[0]
	if strings.Count(stdout, wh.Secret) < 1 {
		t.Errorf("create did not show the secret:\n%s", stdout)
	}
	stdout, _, _ = run("", "webhooks", "list", "--output", "json")
	if !strings.Contains(stdout, wh.ID) || strings.Contains(stdout, wh.Secret) {
		t.Errorf("list: %s", stdout)
	}
	if _, stderr, code := run("", "webhooks", "update", wh.ID, "--description", "renamed"); code != 0 || srv.Webhooks()[0].Description != "renamed" {
		t.Errorf("update: %d %s", code, stderr)
	}
	if _, stderr, code := run("", "webhooks", "delete", wh.ID, "--yes"); code != 0 || len(srv.Webhooks()) != 0 {
		t.Errorf("delete: %d %s", code, stderr)
	}
	if _, stderr, code := run("", "webhooks", "get", wh.ID); code != 1 || !strings.Contains(stderr, "webhook "+wh.ID+" was not found (404)") {
		t.Errorf("get after delete: %d %s", code, stderr)
	}
	st, err := os.Stat(config)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("config file mode: %v %v", st, err)
	}
	data, _ := os.ReadFile(config)
	if !strings.Contains(string(data), wh.Secret) {
		t.Error("--save-secret did not save the secret")
	}
}

// startListen runs `jasni listen` and returns its URL once it is ready, and a
// function that stops it (SIGINT, as Ctrl-C) and returns what it printed.
func startListen(t *testing.T, env []string, args ...string) (url string, stop func() (stdout, stderr string, code int)) {
	t.Helper()
	l := runListen(t, env, args...)
	return l.url, l.stop
}

// listening is a running `jasni listen`.
type listening struct {
	url       string
	tryIt     string // the command the banner suggests
	inspector string // the inspector's URL from the banner
	cmd       *exec.Cmd
	out       *clitest.SyncBuffer
	errText   *clitest.SyncBuffer
	rest      chan struct{}
	stopped   bool
}

func runListen(t *testing.T, env []string, args ...string) *listening {
	t.Helper()
	cmd := exec.Command(filepath.Join(binDir, "jasni"), append([]string{"listen", "--tunnel", "local"}, args...)...)
	cmd.Env = append([]string{"HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH")}, env...)
	l := &listening{cmd: cmd, out: &clitest.SyncBuffer{}, errText: &clitest.SyncBuffer{}, rest: make(chan struct{})}
	cmd.Stdout = l.out
	errPipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(errPipe)
	ready := regexp.MustCompile(`Ready! Listening on (http://127\.0\.0\.1:\d+)/`)
	for sc.Scan() {
		l.errText.Write([]byte(sc.Text() + "\n"))
		if m := ready.FindStringSubmatch(sc.Text()); m != nil {
			l.url = m[1]
		}
		if m := inspectorLine.FindStringSubmatch(sc.Text()); m != nil {
			l.inspector = m[1]
		}
		// The banner ends with the trigger command to try.
		if l.url != "" && strings.Contains(sc.Text(), "Try it: ") {
			l.tryIt = sc.Text()[strings.Index(sc.Text(), "Try it: ")+len("Try it: "):]
			break
		}
	}
	if l.url == "" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("listen never became ready:\n%s", l.errText.String())
	}
	go func() {
		for sc.Scan() {
			l.errText.Write([]byte(sc.Text() + "\n"))
		}
		close(l.rest)
	}()
	t.Cleanup(func() { l.stop() })
	return l
}

var inspectorLine = regexp.MustCompile(`Inspector: (http://127\.0\.0\.1:\d+)$`)

// stop sends Ctrl-C and waits for listen to exit.
func (l *listening) stop() (string, string, int) {
	if !l.stopped {
		l.cmd.Process.Signal(os.Interrupt)
	}
	return l.wait()
}

// wait waits for listen to exit by itself.
func (l *listening) wait() (string, string, int) {
	if !l.stopped {
		l.stopped = true
		<-l.rest
		l.cmd.Wait()
	}
	return l.out.String(), l.errText.String(), l.cmd.ProcessState.ExitCode()
}

// TestListenForwardsToTheApp is the listen issue's acceptance test: every
// event reaches a docs-style app through listen with its signature intact, a
// tampered request is refused and never reaches the app, and deliveries made
// while the app is down are answered 502, kept, and resent once it is back.
func TestListenForwardsToTheApp(t *testing.T) {
	const secret = "whsec_listen_e2e"
	app := exampleapp.New(secret)
	appLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	appAddr := appLn.Addr().String()
	appSrv := &http.Server{Handler: app.Handler()}
	go appSrv.Serve(appLn)

	state := t.TempDir()
	env := []string{"WEBHOOK_SECRET=" + secret, "XDG_STATE_HOME=" + state, "XDG_CONFIG_HOME=" + t.TempDir()}
	base, stop := startListen(t, env, "--forward", appAddr)
	hook := base + "/webhooks/jasni"

	if stdout, stderr, code := jasni(t, env, "trigger", "--all", "--url", hook); code != 0 {
		t.Fatalf("trigger through listen: exit %d\n%s\n%s", code, stdout, stderr)
	}
	got := app.Received()
	if len(got) != 8 {
		t.Fatalf("app got %d deliveries through listen, want 8", len(got))
	}
	for _, d := range got {
		if !d.Verified {
			t.Errorf("%s reached the app with a signature it rejects", d.Event)
		}
	}

	// Tampered: signed for one body, sent with another.
	_, _, code := jasni(t, env, "trigger", "email.sent", "--url", hook, "--header", "X-Webhook-Signature: "+strings.Repeat("ab", 32))
	if code != 3 || len(app.Received()) != 8 {
		t.Errorf("tampered delivery: trigger exit %d, app now has %d", code, len(app.Received()))
	}

	// The app goes down: deliveries are answered 502 and kept.
	appSrv.Close()
	stdout, _, code := jasni(t, env, "trigger", "email.bounced", "--url", hook, "--output", "json")
	if code != 3 || !strings.Contains(stdout, `"status":502`) {
		t.Errorf("app down: exit %d, %s", code, stdout)
	}
	listOut, _, _ := jasni(t, env, "events", "list", "--event", "email.bounced", "--output", "json")
	var listed []struct {
		ID     string `json:"id"`
		Answer int    `json:"answer"`
	}
	if err := json.Unmarshal([]byte(listOut), &listed); err != nil || len(listed) == 0 || listed[0].Answer != 502 {
		t.Fatalf("history after the 502: %v %s", err, listOut)
	}

	// The app comes back on the same address; the stored delivery is resent.
	appLn, err = net.Listen("tcp", appAddr)
	if err != nil {
		t.Fatalf("reopen the app's port: %v", err)
	}
	appSrv = &http.Server{Handler: app.Handler()}
	go appSrv.Serve(appLn)
	defer appSrv.Close()
	if out, errOut, code := jasni(t, env, "events", "resend", listed[0].ID); code != 0 {
		t.Fatalf("resend: exit %d\n%s%s", code, out, errOut)
	}
	last := app.Received()[len(app.Received())-1]
	if last.Event != "email.bounced" || !last.Verified {
		t.Errorf("resent delivery: %s verified=%v", last.Event, last.Verified)
	}

	listenOut, listenErr, code := stop()
	if code != 130 {
		t.Errorf("listen exit %d after Ctrl-C, want 130 as documented\n%s", code, listenErr)
	}
	if n := strings.Count(listenOut, "\tvalid\t"); n != 9 {
		t.Errorf("listen showed %d signed deliveries, want 9:\n%s", n, listenOut)
	}
	if !strings.Contains(listenOut, "\tinvalid\t") || !strings.Contains(listenOut, "not running") {
		t.Errorf("listen output lacks the tampered or app-down lines:\n%s", listenOut)
	}
}

// startReceiver runs a receiver that prints "listening PORT" first and one
// line per delivery after, and returns its URL and its lines.
func startReceiver(t *testing.T, recv *exec.Cmd) (string, *bufio.Scanner) {
	t.Helper()
	out, err := recv.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	recv.Stderr = os.Stderr
	if err := recv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		recv.Process.Kill()
		recv.Wait()
	})
	lines := bufio.NewScanner(out)
	if !lines.Scan() || !strings.HasPrefix(lines.Text(), "listening ") {
		t.Fatalf("receiver did not start: %q", lines.Text())
	}
	return "http://127.0.0.1:" + strings.TrimPrefix(lines.Text(), "listening "), lines
}

// TestNoTerminalQuery: on a terminal that does not answer colour queries,
// jasni neither sends one (it leaked into the output) nor waits for the
// answer (seconds per command).
func TestNoTerminalQuery(t *testing.T) {
	script, err := exec.LookPath("script")
	if err != nil || runtime.GOOS != "linux" {
		t.Skip("needs util-linux script for a pseudo-terminal")
	}
	for _, args := range []string{"fixtures list", "trigger --help", "version"} {
		cmd := exec.Command(script, "-qc", filepath.Join(binDir, "jasni")+" "+args, "/dev/null")
		cmd.Env = append(os.Environ(), "HOME="+t.TempDir(), "NO_COLOR=", "TERM=xterm-256color")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s: %v", args, err)
		}
		if bytes.Contains(out, []byte("]11;?")) || bytes.Contains(out, []byte("\x1b[6n")) {
			t.Errorf("jasni %s queried the terminal: %q", args, out)
		}
	}
}

// TestUnknownSubcommands: at every level, a mistyped command exits 2 and
// names the nearest one (group commands printed their help and exited 0).
func TestUnknownSubcommands(t *testing.T) {
	for args, want := range map[string]string{
		"trigr":         `did you mean "trigger"?`,
		"events lst":    `did you mean "list"?`,
		"fixtures lst":  `did you mean "list"?`,
		"webhooks lst":  `did you mean "list"?`,
		"providers shw": `did you mean "show"?`,
	} {
		_, stderr, code := jasni(t, nil, strings.Fields(args)...)
		if code != 2 || !strings.Contains(stderr, want) {
			t.Errorf("jasni %s: exit %d %q, want 2 and %q", args, code, stderr, want)
		}
	}
	if stdout, _, code := jasni(t, nil, "events"); code != 0 || !strings.Contains(stdout, "Available Commands") {
		t.Errorf("jasni events alone: exit %d\n%s", code, stdout)
	}
}

// TestReadmeTour follows the README's tour, steps 1 and 2, as written:
// the example app with its secret, trigger straight at it, then listen in
// front of it and the trigger listen itself prints, events list and resend.
// Only ports change, so that the test does not depend on 3000 and 4000
// being free. No delivery may get a 401.
func TestReadmeTour(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	tour := string(readme)
	tour = tour[strings.Index(tour, "## A five-minute tour"):]
	tour = tour[:strings.Index(tour, "3. **")]
	var steps []string
	for _, line := range strings.Split(tour, "\n") {
		if line = strings.TrimSpace(line); strings.HasPrefix(line, "jasni ") || strings.HasPrefix(line, "example-app ") {
			steps = append(steps, line)
		}
	}
	want := []string{"example-app --secret whsec_demo", "jasni trigger --all --url http://localhost:3000/webhooks/jasni --secret whsec_demo",
		"jasni listen --tunnel local --port 4000 --forward 3000 --secret whsec_demo",
		"jasni trigger --all --url http://127.0.0.1:4000/webhooks/jasni", "jasni events list", "jasni events resend --last"}
	if strings.Join(steps, "\n") != strings.Join(want, "\n") {
		t.Fatalf("the tour's commands changed; update this test with them:\n%s", strings.Join(steps, "\n"))
	}
	words := func(line string) []string { return strings.Fields(line)[1:] }
	env := []string{"XDG_CONFIG_HOME=" + t.TempDir(), "XDG_STATE_HOME=" + t.TempDir()}

	// Step 1.
	appPort := startExampleApp(t, words(steps[0])...)
	trigger := strings.ReplaceAll(steps[1], "localhost:3000", "localhost:"+appPort)
	if out, errOut, code := jasni(t, env, words(trigger)...); code != 0 {
		t.Fatalf("%s: exit %d\n%s%s", trigger, code, out, errOut)
	}

	// Step 2: listen prints the trigger that goes with it, and it works as printed.
	listenArgs := words(strings.Replace(strings.Replace(steps[2], "--port 4000", "--port 0", 1), "--forward 3000", "--forward "+appPort, 1))
	l := runListen(t, env, listenArgs[1:]...)
	printed := l.tryIt
	if wantTry := strings.Replace(steps[3], "http://127.0.0.1:4000", l.url, 1); printed != wantTry {
		t.Errorf("listen suggests %q; the README says %q", printed, wantTry)
	}
	if out, errOut, code := jasni(t, env, words(printed)...); code != 0 {
		t.Fatalf("%s: exit %d\n%s%s", printed, code, out, errOut)
	}
	out, errOut, code := jasni(t, env, words(steps[4])...)
	if code != 0 || strings.Count(out, "\tvalid\t") != 8 {
		t.Errorf("%s: exit %d, want 8 verified deliveries\n%s%s", steps[4], code, out, errOut)
	}
	// Signed again with the secret of the listen that kept it: no note
	// that the original signature went as it was.
	if out, errOut, code := jasni(t, env, words(steps[5])...); code != 0 || strings.Contains(errOut, "note:") {
		t.Errorf("%s: exit %d\n%s%s", steps[5], code, out, errOut)
	}
	listenOut, listenErr, _ := l.stop()
	if strings.Count(listenOut, "\tvalid\t") != 8 || strings.Contains(listenOut, "\t401\t") || strings.Contains(listenErr, "answered 401") {
		t.Errorf("listen:\n%s%s", listenOut, listenErr)
	}
}

// An app that refuses what listen verified holds another secret: listen
// says so once, and how to fix it.
func TestListenSaysTheAppHasAnotherSecret(t *testing.T) {
	app := httptest.NewServer(exampleapp.New("whsec_app").Handler())
	defer app.Close()
	env := []string{"XDG_CONFIG_HOME=" + t.TempDir(), "XDG_STATE_HOME=" + t.TempDir(), "WEBHOOK_SECRET=whsec_listen"}
	l := runListen(t, env, "--forward", app.URL)
	if want := ` --secret "$WEBHOOK_SECRET"`; !strings.HasSuffix(l.tryIt, want) {
		t.Errorf("Try it: %q lacks %q", l.tryIt, want)
	}
	if _, errOut, code := jasni(t, env, "trigger", "email.sent", "email.received", "--url", l.url+"/webhooks/jasni"); code != 3 {
		t.Errorf("trigger: exit %d, want 3 (the app refused)\n%s", code, errOut)
	}
	_, errOut, _ := l.stop()
	if n := strings.Count(errOut, "Your app answered 401 to a delivery listen verified"); n != 1 || !strings.Contains(errOut, "Start your app with the same WEBHOOK_SECRET") {
		t.Errorf("the hint was shown %d times, want once:\n%s", n, errOut)
	}
}

// TestCheckAgainstReceivers runs `jasni check` as CI would: against the
// docs' receiver every check passes and replay warns; a handler that takes
// 2 s warns on response time, and fails with --strict; a Voisnap receiver
// that enforces the window passes the timestamp checks.
func TestCheckAgainstReceivers(t *testing.T) {
	t.Run("docs receiver", func(t *testing.T) {
		t.Parallel()
		node, err := exec.LookPath("node")
		if err != nil {
			t.Skip("node is not installed")
		}
		const secret = "whsec_check_e2e"
		recv := exec.Command(node, "testdata/receiver.js")
		recv.Env = append(os.Environ(), "WEBHOOK_SECRET="+secret)
		base, lines := startReceiver(t, recv)
		go func() {
			for lines.Scan() {
			}
		}()
		junit := filepath.Join(t.TempDir(), "check.xml")
		stdout, stderr, code := jasni(t, nil, "check", "--url", base+"/webhooks/jasni", "--secret", secret, "--junit", junit)
		if code != 0 || !strings.Contains(stderr, "20 passed, 1 warning, 0 failed") || !strings.Contains(stdout, "! replay") {
			t.Errorf("exit %d\n%s%s", code, stdout, stderr)
		}
		if b, err := os.ReadFile(junit); err != nil || strings.Count(string(b), "<testcase ") != 21 {
			t.Errorf("junit: %v\n%s", err, b)
		}
	})
	t.Run("slow handler", func(t *testing.T) {
		t.Parallel()
		const secret = "whsec_slow"
		app := exampleapp.New(secret)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			time.Sleep(2 * time.Second) // the handler's own work, not synchronisation
			app.Handler().ServeHTTP(w, r)
		}))
		defer srv.Close()
		for _, strict := range []bool{false, true} {
			args := []string{"check", "--url", srv.URL + "/webhooks/jasni", "--secret", secret, "--only", "response-time", "-o", "json"}
			want := 0
			if strict {
				args, want = append(args, "--strict"), 3
			}
			stdout, stderr, code := jasni(t, nil, args...)
			if code != want || !strings.Contains(stdout, `"status": "warn"`) || !strings.Contains(stdout, "acknowledge first") {
				t.Errorf("strict %v: exit %d, want %d\n%s%s", strict, code, want, stdout, stderr)
			}
		}
	})
	t.Run("voisnap", func(t *testing.T) {
		t.Parallel()
		const secret = "vs_check_e2e"
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			ts := r.Header.Get("X-Webhook-Timestamp")
			m := hmac.New(sha256.New, []byte(secret))
			m.Write([]byte(ts + "." + string(body)))
			n, err := strconv.ParseInt(ts, 10, 64)
			switch {
			case !hmac.Equal([]byte(r.Header.Get("X-Webhook-Signature")), []byte("sha256="+hex.EncodeToString(m.Sum(nil)))):
				http.Error(w, "Invalid signature", http.StatusUnauthorized)
			case err != nil || time.Since(time.Unix(n, 0)).Abs() > 300*time.Second:
				http.Error(w, "Request too old", http.StatusUnauthorized)
			case !json.Valid(body):
				http.Error(w, "bad JSON", http.StatusBadRequest)
			}
		}))
		defer srv.Close()
		stdout, stderr, code := jasni(t, nil, "check", "--url", srv.URL+"/webhooks/voisnap", "--provider", "voisnap", "--secret", secret)
		if code != 0 || !strings.Contains(stdout, "✓ stale-timestamp") || !strings.Contains(stdout, "✓ future-timestamp") || strings.Contains(stdout, "replay") {
			t.Errorf("exit %d\n%s%s", code, stdout, stderr)
		}
	})
}

// listen's Try it line carries the profile, provider and secret it uses,
// and works as printed, in a shell.
func TestTryItWorksAsPrinted(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		history    bool // listen is given JASNI_HISTORY, the shell it is tried in is not
		want       string
		showSecret bool
	}{
		{"profile", []string{"--profile", "staging"}, false, " --profile staging", false},
		// A secret typed on listen's command line is not shown again:
		// trigger, sent to listen's URL, signs as that listen verifies.
		{"secret that zsh would expand", []string{"--secret", "=a'b c"}, false, "/webhooks/jasni", false},
		// Unless trigger, run in another shell, would not find that listen.
		{"history elsewhere", []string{"--secret", "=a'b c"}, true, ` --secret '=a'\''b c'`, true},
		{"provider", []string{"--provider", "voisnap", "--secret", "vs"}, false, " --provider voisnap", false},
		{"no signature check", []string{"--no-signature-check"}, false, " --unsigned", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			configHome := t.TempDir()
			// A named profile must exist: an empty one.
			os.MkdirAll(filepath.Join(configHome, "jasni"), 0o700)
			os.WriteFile(filepath.Join(configHome, "jasni", "config.toml"), []byte("[staging]\n"), 0o600)
			env := []string{"XDG_CONFIG_HOME=" + configHome, "XDG_STATE_HOME=" + t.TempDir(), "PATH=" + binDir + ":" + os.Getenv("PATH")}
			listenEnv := env
			if tt.history {
				listenEnv = append(slices.Clip(env), "JASNI_HISTORY="+filepath.Join(t.TempDir(), "h.log"))
			}
			l := runListen(t, listenEnv, tt.args...)
			if !strings.HasSuffix(l.tryIt, tt.want) {
				t.Errorf("Try it: %q, want it to end with %q", l.tryIt, tt.want)
			}
			if strings.Contains(l.tryIt, "--secret") != tt.showSecret {
				t.Errorf("Try it: %q: shows the secret typed on listen's command line: %v, want %v", l.tryIt, !tt.showSecret, tt.showSecret)
			}
			sh := exec.Command("sh", "-c", l.tryIt)
			sh.Env = append([]string{"HOME=" + t.TempDir()}, env...)
			if out, err := sh.CombinedOutput(); err != nil {
				t.Errorf("%s: %v\n%s", l.tryIt, err, out)
			}
			out, _, _ := l.stop()
			if strings.Count(out, "\n") < 5 || strings.Contains(out, "\tinvalid\t") {
				t.Errorf("listen:\n%s", out)
			}
		})
	}
}

// A profile's secret is its provider's (Jasni's by default). listen for
// another provider that cannot use it (Discord verifies Ed25519 keys) sets
// it aside and makes a key for this run, saying so, without saving it over
// the profile's; trigger sent to that listen signs with it.
func TestAnotherProvidersSecretIsSetAside(t *testing.T) {
	tests := []struct {
		name    string
		profile string // the config file's text
		env     []string
		args    []string
		source  string // what the banner says was set aside
		saved   bool   // the key made is saved in the profile
	}{
		{"the profile's Jasni secret", "[default]\nwebhook_secret = 'whsec_from_the_profile'\n", nil, []string{"--provider", "discord"}, "made now, not saved: the secret from %s [default] webhook_secret is no Discord key", false},
		{"WEBHOOK_SECRET for Jasni", "", []string{"WEBHOOK_SECRET=whsec_demo"}, []string{"--provider", "discord"}, "made now, not saved: the secret from WEBHOOK_SECRET is no Discord key", false},
		{"nothing configured", "", nil, []string{"--provider", "discord"}, `made now, not saved: profile "default" is Jasni's`, false},
		// A profile of Discord's own keeps its key, WEBHOOK_SECRET or not.
		{"a profile of its own", "[d]\nprovider = 'discord'\n", []string{"WEBHOOK_SECRET=whsec_demo"}, []string{"--profile", "d"}, "made now, since the secret from WEBHOOK_SECRET is no Discord key", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			configHome := t.TempDir()
			configFile := filepath.Join(configHome, "jasni", "config.toml")
			if tt.profile != "" {
				os.MkdirAll(filepath.Dir(configFile), 0o700)
				os.WriteFile(configFile, []byte(tt.profile), 0o600)
			}
			env := append([]string{"XDG_CONFIG_HOME=" + configHome, "XDG_STATE_HOME=" + t.TempDir(), "PATH=" + binDir + ":" + os.Getenv("PATH")}, tt.env...)
			l := runListen(t, env, tt.args...)
			source := tt.source
			if strings.Contains(source, "%s") {
				source = fmt.Sprintf(source, configFile)
			}
			if banner := l.errText.String(); !strings.Contains(banner, source) {
				t.Errorf("the banner does not say where the key is from, and why (%q):\n%s", source, banner)
			}
			sh := exec.Command("sh", "-c", l.tryIt)
			sh.Env = append([]string{"HOME=" + t.TempDir()}, env...)
			if out, err := sh.CombinedOutput(); err != nil {
				t.Errorf("%s: %v\n%s", l.tryIt, err, out)
			}
			out, _, _ := l.stop()
			if strings.Count(out, "\tvalid\t") < 4 {
				t.Errorf("listen verified fewer than Discord's four events:\n%s", out)
			}
			got, _ := os.ReadFile(configFile)
			if saved := string(got) != tt.profile; saved != tt.saved || saved && !strings.Contains(string(got), "webhook_secret") {
				t.Errorf("the config file, key saved %v, want %v:\n%s", saved, tt.saved, got)
			}
		})
	}
}
