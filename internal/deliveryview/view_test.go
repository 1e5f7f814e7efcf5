package deliveryview

import (
	"github.com/jasni/jasni-cli/internal/store"
	"github.com/jasni/jasni-cli/internal/ui"
	"strings"
	"testing"
	"time"
)

func TestBody(t *testing.T) {
	deep := strings.Repeat("[", 9000) + strings.Repeat("]", 9000)
	tests := []struct {
		name, body string
		want       []string
		maxLen     int
	}{
		{"small JSON is indented", `{"event":"email.sent","data":{"id":"1"}}`, []string{"\n      \"event\": \"email.sent\""}, 200},
		{"deep nesting is not laid out", deep, []string{"[[[", " bytes)"}, 5000},
		{"not JSON stays on one line", "05:00:00 fake\n✓ signed → 200 OK\x1b[2J", []string{`fake\n✓ signed → 200 OK\x1b[2J`}, 200},
		{"huge is cut", `{"a":"` + strings.Repeat("x", 100<<10) + `"}`, []string{" bytes)"}, 5000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Body([]byte(tt.body), "    ")
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("lacks %q:\n%s", w, got)
				}
			}
			if len(got) > tt.maxLen {
				t.Errorf("%d bytes shown", len(got))
			}
			if strings.Count(got, "\n") > 1 && !strings.HasPrefix(tt.name, "small") {
				t.Errorf("more than one line:\n%s", got)
			}
		})
	}
}

// Every kind of line fits the terminal. At 80 columns it keeps the cause
// of a failure and lets the id go; from 100 columns the id is whole too.
func TestLineFits(t *testing.T) {
	at := time.Date(2026, 11, 23, 9, 30, 0, 0, time.Local)
	long := strings.Repeat("x", 200)
	tests := []struct {
		d    store.Delivery
		want string // at 80 columns
	}{
		{store.Delivery{ID: "dlv_0193a4c2b1f0a1b2c3", ReceivedAt: at, Method: "POST", Event: "email.received", Verdict: store.VerdictValid, Answer: 200,
			Forward: &store.Attempt{Status: 200, DurationMS: 12}}, "✓ signed    → 200 OK 12ms"},
		{store.Delivery{ID: "dlv_0193a4c2b1f0a1b2c4", ReceivedAt: at, Method: "POST", Event: "domain.verified", Verdict: store.VerdictValid, Duplicate: true, Answer: 401,
			Forward: &store.Attempt{Status: 401, DurationMS: 3}}, "✓ duplicate → 401 Unauthorized 3ms"},
		{store.Delivery{ID: "dlv_0193a4c2b1f0a1b2c5", ReceivedAt: at, Method: "POST", Event: "email.bounced", Verdict: store.VerdictValid, Answer: 502,
			Forward: &store.Attempt{Error: "your app at localhost:3000 is not running (connection refused)", Summary: "app not running"}}, "502 app not running"},
		{store.Delivery{ID: "dlv_0193a4c2b1f0a1b2cb", ReceivedAt: at, Method: "POST", Event: "email.bounced", Verdict: store.VerdictValid, Answer: 500,
			Forward: &store.Attempt{Status: 500, DurationMS: 4, Summary: "boom"}}, "→ 500 Internal Server Error 4ms: boom"},
		{store.Delivery{ID: "dlv_0193a4c2b1f0a1b2c6", ReceivedAt: at, Method: "POST", Event: "email.sent", Verdict: store.VerdictValid, Answer: 200,
			Forward: &store.Attempt{Skipped: "event not in --events"}}, "200, not forwarded"},
		{store.Delivery{ID: "dlv_0193a4c2b1f0a1b2c7", ReceivedAt: at, Method: "POST", Event: long, Verdict: store.VerdictInvalid, Rejected: true, Answer: 401,
			Forward: &store.Attempt{Skipped: "signature invalid: the body has a trailing newline that was not signed"}}, "401 the body has a trailing newline"},
		{store.Delivery{ID: "dlv_0193a4c2b1f0a1b2cc", ReceivedAt: at, Method: "POST", Event: "email.sent", Verdict: store.VerdictMissing, Rejected: true, Answer: 401}, "answered 401 unsigned"},
		{store.Delivery{ID: "dlv_0193a4c2b1f0a1b2c8", ReceivedAt: at, Method: "GET", Path: "/" + long, Rejected: true, Answer: 404}, "GET /xxxxxxxxx"},
		{store.Delivery{ID: "dlv_0193a4c2b1f0a1b2c9", ReceivedAt: at, Method: "POST", Rejected: true, Answer: 413}, "answered 413 too large"},
		{store.Delivery{ID: "dlv_0193a4c2b1f0a1b2ca", ReceivedAt: at, Method: "POST", Event: "email.sent", Verdict: store.VerdictSkipped, Answer: 200}, "! unchecked answered 200"},
	}
	for _, tt := range tests {
		for _, layout := range []string{"15:04:05", "Jan 02 15:04"} {
			got := Line(ui.New(nil, false), &tt.d, 80, layout)
			if w := ui.Width(got); w > 80 || !strings.Contains(got, tt.want) {
				t.Errorf("at 80 columns (%d used), want %q:\n%s", w, tt.want, got)
			}
			got = Line(ui.New(nil, false), &tt.d, 120, layout)
			if w := ui.Width(got); w > 120 || !strings.HasSuffix(got, tt.d.ID) {
				t.Errorf("at 120 columns (%d used), want the id whole:\n%s", w, got)
			}
		}
	}
}
