package cmdutil

import (
	"errors"
	"fmt"
	"strings"

	"github.com/jasni/jasni-cli/internal/api"
	"github.com/jasni/jasni-cli/internal/suggest"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// ExitCode is what the process returns. The values are documented in the
// README ("Exit codes") and are part of the CLI's contract with CI scripts.
type ExitCode int

const (
	ExitOK          ExitCode = 0   // everything worked
	ExitFailure     ExitCode = 1   // an error not covered below (config, I/O, API)
	ExitUsage       ExitCode = 2   // bad flags, arguments or input
	ExitRejected    ExitCode = 3   // a receiver answered non-2xx, or a signature did not verify
	ExitUnreachable ExitCode = 4   // a receiver or the API could not be reached, or did not answer in time
	ExitAuth        ExitCode = 5   // no API key, or the API refused it (401/403)
	ExitInterrupted ExitCode = 130 // Ctrl-C
)

// FlagError is bad usage: the message is printed with a pointer to --help.
type FlagError struct{ Err error }

func (e *FlagError) Error() string { return e.Err.Error() }
func (e *FlagError) Unwrap() error { return e.Err }

// FlagErrorf builds a FlagError.
func FlagErrorf(format string, args ...any) error {
	return &FlagError{Err: fmt.Errorf(format, args...)}
}

// ExitError carries an exit code other than 1.
type ExitError struct {
	Code ExitCode
	Err  error
}

func (e *ExitError) Error() string { return e.Err.Error() }
func (e *ExitError) Unwrap() error { return e.Err }

// WithExitCode wraps err so the process exits with code.
func WithExitCode(code ExitCode, err error) error {
	if err == nil {
		return nil
	}
	return &ExitError{Code: code, Err: err}
}

// ErrSilent reports failure when the command has already told the user what
// went wrong; only its exit code matters.
type SilentError struct{ Code ExitCode }

func (e *SilentError) Error() string { return fmt.Sprintf("exit status %d", e.Code) }

// ErrCancel is returned when the user interrupts the command.
var ErrCancel = errors.New("interrupted")

// CodeOf maps an error to the exit code documented for it.
func CodeOf(err error) ExitCode {
	if err == nil {
		return ExitOK
	}
	var silent *SilentError
	if errors.As(err, &silent) {
		return silent.Code
	}
	var exit *ExitError
	if errors.As(err, &exit) {
		return exit.Code
	}
	var flag *FlagError
	if errors.As(err, &flag) {
		return ExitUsage
	}
	if errors.Is(err, ErrCancel) {
		return ExitInterrupted
	}
	var apiErr *api.Error
	if errors.As(err, &apiErr) {
		switch apiErr.Kind {
		case api.KindAuth, api.KindForbidden:
			return ExitAuth
		case api.KindNetwork:
			return ExitUnreachable
		}
	}
	return ExitFailure
}

// SubcommandArgs is the Args of a command that groups subcommands: an
// argument there is a subcommand that does not exist, named as such with
// the nearest one (cobra would otherwise print the help and exit 0).
func SubcommandArgs(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
	var names []string
	for _, c := range cmd.Commands() {
		if c.IsAvailableCommand() {
			names = append(names, c.Name())
			names = append(names, c.Aliases...)
		}
	}
	if s := suggest.Closest(args[0], names); s != "" {
		msg += fmt.Sprintf(": did you mean %q?", s)
	}
	return FlagErrorf("%s\nRun '%s --help' for its commands.", msg, cmd.CommandPath())
}

// GroupRunE shows a group command's help when it is run alone.
func GroupRunE(cmd *cobra.Command, _ []string) error { return cmd.Help() }

// ExplainFlagError turns pflag's parse errors into what a newcomer can act
// on: a mistyped flag gets the nearest one of cmd's ("unknown flag --al:
// did you mean --all?"), and a value that does not parse says what it
// should look like, instead of Go's strconv or time message.
func ExplainFlagError(cmd *cobra.Command, err error) error {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "unknown flag: --"); ok {
		var names []string
		cmd.Flags().VisitAll(func(f *pflag.Flag) {
			if !f.Hidden {
				names = append(names, f.Name)
			}
		})
		if s := suggest.Closest(name, names); s != "" {
			return FlagErrorf("unknown flag --%s: did you mean --%s?", name, s)
		}
		return FlagErrorf("unknown flag --%s (jasni %s --help lists them)", name, strings.TrimPrefix(cmd.CommandPath(), "jasni "))
	}
	// invalid argument "abc" for "--port" flag: strconv.ParseInt: parsing "abc": invalid syntax
	rest, ok := strings.CutPrefix(msg, "invalid argument ")
	if !ok {
		return &FlagError{Err: err}
	}
	value, rest, ok1 := strings.Cut(rest, " for ")
	flag, cause, ok2 := strings.Cut(rest, " flag: ")
	if !ok1 || !ok2 {
		return &FlagError{Err: err}
	}
	flag = strings.Trim(flag, `"`)
	if i := strings.Index(flag, ", "); i >= 0 { // "-c, --concurrency"
		flag = flag[i+2:]
	}
	var want string
	switch {
	case strings.Contains(cause, "strconv.ParseInt"), strings.Contains(cause, "strconv.ParseUint"):
		want = "a whole number"
	case strings.Contains(cause, "strconv.ParseFloat"):
		want = "a number"
	case strings.Contains(cause, "strconv.ParseBool"):
		want = "true or false"
	case strings.Contains(cause, "time: "):
		want = "a duration with its unit, like 5s, 500ms or 2m"
	default:
		return &FlagError{Err: err}
	}
	if strings.Contains(cause, "value out of range") {
		return FlagErrorf("%s %s: too large", flag, value)
	}
	return FlagErrorf("%s %s: want %s", flag, value, want)
}

// ExactArgs is cobra.ExactArgs with a message that names what is missing,
// from the command's Use line ("jasni fixtures show needs EVENT").
func ExactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) == n {
			return nil
		}
		var names []string
		for _, w := range strings.Fields(cmd.Use)[1:] {
			if strings.HasPrefix(w, "[") {
				break // the flags
			}
			names = append(names, w)
		}
		usage := "usage: " + cmd.CommandPath()
		if len(names) > 0 {
			usage += " " + strings.Join(names, " ")
		}
		if len(args) < n && len(args) < len(names) {
			return FlagErrorf("%s needs %s (%s)", cmd.CommandPath(), strings.Join(names[len(args):], " "), usage)
		}
		return FlagErrorf("%s takes %d argument(s), not %d (%s); quote a value that holds spaces", cmd.CommandPath(), n, len(args), usage)
	}
}
