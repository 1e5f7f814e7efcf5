// Package cmdutil holds what every command shares: the Factory that carries
// dependencies, typed errors with their exit codes, and common flag helpers.
package cmdutil

import (
	"net/http"
	"time"

	"github.com/jasni/jasni-cli/internal/config"
	"github.com/jasni/jasni-cli/internal/iostreams"
)

// Factory carries the dependencies commands need. Each is a function so a
// command pays only for what it uses and tests can replace any of them.
type Factory struct {
	IOStreams  *iostreams.IOStreams
	HttpClient func() (*http.Client, error)
	// Config is loaded once, after flags are parsed (it depends on --config and --profile).
	// A profile named by --profile or JASNI_PROFILE must be in the file.
	Config func() (*config.Config, error)
	// EditConfig is Config for the commands that may create the profile
	// (login, config set).
	EditConfig func() (*config.Config, error)
	Now        func() time.Time
	// Getenv reads the environment (a map in tests).
	Getenv func(string) string
	// DebugAPI reports whether API requests are traced to stderr
	// (--debug, JASNI_DEBUG=api).
	DebugAPI func() bool
}
