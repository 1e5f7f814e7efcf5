package trigger_test

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jasni/jasni-cli/internal/clitest"
	"github.com/jasni/jasni-cli/internal/cmdutil"
	"github.com/jasni/jasni-cli/internal/exampleapp"
	"github.com/jasni/jasni-cli/internal/golden"
)

const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

func startApp(t *testing.T) (*exampleapp.App, string) {
	t.Helper()
	app := exampleapp.New(secret)
	srv := httptest.NewServer(app.Handler())
	t.Cleanup(srv.Close)
	return app, srv.URL + "/webhooks/jasni"
}

var durations = regexp.MustCompile(`\d+(\.\d+)?m?s\b`)

// stable replaces what changes from run to run (durations, ports).
func stable(s, url string) string {
	s = strings.ReplaceAll(s, url, "URL")
	return durations.ReplaceAllString(s, "Nms")
}

func TestTriggerAllReachTheDocsReceiver(t *testing.T) {
	app, url := startApp(t)
	res := clitest.Run(t, clitest.Options{}, "trigger", "--all", "--url", url, "--secret", secret)
	if res.Code != cmdutil.ExitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", res.Code, res.Stdout, res.Stderr)
	}
	golden.Assert(t, stable(res.Stdout, url))

	got := app.Received()
	if len(got) != 8 {
		t.Fatalf("receiver got %d deliveries, want 8", len(got))
	}
	for _, d := range got {
		if !d.Verified {
			t.Errorf("%s: signature did not verify the docs' way", d.Event)
		}
		for header, want := range map[string]string{
			"Content-Type":    "application/json",
			"User-Agent":      "JasniAI-Webhooks/1.0",
			"X-Webhook-Event": d.Event,
		} {
			if v := d.Header.Get(header); v != want {
				t.Errorf("%s: %s = %q, want %q", d.Event, header, v, want)
			}
		}
		ts := d.Header.Get("X-Webhook-Timestamp")
		if !regexp.MustCompile(`^\d{10}$`).MatchString(ts) {
			t.Errorf("%s: X-Webhook-Timestamp = %q, want Unix seconds", d.Event, ts)
		}
		var env struct {
			Event     string          `json:"event"`
			Timestamp string          `json:"timestamp"`
			Data      json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(d.Body, &env); err != nil {
			t.Fatalf("%s: body is not JSON: %v", d.Event, err)
		}
		when, err := time.Parse("2006-01-02T15:04:05.000Z", env.Timestamp)
		if err != nil || time.Since(when) > time.Hour || time.Since(when) < -time.Minute {
			t.Errorf("%s: timestamp %q is not fresh ISO 8601 with ms", d.Event, env.Timestamp)
		}
		if !strings.HasPrefix(string(d.Body), `{"event":"`+d.Event+`","timestamp":"`) {
			t.Errorf("%s: body does not start with event then timestamp: %.60s", d.Event, d.Body)
		}
		if strings.Contains(string(d.Body), `\u003c`) {
			t.Errorf("%s: body escapes '<' as Go does; JSON.stringify does not", d.Event)
		}
	}
}

func TestTriggerFreshIDs(t *testing.T) {
	app, url := startApp(t)
	for _, extra := range [][]string{nil, nil, {"--keep-ids"}, {"--keep-ids"}} {
		args := append([]string{"trigger", "email.sent", "--url", url, "--secret", secret}, extra...)
		if res := clitest.Run(t, clitest.Options{}, args...); res.Code != 0 {
			t.Fatalf("exit %d: %s", res.Code, res.Stderr)
		}
	}
	ids := make([]struct{ ID, MessageID string }, 4)
	for i, d := range app.Received() {
		var ev struct {
			Data struct {
				ID        string `json:"id"`
				MessageID string `json:"messageId"`
			} `json:"data"`
		}
		json.Unmarshal(d.Body, &ev)
		ids[i].ID, ids[i].MessageID = ev.Data.ID, ev.Data.MessageID
	}
	if ids[0].ID == ids[1].ID {
		t.Errorf("two sends share id %q; ids should be fresh", ids[0].ID)
	}
	if ids[0].ID != ids[0].MessageID || !regexp.MustCompile(`^<[0-9a-f]{24}@mail\.example\.com>$`).MatchString(ids[0].ID) {
		t.Errorf("fresh id %q / messageId %q: want equal, Message-ID shaped", ids[0].ID, ids[0].MessageID)
	}
	if ids[2].ID != "<a1b2c3d4e5f6@mail.example.com>" || ids[2] != ids[3] {
		t.Errorf("--keep-ids sent %q and %q, want the fixture's id twice", ids[2].ID, ids[3].ID)
	}
}

func TestTriggerWrongSecretFails(t *testing.T) {
	app, url := startApp(t)
	res := clitest.Run(t, clitest.Options{}, "trigger", "--all", "--url", url, "--secret", "whsec_wrong")
	if res.Code != cmdutil.ExitRejected {
		t.Fatalf("exit %d, want %d\n%s", res.Code, cmdutil.ExitRejected, res.Stderr)
	}
	if n := len(app.Received()); n != 8 {
		t.Errorf("receiver got %d, want all 8 tried", n)
	}
	golden.Assert(t, stable(res.Stdout+"--- stderr\n"+res.Stderr, url))
	if strings.Contains(res.Stdout+res.Stderr, "whsec_wrong") {
		t.Error("the secret appears in the output")
	}
}

// A delivery sent without its signature on purpose is refused as it
// should be: no hint about using the same secret, which does not apply.
func TestTriggerRemovedSignatureGetsNoSecretHint(t *testing.T) {
	_, url := startApp(t)
	res := clitest.Run(t, clitest.Options{}, "trigger", "email.sent", "--url", url, "--secret", secret, "--header", "x-webhook-signature:")
	if res.Code != cmdutil.ExitRejected || strings.Contains(res.Stderr, "same secret") {
		t.Errorf("exit %d, stderr:\n%s", res.Code, res.Stderr)
	}
	res = clitest.Run(t, clitest.Options{}, "trigger", "email.sent", "--url", url, "--secret", "whsec_other")
	if !strings.Contains(res.Stderr, "same secret") {
		t.Errorf("a wrong secret lost its hint:\n%s", res.Stderr)
	}
}

// A timestamp sent outside the provider's window on purpose is refused as
// it should be: the hint says so, not that the secret may differ.
func TestTriggerStaleTimestampIsSaidSo(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusUnauthorized) }))
	t.Cleanup(srv.Close)
	stale := strconv.FormatInt(time.Now().Add(-10*time.Minute).Unix(), 10)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"stale", []string{"--timestamp", stale}, "s old, outside the 5m0s window Standard Webhooks allows"},
		{"fresh", nil, "it must use the same secret"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := clitest.Run(t, clitest.Options{}, append([]string{"trigger", "--all", "--provider", "standard", "--secret", secret, "--url", srv.URL}, tt.args...)...)
			if res.Code != cmdutil.ExitRejected || !strings.Contains(res.Stderr, tt.want) {
				t.Errorf("exit %d, want %d and %q in:\n%s", res.Code, cmdutil.ExitRejected, tt.want, res.Stderr)
			}
		})
	}
}

// A URL with no route at its path (404, 405) is said so, with what to
// check; a route that exists gets no such hint.
func TestTriggerWrongPathGetsAPathHint(t *testing.T) {
	_, url := startApp(t)
	wrong := strings.Replace(url, "/webhooks/jasni", "/webhook/jasni", 1)
	if wrong == url {
		t.Fatalf("the app's URL %s has no /webhooks/jasni to change", url)
	}
	res := clitest.Run(t, clitest.Options{}, "trigger", "email.sent", "--url", wrong, "--secret", secret)
	if res.Code != cmdutil.ExitRejected || !strings.Contains(res.Stderr, "check the URL's path") {
		t.Errorf("exit %d, stderr:\n%s", res.Code, res.Stderr)
	}
	res = clitest.Run(t, clitest.Options{}, "trigger", "email.sent", "--url", url, "--secret", "whsec_other")
	if strings.Contains(res.Stderr, "URL's path") {
		t.Errorf("a 401 got the path hint:\n%s", res.Stderr)
	}
}

func TestTriggerJSONOutput(t *testing.T) {
	_, url := startApp(t)
	res := clitest.Run(t, clitest.Options{}, "trigger", "email.received", "domain.verified", "--url", url, "--secret", secret, "--output", "json")
	if res.Code != 0 {
		t.Fatalf("exit %d: %s", res.Code, res.Stderr)
	}
	lines := strings.Split(strings.TrimSpace(res.Stdout), "\n")
	if len(lines) != 2 {
		t.Fatalf("want one JSON object per delivery, got:\n%s", res.Stdout)
	}
	for i, want := range []string{"email.received", "domain.verified"} {
		var r map[string]any
		if err := json.Unmarshal([]byte(lines[i]), &r); err != nil {
			t.Fatalf("line %d is not JSON: %v", i, err)
		}
		if r["event"] != want || r["status"] != 200.0 || r["ok"] != true || r["attempt"] != 1.0 || r["url"] != url {
			t.Errorf("line %d = %v", i, r)
		}
		if h, _ := r["body_sha256"].(string); len(h) != 64 {
			t.Errorf("body_sha256 = %v", r["body_sha256"])
		}
		if _, ok := r["duration_ms"].(float64); !ok {
			t.Errorf("duration_ms = %v", r["duration_ms"])
		}
	}
	if res.Stderr != "" {
		t.Errorf("stderr not empty for a success in JSON mode: %q", res.Stderr)
	}
}

func TestTriggerRepeatSendsIdenticalDeliveries(t *testing.T) {
	app, url := startApp(t)
	res := clitest.Run(t, clitest.Options{}, "trigger", "email.received", "--repeat", "3", "--url", url, "--secret", secret)
	if res.Code != 0 {
		t.Fatalf("exit %d: %s", res.Code, res.Stderr)
	}
	got := app.Received()
	if len(got) != 3 {
		t.Fatalf("got %d deliveries, want 3", len(got))
	}
	for _, d := range got[1:] {
		if string(d.Body) != string(got[0].Body) || d.Header.Get("X-Webhook-Signature") != got[0].Header.Get("X-Webhook-Signature") {
			t.Error("repeated deliveries differ; they must be identical")
		}
	}
	if !strings.Contains(res.Stdout, "copy 3/3") {
		t.Errorf("output does not number the copies:\n%s", res.Stdout)
	}
}

func TestTriggerOverridesAndHeaders(t *testing.T) {
	app, url := startApp(t)
	res := clitest.Run(t, clitest.Options{}, "trigger", "email.received", "--url", url, "--secret", secret,
		"--set", "data.subject=Quarterly report",
		"--set", "data.to[0]=ceo@example.com",
		"--set", "data.to[1]=cfo@example.com",
		"--set", "data.attachments[0].size=5",
		"--set", `data.flagged=true`,
		"--header", "X-Extra: yes",
		"--header", "User-Agent: custom/1")
	if res.Code != 0 {
		t.Fatalf("exit %d: %s", res.Code, res.Stderr)
	}
	d := app.Received()[0]
	var ev struct {
		Data struct {
			Subject     string   `json:"subject"`
			To          []string `json:"to"`
			Flagged     bool     `json:"flagged"`
			Attachments []struct {
				Size int `json:"size"`
			} `json:"attachments"`
		} `json:"data"`
	}
	if err := json.Unmarshal(d.Body, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Data.Subject != "Quarterly report" || strings.Join(ev.Data.To, ",") != "ceo@example.com,cfo@example.com" ||
		ev.Data.Attachments[0].Size != 5 || !ev.Data.Flagged {
		t.Errorf("overrides not applied: %+v", ev.Data)
	}
	if d.Header.Get("X-Extra") != "yes" || d.Header.Get("User-Agent") != "custom/1" {
		t.Errorf("headers: %v", d.Header)
	}
	if !d.Verified {
		t.Error("an edited body must still be signed correctly")
	}
}

func TestTriggerBadInput(t *testing.T) {
	_, url := startApp(t)
	dir := t.TempDir()
	notJSON := filepath.Join(dir, "bad.json")
	os.WriteFile(notJSON, []byte("{\"data\": oops}"), 0o644)
	tests := []struct {
		name    string
		args    []string
		stdin   string
		wantErr string
	}{
		{"set bad path", []string{"email.sent", "--set", "data..x=1"}, "", `--set "data..x=1": bad path`},
		{"set missing parent", []string{"email.sent", "--set", "data.nope.x=1"}, "", "data.nope does not exist"},
		{"set without value", []string{"email.sent", "--set", "data.subject"}, "", "missing =VALUE"},
		{"set outside the event", []string{"email.sent", "--set", "subject=x"}, "", "did you mean data.subject?"},
		{"data file not JSON", []string{"email.sent", "--data-file", notJSON}, "", "--data-file " + notJSON + ": not JSON"},
		{"data file missing", []string{"email.sent", "--data-file", filepath.Join(dir, "nope.json")}, "", "no such file"},
		{"stdin not JSON", []string{"email.sent", "--data-file", "-"}, "hello", "not JSON"},
		{"data object needs a type", []string{"--data-file", "-"}, `{"id":"1"}`, "name the event type"},
		{"file type disagrees", []string{"email.sent", "--data-file", "-"}, `{"event":"email.spam","data":{}}`, "the file is a email.spam event but email.sent was asked for"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"trigger", "--url", url, "--secret", secret}, tt.args...)
			res := clitest.Run(t, clitest.Options{Stdin: tt.stdin}, args...)
			if res.Code != cmdutil.ExitUsage || !strings.Contains(res.Stderr, tt.wantErr) {
				t.Errorf("exit %d stderr %q; want exit 2 and %q", res.Code, res.Stderr, tt.wantErr)
			}
			if strings.Contains(res.Stderr, "panic") || strings.Contains(res.Stderr, "goroutine") {
				t.Errorf("stack trace in stderr: %s", res.Stderr)
			}
		})
	}
}

func TestTriggerDataFile(t *testing.T) {
	app, url := startApp(t)
	t.Run("data object", func(t *testing.T) {
		res := clitest.Run(t, clitest.Options{Stdin: `{"domain":"mine.example.com","verifiedAt":"x","dnsRecords":{"mx":false}}`},
			"trigger", "domain.verified", "--data-file", "-", "--url", url, "--secret", secret)
		if res.Code != 0 {
			t.Fatalf("exit %d: %s", res.Code, res.Stderr)
		}
		body := string(app.Received()[0].Body)
		if !strings.HasPrefix(body, `{"event":"domain.verified","timestamp":"`) || !strings.HasSuffix(body, `"data":{"domain":"mine.example.com","verifiedAt":"x","dnsRecords":{"mx":false}}}`) {
			t.Errorf("body = %s", body)
		}
	})
	t.Run("whole event sent as written with --keep-ids", func(t *testing.T) {
		event := `{"event":"email.deleted","timestamp":"2020-01-01T00:00:00.000Z","data":{"id":"7","account":"a@example.com"}}`
		res := clitest.Run(t, clitest.Options{Stdin: event}, "trigger", "--data-file", "-", "--keep-ids", "--url", url, "--secret", secret)
		if res.Code != 0 {
			t.Fatalf("exit %d: %s", res.Code, res.Stderr)
		}
		got := app.Received()[1]
		if string(got.Body) != event || got.Header.Get("X-Webhook-Event") != "email.deleted" {
			t.Errorf("body = %s, event header %q", got.Body, got.Header.Get("X-Webhook-Event"))
		}
	})
	t.Run("whole event made fresh, as a fixture is", func(t *testing.T) {
		event := `{"event":"email.deleted","timestamp":"2020-01-01T00:00:00.000Z","data":{"id":"7","account":"a@example.com"}}`
		res := clitest.Run(t, clitest.Options{Stdin: event}, "trigger", "--data-file", "-", "--url", url, "--secret", secret)
		if res.Code != 0 {
			t.Fatalf("exit %d: %s", res.Code, res.Stderr)
		}
		got := app.Received()[2]
		if strings.Contains(string(got.Body), "2020-01-01") || strings.Contains(string(got.Body), `"id":"7"`) {
			t.Errorf("the stored timestamp or id was sent again: %s", got.Body)
		}
	})
}

func TestTriggerReceiverProblems(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String() + "/webhooks/jasni"
	ln.Close()

	release := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(hang.Close)
	t.Cleanup(func() { close(release) })
	redirect := httptest.NewServer(http.RedirectHandler("https://elsewhere.example.com/hook", http.StatusFound))
	t.Cleanup(redirect.Close)
	huge := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(500)
		chunk := strings.Repeat("e", 64<<10)
		for range 100 {
			if _, err := io.WriteString(w, chunk); err != nil {
				return
			}
		}
	}))
	t.Cleanup(huge.Close)

	tests := []struct {
		name     string
		url      string
		extra    []string
		wantCode cmdutil.ExitCode
		wantOut  string
	}{
		{"unreachable", closed, nil, cmdutil.ExitUnreachable, "nothing is listening on"},
		{"hangs", hang.URL, []string{"--timeout", "300ms"}, cmdutil.ExitUnreachable, "did not answer within 300ms"},
		{"redirect", redirect.URL, nil, cmdutil.ExitRejected, `redirect to "https://elsewhere.example.com/hook" not followed`},
		{"huge error answer", huge.URL, nil, cmdutil.ExitRejected, "answered 500: eeee"},
		{"retries then gives up", closed, []string{"--retry-delays", "0,0,0"}, cmdutil.ExitUnreachable, "attempt 3/3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"trigger", "email.sent", "--url", tt.url, "--secret", secret}, tt.extra...)
			res := clitest.Run(t, clitest.Options{}, args...)
			if res.Code != tt.wantCode {
				t.Errorf("exit %d, want %d", res.Code, tt.wantCode)
			}
			if !strings.Contains(res.Stdout+res.Stderr, tt.wantOut) {
				t.Errorf("output lacks %q:\n%s\n%s", tt.wantOut, res.Stdout, res.Stderr)
			}
			if len(res.Stdout) > 4096 {
				t.Errorf("printed %d bytes: a huge answer must be cut", len(res.Stdout))
			}
		})
	}
}

// What an endpoint answers is shown with its control characters made
// visible: a hostile endpoint cannot retitle or clear the terminal.
func TestHostileAnswerIsMadeSafe(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, "\x1b]0;PWNED\x07\x1b[2J\u009b31m bad")
	}))
	defer srv.Close()
	for _, args := range [][]string{{}, {"--print-body"}} {
		res := clitest.Run(t, clitest.Options{}, append([]string{"trigger", "email.sent", "--url", srv.URL, "--secret", secret}, args...)...)
		for _, bad := range []string{"\x1b", "\x07", "\u009b"} {
			if strings.Contains(res.Stdout+res.Stderr, bad) {
				t.Errorf("%v: %q reached the output raw:\n%q", args, bad, res.Stdout)
			}
		}
		if !strings.Contains(res.Stdout, `\x1b]0;PWNED`) {
			t.Errorf("%v: the answer is not shown made visible:\n%s", args, res.Stdout)
		}
	}
}

// --set that adds a field an event lacks says so, naming the events.
func TestSetThatAddsAField(t *testing.T) {
	_, url := startApp(t)
	res := clitest.Run(t, clitest.Options{}, "trigger", "--all", "--set", "data.subject=Hi", "--url", url, "--secret", secret)
	if res.Code != 0 {
		t.Fatalf("exit %d: %s", res.Code, res.Stderr)
	}
	if !strings.Contains(res.Stderr, "note: --set data.subject added a field that") || !strings.Contains(res.Stderr, "email.deleted") || strings.Contains(res.Stderr, "email.received,") {
		t.Errorf("stderr: %s", res.Stderr)
	}
}

// On a terminal, the wait before a retry counts down instead of looking
// like a hang.
func TestRetryCountdown(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) }))
	defer srv.Close()
	res := clitest.Run(t, clitest.Options{TTY: true}, "trigger", "email.sent", "--url", srv.URL, "--secret", secret, "--retry-delays", "0,1s")
	if res.Code != 3 || !strings.Contains(res.Stderr, "next attempt in 1s") {
		t.Errorf("exit %d stderr %q", res.Code, res.Stderr)
	}
}
