package webhooks_test

import (
	"strings"
	"testing"

	"github.com/jasni/jasni-cli/internal/api/apitest"
	"github.com/jasni/jasni-cli/internal/clitest"
)

func TestCompletion(t *testing.T) {
	e := newEnv(t)
	e.srv.Seed(apitest.Webhook{ID: "wh_alpha", URL: "https://a.example.com/h", Events: []string{"email.sent"}, Active: true})
	e.srv.Seed(apitest.Webhook{ID: "wh_beta", URL: "https://b.example.com/h", Events: []string{"email.sent"}, Active: true})
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want []string
		not  []string
	}{
		{name: "ids", args: []string{"webhooks", "get", "wh_"}, want: []string{"wh_alpha\thttps://a.example.com/h", "wh_beta"}},
		{name: "id prefix", args: []string{"webhooks", "delete", "wh_b"}, want: []string{"wh_beta"}, not: []string{"wh_alpha"}},
		{name: "no second id", args: []string{"webhooks", "get", "wh_alpha", ""}, not: []string{"wh_beta"}},
		{name: "silent without a key", env: map[string]string{"JASNI_API_KEY": ""}, args: []string{"webhooks", "get", ""}, not: []string{"wh_", "Error"}},
		{name: "silent when the API is down", env: map[string]string{"JASNI_API_URL": "http://127.0.0.1:1"}, args: []string{"webhooks", "update", ""}, not: []string{"wh_", "Error"}},
		{name: "events after a comma", args: []string{"webhooks", "create", "--events", "email.sent,email.b"}, want: []string{"email.sent,email.bounced"}, not: []string{"email.sent,email.sent"}},
		{name: "trigger events", args: []string{"trigger", "em"}, want: []string{"email.received\t", "email.sent"}, not: []string{"domain.verified"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := e.run(clitest.Options{Env: tt.env}, append([]string{"__complete"}, tt.args...)...)
			for _, w := range tt.want {
				if !strings.Contains(res.Stdout, w) {
					t.Errorf("completions lack %q:\n%s", w, res.Stdout)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(res.Stdout, n) {
					t.Errorf("completions contain %q:\n%s", n, res.Stdout)
				}
			}
		})
	}
}
