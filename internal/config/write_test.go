package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSaveKeepsOtherProfilesAndIsPrivate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "jasni")
	path := filepath.Join(dir, "config.toml")
	c, err := Load(path, "", envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	c.Set("default", KeyAPIKey, "jsk_one")
	c.Set("staging", KeyWebhookSecret, "whsec_two")
	if err := c.Save(); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]os.FileMode{dir: 0o700, path: 0o600} {
		st, err := os.Stat(p)
		if err != nil || st.Mode().Perm() != want {
			t.Errorf("%s mode %v, want %v (%v)", p, st.Mode().Perm(), want, err)
		}
	}

	again, err := Load(path, "staging", envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if again.Get(KeyWebhookSecret) != "whsec_two" || again.FileValue("default", KeyAPIKey) != "jsk_one" {
		t.Errorf("reloaded: staging secret %q, default key %q", again.Get(KeyWebhookSecret), again.FileValue("default", KeyAPIKey))
	}
	if !again.Unset("default", KeyAPIKey) || again.Unset("default", KeyAPIKey) {
		t.Error("Unset should report true once, then false")
	}
	if err := again.Save(); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	if strings.Contains(string(data), "jsk_one") || !strings.Contains(string(data), "whsec_two") {
		t.Errorf("after unset:\n%s", data)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
}

func TestSaveTightensALooseFile(t *testing.T) {
	path := writeFile(t, "[default]\ntrigger_url = \"http://x\"\n")
	os.Chmod(path, 0o644)
	c, _ := Load(path, "", envOf(nil))
	c.Set("default", KeyAPIKey, "jsk_x")
	if err := c.Save(); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v after saving a key, want 0600", st.Mode().Perm())
	}
	if c2, _ := Load(path, "", envOf(nil)); c2.Get(KeyTriggerURL) != "http://x" {
		t.Error("existing values lost")
	}
}
