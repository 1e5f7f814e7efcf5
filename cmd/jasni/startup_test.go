package main_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
)

// TestInitStaysCheap: jasni's own packages do next to nothing before main
// (every command pays for every package's init, and a shell completion on
// each TAB). Measured in bytes allocated, which GODEBUG=inittrace reports
// exactly, not in time, which a busy machine blurs. A regexp or template
// built at init costs thousands of allocations; build it on first use
// (internal/lazyre, sync.OnceValue).
func TestInitStaysCheap(t *testing.T) {
	const budget = 8 << 10 // bytes per package
	cmd := exec.Command(filepath.Join(binDir, "jasni"), "version")
	cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	line := regexp.MustCompile(`(?m)^init (github\.com/jasni/jasni-cli/\S+) @.* (\d+) bytes`)
	seen := 0
	for _, m := range line.FindAllStringSubmatch(string(out), -1) {
		seen++
		if n, _ := strconv.Atoi(m[2]); n > budget {
			t.Errorf("init of %s allocates %d bytes (budget %d): defer that work to first use", m[1], n, budget)
		}
	}
	if seen == 0 {
		t.Fatalf("no init trace of jasni's packages:\n%s", out)
	}
}
