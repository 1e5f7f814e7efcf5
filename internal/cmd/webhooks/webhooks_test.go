package webhooks_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/jasni/jasni-cli/internal/api/apitest"
	"github.com/jasni/jasni-cli/internal/clitest"
	"github.com/jasni/jasni-cli/internal/golden"
)

const key = "jsk_test_0123456789abcdef"

type env struct {
	t      *testing.T
	srv    *apitest.Server
	config string
}

func newEnv(t *testing.T) *env {
	srv := apitest.New(key)
	t.Cleanup(srv.Close)
	return &env{t: t, srv: srv, config: filepath.Join(t.TempDir(), "jasni", "config.toml")}
}

func (e *env) run(opts clitest.Options, args ...string) clitest.Result {
	e.t.Helper()
	if opts.Env == nil {
		opts.Env = map[string]string{}
	}
	opts.Env["JASNI_CONFIG"] = e.config
	if _, set := opts.Env["JASNI_API_URL"]; !set {
		opts.Env["JASNI_API_URL"] = e.srv.URL
	}
	if _, set := opts.Env["JASNI_API_KEY"]; !set {
		opts.Env["JASNI_API_KEY"] = key
	}
	res := clitest.Run(e.t, opts, args...)
	if strings.Contains(res.Stdout+res.Stderr, key) {
		e.t.Errorf("the API key appears in the output of %v", args)
	}
	return res
}

var ids = regexp.MustCompile(`wh_[0-9a-f]+`)
var secrets = regexp.MustCompile(`whsec_[0-9a-f]+`)

func stable(s string) string {
	return secrets.ReplaceAllString(ids.ReplaceAllString(s, "wh_ID"), "whsec_SECRET")
}

func TestCreateShowsTheSecretOnce(t *testing.T) {
	e := newEnv(t)
	res := e.run(clitest.Options{TTY: true, Env: map[string]string{"NO_COLOR": "1"}}, "webhooks", "create",
		"--url", "https://app.example.com/webhooks/jasni", "--events", "email.received,email.sent", "--description", "Production")
	if res.Code != 0 {
		t.Fatalf("exit %d: %s", res.Code, res.Stderr)
	}
	stored := e.srv.Webhooks()
	if len(stored) != 1 || !strings.Contains(res.Stdout, stored[0].Secret) {
		t.Fatalf("the secret %q is not in the output:\n%s", stored[0].Secret, res.Stdout)
	}
	golden.Assert(t, stable(res.Stdout))

	var body map[string]any
	json.Unmarshal([]byte(e.srv.Requests()[0].Body), &body)
	if body["url"] != "https://app.example.com/webhooks/jasni" || body["description"] != "Production" || len(body["events"].([]any)) != 2 {
		t.Errorf("request body = %v", body)
	}

	list := e.run(clitest.Options{}, "webhooks", "list", "--output", "json")
	if strings.Contains(list.Stdout, "whsec_") {
		t.Errorf("list shows a secret:\n%s", list.Stdout)
	}
}

func TestLifecycleJSON(t *testing.T) {
	e := newEnv(t)
	res := e.run(clitest.Options{}, "webhooks", "create", "--url", "https://a.example.com/h", "--output", "json")
	var created struct {
		ID, Secret string
		Events     []string
		Active     bool
	}
	if err := json.Unmarshal([]byte(res.Stdout), &created); err != nil || created.Secret == "" || len(created.Events) != 8 || !created.Active {
		t.Fatalf("create --output json: %v %+v\n%s", err, created, res.Stdout)
	}

	res = e.run(clitest.Options{}, "webhooks", "list", "--output", "json")
	var listed []map[string]any
	if json.Unmarshal([]byte(res.Stdout), &listed) != nil || len(listed) != 1 || listed[0]["id"] != created.ID {
		t.Fatalf("list: %s", res.Stdout)
	}

	res = e.run(clitest.Options{}, "webhooks", "update", created.ID, "--active=false", "--events", "email.bounced", "--output", "json")
	var updated map[string]any
	if json.Unmarshal([]byte(res.Stdout), &updated) != nil || updated["active"] != false || len(updated["events"].([]any)) != 1 {
		t.Fatalf("update: %d %s %s", res.Code, res.Stdout, res.Stderr)
	}

	res = e.run(clitest.Options{}, "webhooks", "get", created.ID)
	if res.Code != 0 || !strings.Contains(res.Stdout, "email.bounced") {
		t.Errorf("get: %s", res.Stdout)
	}

	res = e.run(clitest.Options{}, "webhooks", "delete", created.ID, "--yes")
	if res.Code != 0 || len(e.srv.Webhooks()) != 0 {
		t.Fatalf("delete: exit %d, %d left: %s", res.Code, len(e.srv.Webhooks()), res.Stderr)
	}
	res = e.run(clitest.Options{}, "webhooks", "list")
	if res.Code != 0 || res.Stdout != "" || !strings.Contains(res.Stderr, "No webhooks yet. Create one with: jasni webhooks create") {
		t.Errorf("empty list: %q %q", res.Stdout, res.Stderr)
	}
}

func TestListTable(t *testing.T) {
	e := newEnv(t)
	e.srv.Seed(apitest.Webhook{ID: "wh_1", URL: "https://a.example.com/h", Events: apitest.EventTypes, Active: true, Description: "Production"})
	e.srv.Seed(apitest.Webhook{ID: "wh_2", URL: "https://b.example.com/h", Events: []string{"email.sent"}, Active: false})
	e.srv.Seed(apitest.Webhook{ID: "wh_01JD3XKQ8ZP4M9N2B7C6V5T0RS", URL: "https://agents.example.com/api/v2/integrations/jasni/webhooks/inbound?tenant=acme", Events: []string{"email.received", "email.bounced"}, Active: true, Description: "Inbound mail for the support agent"})
	for _, tt := range []struct {
		name  string
		tty   bool
		width int
	}{{"tty", true, 200}, {"tty_80_columns", true, 80}, {"tty_50_columns", true, 50}, {"pipe", false, 0}} {
		t.Run(tt.name, func(t *testing.T) {
			res := e.run(clitest.Options{TTY: tt.tty, Width: tt.width, Env: map[string]string{"NO_COLOR": "1"}}, "webhooks", "list")
			if res.Code != 0 {
				t.Fatal(res.Stderr)
			}
			golden.Assert(t, res.Stdout)
		})
	}
}

func TestSaveSecret(t *testing.T) {
	e := newEnv(t)
	res := e.run(clitest.Options{}, "webhooks", "create", "--url", "http://localhost:3000/webhooks/jasni", "--save-secret", "dev")
	if res.Code != 0 {
		t.Fatalf("exit %d: %s", res.Code, res.Stderr)
	}
	secret := e.srv.Webhooks()[0].Secret
	data, err := os.ReadFile(e.config)
	if err != nil || !strings.Contains(string(data), "[dev]") || !strings.Contains(string(data), secret) {
		t.Fatalf("config:\n%s (%v)", data, err)
	}
	if st, _ := os.Stat(e.config); st.Mode().Perm() != 0o600 {
		t.Errorf("config mode %v", st.Mode().Perm())
	}
	if strings.Contains(string(data), key) {
		t.Error("the API key from the environment was written to the config")
	}
	// trigger finds the saved secret through the profile.
	sign := e.run(clitest.Options{Stdin: "x", Env: map[string]string{"JASNI_PROFILE": "dev"}}, "sign")
	if sign.Code != 0 {
		t.Errorf("sign with the saved secret: %s", sign.Stderr)
	}
}

func TestBadInput(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		args []string
		code int
		want string
	}{
		{"no key", map[string]string{"JASNI_API_KEY": ""}, []string{"webhooks", "list"}, 5, `no API key: run "jasni login", or set JASNI_API_KEY`},
		{"malformed key", map[string]string{"JASNI_API_KEY": "sk_live_123"}, []string{"webhooks", "list"}, 2, `keys start with "jsk_"`},
		{"wrong key", map[string]string{"JASNI_API_KEY": "jsk_wrong_0000000"}, []string{"webhooks", "list"}, 5, "the API rejected the key (401)"},
		{"unknown id", nil, []string{"webhooks", "get", "wh_nope"}, 1, "webhook wh_nope was not found (404)"},
		{"unknown id on delete", nil, []string{"webhooks", "delete", "wh_nope", "--yes"}, 1, "webhook wh_nope was not found"},
		{"no url", nil, []string{"webhooks", "create"}, 2, "--url is required"},
		{"invalid url", nil, []string{"webhooks", "create", "--url", "app.example.com/hook"}, 2, "did you mean http://app.example.com/hook?"},
		{"plain http", nil, []string{"webhooks", "create", "--url", "http://app.example.com/hook"}, 2, "use https (or pass --allow-http"},
		{"unknown event", nil, []string{"webhooks", "create", "--url", "https://a.example.com", "--events", "email.recieved"}, 2, "did you mean email.received?"},
		{"nothing to update", nil, []string{"webhooks", "update", "wh_1"}, 2, "nothing to change"},
		{"delete without tty", nil, []string{"webhooks", "delete", "wh_1"}, 2, "--yes is required"},
		{"save-secret empty", nil, []string{"webhooks", "create", "--url", "https://a.example.com", "--save-secret", " "}, 2, "needs a profile name"},
		{"API down", map[string]string{"JASNI_API_URL": "http://127.0.0.1:1"}, []string{"webhooks", "list"}, 4, "could not reach 127.0.0.1:1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			res := e.run(clitest.Options{Env: tt.env}, tt.args...)
			if int(res.Code) != tt.code || !strings.Contains(res.Stderr, tt.want) {
				t.Errorf("exit %d stderr %q; want %d and %q", res.Code, res.Stderr, tt.code, tt.want)
			}
			if _, err := os.Stat(e.config); err == nil {
				t.Error("a config file was written on failure")
			}
		})
	}
}

func TestAPIAnsweringGarbage(t *testing.T) {
	for _, body := range []string{"<html>502 Bad Gateway</html>", `{"success":true,"data":{"webhooks":[{"id":`} {
		e := newEnv(t)
		e.srv.Inject(apitest.Fault{Status: 200, Body: body})
		res := e.run(clitest.Options{}, "webhooks", "list")
		if res.Code != 1 || !strings.Contains(res.Stderr, "unexpected answer from") {
			t.Errorf("exit %d: %s", res.Code, res.Stderr)
		}
	}
}

func TestDeleteConfirmation(t *testing.T) {
	for _, tt := range []struct {
		answer  string
		deleted bool
	}{{"y\n", true}, {"n\n", false}, {"\n", false}} {
		e := newEnv(t)
		e.srv.Seed(apitest.Webhook{ID: "wh_1", URL: "https://a.example.com", Events: []string{"email.sent"}, Active: true})
		res := e.run(clitest.Options{TTY: true, Stdin: tt.answer}, "webhooks", "delete", "wh_1")
		if got := len(e.srv.Webhooks()) == 0; got != tt.deleted {
			t.Errorf("answer %q: deleted=%v, want %v (%s)", tt.answer, got, tt.deleted, res.Stderr)
		}
	}
}
