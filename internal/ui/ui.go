// Package ui is the only place that knows about colours and symbols: a palette
// of named colours, the styles built from it, and a small table printer. When
// colour is off every style returns its text unchanged.
package ui

import (
	"io"
	"os"
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/muesli/termenv"
)

var palette = struct {
	green, red, yellow, cyan, grey lipgloss.AdaptiveColor
}{
	green:  lipgloss.AdaptiveColor{Light: "#1a7f37", Dark: "#3fb950"},
	red:    lipgloss.AdaptiveColor{Light: "#cf222e", Dark: "#f85149"},
	yellow: lipgloss.AdaptiveColor{Light: "#9a6700", Dark: "#d29922"},
	cyan:   lipgloss.AdaptiveColor{Light: "#0969da", Dark: "#58a6ff"},
	grey:   lipgloss.AdaptiveColor{Light: "#6e7781", Dark: "#8b949e"},
}

// darkBackground is decided once, from COLORFGBG when the terminal sets it
// ("fg;bg", bg 0-6 or 8 being dark), else dark, the common default.
var darkBackground = func() bool {
	v := os.Getenv("COLORFGBG")
	i := strings.LastIndexByte(v, ';')
	if i < 0 {
		return true
	}
	switch v[i+1:] {
	case "7", "9", "10", "11", "12", "13", "14", "15":
		return false
	}
	return true
}()

// Styles renders text for one output stream.
type Styles struct {
	color   bool
	success lipgloss.Style
	failure lipgloss.Style
	warning lipgloss.Style
	accent  lipgloss.Style
	muted   lipgloss.Style
	bold    lipgloss.Style
	callout lipgloss.Style
}

// New returns styles for w. With color false, nothing is styled.
func New(w io.Writer, color bool) *Styles {
	r := lipgloss.NewRenderer(w)
	if color {
		r.SetColorProfile(termenv.ANSI256)
	} else {
		r.SetColorProfile(termenv.Ascii)
	}
	// Said, not asked: adaptive colours would otherwise query the terminal
	// for its background (an escape sequence and a wait for the answer),
	// which stalls for seconds on a terminal that does not answer and leaks
	// the query into the output.
	r.SetHasDarkBackground(darkBackground)
	return &Styles{
		color:   color,
		success: r.NewStyle().Foreground(palette.green),
		failure: r.NewStyle().Foreground(palette.red),
		warning: r.NewStyle().Foreground(palette.yellow),
		accent:  r.NewStyle().Foreground(palette.cyan),
		muted:   r.NewStyle().Foreground(palette.grey),
		bold:    r.NewStyle().Bold(true),
		callout: r.NewStyle().Border(lipgloss.RoundedBorder()).BorderForeground(palette.yellow).Padding(0, 1),
	}
}

func (s *Styles) render(st lipgloss.Style, text string) string {
	if !s.color {
		return text
	}
	return st.Render(text)
}

func (s *Styles) Success(text string) string { return s.render(s.success, text) }
func (s *Styles) Failure(text string) string { return s.render(s.failure, text) }
func (s *Styles) Warning(text string) string { return s.render(s.warning, text) }
func (s *Styles) Accent(text string) string  { return s.render(s.accent, text) }
func (s *Styles) Muted(text string) string   { return s.render(s.muted, text) }
func (s *Styles) Bold(text string) string    { return s.render(s.bold, text) }

// Width is how many columns text takes on a terminal, escape codes aside.
func Width(text string) int { return lipgloss.Width(text) }

// Truncate cuts text to at most w columns, ending it with "…" when cut.
// Escape codes are kept whole.
func Truncate(text string, w int) string {
	if w <= 0 {
		return ""
	}
	return ansi.Truncate(text, w, "…")
}

// Pad fills text with spaces to w columns (styled text measures right).
func Pad(text string, w int) string {
	if n := w - Width(text); n > 0 {
		return text + strings.Repeat(" ", n)
	}
	return text
}

// The symbols are plain Unicode so they read the same with colour off.
func (s *Styles) SuccessIcon() string { return s.Success("✓") }
func (s *Styles) FailureIcon() string { return s.Failure("✗") }
func (s *Styles) WarningIcon() string { return s.Warning("!") }

// Callout sets lines apart: a rounded box on a terminal, blank lines around
// plain text elsewhere, so that it survives being piped into a log.
func (s *Styles) Callout(tty bool, lines ...string) string {
	text := strings.Join(lines, "\n")
	if !tty {
		return "\n" + text + "\n\n"
	}
	return "\n" + s.callout.Render(text) + "\n\n"
}
