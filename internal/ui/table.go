package ui

import (
	"fmt"
	"io"
	"strings"

	"github.com/charmbracelet/lipgloss"
)

// Table prints rows as aligned columns for people, or as tab-separated values
// when the output is not a terminal, so that `cut` and `awk` can read it.
type Table struct {
	w      io.Writer
	tty    bool
	header []string
	rows   [][]string
}

func NewTable(w io.Writer, tty bool, header ...string) *Table {
	return &Table{w: w, tty: tty, header: header}
}

// AddRow adds one row; cells may carry styling, which is ignored when measuring.
func (t *Table) AddRow(cells ...string) { t.rows = append(t.rows, cells) }

func (t *Table) Render() error {
	if !t.tty {
		for _, row := range t.rows {
			if _, err := fmt.Fprintln(t.w, strings.Join(row, "\t")); err != nil {
				return err
			}
		}
		return nil
	}
	all := t.rows
	if len(t.header) > 0 {
		all = append([][]string{t.header}, t.rows...)
	}
	widths := map[int]int{}
	for _, row := range all {
		for i, cell := range row {
			widths[i] = max(widths[i], lipgloss.Width(cell))
		}
	}
	for _, row := range all {
		var b strings.Builder
		for i, cell := range row {
			b.WriteString(cell)
			if i < len(row)-1 {
				b.WriteString(strings.Repeat(" ", widths[i]-lipgloss.Width(cell)+2))
			}
		}
		if _, err := fmt.Fprintln(t.w, strings.TrimRight(b.String(), " ")); err != nil {
			return err
		}
	}
	return nil
}
