package auth_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jasni/jasni-cli/internal/api/apitest"
	"github.com/jasni/jasni-cli/internal/clitest"
	"github.com/jasni/jasni-cli/internal/golden"
)

func TestStatus(t *testing.T) {
	srv := apitest.New(key)
	defer srv.Close()
	srv.Seed(apitest.Webhook{ID: "wh_1", URL: "https://a.example.com/h", Events: apitest.EventTypes, Active: true})
	config := filepath.Join(t.TempDir(), "config.toml")
	os.WriteFile(config, []byte("[default]\napi_key = \""+key+"\"\n[Staging]\napi_key = \"jsk_revoked_0000000000\"\n"), 0o600)
	tests := []struct {
		name string
		env  map[string]string
		args []string
		code int
	}{
		{name: "accepted", code: 0},
		{name: "accepted_json", args: []string{"-o", "json"}, code: 0},
		{name: "refused", args: []string{"--profile", "Staging"}, code: 5},
		{name: "refused_json", args: []string{"--profile", "Staging", "-o", "json"}, code: 5},
		{name: "no_key", env: map[string]string{"JASNI_CONFIG": filepath.Join(t.TempDir(), "none.toml")}, code: 5},
		{name: "malformed_key", env: map[string]string{"JASNI_API_KEY": "sk_live_abcdefabcdef"}, code: 5},
		{name: "unreachable", env: map[string]string{"JASNI_API_URL": "http://127.0.0.1:1"}, code: 4},
		{name: "key_from_the_environment", env: map[string]string{"JASNI_API_KEY": key}, args: []string{"--profile", "Staging"}, code: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"JASNI_CONFIG": config, "JASNI_API_URL": srv.URL, "NO_COLOR": "1"}
			for k, v := range tt.env {
				env[k] = v
			}
			res := clitest.Run(t, clitest.Options{Env: env}, append([]string{"auth", "status"}, tt.args...)...)
			if int(res.Code) != tt.code {
				t.Errorf("exit %d, want %d\n%s%s", res.Code, tt.code, res.Stdout, res.Stderr)
			}
			for _, secret := range []string{key, "jsk_revoked_0000000000", "sk_live_abcdefabcdef"} {
				if strings.Contains(res.Stdout+res.Stderr, secret) {
					t.Errorf("output shows the key %q", secret)
				}
			}
			stable := strings.NewReplacer(srv.URL, "API", config, "CONFIG", env["JASNI_CONFIG"], "CONFIG", "127.0.0.1:1", "CLOSED").Replace(res.Stdout + "--- stderr\n" + res.Stderr)
			golden.Assert(t, stable)
		})
	}
}
