package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
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
