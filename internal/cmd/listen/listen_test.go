package listen_test

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jasni/jasni-cli/internal/clitest"
)

func TestBadFlags(t *testing.T) {
	tests := []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"--forward", "ftp://x"}, nil, "--forward"},
		{[]string{"--tunnel", "carrier-pigeon"}, nil, "--tunnel must be auto, ngrok or local"},
		{[]string{"--tunnel", "ngrok"}, nil, "--tunnel ngrok needs an authtoken"},
		{[]string{"--ngrok-domain", "x.ngrok.app", "--tunnel", "local"}, nil, "--ngrok-domain needs the ngrok tunnel"},
		{[]string{"--port", "70000"}, nil, "not a port number"},
		{[]string{"--events", "email.recieved"}, nil, "did you mean email.received?"},
		{[]string{"--header", "nocolon"}, nil, "want Name:value"},
		{[]string{"--header", "Content-Length: 5"}, nil, "jasni sets Content-Length itself"},
		{[]string{"--provider", "voisnapp"}, nil, "did you mean voisnap?"},
		{[]string{"--provider", "voisnap", "--events", "SessionEnd"}, nil, "did you mean SessionEnded?"},
		{[]string{"--provider", "voisnap", "--events", "email.received"}, nil, "Known events: SessionStarted"},
		{[]string{"--provider", "standard", "--secret", "whsec_not base64!", "--tunnel", "local"}, nil, "is not base64"},
		{[]string{"--provider", "voisnap", "--webhook", "wh_1", "--tunnel", "local"}, nil, "--webhook"},
		{[]string{"--webhook", "wh_1", "--tunnel", "local"}, nil, "--webhook needs a public tunnel"},
		{[]string{"--print-secret"}, nil, "has no webhook secret yet"},
		{[]string{"--inspect", "0.0.0.0:4040"}, nil, "loopback only"},
		{[]string{"--inspect", "localhost:http"}, nil, "not a number"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			res := clitest.Run(t, clitest.Options{Env: tt.env}, append([]string{"listen"}, tt.args...)...)
			if res.Code != 2 || !strings.Contains(res.Stderr, tt.want) {
				t.Errorf("exit %d stderr %q; want 2 and %q", res.Code, res.Stderr, tt.want)
			}
		})
	}
}

func TestPrintSecret(t *testing.T) {
	res := clitest.Run(t, clitest.Options{Env: map[string]string{"WEBHOOK_SECRET": "whsec_env"}}, "listen", "--print-secret")
	if res.Code != 0 || res.Stdout != "whsec_env\n" {
		t.Errorf("exit %d stdout %q", res.Code, res.Stdout)
	}
}

// --forward to listen's own port would loop every delivery back in.
func TestForwardToItself(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	ln.Close()
	for _, fwd := range []string{port, "localhost:" + port, "127.0.0.1:" + port} {
		res := clitest.Run(t, clitest.Options{Env: map[string]string{"JASNI_HISTORY": filepath.Join(t.TempDir(), "h.db")}},
			"listen", "--tunnel", "local", "--port", port, "--forward", fwd, "--secret", "whsec_x")
		if res.Code != 2 || !strings.Contains(res.Stderr, "every delivery would go round in a loop") {
			t.Errorf("--forward %s: exit %d %q", fwd, res.Code, res.Stderr)
		}
	}
}

func TestPrintSecretJSON(t *testing.T) {
	res := clitest.Run(t, clitest.Options{Env: map[string]string{"WEBHOOK_SECRET": "whsec_env"}}, "listen", "--print-secret", "--output", "json")
	if res.Code != 0 || !strings.Contains(res.Stdout, `"secret":"whsec_env"`) {
		t.Errorf("exit %d stdout %q", res.Code, res.Stdout)
	}
}

// --print-secret prints the secret listen verifies with: the environment's
// wins over the profile's, as it does for listen itself.
func TestPrintSecretIsWhatListenUses(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(cfg, []byte("[default]\nwebhook_secret = \"whsec_profile\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"JASNI_CONFIG": cfg, "WEBHOOK_SECRET": "whsec_env"}
	if res := clitest.Run(t, clitest.Options{Env: env}, "listen", "--print-secret"); res.Stdout != "whsec_env\n" {
		t.Errorf("with WEBHOOK_SECRET set: %q", res.Stdout)
	}
	delete(env, "WEBHOOK_SECRET")
	if res := clitest.Run(t, clitest.Options{Env: env}, "listen", "--print-secret"); res.Stdout != "whsec_profile\n" {
		t.Errorf("from the profile: %q", res.Stdout)
	}
}
