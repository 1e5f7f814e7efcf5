// Package iostreams carries the standard streams and decides, once, what the
// terminal can show: whether stdout is a TTY, whether colour is on, and
// whether the user asked for JSON. Nothing else in jasni writes to os.Stdout
// or os.Stderr.
package iostreams

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/jasni/jasni-cli/internal/termsafe"
	"golang.org/x/term"
)

// IOStreams is passed to every command.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer

	stdinTTY  bool
	stdoutTTY bool
	stderrTTY bool

	// width is the terminal's width in columns, asked once; 0 when stdout
	// is not a terminal.
	width int

	colorDisabled bool // NO_COLOR or --no-color
	colorForced   bool // CLICOLOR_FORCE
	json          bool
}

// System returns streams bound to the process's stdin, stdout and stderr.
func System() *IOStreams {
	ios := &IOStreams{
		In:        os.Stdin,
		Out:       os.Stdout,
		ErrOut:    os.Stderr,
		stdinTTY:  isTerminal(os.Stdin),
		stdoutTTY: isTerminal(os.Stdout),
		stderrTTY: isTerminal(os.Stderr),
	}
	if ios.stdoutTTY {
		ios.width, _, _ = term.GetSize(int(os.Stdout.Fd()))
	}
	ios.ApplyColorEnv(os.Getenv)
	return ios
}

// TerminalWidth is how many columns a line on stdout may take: the
// terminal's width, 80 when it cannot be known.
func (s *IOStreams) TerminalWidth() int {
	if s.width > 0 {
		return s.width
	}
	return 80
}

// TableWidth is the width a table on stdout must fit: the terminal's, or 0
// when stdout is not a terminal (a table is then tab-separated values).
func (s *IOStreams) TableWidth() int {
	if !s.stdoutTTY {
		return 0
	}
	return s.TerminalWidth()
}

// SetTerminalWidth fixes the width (tests use it).
func (s *IOStreams) SetTerminalWidth(w int) { s.width = w }

// ApplyColorEnv reads the colour conventions once, without asking the
// terminal anything: NO_COLOR (any non-empty value; some libraries parse it
// as a boolean and treat NO_COLOR=yes as unset, so it is decided here),
// CLICOLOR=0, and TERM=dumb turn colour off; CLICOLOR_FORCE (not 0) turns it
// on even when the output is not a terminal.
func (s *IOStreams) ApplyColorEnv(getenv func(string) string) {
	if getenv("NO_COLOR") != "" || getenv("CLICOLOR") == "0" || getenv("TERM") == "dumb" {
		s.colorDisabled = true
	}
	if v := getenv("CLICOLOR_FORCE"); v != "" && v != "0" {
		s.colorForced = true
	}
}

func isTerminal(f *os.File) bool {
	return term.IsTerminal(int(f.Fd()))
}

// Test returns streams backed by buffers, none of them a TTY.
func Test() (ios *IOStreams, stdin, stdout, stderr *bytes.Buffer) {
	stdin, stdout, stderr = &bytes.Buffer{}, &bytes.Buffer{}, &bytes.Buffer{}
	return &IOStreams{In: stdin, Out: stdout, ErrOut: stderr}, stdin, stdout, stderr
}

// SetTTY marks all three streams as terminals or not (tests use it).
func (s *IOStreams) SetTTY(tty bool) {
	s.stdinTTY, s.stdoutTTY, s.stderrTTY = tty, tty, tty
}

func (s *IOStreams) IsStdinTTY() bool  { return s.stdinTTY }
func (s *IOStreams) IsStdoutTTY() bool { return s.stdoutTTY }
func (s *IOStreams) IsStderrTTY() bool { return s.stderrTTY }

// DisableColor turns colour off (the --no-color flag).
func (s *IOStreams) DisableColor() { s.colorDisabled = true }

// ColorEnabled reports whether stdout may carry ANSI colour.
func (s *IOStreams) ColorEnabled() bool {
	if s.colorDisabled {
		return false
	}
	return s.colorForced || s.stdoutTTY
}

// ErrColorEnabled reports whether stderr may carry ANSI colour.
func (s *IOStreams) ErrColorEnabled() bool {
	if s.colorDisabled {
		return false
	}
	return s.colorForced || s.stderrTTY
}

// SetJSON switches stdout to machine-readable JSON (the --output json flag).
func (s *IOStreams) SetJSON(on bool) { s.json = on }

// JSON reports whether stdout carries JSON rather than text for people.
func (s *IOStreams) JSON() bool { return s.json }

// WriteJSON writes v as one compact JSON object on its own line, the form
// streams of results take so that tools can read them line by line.
func (s *IOStreams) WriteJSON(v any) error { return s.writeJSON(v, "") }

// WriteJSONIndent writes one indented JSON document, for single results.
func (s *IOStreams) WriteJSONIndent(v any) error { return s.writeJSON(v, "  ") }

// writeJSON encodes v and escapes what a terminal would act on (termsafe):
// the output is the same JSON to a parser and harmless to a person.
func (s *IOStreams) writeJSON(v any, indent string) error {
	line, err := encodeJSON(v, indent)
	if err != nil {
		return err
	}
	if _, err := s.Out.Write(line); err != nil {
		return fmt.Errorf("write JSON: %w", err)
	}
	return nil
}

// JSONLine is what WriteJSON writes for v, for output that is written later
// or elsewhere.
func JSONLine(v any) ([]byte, error) { return encodeJSON(v, "") }

func encodeJSON(v any, indent string) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", indent)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("write JSON: %w", err)
	}
	return termsafe.JSON(buf.Bytes()), nil
}
