package docgen

import (
	"compress/gzip"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"
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
	tests := []struct{ page, title, synopsis, has string }{
		{"jasni.1.gz", `"JASNI"`, `\fBjasni <command> [flags]\fP`, ""},
		{"jasni-trigger.1.gz", `"JASNI-TRIGGER"`, `\fBjasni trigger [EVENT...] [flags]\fP`, "data.to[0]"},
		{"jasni-webhooks.1.gz", `"JASNI-WEBHOOKS"`, `\fBjasni webhooks <command> [flags]\fP`, ""},
		{"jasni-webhooks-create.1.gz", `"JASNI-WEBHOOKS-CREATE"`, `\fBjasni webhooks create --url URL [--events e1,e2] [--description D] [flags]\fP`, ""},
		{"jasni-config-set.1.gz", `"JASNI-CONFIG-SET"`, `\fBjasni config set <key> <value> [flags]\fP`, ""},
		{"jasni-listen.1.gz", `"JASNI-LISTEN"`, `\fBjasni listen [--forward localhost:3000] [flags]\fP`, "default /webhooks/<provider>"},
	}
	for _, tt := range tests {
		t.Run(tt.page, func(t *testing.T) {
			page := readGzip(t, filepath.Join(dir, tt.page))
			if !strings.Contains(page, ".TH "+tt.title+` "1"`) {
				t.Errorf("title is not %s:\n%s", tt.title, page[:min(len(page), 200)])
			}
			if !strings.Contains(page, ".SH SYNOPSIS\n"+tt.synopsis+"\n") {
				t.Errorf("synopsis is not %s:\n%s", tt.synopsis, page)
			}
			if !strings.Contains(page, tt.has) {
				t.Errorf("page lacks %q", tt.has)
			}
		})
	}
	// Every visible command has a page and nothing else is there.
	var want []string
	eachCommand(Root(), func(c *cobra.Command) error { want = append(want, ManPageName(c)); return nil })
	entries, _ := os.ReadDir(dir)
	if len(entries) != len(want) || len(want) < 30 {
		t.Errorf("%d pages for %d commands", len(entries), len(want))
	}
}

func readGzip(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// The Homebrew cask lists its man pages one by one (it takes no pattern):
// the list must name every page, so that `man jasni-trigger` works there too.
func TestCaskInstallsEveryManPage(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", ".goreleaser.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	_, cask, _ := strings.Cut(string(data), "homebrew_casks:")
	cask, _, _ = strings.Cut(cask, "\nnfpms:")
	listed := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^\s+- manpages/(\S+)$`).FindAllStringSubmatch(cask, -1) {
		listed[m[1]] = true
	}
	var missing []string
	eachCommand(Root(), func(c *cobra.Command) error {
		if name := ManPageName(c); !listed[name] {
			missing = append(missing, "      - manpages/"+name)
		} else {
			delete(listed, name)
		}
		return nil
	})
	if len(missing) > 0 {
		t.Errorf(".goreleaser.yaml's cask lacks these man pages; add them under homebrew_casks.manpages:\n%s", strings.Join(missing, "\n"))
	}
	for name := range listed {
		t.Errorf(".goreleaser.yaml's cask lists manpages/%s, which no command has", name)
	}
}

// Examples are pasted into zsh as often as into bash. zsh stops at an
// unquoted glob that matches nothing ("no matches found: data.to[0]=x"), so
// every [, * and ? in a command line must be quoted.
func TestExamplesAreSafeInZsh(t *testing.T) {
	var lines []string
	eachCommand(Root(), func(c *cobra.Command) error {
		for _, line := range strings.Split(c.Example, "\n") {
			if line = strings.TrimSpace(line); strings.HasPrefix(line, "$ ") {
				lines = append(lines, c.CommandPath()+": "+line)
			}
		}
		return nil
	})
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	inShell := false
	for _, line := range strings.Split(string(readme), "\n") {
		switch {
		case strings.HasPrefix(line, "```sh"), strings.HasPrefix(line, "```bash"):
			inShell = true
		case strings.HasPrefix(line, "```"):
			inShell = false
		case inShell && strings.Contains(line, "jasni"):
			lines = append(lines, "README.md: "+line)
		}
	}
	for _, line := range lines {
		if c := unquotedGlob(line[strings.Index(line, ": ")+2:]); c != 0 {
			t.Errorf("unquoted %q would make zsh fail: %s", c, line)
		}
	}
}

// placeholder is a <name> that a shell would read as a redirection.
var placeholder = regexp.MustCompile(`^<[A-Za-z_-]+>`)

// unquotedGlob returns the first glob character (or the < of a <name>
// placeholder) outside quotes, before any comment, or 0.
func unquotedGlob(line string) rune {
	var quote rune
	escaped := false
	wordStart := true
	for i, r := range line {
		switch {
		case escaped:
			escaped = false
		case quote != 0:
			if r == quote {
				quote = 0
			}
		case r == '\\':
			escaped = true
		case r == '\'' || r == '"':
			quote = r
		case r == '#' && wordStart:
			return 0
		case r == '[' || r == '*' || r == '?':
			return r
		case r == '<' && placeholder.MatchString(line[i:]):
			return r
		}
		wordStart = r == ' ' || r == '\t'
	}
	return 0
}
