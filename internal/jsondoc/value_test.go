package jsondoc

import (
	"fmt"
	"strings"
	"testing"
)

func TestRoundTripKeepsBytes(t *testing.T) {
	for _, in := range []string{
		`{"z":1,"a":{"y":[1,2,{"b":null,"a":true}],"x":"<p>&amp;</p>"},"m":[]}`,
		`{"n":12345678901234567890,"f":1.50,"e":-1e-7}`,
		`{"u":"héllo ✓ 😀","esc":"a\"b\\c\nd\u0001"}`,
		`[]`, `"s"`, `0`, `false`, `null`, `{}`,
	} {
		v, err := Parse([]byte(in))
		if err != nil {
			t.Fatalf("Parse(%s): %v", in, err)
		}
		out, err := Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if string(out) != in {
			t.Errorf("round trip\n got %s\nwant %s", out, in)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"a":`, "unexpected end of input"},
		{"{\n  \"a\": 1,\n  \"b\": x\n}", "line 3, column"},
		{`{"a":1} x`, "line 1, column 10: invalid character 'x' after top-level value"},
		{`{"a":1}{}`, "after top-level value"},
		{``, "unexpected end of input"},
		{`hello`, "line 1, column"},
		{strings.Repeat("[", 3<<20), "nest deeper than 1000 levels"},
		{`{"a":` + strings.Repeat(`{"a":`, 1000) + `1` + strings.Repeat("}", 1001), "nest deeper than 1000 levels"},
	}
	for _, tt := range tests {
		if _, err := Parse([]byte(tt.in)); err == nil || !strings.Contains(err.Error(), tt.want) {
			in := tt.in
			if len(in) > 60 {
				in = in[:60] + "..."
			}
			msg := fmt.Sprint(err)
			if len(msg) > 200 {
				msg = msg[:200] + "..."
			}
			t.Errorf("Parse(%q) = %s, want %q", in, msg, tt.want)
		}
	}
}

func TestMarshalIndent(t *testing.T) {
	v, _ := Parse([]byte(`{"b":[1],"a":"<x>"}`))
	out, err := MarshalIndent(v, "  ")
	if err != nil || string(out) != "{\n  \"b\": [\n    1\n  ],\n  \"a\": \"<x>\"\n}" {
		t.Errorf("MarshalIndent = %s, %v", out, err)
	}
}

func TestClone(t *testing.T) {
	v, _ := Parse([]byte(`{"a":{"b":[1]}}`))
	c := Clone(v)
	p, _ := ParsePath("a.b[0]")
	if err := Set(c, p, "changed"); err != nil {
		t.Fatal(err)
	}
	orig, _ := Marshal(v)
	if string(orig) != `{"a":{"b":[1]}}` {
		t.Errorf("changing the clone changed the original: %s", orig)
	}
}

func TestParseScalar(t *testing.T) {
	tests := []struct {
		in   string
		want string // as marshalled
	}{
		{"5", `5`}, {"1.50", `1.50`}, {"true", `true`}, {"null", `null`}, {"[]", `[]`},
		{`{"a":1}`, `{"a":1}`}, {`"123"`, `"123"`}, {"Quarterly report", `"Quarterly report"`},
		{"bob@example.com", `"bob@example.com"`}, {"", `""`}, {"123abc", `"123abc"`}, {"[1,", `"[1,"`},
	}
	for _, tt := range tests {
		got, _ := Marshal(ParseScalar(tt.in))
		if string(got) != tt.want {
			t.Errorf("ParseScalar(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}
