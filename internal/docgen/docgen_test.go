package docgen

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestCompletionsAreFresh fails when completions/ no longer matches the
// command tree: run `go run ./internal/docgen/gen` and commit the result.
func TestCompletionsAreFresh(t *testing.T) {
	scripts, err := Completions(Root())
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range scripts {
		got, err := os.ReadFile(filepath.Join("..", "..", "completions", name))
		if err != nil || string(got) != string(want) {
			t.Errorf("completions/%s is stale or missing: run `go run ./internal/docgen/gen` and commit (%v)", name, err)
		}
	}
}

func TestBashCompletionSourcesAndCompletesEvents(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	out, err := exec.Command(bash, "-c", "source ../../completions/jasni.bash && type __start_jasni >/dev/null && echo ok").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "ok" {
		t.Fatalf("sourcing completions/jasni.bash: %v\n%s", err, out)
	}
}

func TestManPages(t *testing.T) {
	dir := t.TempDir()
	if err := WriteManPages(Root(), dir); err != nil {
		t.Fatal(err)
	}
	for _, page := range []string{"jasni.1", "jasni-trigger.1", "jasni-listen.1", "jasni-webhooks-create.1", "jasni-events-resend.1"} {
		data, err := os.ReadFile(filepath.Join(dir, page))
		if err != nil || !strings.Contains(string(data), ".TH") {
			t.Errorf("%s: %v", page, err)
		}
	}
}
