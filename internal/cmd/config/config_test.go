package config_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jasni/jasni-cli/internal/clitest"
	"github.com/jasni/jasni-cli/internal/golden"
)

const (
	apiKey = "jsk_live_0123456789abcdef"
	secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
)

type env struct {
	t      *testing.T
	config string
}

func newEnv(t *testing.T, content string) *env {
	path := filepath.Join(t.TempDir(), "jasni", "config.toml")
	if content != "" {
		os.MkdirAll(filepath.Dir(path), 0o700)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return &env{t, path}
}

func (e *env) run(opts clitest.Options, args ...string) clitest.Result {
	e.t.Helper()
	if opts.Env == nil {
		opts.Env = map[string]string{}
	}
	opts.Env["JASNI_CONFIG"] = e.config
	opts.Env["NO_COLOR"] = "1"
	return clitest.Run(e.t, opts, args...)
}

func TestSetGetUnset(t *testing.T) {
	e := newEnv(t, "")
	steps := []struct {
		args       []string
		stdin      string
		env        map[string]string
		code       int
		out, err   string
		fileHas    string
		fileHasNot string
	}{
		{args: []string{"config", "get", "trigger_url"}, code: 1, err: `trigger_url has no value in profile "default": set it with: jasni config set trigger_url <value>`},
		{args: []string{"config", "set", "trigger_url", "http://localhost:3000/webhooks/jasni"}, err: `✓ Set trigger_url = http://localhost:3000/webhooks/jasni in profile "default"`, fileHas: "trigger_url = 'http://localhost:3000/webhooks/jasni'"},
		{args: []string{"config", "get", "trigger_url"}, out: "http://localhost:3000/webhooks/jasni\n"},
		{args: []string{"config", "get", "trigger_url"}, env: map[string]string{"JASNI_TRIGGER_URL": "http://env"}, out: "http://env\n"},
		{args: []string{"config", "set", "webhook_secret", "-"}, stdin: secret + "\n", err: "✓ Set webhook_secret = whsec_…LaSw", fileHas: secret},
		{args: []string{"config", "get", "webhook_secret"}, out: secret + "\n"},
		{args: []string{"config", "set", "webhook_secret", secret}, env: map[string]string{"WEBHOOK_SECRET": "whsec_other"}, err: "! WEBHOOK_SECRET is set in the environment and wins over the profile"},
		{args: []string{"config", "set", "--profile", "Staging", "api_url", "https://staging-api.example.com"}, fileHas: "[Staging]"},
		{args: []string{"config", "get", "--profile", "Staging", "api_url"}, out: "https://staging-api.example.com\n"},
		{args: []string{"config", "get", "--profile", "staging", "api_url"}, code: 1, err: `profile "staging" is not in ` + e.config + `: did you mean Staging? (profile names are case-sensitive)`},
		{args: []string{"config", "unset", "trigger_url"}, err: `✓ Removed trigger_url from profile "default"`, fileHasNot: "trigger_url"},
		{args: []string{"config", "unset", "trigger_url"}, err: `Profile "default" has no trigger_url; nothing to do.`},
		{args: []string{"config", "path"}, out: e.config + "\n"},
		// Refused values, with what is wrong and nothing written.
		{args: []string{"config", "set", "api-key", apiKey}, code: 2, err: `unknown setting "api-key": did you mean api_key?`, fileHasNot: apiKey},
		{args: []string{"config", "set", "api_key", "sk_live_123"}, code: 2, err: `keys start with "jsk_"`, fileHasNot: "sk_live"},
		{args: []string{"config", "set", "api_url", "api.jasni.ai"}, code: 2, err: "has no scheme: did you mean http://api.jasni.ai?"},
		{args: []string{"config", "set", "provider", "voisnapp"}, code: 2, err: "did you mean voisnap?"},
		{args: []string{"config", "set", "trigger_url", ""}, code: 2, err: "the value is empty: to remove trigger_url, run: jasni config unset trigger_url"},
		{args: []string{"config", "get"}, code: 2, err: "jasni config get needs <key> (usage: jasni config get <key>)"},
		// A profile of the generic REST API keeps that API's token, not a jsk_ key.
		{args: []string{"config", "set", "--profile", "Staging", "provider", "generic"}, fileHas: "provider = 'generic'"},
		{args: []string{"config", "set", "--profile", "Staging", "api_key", "gen_token_123"}, err: "✓ Set api_key", fileHas: "gen_token_123"},
		{args: []string{"config", "set", "--profile", "Staging", "api_key", "two words"}, code: 2, err: "not an API key for Generic REST API: keys have no spaces"},
	}
	for _, st := range steps {
		res := e.run(clitest.Options{Stdin: st.stdin, Env: st.env}, st.args...)
		if int(res.Code) != st.code || (st.out != "" && res.Stdout != st.out) || !strings.Contains(res.Stderr, st.err) {
			t.Fatalf("%v: exit %d, stdout %q, stderr %q; want %d, %q, %q", st.args, res.Code, res.Stdout, res.Stderr, st.code, st.out, st.err)
		}
		data, _ := os.ReadFile(e.config)
		if st.fileHas != "" && !strings.Contains(string(data), st.fileHas) || st.fileHasNot != "" && strings.Contains(string(data), st.fileHasNot) {
			t.Fatalf("%v: config file:\n%s", st.args, data)
		}
	}
	if info, err := os.Stat(e.config); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("config file mode: %v %v", info.Mode(), err)
	}
}

func TestListMasksSecrets(t *testing.T) {
	e := newEnv(t, `[default]
api_key = "`+apiKey+`"
webhook_secret = "`+secret+`"
trigger_url = "http://localhost:3000/webhooks/jasni"
custom_token = "tok_abcdefghijklmnopqrstuvwxyz"

[Staging]
api_url = "https://staging-api.example.com"
`)
	for _, tt := range []struct {
		name string
		opts clitest.Options
		args []string
	}{
		{"tty", clitest.Options{TTY: true, Width: 120, Env: map[string]string{"NGROK_AUTHTOKEN": "2abcdefghijklmnopqrstuvwxyz_0123456789"}}, nil},
		{"pipe", clitest.Options{}, nil},
		{"json", clitest.Options{}, []string{"-o", "json"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := e.run(tt.opts, append([]string{"config", "list"}, tt.args...)...)
			if res.Code != 0 {
				t.Fatalf("exit %d: %s", res.Code, res.Stderr)
			}
			for _, s := range []string{apiKey, secret, "2abcdefghijklmnopqrstuvwxyz_0123456789", "tok_abcdefghijklmnopqrstuvwxyz"} {
				if strings.Contains(res.Stdout+res.Stderr, s) {
					t.Errorf("list shows the secret %q", s)
				}
			}
			golden.Assert(t, strings.ReplaceAll(res.Stdout, e.config, "CONFIG"))
		})
	}
	res := e.run(clitest.Options{}, "config", "list", "-o", "json", "--profile", "Staging")
	var got struct {
		Profile  string
		Profiles []string
		Settings []struct{ Key, Value, Source string }
	}
	if err := json.Unmarshal([]byte(res.Stdout), &got); err != nil {
		t.Fatalf("%v: %s", err, res.Stdout)
	}
	if got.Profile != "Staging" || strings.Join(got.Profiles, ",") != "Staging,default" || got.Settings[1].Value != "https://staging-api.example.com" {
		t.Errorf("json: %+v", got)
	}
}
