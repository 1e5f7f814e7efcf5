package ui

import "strings"

// Wrap breaks line at spaces so that no piece is wider than width columns
// (escape codes aside), continuing on lines that start with indent: a
// terminal would otherwise break it inside a word. A word longer than a
// line stays whole. width 0 leaves line as it is (not a terminal).
func Wrap(line string, width int, indent string) string {
	if width <= 0 || Width(line) <= width {
		return line
	}
	lead := line[:len(line)-len(strings.TrimLeft(line, " "))]
	var b strings.Builder
	b.WriteString(lead)
	col := len(lead)
	start := true
	for _, word := range strings.Fields(line) {
		w := Width(word)
		if !start && col+1+w > width {
			b.WriteString("\n" + indent)
			col, start = len(indent), true
		}
		if !start {
			b.WriteByte(' ')
			col++
		}
		b.WriteString(word)
		col += w
		start = false
	}
	return b.String()
}

// WrapCommand lays a shell command out on lines of at most width columns,
// broken between arguments with " \" so that it still pastes as one
// command; a flag stays with its value. The first line starts with
// indent, the others with indent and two more spaces. width 0 gives one
// line.
func WrapCommand(args []string, width int, indent string) string {
	var units []string
	for i := 0; i < len(args); i++ {
		u := args[i]
		if strings.HasPrefix(u, "-") && !strings.Contains(u, "=") && i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
			u += " " + args[i+1]
			i++
		}
		units = append(units, u)
	}
	one := indent + strings.Join(units, " ")
	if width <= 0 || Width(one) <= width {
		return one
	}
	var b strings.Builder
	b.WriteString(indent)
	col := len(indent)
	for i, u := range units {
		w := Width(u)
		if i > 0 && col+1+w+2 > width { // room for " \"
			b.WriteString(" \\\n" + indent + "  ")
			col = len(indent) + 2
		} else if i > 0 {
			b.WriteByte(' ')
			col++
		}
		b.WriteString(u)
		col += w
	}
	return b.String()
}
