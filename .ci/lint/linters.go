package main

import (
	"cmp"
	"fmt"
	"go/ast"
	"go/token"
	"regexp"
	"slices"
	"strings"
	"unicode"

	"github.com/golangci/misspell"
	"github.com/kisielk/errcheck/errcheck"
	"github.com/sonatard/noctx"
	"github.com/timakin/bodyclose/passes/bodyclose"
	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/appends"
	"golang.org/x/tools/go/analysis/passes/asmdecl"
	"golang.org/x/tools/go/analysis/passes/assign"
	"golang.org/x/tools/go/analysis/passes/atomic"
	"golang.org/x/tools/go/analysis/passes/bools"
	"golang.org/x/tools/go/analysis/passes/buildtag"
	"golang.org/x/tools/go/analysis/passes/cgocall"
	"golang.org/x/tools/go/analysis/passes/composite"
	"golang.org/x/tools/go/analysis/passes/copylock"
	"golang.org/x/tools/go/analysis/passes/defers"
	"golang.org/x/tools/go/analysis/passes/directive"
	"golang.org/x/tools/go/analysis/passes/errorsas"
	"golang.org/x/tools/go/analysis/passes/framepointer"
	"golang.org/x/tools/go/analysis/passes/hostport"
	"golang.org/x/tools/go/analysis/passes/httpresponse"
	"golang.org/x/tools/go/analysis/passes/ifaceassert"
	"golang.org/x/tools/go/analysis/passes/loopclosure"
	"golang.org/x/tools/go/analysis/passes/lostcancel"
	"golang.org/x/tools/go/analysis/passes/nilfunc"
	"golang.org/x/tools/go/analysis/passes/printf"
	"golang.org/x/tools/go/analysis/passes/shift"
	"golang.org/x/tools/go/analysis/passes/sigchanyzer"
	"golang.org/x/tools/go/analysis/passes/slog"
	"golang.org/x/tools/go/analysis/passes/stdmethods"
	"golang.org/x/tools/go/analysis/passes/stdversion"
	"golang.org/x/tools/go/analysis/passes/stringintconv"
	"golang.org/x/tools/go/analysis/passes/structtag"
	"golang.org/x/tools/go/analysis/passes/testinggoroutine"
	"golang.org/x/tools/go/analysis/passes/tests"
	"golang.org/x/tools/go/analysis/passes/timeformat"
	"golang.org/x/tools/go/analysis/passes/unmarshal"
	"golang.org/x/tools/go/analysis/passes/unreachable"
	"golang.org/x/tools/go/analysis/passes/unsafeptr"
	"golang.org/x/tools/go/analysis/passes/unusedresult"
	"golang.org/x/tools/go/analysis/passes/waitgroup"
	"golang.org/x/tools/go/packages"
	"honnef.co/go/tools/analysis/lint"
	scconfig "honnef.co/go/tools/config"
	"honnef.co/go/tools/quickfix"
	"honnef.co/go/tools/simple"
	"honnef.co/go/tools/staticcheck"
	"honnef.co/go/tools/stylecheck"
)

// A linter is what .golangci.yml enables by name: one or more analyzers.
// prefixName says whether its findings start with the analyzer's name, as
// golangci-lint writes them for linters made of several ("printf: ...",
// "SA1019: ...").
type linter struct {
	name       string
	prefixName bool
	analyzers  []*analysis.Analyzer
}

// linters builds what the configuration enables, in its order.
func (c *config) linters() ([]linter, error) {
	var out []linter
	for _, name := range c.Linters.Enable {
		switch name {
		case "govet":
			// cmd/vet's suite (Go 1.26), which go vet runs when it is given
			// no vet tool: this tool stands in for it.
			out = append(out, linter{name, true, []*analysis.Analyzer{
				appends.Analyzer, asmdecl.Analyzer, assign.Analyzer, atomic.Analyzer,
				bools.Analyzer, buildtag.Analyzer, cgocall.Analyzer, composite.Analyzer,
				copylock.Analyzer, defers.Analyzer, directive.Analyzer, errorsas.Analyzer,
				framepointer.Analyzer, httpresponse.Analyzer, hostport.Analyzer,
				ifaceassert.Analyzer, loopclosure.Analyzer, lostcancel.Analyzer,
				nilfunc.Analyzer, printf.Analyzer, shift.Analyzer, sigchanyzer.Analyzer,
				slog.Analyzer, stdmethods.Analyzer, stdversion.Analyzer,
				stringintconv.Analyzer, structtag.Analyzer, tests.Analyzer,
				testinggoroutine.Analyzer, timeformat.Analyzer, unmarshal.Analyzer,
				unreachable.Analyzer, unsafeptr.Analyzer, unusedresult.Analyzer,
				waitgroup.Analyzer,
			}})
		case "staticcheck":
			as, err := staticcheckAnalyzers(c.Linters.Settings.Staticcheck.Checks)
			if err != nil {
				return nil, err
			}
			out = append(out, linter{name, true, as})
		case "errcheck":
			out = append(out, linter{name, false, []*analysis.Analyzer{errcheckAnalyzer(c.Linters.Settings.Errcheck.ExcludeFunctions)}})
		case "bodyclose":
			out = append(out, linter{name, false, []*analysis.Analyzer{bodyclose.Analyzer}})
		case "noctx":
			out = append(out, linter{name, false, []*analysis.Analyzer{noctx.Analyzer}})
		case "misspell":
			out = append(out, linter{name, false, []*analysis.Analyzer{misspellAnalyzer()}})
		default:
			return nil, fmt.Errorf("linters.enable: %q is not one this tool runs (govet, staticcheck, errcheck, bodyclose, noctx, misspell); add it to .ci/lint or run golangci-lint", name)
		}
	}
	return out, nil
}

// staticcheckAnalyzers selects staticcheck's checks as staticcheck (and
// golangci-lint) read a checks list: "all" or "*", a category glob such as
// "ST*", a prefix glob such as "SA1*", or a name, each negated by a
// leading "-", later entries winning.
func staticcheckAnalyzers(checks []string) ([]*analysis.Analyzer, error) {
	if len(checks) == 0 {
		checks = []string{"all", "-ST1000", "-ST1003", "-ST1016", "-ST1020", "-ST1021", "-ST1022"}
	}
	all := slices.Concat(staticcheck.Analyzers, stylecheck.Analyzers, simple.Analyzers, quickfix.Analyzers)
	byName := map[string]*lint.Analyzer{}
	for _, a := range all {
		byName[a.Analyzer.Name] = a
	}
	on := map[string]bool{}
	for _, check := range checks {
		want := true
		if len(check) > 1 && check[0] == '-' {
			want, check = false, check[1:]
		}
		matched := false
		for _, a := range all {
			name := a.Analyzer.Name
			if checkMatches(check, name) {
				on[name], matched = want, true
			}
		}
		if !matched {
			return nil, fmt.Errorf("linters.settings.staticcheck.checks: no check is named %q", check)
		}
	}
	cfg := scconfig.DefaultConfig
	cfg.Checks = checks
	// The configuration staticcheck's checks ask for: this file's, not a
	// staticcheck.conf beside the package (as golangci-lint does).
	scconfig.Analyzer.Run = func(*analysis.Pass) (any, error) { return &cfg, nil }
	var out []*analysis.Analyzer
	for _, a := range all {
		if on[a.Analyzer.Name] {
			out = append(out, a.Analyzer)
		}
	}
	return out, nil
}

func checkMatches(check, name string) bool {
	switch {
	case check == "all" || check == "*":
		return true
	case strings.HasSuffix(check, "*"):
		prefix := strings.TrimSuffix(check, "*")
		if !strings.ContainsFunc(prefix, unicode.IsNumber) {
			// A category: S* is S1000, not SA1000.
			i := strings.IndexFunc(name, unicode.IsNumber)
			return i >= 0 && name[:i] == prefix
		}
		return strings.HasPrefix(name, prefix)
	default:
		return check == name
	}
}

// errcheckAnalyzer runs errcheck's checker as golangci-lint does, with
// errcheck's default exclusions and the configured ones, and its message.
func errcheckAnalyzer(exclude []string) *analysis.Analyzer {
	checker := &errcheck.Checker{Exclusions: errcheck.Exclusions{
		BlankAssignments:       true,
		TypeAssertions:         true,
		SymbolRegexpsByPackage: map[string]*regexp.Regexp{},
		Symbols:                slices.Concat(errcheck.DefaultExcludedSymbols, exclude),
	}}
	return &analysis.Analyzer{
		Name: "errcheck",
		Doc:  "reports errors that are not checked",
		Run: func(pass *analysis.Pass) (any, error) {
			res := checker.CheckPackage(&packages.Package{
				Fset: pass.Fset, Syntax: pass.Files, Types: pass.Pkg, TypesInfo: pass.TypesInfo,
			}).Unique()
			for _, e := range res.UncheckedErrors {
				text := "Error return value is not checked"
				if e.FuncName != "" {
					text = fmt.Sprintf("Error return value of `%s` is not checked", cmp.Or(e.SelectorName, e.FuncName))
				}
				pass.Report(analysis.Diagnostic{Pos: tokenPos(pass, e.Pos), Message: text})
			}
			return nil, nil
		},
	}
}

// tokenPos finds the token.Pos of a position errcheck gives as a
// token.Position.
func tokenPos(pass *analysis.Pass, p token.Position) token.Pos {
	for _, f := range pass.Files {
		tf := pass.Fset.File(f.Pos())
		if tf != nil && tf.Name() == p.Filename && p.Line >= 1 && p.Line <= tf.LineCount() {
			return tf.LineStart(p.Line) + token.Pos(p.Column-1)
		}
	}
	return token.NoPos
}

// misspellAnalyzer looks for misspelt English words anywhere in a Go file,
// code as well as comments (misspell's default mode, and golangci-lint's),
// with no locale.
func misspellAnalyzer() *analysis.Analyzer {
	r := &misspell.Replacer{Replacements: misspell.DictMain}
	r.Compile()
	return &analysis.Analyzer{
		Name: "misspell",
		Doc:  "finds commonly misspelled English words",
		Run: func(pass *analysis.Pass) (any, error) {
			for _, file := range pass.Files {
				if err := misspellFile(pass, r, file); err != nil {
					return nil, err
				}
			}
			return nil, nil
		},
	}
}

func misspellFile(pass *analysis.Pass, r *misspell.Replacer, file *ast.File) error {
	tf := pass.Fset.File(file.Pos())
	name := pass.Fset.PositionFor(file.Pos(), false).Filename
	if !strings.HasSuffix(name, ".go") {
		return nil // cgo's generated files
	}
	src, err := pass.ReadFile(name)
	if err != nil {
		return fmt.Errorf("misspell: %w", err)
	}
	_, diffs := r.Replace(string(src))
	for _, d := range diffs {
		start := tf.LineStart(d.Line) + token.Pos(d.Column)
		pass.Report(analysis.Diagnostic{
			Pos:     start,
			End:     start + token.Pos(len(d.Original)),
			Message: fmt.Sprintf("`%s` is a misspelling of `%s`", d.Original, d.Corrected),
		})
	}
	return nil
}
