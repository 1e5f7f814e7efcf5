// Package lazyre compiles a package-level regexp when it is first used,
// not when jasni starts: every command pays for every package's init, and
// a shell completion pays on each TAB.
package lazyre

import (
	"regexp"
	"sync"
)

// New returns a function that compiles expr on its first call (panicking,
// as regexp.MustCompile does, on a bad expression) and returns the same
// Regexp on every call.
func New(expr string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })
}
