package inspect_test

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// browser starts headless Chromium (Debian's chromium, which .ci/run
// installs) for the test; without one the test is skipped, unless
// JASNI_REQUIRE_BROWSER is set (as in CI), where that is a failure.
func browser(t *testing.T) context.Context {
	t.Helper()
	var path string
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		if os.Getenv("JASNI_REQUIRE_BROWSER") != "" {
			t.Fatal("no Chromium found (apt-get install chromium)")
		}
		t.Skip("no Chromium found (apt-get install chromium); JASNI_REQUIRE_BROWSER=1 makes this a failure")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1400, 900),
	)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelB := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelB(); cancelA() })
	// The browser starts with the first action, and belongs to the context
	// of that action: this one, not a step's.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	return ctx
}

func run(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	// A deadline per step, generous, since a loaded 2-core machine runs
	// Chromium slowly; nothing is timed against it.
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(sctx, actions...); err != nil {
		// What the page shows says more than a timeout.
		dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		page, _ := chromedp.Run(dctx, chromedp.Evaluate[string](`document.body.innerText`))
		t.Fatalf("%s: %v\nthe page shows:\n%s", what, err, page)
	}
}

// into is an action that stores what a reads in v.
func into[T any](v *T, a chromedp.Action[T]) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		got, err := a(ctx, t)
		*v = got
		return chromedp.Void{}, err
	}
}

func TestBrowser(t *testing.T) {
	r := newRig(t)
	ctx := browser(t)
	hostile := `{"event":"email.received","timestamp":"2024-01-15T10:30:00.000Z","data":{"subject":"<script>window.pwned=1</script>","html":"<img src=x onerror=\"window.pwned=2\">","n":12345678901234567890}}`
	r.send(t, `{"event":"email.sent","timestamp":"2024-01-15T10:30:00.000Z","data":{"id":"1"}}`)
	r.send(t, hostile, "X-Evil", `<img src=x onerror="window.pwned=3">`)
	ds := r.kept(t, 2)

	run(t, ctx, "open the page", chromedp.Navigate(r.url+"/"),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-id="`+ds[1].ID+`"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#conn.live`)))

	// Live: a delivery sent now appears without a reload.
	r.send(t, `{"event":"email.bounced","timestamp":"2024-01-15T10:30:00.000Z","data":{"id":"live"}}`)
	live := r.kept(t, 3)[0].ID
	start := time.Now()
	run(t, ctx, "the live list shows the new delivery", chromedp.WaitVisible(chromedp.CSS(`tr[data-id="`+live+`"]`)))
	t.Logf("a new delivery showed %v after it was kept", time.Since(start).Round(time.Millisecond))
	var answered string
	run(t, ctx, "with its answer", into(&answered, chromedp.Poll[string](`(() => { const r = document.querySelector('tr[data-id="`+live+`"]'); return r && r.children[4].textContent.startsWith('200') ? r.children[4].textContent : null })()`)))

	// The hostile delivery: shown whole, as text; nothing runs.
	var pwned, elements, rawText, headerText string
	run(t, ctx, "open the hostile delivery",
		chromedp.Click(chromedp.CSS(`tr[data-id="`+ds[0].ID+`"] td.id`)),
		chromedp.WaitVisible(chromedp.CSS(`#detail .tree`)),
		chromedp.Click(chromedp.CSS(`#detail button[data-view="raw"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#detail pre.raw`)),
		into(&rawText, chromedp.Text(chromedp.CSS(`#detail pre.raw`))),
		into(&headerText, chromedp.Text(chromedp.CSS(`#detail dl.kv:nth-of-type(2)`))),
		into(&pwned, chromedp.Evaluate[string](`String(window.pwned)`)),
		into(&elements, chromedp.Evaluate[string](`String(document.querySelectorAll('#detail script, #detail img, #rows img, #rows script').length)`)))
	if pwned != "undefined" || elements != "0" {
		t.Errorf("hostile markup ran: window.pwned=%s, %s elements made from it", pwned, elements)
	}
	if rawText != hostile {
		t.Errorf("raw body shown as %q, want it byte for byte", rawText)
	}
	if !strings.Contains(headerText, `<img src=x onerror="window.pwned=3">`) {
		t.Errorf("the hostile header is not shown as text: %q", headerText)
	}
	var number string
	run(t, ctx, "the tree keeps numbers as written",
		chromedp.Click(chromedp.CSS(`#detail button[data-view="tree"]`)),
		into(&number, chromedp.Text(chromedp.CSS(`#detail .tree .n`))))
	if number != "12345678901234567890" {
		t.Errorf("number shown as %q", number)
	}

	// Edit and replay: the edited body reaches the app, signed so it verifies.
	edited := `{"event":"email.received","timestamp":"2024-01-15T10:30:00.000Z","data":{"subject":"edited in the page"}}`
	var result string
	run(t, ctx, "edit and replay",
		chromedp.Click(chromedp.CSS(`#edit`)),
		chromedp.WaitVisible(chromedp.CSS(`#edit-body`)),
		chromedp.SetValue(chromedp.CSS(`#edit-body`), edited),
		chromedp.Click(chromedp.CSS(`#edit-send`)),
		chromedp.WaitVisible(chromedp.CSS(`#replay-result .ok`)),
		into(&result, chromedp.Text(chromedp.CSS(`#replay-result`))))
	<-r.arrived
	if got := r.last(); string(got.body) != edited || !got.verified {
		t.Errorf("the app got %s (verified: %v), want the edited body, verified", got.body, got.verified)
	}
	if !strings.Contains(result, "200") {
		t.Errorf("the page says %q, want the app's 200", result)
	}
	var attempts string
	run(t, ctx, "the replay is an attempt of the delivery",
		chromedp.WaitVisible(chromedp.CSS(`#detail .attempt[data-attempt="1"]`)),
		into(&attempts, chromedp.Text(chromedp.CSS(`#detail .attempt[data-attempt="1"]`))))
	if !strings.Contains(attempts, "by replay") || !strings.Contains(attempts, `"ok": true`) {
		t.Errorf("second attempt shows %q", attempts)
	}

	// Sent unsigned on purpose: the app refuses it, and the page says so.
	run(t, ctx, "replay unsigned",
		chromedp.Click(chromedp.CSS(`#edit`)),
		chromedp.WaitVisible(chromedp.CSS(`#edit-sign`)),
		chromedp.Evaluate[chromedp.Void](`document.getElementById('edit-sign').value = 'none'`),
		chromedp.Click(chromedp.CSS(`#edit-send`)),
		chromedp.WaitVisible(chromedp.CSS(`#replay-result .bad`)),
		into(&result, chromedp.Text(chromedp.CSS(`#replay-result`))))
	<-r.arrived
	if got := r.last(); got.verified || !strings.Contains(result, "401") {
		t.Errorf("unsigned replay: app verified=%v, page %q", got.verified, result)
	}

	// Compare the two answers.
	var diff string
	run(t, ctx, "compare two answers",
		chromedp.Click(chromedp.CSS(`#compare-attempts`)),
		chromedp.WaitVisible(chromedp.CSS(`#diff`)),
		into(&diff, chromedp.Text(chromedp.CSS(`#diff`))))
	if !strings.Contains(diff, "401") || !strings.Contains(diff, "bad signature") {
		t.Errorf("diff shows %q", diff)
	}

	if path := os.Getenv("JASNI_SCREENSHOT"); path != "" {
		var png []byte
		run(t, ctx, "screenshot", into(&png, chromedp.CaptureScreenshot()))
		if err := os.WriteFile(path, png, 0o600); err != nil {
			t.Fatal(err)
		}
	}

	// Filters: by event type, from the server; by text, in the page.
	var rows string
	run(t, ctx, "filter by event",
		chromedp.SetValue(chromedp.CSS(`#f-event`), "email.sent"),
		chromedp.Evaluate[chromedp.Void](`document.getElementById('f-event').dispatchEvent(new Event('change'))`),
		into(&rows, chromedp.Poll[string](`document.querySelectorAll('#rows tr').length === 1 ? document.querySelector('#rows tr').dataset.id : null`)))
	if rows != ds[1].ID {
		t.Errorf("filtered to %q, want %s", rows, ds[1].ID)
	}
}
