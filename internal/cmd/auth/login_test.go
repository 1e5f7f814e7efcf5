package auth_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jasni/jasni-cli/internal/api/apitest"
	"github.com/jasni/jasni-cli/internal/clitest"
)

const key = "jsk_live_0123456789abcdef"

func TestLogin(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		stdin    string
		env      map[string]string
		code     int
		wantErr  string
		wantSave bool
	}{
		{name: "from stdin", stdin: key + "\n", wantSave: true},
		{name: "from flag", args: []string{"--api-key", key}, wantSave: true},
		{name: "malformed", stdin: "sk_live_123\n", code: 2, wantErr: `keys start with "jsk_"`},
		{name: "empty", stdin: "\n", code: 2, wantErr: "no key given"},
		{name: "wrong key", stdin: "jsk_wrong_000000000\n", code: 5, wantErr: "the API refused this key (401), so it was not saved: copy a key (jsk_...) from the API keys page of the Jasni dashboard"},
		{name: "API down", stdin: key + "\n", env: map[string]string{"JASNI_API_URL": "http://127.0.0.1:1"}, code: 4, wantErr: "could not reach"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := apitest.New(key)
			defer srv.Close()
			config := filepath.Join(t.TempDir(), "jasni", "config.toml")
			env := map[string]string{"JASNI_CONFIG": config, "JASNI_API_URL": srv.URL}
			for k, v := range tt.env {
				env[k] = v
			}
			res := clitest.Run(t, clitest.Options{Stdin: tt.stdin, Env: env}, append([]string{"login"}, tt.args...)...)
			if int(res.Code) != tt.code || !strings.Contains(res.Stderr, tt.wantErr) {
				t.Fatalf("exit %d stderr %q; want %d, %q", res.Code, res.Stderr, tt.code, tt.wantErr)
			}
			out := res.Stdout + res.Stderr
			for _, secret := range []string{key, "jsk_wrong_000000000", "sk_live_123"} {
				if strings.Contains(out, secret) {
					t.Errorf("output shows the key %q", secret)
				}
			}
			data, err := os.ReadFile(config)
			if !tt.wantSave {
				if err == nil {
					t.Errorf("config written on failure:\n%s", data)
				}
				return
			}
			if err != nil || !strings.Contains(string(data), key) {
				t.Fatalf("key not saved: %v\n%s", err, data)
			}
			if st, _ := os.Stat(config); st.Mode().Perm() != 0o600 {
				t.Errorf("config mode %v, want 0600", st.Mode().Perm())
			}
			if st, _ := os.Stat(filepath.Dir(config)); st.Mode().Perm() != 0o700 {
				t.Errorf("config dir mode %v, want 0700", st.Mode().Perm())
			}
			if !strings.Contains(res.Stderr, "jsk_…cdef") {
				t.Errorf("want the masked key in %q", res.Stderr)
			}

			// The saved key works, then logout removes it.
			list := clitest.Run(t, clitest.Options{Env: env}, "webhooks", "list")
			if list.Code != 0 {
				t.Errorf("list with the saved key: %s", list.Stderr)
			}
			out2 := clitest.Run(t, clitest.Options{Env: env}, "logout", "--output", "json")
			data, _ = os.ReadFile(config)
			if out2.Code != 0 || strings.Contains(string(data), key) || !strings.Contains(out2.Stdout, `"removed":true`) {
				t.Errorf("logout: exit %d %q, config:\n%s", out2.Code, out2.Stdout, data)
			}
			if list := clitest.Run(t, clitest.Options{Env: env}, "webhooks", "list"); list.Code != 5 {
				t.Errorf("after logout, list exits %d, want 5", list.Code)
			}
		})
	}
}

func TestProfilesKeepSeparateKeys(t *testing.T) {
	other := "jsk_staging_abcdef012345"
	srv := apitest.New(key, other)
	defer srv.Close()
	config := filepath.Join(t.TempDir(), "config.toml")
	env := map[string]string{"JASNI_CONFIG": config, "JASNI_API_URL": srv.URL}
	clitest.Run(t, clitest.Options{Stdin: key, Env: env}, "login")
	clitest.Run(t, clitest.Options{Stdin: other, Env: env}, "login", "--profile", "staging")
	clitest.Run(t, clitest.Options{Env: env}, "webhooks", "list", "--profile", "staging")
	reqs := srv.Requests()
	if got := reqs[len(reqs)-1].Authorization; got != "Bearer "+other {
		t.Errorf("staging used %q", got)
	}
	clitest.Run(t, clitest.Options{Env: env}, "webhooks", "list")
	reqs = srv.Requests()
	if got := reqs[len(reqs)-1].Authorization; got != "Bearer "+key {
		t.Errorf("default used %q", got)
	}
}

func TestMalformedConfigIsNotOverwritten(t *testing.T) {
	srv := apitest.New(key)
	defer srv.Close()
	config := filepath.Join(t.TempDir(), "config.toml")
	bad := "[default]\napi_key = \"unterminated\n"
	os.WriteFile(config, []byte(bad), 0o600)
	res := clitest.Run(t, clitest.Options{Stdin: key, Env: map[string]string{"JASNI_CONFIG": config, "JASNI_API_URL": srv.URL}}, "login")
	if res.Code != 1 || !strings.Contains(res.Stderr, config+" is not valid TOML: line 2") {
		t.Errorf("exit %d: %s", res.Code, res.Stderr)
	}
	if data, _ := os.ReadFile(config); string(data) != bad {
		t.Errorf("the malformed file was changed:\n%s", data)
	}
}
