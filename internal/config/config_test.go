package config

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestPrecedence(t *testing.T) {
	path := writeFile(t, `
[default]
webhook_secret = "whsec_file_default"
trigger_url = "http://file/default"

[staging]
webhook_secret = "whsec_file_staging"
`)
	tests := []struct {
		name, profile string
		env           map[string]string
		key           string
		want, source  string
	}{
		{"file default profile", "", nil, KeyWebhookSecret, "whsec_file_default", path + " [default] webhook_secret"},
		{"file other profile", "staging", nil, KeyWebhookSecret, "whsec_file_staging", path + " [staging] webhook_secret"},
		{"profile without the key", "staging", nil, KeyTriggerURL, "", ""},
		{"JASNI_ env beats file", "", map[string]string{"JASNI_WEBHOOK_SECRET": "whsec_env"}, KeyWebhookSecret, "whsec_env", "JASNI_WEBHOOK_SECRET"},
		{"docs' WEBHOOK_SECRET beats file", "", map[string]string{"WEBHOOK_SECRET": "whsec_docs"}, KeyWebhookSecret, "whsec_docs", "WEBHOOK_SECRET"},
		{"JASNI_ beats WEBHOOK_SECRET", "", map[string]string{"WEBHOOK_SECRET": "a", "JASNI_WEBHOOK_SECRET": "b"}, KeyWebhookSecret, "b", "JASNI_WEBHOOK_SECRET"},
		{"alias only for the secret", "", map[string]string{"TRIGGER_URL": "x"}, KeyTriggerURL, "http://file/default", path + " [default] trigger_url"},
		{"unset", "", nil, KeyAPIKey, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(path, tt.profile, envOf(tt.env))
			if err != nil {
				t.Fatal(err)
			}
			got, source := c.Lookup(tt.key)
			if got != tt.want || source != tt.source {
				t.Errorf("Lookup(%s) = %q from %q, want %q from %q", tt.key, got, source, tt.want, tt.source)
			}
		})
	}
}

func TestLoadMissingFileIsEmpty(t *testing.T) {
	c, err := Load(filepath.Join(t.TempDir(), "nope.toml"), "", envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Get(KeyWebhookSecret) != "" || c.Profile != DefaultProfile {
		t.Errorf("empty config resolved %q for profile %q", c.Get(KeyWebhookSecret), c.Profile)
	}
}

func TestLoadErrors(t *testing.T) {
	t.Run("malformed", func(t *testing.T) {
		path := writeFile(t, "[default]\nwebhook_secret = \"unterminated\n")
		_, err := Load(path, "", envOf(nil))
		if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "line 2") {
			t.Errorf("err = %v, want one naming %s and line 2", err, path)
		}
		if strings.Contains(err.Error(), "unterminated") && strings.Contains(err.Error(), "whsec") {
			t.Errorf("err quotes the file's content: %v", err)
		}
	})
	t.Run("unreadable", func(t *testing.T) {
		if os.Geteuid() == 0 {
			t.Skip("root reads any file")
		}
		path := writeFile(t, "")
		os.Chmod(path, 0)
		if _, err := Load(path, "", envOf(nil)); err == nil {
			t.Error("no error for an unreadable file")
		}
	})
	t.Run("directory", func(t *testing.T) {
		if _, err := Load(t.TempDir(), "", envOf(nil)); err == nil || !strings.Contains(err.Error(), "read config file") {
			t.Errorf("err = %v, want a read error", err)
		}
	})
}

func TestDefaultPath(t *testing.T) {
	tests := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"XDG_CONFIG_HOME": "/x", "HOME": "/h"}, "/x/jasni/config.toml"},
		{map[string]string{"HOME": "/h"}, "/h/.config/jasni/config.toml"},
	}
	for _, tt := range tests {
		got, err := DefaultPath(envOf(tt.env))
		if err != nil || got != tt.want {
			t.Errorf("DefaultPath(%v) = %q, %v; want %q", tt.env, got, err, tt.want)
		}
	}
}

func TestFlagsAboveEverything(t *testing.T) {
	path := writeFile(t, "[default]\nwebhook_secret = \"whsec_file\"\napi_url = \"http://file\"\n")
	c, err := Load(path, "", envOf(map[string]string{"WEBHOOK_SECRET": "whsec_env"}))
	if err != nil {
		t.Fatal(err)
	}
	fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
	fs.StringArray("secret", nil, "")
	fs.String("api-url", "", "")
	fs.String("unbound", "", "")
	BindFlag(fs, "secret", KeyWebhookSecret)
	BindFlag(fs, "api-url", KeyAPIURL)

	// Not given: the flag layer is skipped.
	if v, src := c.WithFlags(fs).Lookup(KeyWebhookSecret); v != "whsec_env" || src != "WEBHOOK_SECRET" {
		t.Errorf("unset flag: %q from %q", v, src)
	}
	if err := fs.Parse([]string{"--secret", "a", "--secret", "b", "--api-url", "http://flag", "--unbound", "x"}); err != nil {
		t.Fatal(err)
	}
	withFlags := c.WithFlags(fs)
	if v, src := withFlags.Lookup(KeyWebhookSecret); v != "a" || src != "--secret" {
		t.Errorf("flag: %q from %q", v, src)
	}
	if got := withFlags.Top(KeyWebhookSecret); len(got) != 2 || got[1] != (Value{"b", "--secret"}) {
		t.Errorf("Top = %v, want both --secret values only", got)
	}
	if got := withFlags.LookupAll(KeyWebhookSecret); len(got) != 4 || got[3].Value != "whsec_file" {
		t.Errorf("LookupAll = %v, want flag, flag, env, file", got)
	}
	if withFlags.Get(KeyAPIURL) != "http://flag" {
		t.Errorf("api_url = %q", withFlags.Get(KeyAPIURL))
	}
	if c.Get(KeyAPIURL) != "http://file" {
		t.Errorf("WithFlags changed the original: %q", c.Get(KeyAPIURL))
	}
}

func TestProfiles(t *testing.T) {
	path := writeFile(t, "[default]\n[Staging]\napi_url = \"http://s\"\n[prod-EU]\ntrigger_url = 3000\n")
	tests := []struct {
		profile string
		wantErr string
	}{
		{"Staging", ""},
		{"prod-EU", ""},
		{"", ""},
		{"default", ""},
		{"staging", `did you mean Staging? (profile names are case-sensitive)`},
		{"prod-eu", `did you mean prod-EU?`},
		{"qa", "Known profiles: Staging, default, prod-EU"},
	}
	for _, tt := range tests {
		c, err := Load(path, tt.profile, envOf(nil))
		if tt.wantErr == "" {
			if err != nil {
				t.Errorf("%q: %v", tt.profile, err)
			}
			continue
		}
		var unknown *UnknownProfileError
		if !errors.As(err, &unknown) || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%q: err %v, want %q", tt.profile, err, tt.wantErr)
		}
		if c != nil {
			t.Errorf("%q: a config came back with the error", tt.profile)
		}
		if c, err := Open(path, tt.profile, envOf(nil)); err != nil || c.Profile != tt.profile {
			t.Errorf("Open(%q) = %v, %v; want the new profile", tt.profile, c, err)
		}
	}
	c, _ := Load(path, "Staging", envOf(nil))
	if c.Get(KeyAPIURL) != "http://s" {
		t.Errorf("Staging api_url = %q", c.Get(KeyAPIURL))
	}
	c, _ = Load(path, "prod-EU", envOf(nil))
	if got := c.FileValue("prod-EU", KeyTriggerURL); got != "3000" {
		t.Errorf("a number reads as %q", got)
	}
	c.Set("prod-EU", KeyAPIKey, "jsk_x")
	if err := c.Save(); err != nil {
		t.Fatal(err)
	}
	again, err := Load(path, "prod-EU", envOf(nil))
	if err != nil || again.Get(KeyAPIKey) != "jsk_x" || !slices.Equal(again.Profiles(), []string{"Staging", "default", "prod-EU"}) {
		t.Errorf("after saving: %v, %v", again.Profiles(), err)
	}
}

// A key jasni does not know is refused where it would be read, with the
// nearest known one: a typo must not send the setting elsewhere unnoticed.
func TestUnknownKeys(t *testing.T) {
	path := writeFile(t, "[default]\nwebook_secret = \"whsec_x\"\n[other]\nport = 1\n")
	if _, err := Load(path, "", envOf(nil)); err == nil || !strings.Contains(err.Error(), `profile [default]: unknown setting "webook_secret": did you mean webhook_secret?`) ||
		!strings.Contains(err.Error(), "jasni config unset webook_secret") {
		t.Errorf("err = %v", err)
	}
	if c, err := Open(path, "", envOf(nil)); err != nil || c.FileValue("default", "webook_secret") != "whsec_x" {
		t.Errorf("Open, for config list and unset: %v", err)
	}
	// A key unlike any jasni knows is one a newer jasni may have written.
	if _, err := Load(writeFile(t, "[default]\nzzz_future_setting = 1\n"), "", envOf(nil)); err != nil {
		t.Errorf("a key unlike any known one: %v", err)
	}
}

func TestSettingOf(t *testing.T) {
	if _, err := SettingOf("api-key"); err == nil || !strings.Contains(err.Error(), "did you mean api_key?") {
		t.Errorf("err = %v", err)
	}
	for _, s := range Settings {
		if got, err := SettingOf(s.Key); err != nil || got.Key != s.Key || len(got.Env) == 0 {
			t.Errorf("SettingOf(%s) = %v, %v", s.Key, got, err)
		}
	}
}
