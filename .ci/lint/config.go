package main

import (
	"bytes"
	"errors"
	"fmt"
	"go/ast"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
	"golang.org/x/tools/go/analysis"
)

// config is the part of golangci-lint v2's configuration this tool carries
// out. Decoding is strict: a key it does not know is an error, not a
// setting silently dropped.
type config struct {
	Version string `yaml:"version"`
	Run     struct {
		Tests *bool `yaml:"tests"`
	} `yaml:"run"`
	Linters struct {
		Default  string   `yaml:"default"`
		Enable   []string `yaml:"enable"`
		Settings struct {
			Errcheck struct {
				ExcludeFunctions []string `yaml:"exclude-functions"`
			} `yaml:"errcheck"`
			Staticcheck struct {
				Checks []string `yaml:"checks"`
			} `yaml:"staticcheck"`
		} `yaml:"settings"`
		Exclusions struct {
			Generated string   `yaml:"generated"`
			Presets   []string `yaml:"presets"`
			Rules     []struct {
				Path    string   `yaml:"path"`
				Linters []string `yaml:"linters"`
				Text    string   `yaml:"text"`
			} `yaml:"rules"`
		} `yaml:"exclusions"`
	} `yaml:"linters"`
	Issues struct {
		// Both must be 0 (show everything), which is all this tool does.
		MaxIssuesPerLinter int `yaml:"max-issues-per-linter"`
		MaxSameIssues      int `yaml:"max-same-issues"`
	} `yaml:"issues"`

	path  string // the file's
	data  []byte
	dir   string // paths in rules are relative to it
	rules []rule
}

// A rule drops a finding that matches all of what it names.
type rule struct {
	path    *regexp.Regexp
	linters []string
	text    *regexp.Regexp
}

// presets are golangci-lint v2's exclusion presets this tool knows.
var presets = map[string][]rule{
	"std-error-handling": {{
		linters: []string{"errcheck"},
		text: regexp.MustCompile(`(?i)Error return value of .((os\.)?std(out|err)\..*|.*Close` +
			`|.*Flush|os\.Remove(All)?|.*print(f|ln)?|os\.(Un)?Setenv). is not checked`),
	}},
}

func loadConfig() (*config, error) {
	path := os.Getenv("JASNI_LINT_CONFIG")
	if path == "" {
		return nil, errors.New("JASNI_LINT_CONFIG names no .golangci.yml: run .ci/lint/run, which sets it")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	c := &config{path: path, dir: filepath.Dir(path), data: data}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil {
		return nil, fmt.Errorf("%s: %w (a key this tool does not carry out is refused)", path, err)
	}
	if err := c.check(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

func (c *config) check() error {
	switch {
	case c.Version != "2":
		return fmt.Errorf("version %q: want \"2\"", c.Version)
	case c.Run.Tests != nil && !*c.Run.Tests:
		return errors.New("run.tests: false: go vet lints test files too")
	case c.Linters.Default != "none":
		return fmt.Errorf("linters.default %q: want none, and every linter named in enable", c.Linters.Default)
	case c.Linters.Exclusions.Generated != "lax" && c.Linters.Exclusions.Generated != "":
		return fmt.Errorf("linters.exclusions.generated %q: only lax is carried out", c.Linters.Exclusions.Generated)
	case c.Issues.MaxIssuesPerLinter != 0 || c.Issues.MaxSameIssues != 0:
		return errors.New("issues.max-issues-per-linter and max-same-issues: only 0 (every finding) is carried out")
	}
	for _, p := range c.Linters.Exclusions.Presets {
		rs, ok := presets[p]
		if !ok {
			return fmt.Errorf("linters.exclusions.presets: %q is not one this tool knows", p)
		}
		c.rules = append(c.rules, rs...)
	}
	for i, r := range c.Linters.Exclusions.Rules {
		var out rule
		var err error
		if r.Path != "" {
			if out.path, err = regexp.Compile(r.Path); err != nil {
				return fmt.Errorf("linters.exclusions.rules[%d].path: %w", i, err)
			}
		}
		if r.Text != "" {
			if out.text, err = regexp.Compile(r.Text); err != nil {
				return fmt.Errorf("linters.exclusions.rules[%d].text: %w", i, err)
			}
		}
		for _, l := range r.Linters {
			if !slices.Contains(c.Linters.Enable, l) {
				return fmt.Errorf("linters.exclusions.rules[%d].linters: %q is not enabled", i, l)
			}
		}
		out.linters = r.Linters
		if len(r.Linters)+btoi(r.Path != "")+btoi(r.Text != "") < 2 {
			return fmt.Errorf("linters.exclusions.rules[%d]: a rule needs at least two of path, linters and text", i)
		}
		c.rules = append(c.rules, out)
	}
	return nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// filter makes analyzer a's findings those of linter name: with its name
// before the message where golangci-lint puts one, the linter's name after
// it, and none that a rule or a generated file excludes.
func (c *config) filter(name string, prefixName bool, a *analysis.Analyzer) {
	run := a.Run
	a.Run = func(pass *analysis.Pass) (any, error) {
		report := pass.Report
		generated := generatedFiles(pass)
		pass.Report = func(d analysis.Diagnostic) {
			pos := pass.Fset.Position(d.Pos)
			if generated[pos.Filename] {
				return
			}
			text := d.Message
			if prefixName {
				text = a.Name + ": " + text
			}
			rel, err := filepath.Rel(c.dir, pos.Filename)
			if err != nil {
				rel = pos.Filename
			}
			if c.excluded(name, filepath.ToSlash(rel), text) {
				return
			}
			d.Message = text + " (" + name + ")"
			report(d)
		}
		return run(pass)
	}
}

func (c *config) excluded(linter, path, text string) bool {
	for _, r := range c.rules {
		if (r.path == nil || r.path.MatchString(path)) &&
			(r.linters == nil || slices.Contains(r.linters, linter)) &&
			(r.text == nil || r.text.MatchString(text)) {
			return true
		}
	}
	return false
}

var generatedCache sync.Map // *analysis.Pass → map[string]bool

// generatedFiles are the package's files that say they are generated, in
// golangci-lint's lax sense: a comment before the package clause saying
// so, in any of the usual words.
func generatedFiles(pass *analysis.Pass) map[string]bool {
	if m, ok := generatedCache.Load(pass.Pkg); ok {
		return m.(map[string]bool)
	}
	m := map[string]bool{}
	for _, f := range pass.Files {
		if isGenerated(f) {
			m[pass.Fset.Position(f.Pos()).Filename] = true
		}
	}
	generatedCache.Store(pass.Pkg, m)
	return m
}

func isGenerated(f *ast.File) bool {
	if ast.IsGenerated(f) {
		return true
	}
	for _, g := range f.Comments {
		if g.Pos() > f.Package {
			break
		}
		text := strings.ToLower(g.Text())
		for _, marker := range []string{"code generated", "do not edit", "autogenerated file"} {
			if strings.Contains(text, marker) {
				return true
			}
		}
	}
	return false
}
