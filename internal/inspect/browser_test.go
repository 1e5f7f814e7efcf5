package inspect_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/jasni/jasni-cli/internal/clitest"
)

func TestBrowser(t *testing.T) {
	r := newRig(t)
	ctx := clitest.Browser(t)
	hostile := `{"event":"email.received","timestamp":"2024-01-15T10:30:00.000Z","data":{"subject":"<script>window.pwned=1</script>","html":"<img src=x onerror=\"window.pwned=2\">","n":12345678901234567890}}`
	r.send(t, `{"event":"email.sent","timestamp":"2024-01-15T10:30:00.000Z","data":{"id":"1"}}`)
	r.send(t, hostile, "X-Evil", `<img src=x onerror="window.pwned=3">`)
	ds := r.kept(t, 2)

	clitest.Do(t, ctx, "open the page", chromedp.Navigate(r.url+"/"),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-id="`+ds[1].ID+`"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#conn.live`)))

	// Live: a delivery sent now appears without a reload.
	r.send(t, `{"event":"email.bounced","timestamp":"2024-01-15T10:30:00.000Z","data":{"id":"live"}}`)
	live := r.kept(t, 3)[0].ID
	start := time.Now()
	clitest.Do(t, ctx, "the live list shows the new delivery", chromedp.WaitVisible(chromedp.CSS(`tr[data-id="`+live+`"]`)))
	t.Logf("a new delivery showed %v after it was kept", time.Since(start).Round(time.Millisecond))
	var answered string
	clitest.Do(t, ctx, "with its answer", clitest.Into(&answered, chromedp.Poll[string](`(() => { const r = document.querySelector('tr[data-id="`+live+`"]'); return r && r.children[4].textContent.startsWith('200') ? r.children[4].textContent : null })()`)))

	// The hostile delivery: shown whole, as text; nothing runs.
	var pwned, elements, rawText, headerText string
	clitest.Do(t, ctx, "open the hostile delivery",
		chromedp.Click(chromedp.CSS(`tr[data-id="`+ds[0].ID+`"] td.id`)),
		chromedp.WaitVisible(chromedp.CSS(`#detail .tree`)),
		chromedp.Click(chromedp.CSS(`#detail button[data-view="raw"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#detail pre.raw`)),
		clitest.Into(&rawText, chromedp.Text(chromedp.CSS(`#detail pre.raw`))),
		clitest.Into(&headerText, chromedp.Text(chromedp.CSS(`#detail dl.kv:nth-of-type(2)`))),
		clitest.Into(&pwned, chromedp.Evaluate[string](`String(window.pwned)`)),
		clitest.Into(&elements, chromedp.Evaluate[string](`String(document.querySelectorAll('#detail script, #detail img, #rows img, #rows script').length)`)))
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
	clitest.Do(t, ctx, "the tree keeps numbers as written",
		chromedp.Click(chromedp.CSS(`#detail button[data-view="tree"]`)),
		clitest.Into(&number, chromedp.Text(chromedp.CSS(`#detail .tree .n`))))
	if number != "12345678901234567890" {
		t.Errorf("number shown as %q", number)
	}

	// Edit and replay: the edited body reaches the app, signed so it verifies.
	edited := `{"event":"email.received","timestamp":"2024-01-15T10:30:00.000Z","data":{"subject":"edited in the page"}}`
	var result string
	clitest.Do(t, ctx, "edit and replay",
		chromedp.Click(chromedp.CSS(`#edit`)),
		chromedp.WaitVisible(chromedp.CSS(`#edit-body`)),
		chromedp.SetValue(chromedp.CSS(`#edit-body`), edited),
		chromedp.Click(chromedp.CSS(`#edit-send`)),
		chromedp.WaitVisible(chromedp.CSS(`#replay-result .ok`)),
		clitest.Into(&result, chromedp.Text(chromedp.CSS(`#replay-result`))))
	<-r.arrived
	if got := r.last(); string(got.body) != edited || !got.verified {
		t.Errorf("the app got %s (verified: %v), want the edited body, verified", got.body, got.verified)
	}
	if !strings.Contains(result, "200") {
		t.Errorf("the page says %q, want the app's 200", result)
	}
	var attempts string
	clitest.Do(t, ctx, "the replay is an attempt of the delivery",
		chromedp.WaitVisible(chromedp.CSS(`#detail .attempt[data-attempt="1"]`)),
		clitest.Into(&attempts, chromedp.Text(chromedp.CSS(`#detail .attempt[data-attempt="1"]`))))
	if !strings.Contains(attempts, "by replay") || !strings.Contains(attempts, `"ok": true`) {
		t.Errorf("second attempt shows %q", attempts)
	}

	// Sent unsigned on purpose: the app refuses it, and the page says so.
	clitest.Do(t, ctx, "replay unsigned",
		chromedp.Click(chromedp.CSS(`#edit`)),
		chromedp.WaitVisible(chromedp.CSS(`#edit-sign`)),
		chromedp.Evaluate[chromedp.Void](`document.getElementById('edit-sign').value = 'none'`),
		chromedp.Click(chromedp.CSS(`#edit-send`)),
		chromedp.WaitVisible(chromedp.CSS(`#replay-result .bad`)),
		clitest.Into(&result, chromedp.Text(chromedp.CSS(`#replay-result`))))
	<-r.arrived
	if got := r.last(); got.verified || !strings.Contains(result, "401") {
		t.Errorf("unsigned replay: app verified=%v, page %q", got.verified, result)
	}

	// Compare the two answers.
	var diff string
	clitest.Do(t, ctx, "compare two answers",
		chromedp.Click(chromedp.CSS(`#compare-attempts`)),
		chromedp.WaitVisible(chromedp.CSS(`#diff`)),
		clitest.Into(&diff, chromedp.Text(chromedp.CSS(`#diff`))))
	if !strings.Contains(diff, "401") || !strings.Contains(diff, "bad signature") {
		t.Errorf("diff shows %q", diff)
	}

	if path := os.Getenv("JASNI_SCREENSHOT"); path != "" {
		var png []byte
		clitest.Do(t, ctx, "screenshot", clitest.Into(&png, chromedp.CaptureScreenshot()))
		if err := os.WriteFile(path, png, 0o600); err != nil {
			t.Fatal(err)
		}
	}

	// Bytes that are not UTF-8 are shown as such.
	r.send(t, "{\"event\":\"email.received\",\"data\":{\"bin\":\"\xff\xfe\"}}")
	bin := r.kept(t, 4)[0].ID
	var bad string
	clitest.Do(t, ctx, "a body that is not UTF-8",
		chromedp.WaitVisible(chromedp.CSS(`tr[data-id="`+bin+`"]`)),
		chromedp.Click(chromedp.CSS(`tr[data-id="`+bin+`"] td.id`)),
		chromedp.WaitVisible(chromedp.CSS(`#detail pre.raw .bad-byte`)),
		clitest.Into(&bad, chromedp.Evaluate[string](`[...document.querySelectorAll('#detail pre.raw .bad-byte')].map(e => e.textContent).join('')`)))
	if bad != `\xff\xfe` {
		t.Errorf("bytes that are not UTF-8 shown as %q", bad)
	}

	// A name written to read backwards is shown with its control character.
	r.send(t, "{\"event\":\"\u202eevil.gpj\",\"data\":{}}")
	spoof := r.kept(t, 5)[0].ID
	var cell string
	clitest.Do(t, ctx, "a bidi override",
		chromedp.WaitVisible(chromedp.CSS(`tr[data-id="`+spoof+`"]`)),
		clitest.Into(&cell, chromedp.Evaluate[string](`document.querySelector('tr[data-id="`+spoof+`"]').children[2].textContent`)))
	if cell != `\u{202e}evil.gpj` {
		t.Errorf("event shown as %q, want the override visible", cell)
	}

	// Filters: by event type, from the server; by text, in the page.
	var rows string
	clitest.Do(t, ctx, "filter by event",
		chromedp.SetValue(chromedp.CSS(`#f-event`), "email.sent"),
		chromedp.Evaluate[chromedp.Void](`document.getElementById('f-event').dispatchEvent(new Event('change'))`),
		clitest.Into(&rows, chromedp.Poll[string](`document.querySelectorAll('#rows tr').length === 1 ? document.querySelector('#rows tr').dataset.id : null`)))
	if rows != ds[1].ID {
		t.Errorf("filtered to %q, want %s", rows, ds[1].ID)
	}
}
