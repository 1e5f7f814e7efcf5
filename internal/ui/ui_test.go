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
	var tty, pipe bytes.Buffer
	for _, c := range []struct {
		buf *bytes.Buffer
		tty bool
	}{{&tty, true}, {&pipe, false}} {
		tb := NewTable(c.buf, c.tty, "A", "LONGER")
		tb.AddRow("x", "1")
		tb.AddRow(New(c.buf, true).Success("yyyy"), "2")
		if err := tb.Render(); err != nil {
			t.Fatal(err)
		}
	}
	if !strings.HasPrefix(tty.String(), "A     LONGER\nx     1\n") {
		t.Errorf("tty table:\n%q", tty.String())
	}
	if !strings.HasPrefix(pipe.String(), "x\t1\n") || strings.Contains(pipe.String(), "LONGER") {
		t.Errorf("piped table:\n%q", pipe.String())
	}
}
