package termsafe

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestLineAndText(t *testing.T) {
	tests := []struct {
		in, line, text string
	}{
		{"email.received", "email.received", "email.received"},
		{"héllo ✓ 👨‍👩‍👧", "héllo ✓ 👨‍👩‍👧", "héllo ✓ 👨‍👩‍👧"},
		{"\x1b]0;PWNED\x07\x1b[2J", `\x1b]0;PWNED\x07\x1b[2J`, `\x1b]0;PWNED\x07\x1b[2J`},
		{"\x1b]52;c;aGk=\x07", `\x1b]52;c;aGk=\x07`, `\x1b]52;c;aGk=\x07`},
		{"a\nb\tc\r", `a\nb\tc\r`, "a\nb\tc\\r"},
		{"\r✓ signed", `\r✓ signed`, `\r✓ signed`},
		{"csi \u009b31m", `csi \u009b31m`, `csi \u009b31m`},
		{"del \x7f", `del \x7f`, `del \x7f`},
		{"bidi \u202eevil", `bidi \u202eevil`, `bidi \u202eevil`},
		{"bad \xff\xfe utf8", `bad \xff\xfe utf8`, `bad \xff\xfe utf8`},
		{"\u2028sep", `\u2028sep`, `\u2028sep`},
	}
	for _, tt := range tests {
		if got := Line(tt.in); got != tt.line {
			t.Errorf("Line(%q) = %q, want %q", tt.in, got, tt.line)
		}
		if got := Text(tt.in); got != tt.text {
			t.Errorf("Text(%q) = %q, want %q", tt.in, got, tt.text)
		}
	}
}

func TestJSON(t *testing.T) {
	in := []byte("{\"a\":\"x\u009by\x7fz\u202e\",\"raw\":\"\xff\",\"ok\":\"é\"}")
	got := JSON(in)
	if !json.Valid(got) {
		t.Fatalf("not valid JSON: %s", got)
	}
	var v map[string]string
	_ = json.Unmarshal(got, &v)
	if v["a"] != "x\u009by\x7fz\u202e" || v["ok"] != "é" || v["raw"] != "\ufffd" {
		t.Errorf("meaning changed: %q", v)
	}
	for _, c := range got {
		if c == 0x7f || (c >= 0x80 && !strings.Contains(string(got), "é")) {
			t.Errorf("raw byte %#x left", c)
		}
	}
	if strings.Contains(string(got), "\u009b") || strings.Contains(string(got), "\u202e") {
		t.Errorf("dangerous runes left raw: %q", got)
	}
}

// FuzzClean: whatever comes in, nothing a terminal acts on comes out, and
// JSON stays valid JSON with the same meaning.
func FuzzClean(f *testing.F) {
	for _, s := range []string{"\x1b[2J", "plain", "\u009b", "\xff", "é\n\t", `{"a":"\u001b"}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, out := range []string{Line(s), Text(s)} {
			if !utf8.ValidString(out) {
				t.Fatalf("invalid UTF-8 out of %q", s)
			}
			for _, r := range out {
				if dangerous(r) && r != '\n' && r != '\t' {
					t.Fatalf("%q left in the output for %q", r, s)
				}
			}
		}
		if strings.ContainsAny(Line(s), "\n\t") {
			t.Fatalf("Line kept a newline or tab: %q", s)
		}
		compact, _ := json.Marshal(map[string]json.RawMessage{"s": mustJSON(s)})
		indented, _ := json.MarshalIndent(map[string]any{"s": s, "n": []string{s}}, "", "  ")
		for _, doc := range [][]byte{compact, indented} {
			got := JSON(doc)
			if !json.Valid(got) {
				t.Fatalf("JSON(%q) = %q, not valid", doc, got)
			}
			for _, r := range string(got) {
				if dangerous(r) && r != '\n' {
					t.Fatalf("%q left in %q", r, got)
				}
			}
		}
	})
}

func mustJSON(s string) json.RawMessage {
	b, _ := json.Marshal(s)
	return b
}
