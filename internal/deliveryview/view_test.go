package deliveryview

import (
	"strings"
	"testing"
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
