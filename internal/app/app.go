// Package app runs jasni: it builds the dependencies, runs the command tree,
// prints an error once, and maps it to the documented exit code.
package app

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jasni/jasni-cli/internal/cmd/root"
	"github.com/jasni/jasni-cli/internal/cmdutil"
	"github.com/jasni/jasni-cli/internal/config"
	"github.com/jasni/jasni-cli/internal/iostreams"
	"github.com/jasni/jasni-cli/internal/termsafe"
	"github.com/jasni/jasni-cli/internal/ui"
)

// Main runs jasni with the process's arguments and environment.
func Main() cmdutil.ExitCode {
	ios := iostreams.System()
	ctx, stop := interruptible(ios)
	defer stop()
	// For profiling jasni itself (bench/relay.sh); not a user feature.
	if path := os.Getenv("JASNI_CPUPROFILE"); path != "" {
		if f, err := os.Create(path); err == nil && pprof.StartCPUProfile(f) == nil {
			defer func() {
				pprof.StopCPUProfile()
				f.Close()
			}()
		}
	}
	return Run(ctx, os.Args[1:], ios, os.Getenv, http.DefaultClient)
}

// interruptible returns a context that the first Ctrl-C (or SIGTERM)
// cancels, so a command can finish what is in flight; a second one exits at
// once, for when that takes too long.
func interruptible(ios *iostreams.IOStreams) (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 2)
	done := make(chan struct{})
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		select {
		case <-sigs:
			cancel()
		case <-done:
			return
		}
		select {
		case <-sigs:
			fmt.Fprintln(ios.ErrOut, "interrupted again: exiting now")
			os.Exit(int(cmdutil.ExitInterrupted))
		case <-done:
		}
	}()
	return ctx, func() {
		signal.Stop(sigs)
		close(done)
		cancel()
	}
}

// Run runs one command line. Tests call it in-process with buffers for the
// streams, a map for the environment and a client of their choosing.
func Run(ctx context.Context, args []string, ios *iostreams.IOStreams, getenv func(string) string, client *http.Client) cmdutil.ExitCode {
	g := &root.Globals{}
	f := &cmdutil.Factory{
		IOStreams:  ios,
		HttpClient: func() (*http.Client, error) { return client, nil },
		Now:        time.Now,
		Getenv:     getenv,
	}
	load := func(open func(path, profile string, getenv func(string) string) (*config.Config, error)) func() (*config.Config, error) {
		return sync.OnceValues(func() (*config.Config, error) {
			path := cmp.Or(g.ConfigPath, getenv("JASNI_CONFIG"))
			if path == "" {
				var err error
				if path, err = config.DefaultPath(getenv); err != nil {
					return nil, err
				}
			}
			return open(path, cmp.Or(g.Profile, getenv("JASNI_PROFILE")), getenv)
		})
	}
	// A file named by --config must exist, except for the commands that
	// write one: a mistyped path would otherwise read as an empty config.
	mustExist := func(path, profile string, getenv func(string) string) (*config.Config, error) {
		if g.ConfigPath != "" {
			if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
				return nil, cmdutil.FlagErrorf("--config %s: there is no such file (check the path; jasni config set or jasni login creates it)", path)
			}
		}
		return config.Load(path, profile, getenv)
	}
	f.Config, f.EditConfig = load(mustExist), load(config.Open)
	f.DebugAPI = func() bool { return g.Debug || DebugAPI(getenv("JASNI_DEBUG")) }
	ios.ApplyColorEnv(getenv)

	cmd := root.NewCmdRoot(f, g)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(ctx)
	if err == nil {
		return cmdutil.ExitOK
	}
	var silent *cmdutil.SilentError
	if ctx.Err() != nil && !errors.As(err, &silent) {
		err = cmdutil.ErrCancel
	}
	printError(ios, err)
	if isUsageError(err) {
		return cmdutil.ExitUsage
	}
	return cmdutil.CodeOf(err)
}

func printError(ios *iostreams.IOStreams, err error) {
	var silent *cmdutil.SilentError
	if errors.As(err, &silent) {
		return
	}
	s := ui.New(ios.ErrOut, ios.ErrColorEnabled())
	if errors.Is(err, cmdutil.ErrCancel) {
		fmt.Fprintln(ios.ErrOut, s.Warning("interrupted"))
		return
	}
	// Errors can quote what a server or a file said: made safe to show.
	msg := termsafe.Text(err.Error())
	fmt.Fprintf(ios.ErrOut, "%s %s\n", s.Failure("Error:"), msg)
	if isUsageError(err) && !strings.Contains(msg, "--help") {
		fmt.Fprintln(ios.ErrOut, s.Muted("Run 'jasni --help' or 'jasni <command> --help' for usage."))
	}
}

// isUsageError also catches the errors cobra makes itself for unknown
// commands and wrong argument counts, which carry no type.
func isUsageError(err error) bool {
	var flagErr *cmdutil.FlagError
	if errors.As(err, &flagErr) {
		return true
	}
	msg := err.Error()
	for _, prefix := range []string{"unknown command", "accepts ", "requires at least", "requires at most", "unknown shorthand flag", "unknown flag"} {
		if strings.HasPrefix(msg, prefix) {
			return true
		}
	}
	return false
}

// DebugAPI reports whether a JASNI_DEBUG value asks for the API trace:
// "api", or "1", "true" or "all" for every kind of debug output there is, in
// a comma-separated list.
func DebugAPI(value string) bool {
	for _, part := range strings.Split(value, ",") {
		switch strings.ToLower(strings.TrimSpace(part)) {
		case "api", "1", "true", "all":
			return true
		}
	}
	return false
}
