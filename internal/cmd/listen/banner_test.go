package listen

import (
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/jasni/jasni-cli/internal/provider"
	"github.com/jasni/jasni-cli/internal/relay"
	"github.com/jasni/jasni-cli/internal/ui"
)

type fakeTunnel struct{ net.Listener }

func (fakeTunnel) URL() string       { return "http://127.0.0.1:4000" }
func (fakeTunnel) Public() bool      { return false }
func (fakeTunnel) Disconnect() error { return nil }

// At any width, no banner line is wider than the terminal, none breaks
// inside a word, and the command to try pastes as one command.
func TestBannerFitsTheTerminal(t *testing.T) {
	p, _ := provider.Builtin("jasni")
	o := &Options{Provider: p, Secret: "whsec_demo", SecretSource: `profile "default" (made now, for local testing; trigger finds it there)`,
		Paths: []string{relay.DefaultPath}, Methods: []string{http.MethodPost}, HistoryPath: "/home/me/.local/state/jasni/history.db",
		TriggerArgs: " --profile staging"}
	o.sameSecretArgs()
	for _, width := range []int{60, 80, 120, 200} {
		out := wrapBanner(o.banner(ui.New(&strings.Builder{}, false), fakeTunnel{}, "http://127.0.0.1:4000/webhooks/jasni", true, "http://127.0.0.1:4040", width), width)
		lines := strings.Split(out, "\n")
		for _, l := range lines {
			if ui.Width(l) > width {
				t.Errorf("%d columns: %q is wider", width, l)
			}
			if strings.TrimSpace(l) == ")" {
				t.Errorf("%d columns: a lone parenthesis", width)
			}
		}
		i := strings.Index(out, "Try it:")
		if i < 0 {
			t.Fatalf("%d columns: no command to try:\n%s", width, out)
		}
		try := strings.Join(strings.Fields(strings.ReplaceAll(out[i+len("Try it:"):], " \\\n", " ")), " ")
		if !strings.HasPrefix(try, "jasni trigger --all --url http://127.0.0.1:4000/webhooks/jasni --profile staging") {
			t.Errorf("%d columns: the command pastes as %q", width, try)
		}
	}
}
