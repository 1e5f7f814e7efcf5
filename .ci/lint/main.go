// Command lint is the linters .golangci.yml names, run by `go vet` as its
// vet tool, so that they share go vet's compilation instead of type-checking
// the module and its dependencies a second time, and CI need not build
// golangci-lint (three minutes of a cold run) to run them:
//
//	.ci/lint/run ./...
//
// It reads the .golangci.yml that JASNI_LINT_CONFIG names (go vet runs it
// in each package's folder, the standard library's among them, so it cannot
// look for one; .ci/lint/run sets it) and refuses any key or linter it
// does not carry out, so the file stays the one description of what is
// linted and golangci-lint v2 run with it finds the same things: govet
// (cmd/vet's own suite, which this replaces), staticcheck (its checks list),
// errcheck (exclude-functions and errcheck's default exclusions), bodyclose,
// noctx and misspell (no locale), with the exclusions' rules and the
// std-error-handling preset.
package main

import (
	"crypto/sha256"
	"fmt"
	"io"
	"os"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/unitchecker"
)

func main() {
	// go vet asks the tool for its flags and version before any package;
	// those questions need no configuration.
	cfg, err := loadConfig()
	if err != nil {
		fmt.Fprintf(os.Stderr, "lint: %v\n", err)
		os.Exit(2)
	}
	if len(os.Args) == 2 && os.Args[1] == "-V=full" {
		// go vet keys its cache of each package's findings on this answer:
		// it hashes the configuration as well as the executable, so that an
		// edit to .golangci.yml is not answered from that cache.
		id, err := buildID(cfg)
		if err != nil {
			fmt.Fprintf(os.Stderr, "lint: %v\n", err)
			os.Exit(2)
		}
		fmt.Printf("jasni-lint version devel buildID=%x\n", id)
		os.Exit(0)
	}
	linters, err := cfg.linters()
	if err != nil {
		fmt.Fprintf(os.Stderr, "lint: %s: %v\n", cfg.path, err)
		os.Exit(2)
	}
	var all []*analysis.Analyzer
	for _, l := range linters {
		for _, a := range l.analyzers {
			cfg.filter(l.name, l.prefixName, a)
			all = append(all, a)
		}
	}
	unitchecker.Main(all...)
}

func buildID(cfg *config) ([]byte, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	f, err := os.Open(exe)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return nil, err
	}
	h.Write(cfg.data)
	return h.Sum(nil), nil
}
