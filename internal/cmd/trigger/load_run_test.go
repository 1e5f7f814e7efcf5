package trigger_test

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/jasni/jasni-cli/internal/clitest"
	"github.com/jasni/jasni-cli/internal/exampleapp"
	"github.com/jasni/jasni-cli/internal/load"
)

// End to end in-process: every event type, fresh and verified by the docs'
// receiver; JSON summary; exit codes from the gates.
func TestLoadRun(t *testing.T) {
	const secret = "whsec_load"
	app := exampleapp.New(secret)
	srv := httptest.NewServer(app.Handler())
	defer srv.Close()
	url := srv.URL + "/webhooks/jasni"

	res := clitest.Run(t, clitest.Options{}, "trigger", "--all", "--count", "80", "-c", "4", "--url", url, "--secret", secret, "-o", "json")
	var out struct {
		Passed  bool         `json:"passed"`
		Summary load.Summary `json:"summary"`
	}
	if res.Code != 0 || json.Unmarshal([]byte(res.Stdout), &out) != nil || !out.Passed || out.Summary.Requests != 80 || out.Summary.OK != 80 {
		t.Fatalf("exit %d %s %s", res.Code, res.Stdout, res.Stderr)
	}
	if !strings.Contains(res.Stdout, `"failures":[]`) {
		t.Errorf("no failures are an empty list, for a script to count: %s", res.Stdout)
	}
	got := app.Received()
	events, timestamps := map[string]int{}, map[string]bool{}
	for _, d := range got {
		if !d.Verified {
			t.Fatalf("a delivery did not verify: %s", d.Body)
		}
		events[d.Event]++
		var ev struct{ Data struct{ ID string } }
		_ = json.Unmarshal(d.Body, &ev)
		timestamps[d.Event+ev.Data.ID+d.Timestamp] = true
	}
	if len(got) != 80 || len(events) != 8 || events["email.received"] != 10 || len(timestamps) != 80 {
		t.Errorf("%d deliveries, %v by event, %d distinct", len(got), events, len(timestamps))
	}

	// A wrong secret: every delivery refused, exit 3, the summary says so.
	res = clitest.Run(t, clitest.Options{}, "trigger", "email.sent", "--count", "10", "-c", "2", "--url", url, "--secret", "whsec_wrong")
	if res.Code != 3 || !strings.Contains(res.Stdout, "401 × 10") || !strings.Contains(res.Stderr, "10 of 10 deliveries failed") {
		t.Errorf("wrong secret: exit %d\n%s%s", res.Code, res.Stdout, res.Stderr)
	}
	// --print-each prints a line per delivery.
	res = clitest.Run(t, clitest.Options{}, "trigger", "email.sent", "--count", "5", "--same", "--print-each", "--url", url, "--secret", secret)
	if res.Code != 0 || strings.Count(res.Stdout, "✓ ") != 5 {
		t.Errorf("--print-each: exit %d\n%s%s", res.Code, res.Stdout, res.Stderr)
	}
}
