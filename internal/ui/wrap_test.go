package ui

import (
	"strings"
	"testing"
)

func TestWrap(t *testing.T) {
	line := "  No ngrok authtoken, so Jasni itself cannot reach this; set NGROK_AUTHTOKEN for a public URL."
	got := Wrap(line, 60, "    ")
	for _, l := range strings.Split(got, "\n") {
		if Width(l) > 60 {
			t.Errorf("line %q is wider than 60", l)
		}
	}
	if strings.Join(strings.Fields(got), " ") != strings.Join(strings.Fields(line), " ") {
		t.Errorf("words changed: %q", got)
	}
	if Wrap(line, 0, "") != line || Wrap(line, 200, "") != line {
		t.Error("a line that fits, or no terminal, was changed")
	}
}

func TestWrapCommand(t *testing.T) {
	args := strings.Fields("jasni trigger --all --url http://127.0.0.1:4000/webhooks/jasni --secret whsec_demo --provider generic")
	if got := WrapCommand(args, 0, "  "); got != "  "+strings.Join(args, " ") {
		t.Errorf("no width: %q", got)
	}
	got := WrapCommand(args, 60, "    ")
	lines := strings.Split(got, "\n")
	if len(lines) < 2 {
		t.Fatalf("not wrapped: %q", got)
	}
	for i, l := range lines {
		if Width(l) > 60 {
			t.Errorf("line %q is wider than 60", l)
		}
		if i < len(lines)-1 && !strings.HasSuffix(l, " \\") {
			t.Errorf("line %q does not continue", l)
		}
		for _, flag := range []string{"--url", "--secret", "--provider"} {
			if strings.HasSuffix(strings.TrimSuffix(l, " \\"), flag) {
				t.Errorf("%s was parted from its value: %q", flag, got)
			}
		}
	}
	pasted := strings.ReplaceAll(got, " \\\n", " ")
	if strings.Join(strings.Fields(pasted), " ") != strings.Join(args, " ") {
		t.Errorf("pasted, it is another command: %q", pasted)
	}
}
