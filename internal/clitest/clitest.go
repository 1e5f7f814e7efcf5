// Package clitest runs the whole jasni command tree in-process, with buffers
// for streams and a map for the environment, for command tests.
package clitest

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"path/filepath"
	"sync"
	"testing"

	"github.com/jasni/jasni-cli/internal/app"
	"github.com/jasni/jasni-cli/internal/cmdutil"
	"github.com/jasni/jasni-cli/internal/iostreams"
)

// Result is what one run printed and returned.
type Result struct {
	Stdout, Stderr string
	Code           cmdutil.ExitCode
}

// Options adjusts a run.
type Options struct {
	Env   map[string]string
	Stdin string
	TTY   bool
	// Width is the terminal's width when TTY is set (default 80).
	Width int
}

// Run runs jasni with args. Unless Env names one, the config file is a path
// in a fresh temporary directory, so the developer's own config never leaks in.
func Run(t *testing.T, opts Options, args ...string) Result {
	t.Helper()
	ios, stdin, stdout, stderr := iostreams.Test()
	ios.SetTTY(opts.TTY)
	ios.SetTerminalWidth(opts.Width)
	stdin.WriteString(opts.Stdin)
	// A test never reads or writes the real config or history (nor finds
	// a real jasni listen through it).
	env := map[string]string{"JASNI_CONFIG": filepath.Join(t.TempDir(), "config.toml"), "XDG_STATE_HOME": t.TempDir()}
	for k, v := range opts.Env {
		env[k] = v
	}
	code := app.Run(context.Background(), args, ios, func(k string) string { return env[k] }, &http.Client{})
	return Result{Stdout: stdout.String(), Stderr: stderr.String(), Code: code}
}

// SyncBuffer is a buffer a command writes to while the test reads it from
// another goroutine.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// JasniSignature is the Jasni docs' signature, computed here the way their
// receiver examples do (hex HMAC-SHA256 of the raw body, keyed with the whole
// secret string), independently of jasni's own code.
func JasniSignature(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}
