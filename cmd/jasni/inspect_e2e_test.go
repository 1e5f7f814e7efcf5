package main_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/jasni/jasni-cli/internal/clitest"
	"github.com/jasni/jasni-cli/internal/exampleapp"
)

// TestInspector is the inspector issue's acceptance test, against the built
// binary: the banner's inspector URL lists every delivery of trigger --all
// in Chromium, an edited body replayed through the API reaches the app and
// verifies, the HAR export holds the original bodies, and a replay without
// the token or with a foreign Host is refused. Then `jasni inspect` serves
// the same history without a listener.
func TestInspector(t *testing.T) {
	const secret = "whsec_inspect_e2e"
	app := exampleapp.New(secret)
	appLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	appSrv := &http.Server{Handler: app.Handler()}
	go appSrv.Serve(appLn)
	defer appSrv.Close()
	ctx := clitest.Browser(t)

	env := []string{"WEBHOOK_SECRET=" + secret, "XDG_STATE_HOME=" + t.TempDir(), "XDG_CONFIG_HOME=" + t.TempDir()}
	l := runListen(t, env, "--forward", appLn.Addr().String())
	if l.inspector == "" {
		t.Fatalf("the banner has no Inspector: line:\n%s", l.errText.String())
	}
	clitest.Do(t, ctx, "open the inspector", chromedp.Navigate(l.inspector+"/"), chromedp.WaitVisible(chromedp.CSS(`#conn.live`)))

	out, stderr, code := jasni(t, env, "trigger", "--all", "--url", l.url+"/webhooks/jasni", "--output", "json")
	if code != 0 {
		t.Fatalf("trigger --all: exit %d\n%s%s", code, out, stderr)
	}
	sent := strings.Count(strings.TrimSpace(out), "\n") + 1
	start := time.Now()
	var shown int
	clitest.Do(t, ctx, "the live list shows every delivery",
		clitest.Into(&shown, chromedp.Poll[int](`document.querySelectorAll('#rows tr').length >= `+strconv.Itoa(sent)+` && document.querySelectorAll('#rows tr').length`)))
	t.Logf("%d deliveries listed %v after trigger returned", shown, time.Since(start).Round(time.Millisecond))

	// The page's token, as the page reads it.
	var token string
	clitest.Do(t, ctx, "read the token", clitest.Into(&token, chromedp.Evaluate[string](`document.querySelector('meta[name="jasni-token"]').content`)))
	var list struct{ Deliveries []struct{ ID, Event string } }
	getJSON(t, l.inspector+"/api/deliveries", &list)
	if len(list.Deliveries) != sent {
		t.Fatalf("the API lists %d deliveries, want %d", len(list.Deliveries), sent)
	}
	id := list.Deliveries[0].ID

	edited := `{"event":"` + list.Deliveries[0].Event + `","timestamp":"2026-01-01T00:00:00.000Z","data":{"edited":"in the inspector"}}`
	replay := func(host, tok, body string) (int, []byte) {
		req, _ := http.NewRequest("POST", l.inspector+"/api/deliveries/"+id+"/replay", strings.NewReader(body))
		if host != "" {
			req.Host = host
		}
		if tok != "" {
			req.Header.Set("X-Jasni-Token", tok)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	q, _ := json.Marshal(map[string]string{"body": edited})
	before := len(app.Received())
	st, ans := replay("", token, string(q))
	var r struct {
		OK      bool
		Attempt struct{ Status int }
	}
	if json.Unmarshal(ans, &r); st != 200 || !r.OK || r.Attempt.Status != 200 {
		t.Fatalf("replay of an edited body: %d %s", st, ans)
	}
	got := app.Received()
	if len(got) != before+1 || !strings.Contains(string(got[len(got)-1].Body), "in the inspector") || !got[len(got)-1].Verified {
		t.Errorf("the app did not get the edited body, verified: %d deliveries", len(got))
	}
	if st, ans := replay("", "", string(q)); st != 403 {
		t.Errorf("replay without the token: %d %s, want 403", st, ans)
	}
	if st, ans := replay("evil.example", token, string(q)); st != 403 {
		t.Errorf("replay with Host evil.example: %d %s, want 403", st, ans)
	}

	// HAR of everything: the original bodies, as the history has them.
	ids := make([]string, len(list.Deliveries))
	for i, d := range list.Deliveries {
		ids[i] = d.ID
	}
	var har struct {
		Log struct {
			Version string
			Entries []struct {
				Request struct {
					PostData struct{ Text string }
				}
				DeliveryID string `json:"_jasniDelivery"`
			}
		}
	}
	getJSON(t, l.inspector+"/api/export.har?ids="+strings.Join(ids, ","), &har)
	if har.Log.Version != "1.2" || len(har.Log.Entries) != sent+1 { // and the replay
		t.Fatalf("HAR version %q with %d entries, want 1.2 with %d", har.Log.Version, len(har.Log.Entries), sent+1)
	}
	for _, e := range har.Log.Entries[:3] {
		out, _, _ := jasni(t, env, "events", "show", e.DeliveryID, "--output", "json")
		var shown struct{ Body json.RawMessage }
		json.Unmarshal([]byte(out), &shown)
		if !jsonEqual(shown.Body, []byte(e.Request.PostData.Text)) && !strings.Contains(e.Request.PostData.Text, "in the inspector") {
			t.Errorf("HAR body of %s differs from the history's", e.DeliveryID)
		}
	}
	if _, _, code := l.stop(); code != 130 {
		t.Errorf("listen exit %d after Ctrl-C, want 130", code)
	}

	// jasni inspect: the same history, no listener.
	cmd := exec.Command(filepath.Join(binDir, "jasni"), "inspect", "--inspect", "127.0.0.1:0", "--forward", appLn.Addr().String())
	cmd.Env = append([]string{"HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH")}, env...)
	errPipe, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(errPipe)
	var url string
	for url == "" && sc.Scan() {
		if m := regexp.MustCompile(`^Inspector: (http://\S+)`).FindStringSubmatch(sc.Text()); m != nil {
			url = m[1]
		}
	}
	go io.Copy(io.Discard, errPipe)
	if url == "" {
		cmd.Process.Kill()
		t.Fatal("jasni inspect printed no Inspector: line")
	}
	var again struct{ Deliveries []struct{ ID string } }
	getJSON(t, url+"/api/deliveries", &again)
	if len(again.Deliveries) != sent {
		t.Errorf("jasni inspect lists %d deliveries, want %d", len(again.Deliveries), sent)
	}
	cmd.Process.Signal(os.Interrupt)
	if err := cmd.Wait(); cmd.ProcessState.ExitCode() != 130 {
		t.Errorf("jasni inspect exit %v after Ctrl-C, want 130", err)
	}
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

func jsonEqual(a, b []byte) bool {
	var x, y bytes.Buffer
	return json.Compact(&x, a) == nil && json.Compact(&y, b) == nil && bytes.Equal(x.Bytes(), y.Bytes())
}
