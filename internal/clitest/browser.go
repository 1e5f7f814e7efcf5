package clitest

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Browser starts headless Chromium (Debian's chromium, which .ci/run
// installs) for the test and returns its context; it is closed when the
// test ends. Without a Chromium the test is skipped, unless
// JASNI_REQUIRE_BROWSER is set (as in CI), where that is a failure.
func Browser(t *testing.T) context.Context {
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

// Do runs the actions of one step, what, in the browser, and fails the
// test with what the page shows when they fail.
func Do(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	// A deadline per step, generous, since a loaded 2-core machine runs
	// Chromium slowly; nothing is timed against it.
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(sctx, actions...); err != nil {
		dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		page, _ := chromedp.Run(dctx, chromedp.Evaluate[string](`document.body.innerText`))
		t.Fatalf("%s: %v\nthe page shows:\n%s", what, err, page)
	}
}

// Into is an action that stores what a reads in v.
func Into[T any](v *T, a chromedp.Action[T]) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		got, err := a(ctx, t)
		*v = got
		return chromedp.Void{}, err
	}
}
