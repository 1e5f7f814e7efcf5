package ui

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/lipgloss/table"
)

// Table prints rows as aligned columns for people, or as tab-separated values
// when the output is not a terminal, so that `cut` and `awk` can read it.
//
// On a terminal the table fits its width: the widest columns give way first,
// their cells cut with "…", while columns marked KeepWhole (ids, which people
// copy) are never cut. lipgloss's table lays the cells out.
type Table struct {
	w      io.Writer
	width  int
	header []string
	rows   [][]string
	whole  []int
}

// minColumn is the narrowest a column is cut to: "http…" still says what it is.
const minColumn = 5

// NewTable returns a table for w. width is the terminal's width in columns,
// or 0 when w is not a terminal.
func NewTable(w io.Writer, width int, header ...string) *Table {
	return &Table{w: w, width: width, header: header}
}

// KeepWhole marks columns (counted from 0) that are never cut.
func (t *Table) KeepWhole(cols ...int) { t.whole = append(t.whole, cols...) }

// AddRow adds one row; cells may carry styling, which is ignored when measuring.
func (t *Table) AddRow(cells ...string) { t.rows = append(t.rows, cells) }

func (t *Table) Render() error {
	if t.width <= 0 {
		for _, row := range t.rows {
			if _, err := fmt.Fprintln(t.w, strings.Join(row, "\t")); err != nil {
				return err
			}
		}
		return nil
	}
	widths := t.fit()
	cut := func(row []string) []string {
		out := make([]string, len(row))
		for i, cell := range row {
			out[i] = Truncate(cell, widths[i])
		}
		return out
	}
	tb := table.New().
		BorderTop(false).BorderBottom(false).BorderLeft(false).BorderRight(false).
		BorderHeader(false).BorderColumn(false).
		Wrap(false).
		StyleFunc(func(_, col int) lipgloss.Style {
			if col == len(widths)-1 {
				return lipgloss.NewStyle()
			}
			return lipgloss.NewStyle().PaddingRight(2)
		})
	if len(t.header) > 0 {
		tb.Headers(cut(t.header)...)
	}
	for _, row := range t.rows {
		tb.Row(cut(row)...)
	}
	var b strings.Builder
	for _, line := range strings.Split(tb.String(), "\n") {
		b.WriteString(strings.TrimRight(line, " "))
		b.WriteByte('\n')
	}
	_, err := io.WriteString(t.w, b.String())
	return err
}

// fit returns each column's width: its widest cell, narrowed one column at
// a time from the widest that may be cut until the line fits t.width (or
// nothing more can be cut).
func (t *Table) fit() []int {
	var widths []int
	for _, row := range append([][]string{t.header}, t.rows...) {
		for i, cell := range row {
			if i == len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], Width(cell))
		}
	}
	total := 2 * max(len(widths)-1, 0)
	for _, w := range widths {
		total += w
	}
	for total > t.width {
		widest := -1
		for i, w := range widths {
			if w > minColumn && !slices.Contains(t.whole, i) && (widest < 0 || w > widths[widest]) {
				widest = i
			}
		}
		if widest < 0 {
			break
		}
		widths[widest]--
		total--
	}
	return widths
}
