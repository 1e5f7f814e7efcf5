// Package golden compares rendered output with files under testdata/,
// named after the test. Run `UPDATE_GOLDEN=1 go test ./...` to rewrite them
// (an environment variable rather than a flag, since a flag would break
// `go test ./...` in the packages that do not define it).
package golden

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Assert fails t when got differs from testdata/<TestName>.golden.
func Assert(t *testing.T, got string) {
	t.Helper()
	path := filepath.Join("testdata", strings.ReplaceAll(t.Name(), "/", "__")+".golden")
	if os.Getenv("UPDATE_GOLDEN") != "" {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (create it with UPDATE_GOLDEN=1): %v", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (rerun with UPDATE_GOLDEN=1 if the change is intended)\n--- got:\n%s\n--- want:\n%s", path, got, want)
	}
}
