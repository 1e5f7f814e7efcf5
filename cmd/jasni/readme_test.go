package main_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// readmeBlock is the first sh block after heading in the README, its
// lines joined where they continue with " \" and without comments.
func readmeBlock(t *testing.T, heading string) []string {
	t.Helper()
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(readme)
	i := strings.Index(s, "\n"+heading+"\n")
	if i < 0 {
		t.Fatalf("the README has no %q", heading)
	}
	s = s[i:]
	s = s[strings.Index(s, "```sh\n")+len("```sh\n"):]
	s = s[:strings.Index(s, "```")]
	var lines []string
	for _, l := range strings.Split(strings.ReplaceAll(s, "\\\n", " "), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			lines = append(lines, l)
		}
	}
	return lines
}

// TestReadmeTriggerBlock runs the trigger section's examples as written, in
// a fresh shell with jasni on the PATH and `jasni listen` running, as the
// section says: each exits 0, or 3 where it sends what listen must refuse.
// The first line, aimed at the reader's own app, is left out.
func TestReadmeTriggerBlock(t *testing.T) {
	dir := t.TempDir()
	env := []string{"JASNI_CONFIG=" + filepath.Join(dir, "config.toml"), "XDG_STATE_HOME=" + dir}
	l := runListen(t, env, "--inspect=false")
	ran := 0
	for _, line := range readmeBlock(t, "## `jasni trigger`") {
		if strings.Contains(line, "--url") {
			continue
		}
		want := 0
		if strings.Contains(line, "--unsigned") || strings.Contains(line, `"X-Webhook-Signature:"`) {
			want = 3
		}
		cmd := exec.Command("bash", "-c", line)
		cmd.Dir = dir
		cmd.Env = append([]string{"HOME=" + dir, "PATH=" + binDir + string(os.PathListSeparator) + os.Getenv("PATH")}, env...)
		out, _ := cmd.CombinedOutput()
		if code := cmd.ProcessState.ExitCode(); code != want {
			t.Errorf("%s: exit %d, want %d\n%s", line, code, want, out)
		}
		ran++
	}
	if ran < 8 {
		t.Errorf("ran %d of the block's commands; the block changed shape", ran)
	}
	l.stop()
}
