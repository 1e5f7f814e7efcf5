package providers_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jasni/jasni-cli/internal/clitest"
	"github.com/jasni/jasni-cli/internal/provider"
)

func TestProviders(t *testing.T) {
	cfgDir := t.TempDir()
	acme := filepath.Join(cfgDir, "providers", "acme")
	os.MkdirAll(acme, 0o700)
	os.WriteFile(filepath.Join(acme, "provider.toml"), []byte("name = \"acme\"\ntitle = \"Acme\"\n[signature]\nheader = \"X-Acme-Signature\"\n[envelope]\nevent = \"kind\"\n"), 0o600)
	os.WriteFile(filepath.Join(acme, "order.paid.json"), []byte(`{"kind":"order.paid"}`), 0o600)
	broken := filepath.Join(cfgDir, "providers", "broken")
	os.MkdirAll(broken, 0o700)
	env := map[string]string{"JASNI_CONFIG": filepath.Join(cfgDir, "config.toml")}

	res := clitest.Run(t, clitest.Options{Env: env}, "providers", "list", "--output", "json")
	var list []struct {
		Name    string `json:"name"`
		BuiltIn bool   `json:"built_in"`
		Error   string `json:"error"`
	}
	builtins := len(provider.BuiltinNames())
	if res.Code != 0 || json.Unmarshal([]byte(res.Stdout), &list) != nil || len(list) != builtins+2 {
		t.Fatalf("list: exit %d\n%s%s", res.Code, res.Stdout, res.Stderr)
	}
	if list[builtins].Name != "acme" || list[builtins].BuiltIn || !strings.Contains(list[builtins+1].Error, "no provider.toml") {
		t.Errorf("folders: %+v", list[builtins:])
	}

	res = clitest.Run(t, clitest.Options{Env: env}, "providers", "show", "standard")
	for _, want := range []string{"webhook-signature: v1,<base64 of HMAC-SHA256 over \"{id}.{timestamp}.{body}\">", "the base64 after whsec_", "within 5m0s", "Delivery id webhook-id", "invoice.paid"} {
		if !strings.Contains(res.Stdout, want) {
			t.Errorf("show standard lacks %q:\n%s", want, res.Stdout)
		}
	}
	if res := clitest.Run(t, clitest.Options{Env: env}, "providers", "show", "acme"); res.Code != 0 || !strings.Contains(res.Stdout, "order.paid") {
		t.Errorf("show acme by name: %d %s%s", res.Code, res.Stdout, res.Stderr)
	}
	if res := clitest.Run(t, clitest.Options{Env: env}, "providers", "show", "vosnap"); res.Code != 2 || !strings.Contains(res.Stderr, "did you mean voisnap?") {
		t.Errorf("unknown: %d %s", res.Code, res.Stderr)
	}
}

// providers show --output json uses provider.toml's own field names, as
// every other JSON jasni prints does.
func TestShowJSONFieldNames(t *testing.T) {
	res := clitest.Run(t, clitest.Options{}, "providers", "show", "stripe", "--output", "json")
	var got map[string]any
	if res.Code != 0 || json.Unmarshal([]byte(res.Stdout), &got) != nil {
		t.Fatalf("exit %d: %s%s", res.Code, res.Stdout, res.Stderr)
	}
	sig, _ := got["signature"].(map[string]any)
	if got["name"] != "stripe" || sig["header"] != "Stripe-Signature" || sig["timestamp_item"] != "t" || got["Name"] != nil {
		t.Errorf("show -o json: %s", res.Stdout)
	}
}
