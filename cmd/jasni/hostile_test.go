package main_test

// The listener is on the internet: these tests send what a stranger could to
// the built binary on loopback and check that it stays bounded, honest and
// harmless to the developer's terminal.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jasni/jasni-cli/internal/clitest"
	"github.com/jasni/jasni-cli/internal/exampleapp"
)

// flood sends n requests from so many senders; build makes each one.
func flood(t *testing.T, n, senders int, build func(i int) *http.Request) {
	t.Helper()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: senders}, Timeout: time.Minute}
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				resp, err := client.Do(build(i))
				if err != nil {
					continue // a refused large body may be cut off mid-send
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}()
	}
	for i := range n {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
}

func unsigned(url string, body []byte) func(int) *http.Request {
	return func(int) *http.Request {
		req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		return req
	}
}

func historySize(t *testing.T, state string) int64 {
	t.Helper()
	var total int64
	matches, _ := filepath.Glob(filepath.Join(state, "jasni", "history.db*"))
	for _, m := range matches {
		if fi, err := os.Stat(m); err == nil {
			total += fi.Size()
		}
	}
	return total
}

// TestListenUnderJunk: unsigned floods neither evict verified deliveries
// nor grow the history.
func TestListenUnderJunk(t *testing.T) {
	const secret = "whsec_hostile"
	app := exampleapp.New(secret)
	appSrv := httptest.NewServer(app.Handler())
	defer appSrv.Close()
	state := t.TempDir()
	env := []string{"WEBHOOK_SECRET=" + secret, "XDG_STATE_HOME=" + state, "XDG_CONFIG_HOME=" + t.TempDir()}
	l := runListen(t, env, "--forward", appSrv.URL)
	hook := l.url + "/webhooks/jasni"

	if out, errOut, code := jasni(t, env, "trigger", "--all", "--url", hook); code != 0 {
		t.Fatalf("trigger: %d\n%s%s", code, out, errOut)
	}
	flood(t, 1500, 16, unsigned(hook, bytes.Repeat([]byte("j"), 2<<10)))
	flood(t, 1000, 8, unsigned(hook, bytes.Repeat([]byte("m"), 1<<20)))
	if n := len(app.Received()); n != 8 {
		t.Errorf("the app got %d deliveries, want the 8 signed ones", n)
	}

	out, errOut, code := jasni(t, env, "events", "list", "--limit", "0", "--output", "json")
	var list []struct {
		Event    string `json:"event"`
		Rejected bool   `json:"rejected"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &list) != nil {
		t.Fatalf("events list: %d %s %s", code, out, errOut)
	}
	if len(list) != 8 {
		t.Errorf("%d deliveries in the history after the flood, want the 8 signed ones", len(list))
	}
	l.stop()
	if size := historySize(t, state); size > 32<<20 {
		t.Errorf("the history is %d bytes after 2,500 unsigned requests (1 GB of bodies)", size)
	}
}

// TestNoTerminalEscapes: what a stranger sends reaches the terminal only
// with its control characters made visible, and JSON stays valid.
func TestNoTerminalEscapes(t *testing.T) {
	state := t.TempDir()
	env := []string{"WEBHOOK_SECRET=whsec_x", "XDG_STATE_HOME=" + state, "XDG_CONFIG_HOME=" + t.TempDir()}
	l := runListen(t, env)
	hook := l.url + "/webhooks/jasni"

	// Go's HTTP stack refuses raw C0 controls in header values, so those
	// arrive in bodies: raw in an unsigned one, and JSON-escaped in a signed
	// one, whose event type jasni decodes. C1 and bidi controls do pass in
	// headers (as UTF-8).
	evil := "\x1b]0;PWNED\x07\x1b[2J\r\u009b31m✓ signed\x1b]52;c;aGk=\x07\u202e"
	req, _ := http.NewRequest(http.MethodPost, hook, strings.NewReader("raw "+evil))
	req.Header.Set("X-Webhook-Event", "\u009b31mfake\u202e")
	req.Header.Set("X-Evil", "\u009b\u202e")
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
	} else {
		t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]any{"event": evil, "data": map[string]string{"subject": evil}})
	req, _ = http.NewRequest(http.MethodPost, hook, bytes.NewReader(body))
	req.Header.Set("X-Webhook-Signature", clitest.JasniSignature("whsec_x", body))
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
	} else {
		t.Fatal(err)
	}
	listenOut, listenErr, _ := l.stop()

	check := func(what, text string) {
		t.Helper()
		for _, bad := range []string{"\x1b", "\x07", "\u009b", "\u202e", "\r"} {
			if strings.Contains(text, bad) {
				t.Errorf("%s printed %q raw:\n%q", what, bad, text)
			}
		}
	}
	check("listen", listenOut+listenErr)
	if !strings.Contains(listenOut, `\x1b]0;PWNED`) {
		t.Errorf("listen should show the escape made visible:\n%s", listenOut)
	}
	var ids []string
	for _, args := range [][]string{{"events", "list"}, {"events", "list", "--rejected"}} {
		out, errOut, _ := jasni(t, env, args...)
		check(strings.Join(args, " "), out+errOut)
		for _, f := range strings.Fields(out) {
			if strings.HasPrefix(f, "dlv_") {
				ids = append(ids, f)
			}
		}
	}
	if len(ids) != 2 {
		t.Fatalf("want one delivery and one refused request, got %v", ids)
	}
	for _, id := range ids {
		out, errOut, _ := jasni(t, env, "events", "show", id)
		check("events show", out+errOut)
		out, _, _ = jasni(t, env, "events", "show", id, "--output", "json")
		check("events show --output json", out)
		var v map[string]any
		if err := json.Unmarshal([]byte(out), &v); err != nil {
			t.Errorf("events show --output json is not JSON: %v", err)
		} else if v["event"] != evil && v["event"] != "\u009b31mfake\u202e" {
			t.Errorf("the JSON changed the event: %q", v["event"])
		}
	}
}

func peakRSS(t *testing.T, pid int) int64 {
	t.Helper()
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Skip("no /proc here")
	}
	for _, line := range strings.Split(string(status), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	t.Skip("no VmHWM")
	return 0
}

// TestMemoryBoundedUnderLargeBodies: 30 concurrent 10 MiB bodies, unsigned
// and then with a well-formed wrong signature (which must be read to be
// checked), keep listen under 256 MiB.
func TestMemoryBoundedUnderLargeBodies(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	env := []string{"WEBHOOK_SECRET=whsec_x", "XDG_STATE_HOME=" + t.TempDir(), "XDG_CONFIG_HOME=" + t.TempDir()}
	l := runListen(t, env)
	hook := l.url + "/webhooks/jasni"
	big := bytes.Repeat([]byte("M"), 10<<20)
	flood(t, 30, 30, unsigned(hook, big))
	flood(t, 60, 30, func(int) *http.Request {
		req, _ := http.NewRequest(http.MethodPost, hook, bytes.NewReader(big))
		req.Header.Set("X-Webhook-Signature", strings.Repeat("ab", 32))
		return req
	})
	rss := peakRSS(t, l.cmd.Process.Pid)
	t.Logf("peak RSS %d MiB", rss>>20)
	if rss > 256<<20 {
		t.Errorf("peak RSS %d MiB under 30 concurrent 10 MiB bodies, want at most 256", rss>>20)
	}
}

// TestDamagedHistory: listen says which file and what to run, and goes on
// forwarding; events says the same and exits non-zero.
func TestDamagedHistory(t *testing.T) {
	const secret = "whsec_damaged"
	app := exampleapp.New(secret)
	appSrv := httptest.NewServer(app.Handler())
	defer appSrv.Close()
	state := t.TempDir()
	path := filepath.Join(state, "jasni", "history.db")
	os.MkdirAll(filepath.Dir(path), 0o700)
	if err := os.WriteFile(path, bytes.Repeat([]byte{0xde, 0xad}, 5000), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"WEBHOOK_SECRET=" + secret, "XDG_STATE_HOME=" + state, "XDG_CONFIG_HOME=" + t.TempDir()}
	l := runListen(t, env, "--forward", appSrv.URL)
	if out, errOut, code := jasni(t, env, "trigger", "email.received", "--url", l.url+"/webhooks/jasni"); code != 0 {
		t.Fatalf("trigger through listen with a damaged history: %d\n%s%s", code, out, errOut)
	}
	_, listenErr, code := l.stop()
	if code != 130 || len(app.Received()) != 1 {
		t.Errorf("listen exit %d, app got %d", code, len(app.Received()))
	}
	for _, want := range []string{path, "cannot be read", "jasni events reset", "without a history"} {
		if !strings.Contains(listenErr, want) {
			t.Errorf("listen's warning lacks %q:\n%s", want, listenErr)
		}
	}
	_, errOut, code := jasni(t, env, "events", "list")
	if code == 0 || !strings.Contains(errOut, "jasni events reset") || strings.Contains(errOut, "panic") {
		t.Errorf("events list: exit %d\n%s", code, errOut)
	}
	_, errOut, code = jasni(t, env, "events", "reset")
	if code != 0 || !strings.Contains(errOut, "Moved the history to") {
		t.Errorf("events reset: exit %d\n%s", code, errOut)
	}
	if _, errOut, code = jasni(t, env, "events", "list"); code != 0 {
		t.Errorf("events list after reset: exit %d\n%s", code, errOut)
	}
}

// TestCtrlC: the first Ctrl-C lets a delivery in flight finish and keeps
// its record; a second one exits at once while the app still hangs.
func TestCtrlC(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("signals")
	}
	release := make(chan struct{})
	arrived := make(chan struct{}, 4)
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		select {
		case <-release:
			w.WriteHeader(http.StatusAccepted)
		case <-r.Context().Done():
		}
	}))
	defer app.Close()
	// Whatever happens, no handler is left waiting when the app closes.
	var once sync.Once
	defer once.Do(func() { close(release) })
	send := func(hook string) chan int {
		status := make(chan int, 1)
		go func() {
			body := []byte(`{"event":"email.sent","timestamp":"2024-01-15T10:30:00.000Z","data":{"id":"x"}}`)
			req, _ := http.NewRequest(http.MethodPost, hook, bytes.NewReader(body))
			req.Header.Set("X-Webhook-Signature", clitest.JasniSignature("whsec_x", body))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				status <- -1
				return
			}
			resp.Body.Close()
			status <- resp.StatusCode
		}()
		return status
	}

	t.Run("first Ctrl-C finishes what is in flight", func(t *testing.T) {
		env := []string{"WEBHOOK_SECRET=whsec_x", "XDG_STATE_HOME=" + t.TempDir(), "XDG_CONFIG_HOME=" + t.TempDir()}
		l := runListen(t, env, "--forward", app.URL)
		status := send(l.url + "/webhooks/jasni")
		<-arrived
		l.cmd.Process.Signal(os.Interrupt)
		// listen stops accepting: a new connection is refused.
		waitRefused(t, strings.TrimPrefix(l.url, "http://"))
		release <- struct{}{}
		if got := <-status; got != http.StatusAccepted {
			t.Errorf("the delivery in flight got %d, want the app's 202", got)
		}
		_, errOut, code := l.wait()
		if code != 130 {
			t.Errorf("exit %d, want 130 as documented for Ctrl-C\n%s", code, errOut)
		}
		out, _, _ := jasni(t, env, "events", "list", "--output", "json")
		if !strings.Contains(out, `"answer": 202`) {
			t.Errorf("the history lacks the delivery answered during shutdown:\n%s", out)
		}
	})

	t.Run("second Ctrl-C exits at once", func(t *testing.T) {
		env := []string{"WEBHOOK_SECRET=whsec_x", "XDG_STATE_HOME=" + t.TempDir(), "XDG_CONFIG_HOME=" + t.TempDir()}
		l := runListen(t, env, "--forward", app.URL)
		send(l.url + "/webhooks/jasni")
		<-arrived
		l.cmd.Process.Signal(os.Interrupt)
		waitRefused(t, strings.TrimPrefix(l.url, "http://"))
		l.cmd.Process.Signal(os.Interrupt)
		exited := make(chan struct{})
		go func() { l.cmd.Wait(); close(exited) }()
		select {
		case <-exited:
		case <-time.After(20 * time.Second): // the app would hold it 30 s
			t.Fatal("listen still running 20s after the second Ctrl-C")
		}
		l.stopped = true
		if code := l.cmd.ProcessState.Sys().(syscall.WaitStatus).ExitStatus(); code != 130 {
			t.Errorf("exit %d, want 130", code)
		}
	})
}

// waitRefused waits until addr refuses connections: listen has stopped
// accepting.
func waitRefused(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return
		}
		c.Close()
		runtime.Gosched()
	}
	t.Fatal("listen still accepts connections after Ctrl-C")
}

// TestKill9: killed in the middle of a stream of deliveries, listen leaves a
// history that opens and holds what was answered, all but the last moments.
func TestKill9(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("signals")
	}
	state := t.TempDir()
	env := []string{"WEBHOOK_SECRET=whsec_x", "XDG_STATE_HOME=" + state, "XDG_CONFIG_HOME=" + t.TempDir()}
	l := runListen(t, env)
	hook := l.url + "/webhooks/jasni"
	var answered atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for s := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Timeout: 10 * time.Second}
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				body := []byte(fmt.Sprintf(`{"event":"email.sent","timestamp":"2024-01-15T10:30:00.000Z","data":{"id":"%d-%d"}}`, s, i))
				req, _ := http.NewRequest(http.MethodPost, hook, bytes.NewReader(body))
				req.Header.Set("X-Webhook-Signature", clitest.JasniSignature("whsec_x", body))
				resp, err := client.Do(req)
				if err != nil {
					return
				}
				resp.Body.Close()
				if resp.StatusCode == 200 {
					answered.Add(1)
				}
			}
		}()
	}
	for answered.Load() < 2000 {
		runtime.Gosched()
	}
	l.cmd.Process.Kill()
	close(stop)
	wg.Wait()
	l.wait()

	out, errOut, code := jasni(t, env, "events", "list", "--limit", "0", "--output", "json")
	var list []map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &list) != nil {
		t.Fatalf("events list after kill -9: exit %d\n%s", code, errOut)
	}
	// Sink mode answers 200 only for what it queued; a kill loses at most
	// the group being gathered (20 ms of deliveries).
	// (Up to one per sender may be recorded without its answer arriving.)
	if got, sent := int64(len(list)), answered.Load(); got < sent-500 || got > sent+8 {
		t.Errorf("the history holds %d deliveries of the %d answered 200", got, sent)
	}
}
