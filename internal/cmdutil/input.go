package cmdutil

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/jasni/jasni-cli/internal/lazyre"

	"github.com/jasni/jasni-cli/fixtures"
	"github.com/jasni/jasni-cli/internal/config"
	"github.com/jasni/jasni-cli/internal/iostreams"
	"github.com/jasni/jasni-cli/internal/provider"
	"github.com/jasni/jasni-cli/internal/suggest"
	"github.com/spf13/cobra"
)

// MaxInput bounds what jasni reads from a file or stdin: far above any webhook
// body, far below what would hurt.
const MaxInput = 32 << 20

// ReadInput reads path, or stdin when path is "-" or empty. Reading an
// interactive terminal is refused, since the user most likely forgot the file.
func ReadInput(ios *iostreams.IOStreams, path string) ([]byte, error) {
	var r io.Reader
	name := path
	if path == "" || path == "-" {
		if ios.IsStdinTTY() {
			return nil, FlagErrorf("give a FILE, or pipe the body on stdin (e.g. `cat body.json | jasni ...`)")
		}
		r, name = ios.In, "stdin"
	} else {
		f, err := os.Open(path)
		if err != nil {
			return nil, FlagErrorf("read %s: %s", path, describeFileError(err))
		}
		defer f.Close()
		r = f
	}
	data, err := io.ReadAll(io.LimitReader(r, MaxInput+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if len(data) > MaxInput {
		return nil, FlagErrorf("read %s: larger than %d MiB", name, MaxInput>>20)
	}
	return data, nil
}

func describeFileError(err error) string {
	switch {
	case errors.Is(err, os.ErrNotExist):
		return "no such file"
	case errors.Is(err, os.ErrPermission):
		return "permission denied"
	}
	return err.Error()
}

// Secret resolves the webhook secret: --secret, then JASNI_WEBHOOK_SECRET,
// WEBHOOK_SECRET, then the profile's webhook_secret. source names where it
// came from, for messages; the secret itself is never printed.
func Secret(cmd *cobra.Command, cfg *config.Config) (secret, source string) {
	all, source := Secrets(cmd, cfg)
	if len(all) == 0 {
		return "", ""
	}
	return all[0], source
}

// Secrets is Secret for commands whose --secret may be given several times
// (a key rotation: verify with any, sign with all where the scheme carries
// several signatures).
func Secrets(cmd *cobra.Command, cfg *config.Config) (secrets []string, source string) {
	for _, v := range cfg.WithFlags(cmd.Flags()).Top(config.KeyWebhookSecret) {
		secrets, source = append(secrets, v.Value), v.Source
	}
	return secrets, source
}

// CheckEvents returns a usage error for the first name that is not a Jasni
// event, with the nearest known name and the full list.
func CheckEvents(names []string) error { return CheckEventsOf(names, fixtures.Names()) }

// CheckEventsOf is CheckEvents against a provider's own events.
func CheckEventsOf(names, known []string) error {
	for _, name := range names {
		if slices.Contains(known, name) {
			continue
		}
		msg := fmt.Sprintf("unknown event %q", name)
		if s := suggest.Closest(name, known); s != "" {
			msg += fmt.Sprintf(": did you mean %s?", s)
		}
		return FlagErrorf("%s\nKnown events: %s", msg, strings.Join(known, ", "))
	}
	return nil
}

// completionEvents are the events of the provider named by --provider on
// the command line being completed (Jasni's when there is none or it cannot
// be loaded: completion must never fail).
func completionEvents(cmd *cobra.Command) []provider.Event {
	name := ""
	if f := cmd.Flags().Lookup("provider"); f != nil {
		name = f.Value.String()
	}
	if p, err := provider.Load(name, ""); err == nil {
		return p.Events()
	}
	p, _ := provider.Builtin(provider.Default)
	return p.Events()
}

// EventCompletion completes event names for arguments and flags.
func EventCompletion(cmd *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	var out []cobra.Completion
	for _, e := range completionEvents(cmd) {
		if strings.HasPrefix(e.Name, toComplete) {
			out = append(out, cobra.CompletionWithDesc(e.Name, e.Description))
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// EventListCompletion completes the last name of a comma-separated --events value.
func EventListCompletion(cmd *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	done, last := "", toComplete
	if i := strings.LastIndex(toComplete, ","); i >= 0 {
		done, last = toComplete[:i+1], toComplete[i+1:]
	}
	var out []cobra.Completion
	for _, e := range completionEvents(cmd) {
		if strings.HasPrefix(e.Name, last) && !strings.Contains(","+done, ","+e.Name+",") {
			out = append(out, cobra.CompletionWithDesc(done+e.Name, e.Description))
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
}

// SameSecretArgs is what to add to another jasni command line so that it
// uses the secret listen or trigger took from source: nothing for the
// profile, where every command finds it; the variable for the environment;
// the value itself for --secret, which the user typed on this terminal.
func SameSecretArgs(secret, source string) string {
	switch {
	case source == "--secret":
		return " --secret " + ShellQuote(secret)
	case FromEnvironment(source):
		return ` --secret "$` + source + `"`
	}
	return ""
}

var envName = lazyre.New(`^[A-Z][A-Z0-9_]*$`)

// FromEnvironment reports whether a value's source, as Secrets and
// config.Lookup name it, is an environment variable.
func FromEnvironment(source string) bool { return envName().MatchString(source) }

// ShellQuote quotes s for a POSIX shell (and zsh) when it needs it.
func ShellQuote(s string) string {
	// zsh expands a leading = (a command's path) and ~.
	if s != "" && safeShellWord().MatchString(s) && !strings.HasPrefix(s, "=") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

var safeShellWord = lazyre.New(`^[A-Za-z0-9_@%+=:,./-]+$`)

// ProfileArgs is what to add to another jasni command line so that it
// reads the same config file and profile as this one: the --config and
// --profile flags given, if any (the environment carries the rest).
func ProfileArgs(cmd *cobra.Command) string {
	var out string
	for _, name := range []string{"config", "profile"} {
		if f := cmd.Flags().Lookup(name); f != nil && f.Changed {
			out += " --" + name + " " + ShellQuote(f.Value.String())
		}
	}
	return out
}

// ProviderArgs is what to add to another jasni command line so that it
// uses the provider this one chose with --provider; "" when it came from
// the environment or the profile, which the other command reads too.
func ProviderArgs(cmd *cobra.Command) string {
	if f := cmd.Flags().Lookup("provider"); f != nil && f.Changed {
		return " --provider " + ShellQuote(f.Value.String())
	}
	return ""
}

// AllEventNames are the events of every built-in provider, for commands
// such as `events list --event` that read what any of them sent.
func AllEventNames() []string {
	var all []string
	for _, name := range provider.BuiltinNames() {
		if p, err := provider.Builtin(name); err == nil {
			for _, e := range p.EventNames() {
				if !slices.Contains(all, e) {
					all = append(all, e)
				}
			}
		}
	}
	return all
}
