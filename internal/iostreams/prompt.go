package iostreams

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"
)

// CanPrompt reports whether a person is there to answer: stdin and stderr
// are terminals.
func (s *IOStreams) CanPrompt() bool { return s.stdinTTY && s.stderrTTY }

// ReadSecret asks for a secret on stderr and reads it without echo when
// stdin is a terminal; otherwise it reads the first line of stdin.
func (s *IOStreams) ReadSecret(prompt string) (string, error) {
	if f, ok := s.In.(*os.File); ok && s.stdinTTY {
		fmt.Fprint(s.ErrOut, prompt)
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(s.ErrOut)
		if err != nil {
			return "", fmt.Errorf("read from terminal: %w", err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	return s.readLine()
}

// Confirm asks a yes/no question on stderr; only "y" or "yes" is yes.
func (s *IOStreams) Confirm(question string) (bool, error) {
	fmt.Fprintf(s.ErrOut, "%s [y/N] ", question)
	answer, err := s.readLine()
	if err != nil {
		return false, err
	}
	switch strings.ToLower(answer) {
	case "y", "yes":
		return true, nil
	}
	return false, nil
}

func (s *IOStreams) readLine() (string, error) {
	line, err := bufio.NewReader(io.LimitReader(s.In, 64<<10)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read input: %w", err)
	}
	return strings.TrimSpace(line), nil
}
