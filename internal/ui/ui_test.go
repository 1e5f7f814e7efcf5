package ui

import (
	"bytes"
	"strings"
	"testing"
)

func TestStylesColourOnlyWhenAsked(t *testing.T) {
	var buf bytes.Buffer
	plain := New(&buf, false)
	for _, got := range []string{plain.Success("ok"), plain.Failure("ok"), plain.Warning("ok"), plain.Accent("ok"), plain.Muted("ok"), plain.Bold("ok")} {
		if got != "ok" {
			t.Errorf("colour off, got %q", got)
		}
	}
	coloured := New(&buf, true)
	if got := coloured.Success("ok"); !strings.Contains(got, "\x1b[") || !strings.Contains(got, "ok") {
		t.Errorf("colour on, got %q", got)
	}
}

func TestTable(t *testing.T) {
	long := "https://my-app.example.com/webhooks/jasni/with/a/very/long/path"
	tests := []struct {
		name  string
		width int
		rows  [][]string
		want  string
	}{
		{"piped: tab-separated, no header", 0, [][]string{{"x", "1"}, {"yyyy", "2"}}, "x\t1\nyyyy\t2\n"},
		{"tty: aligned", 80, [][]string{{"x", "1"}, {"yyyy", "2"}}, "A     LONGER  C\nx     1\nyyyy  2\n"},
		{"tty: the widest cut column gives way, the kept one stays whole", 40,
			[][]string{{"wh_01HXYZABCDEF", long, "yes"}},
			"A                LONGER              C\nwh_01HXYZABCDEF  https://my-app.ex…  yes\n"},
		{"tty: too narrow for the kept column: overflows rather than cut an id", 10,
			[][]string{{"wh_01HXYZABCDEF", long, "yes"}},
			"A                LONG…  C\nwh_01HXYZABCDEF  http…  yes\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			tb := NewTable(&buf, tt.width, "A", "LONGER", "C")
			tb.KeepWhole(0)
			for _, r := range tt.rows {
				tb.AddRow(r...)
			}
			if err := tb.Render(); err != nil {
				t.Fatal(err)
			}
			if buf.String() != tt.want {
				t.Errorf("got\n%s\nwant\n%s", buf.String(), tt.want)
			}
			for _, line := range strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n") {
				if tt.width >= 40 && Width(line) > tt.width {
					t.Errorf("line of %d columns: %q", Width(line), line)
				}
			}
		})
	}
	// Styled cells measure by what shows.
	var buf bytes.Buffer
	tb := NewTable(&buf, 80, "A", "B")
	tb.AddRow(New(&buf, true).Success("yyyy"), "2")
	tb.AddRow("x", "1")
	tb.Render()
	if !strings.Contains(buf.String(), "\nx     1\n") {
		t.Errorf("styled cell mis-measured:\n%q", buf.String())
	}
}
