package main_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/jasni/jasni-cli/internal/api/apitest"
)

// TestGenericWebhookTestReachesListen is issue 21's path end to end: the
// built binary registers a webhook with the generic REST API of the 003
// guide (its secret made by jasni, sent, shown once and saved), points it
// at a running listen, asks the API for a test delivery, and listen
// verifies it with the saved secret and forwards it to the app.
func TestGenericWebhookTestReachesListen(t *testing.T) {
	const token = "YOUR_TOKEN_e2e"
	srv := apitest.NewGeneric(apitest.ShapeData, token)
	defer srv.Close()
	var forwarded atomic.Int32
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { forwarded.Add(1) }))
	defer app.Close()

	dir := t.TempDir()
	env := []string{"JASNI_CONFIG=" + filepath.Join(dir, "config.toml"), "XDG_STATE_HOME=" + dir, "JASNI_API_URL=" + srv.URL, "JASNI_API_KEY=" + token}
	stdout, stderr, code := jasni(t, env, "webhooks", "create", "--provider", "generic", "--url", "http://127.0.0.1:9/webhooks/generic",
		"--events", "resource.created", "--save-secret", "default", "-o", "json")
	var created struct{ ID, Secret string }
	if err := json.Unmarshal([]byte(stdout), &created); code != 0 || err != nil || created.Secret != srv.Webhooks()[0].Secret {
		t.Fatalf("create: exit %d %v\n%s%s", code, err, stdout, stderr)
	}

	// The saved profile names the provider and holds the secret: listen
	// needs neither flag.
	l := runListen(t, env, "--forward", app.URL+"/hook")
	if _, stderr, code := jasni(t, env, "webhooks", "update", created.ID, "--url", l.url+"/webhooks/generic"); code != 0 {
		t.Fatalf("update: %d %s", code, stderr)
	}
	stdout, stderr, code = jasni(t, env, "webhooks", "test", created.ID)
	if code != 0 || !strings.Contains(stdout, "accepted a test resource.created delivery") {
		t.Fatalf("test: exit %d\n%s%s", code, stdout, stderr)
	}
	d := srv.Deliveries()
	if len(d) != 1 || d[0].Status != http.StatusOK || forwarded.Load() != 1 {
		t.Fatalf("the test delivery: %+v, forwarded %d", d, forwarded.Load())
	}
	out, errOut, _ := l.stop()
	if !strings.Contains(out, "resource.created") || !strings.Contains(out, "\tvalid\t") {
		t.Errorf("listen did not show a verified delivery:\n%s\n%s", out, errOut)
	}
	if strings.Contains(out+errOut, token) {
		t.Error("the API token was printed")
	}
}
