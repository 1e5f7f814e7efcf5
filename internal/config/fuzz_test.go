package config

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoad: any config file loads or gives an error that names the file,
// never a panic, and what loads can be read for every profile.
func FuzzLoad(f *testing.F) {
	for _, s := range []string{
		"[default]\napi_key = \"jsk_x\"\nwebhook_secret = \"whsec_y\"\n",
		"[Work]\napi_url = 'http://127.0.0.1:1'\n[default]\n",
		"[default\n", "x = 1\n", "[default]\napi_key = 1\n", "[[default]]\n", "[default.nested]\na = {b = [1, {c = 2}]}\n",
		"\xff\xfe", "[a]\n" + "b = " + string(make([]byte, 10)) + "\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "config.toml")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := Load(path, "", func(string) string { return "" })
		if err != nil {
			return
		}
		for _, p := range append(c.Profiles(), "default", "missing") {
			c.Profile = p
			for _, k := range []string{KeyAPIKey, KeyAPIURL, KeyWebhookSecret, KeyNgrokAuthtoken} {
				_ = c.Get(k)
			}
		}
	})
}
