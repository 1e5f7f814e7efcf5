package jsondoc

import (
	"strings"
	"testing"
)

func TestParsePath(t *testing.T) {
	tests := []struct {
		in, want, wantErr string
	}{
		{in: "data", want: "data"},
		{in: "data.to[0]", want: "data.to[0]"},
		{in: "data.attachments[1].size", want: "data.attachments[1].size"},
		{in: "a[0][1].b", want: "a[0][1].b"},
		{in: "data.odd-key_1", want: "data.odd-key_1"},
		{in: "", wantErr: "empty"},
		{in: "data..x", wantErr: `bad path "data..x": empty name at position 6`},
		{in: ".data", wantErr: "empty name at position 1"},
		{in: "data.", wantErr: "empty name"},
		{in: "data.to[x]", wantErr: `index "x" is not a number`},
		{in: "data.to[-1]", wantErr: `index "-1" is not a number`},
		{in: "data.to[]", wantErr: `index "" is not a number`},
		{in: "data.to[0", wantErr: `missing "]"`},
		{in: "data.to]", wantErr: `"]" without "["`},
		{in: "[0]", wantErr: "starts with a name"},
		{in: "data.to[0]x", wantErr: `expected "." or "["`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			p, err := ParsePath(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || p.String() != tt.want {
				t.Errorf("ParsePath = %q, %v; want %q", p.String(), err, tt.want)
			}
		})
	}
}

func TestSet(t *testing.T) {
	const doc = `{"data":{"subject":"s","to":["a"],"n":{"m":1}}}`
	tests := []struct {
		path, value, want, wantErr string
	}{
		{path: "data.subject", value: `"x"`, want: `{"data":{"subject":"x","to":["a"],"n":{"m":1}}}`},
		{path: "data.new", value: `1`, want: `{"data":{"subject":"s","to":["a"],"n":{"m":1},"new":1}}`},
		{path: "data.to[0]", value: `"b"`, want: `{"data":{"subject":"s","to":["b"],"n":{"m":1}}}`},
		{path: "data.to[1]", value: `"c"`, want: `{"data":{"subject":"s","to":["a","c"],"n":{"m":1}}}`},
		{path: "data.n.m", value: `2`, want: `{"data":{"subject":"s","to":["a"],"n":{"m":2}}}`},
		{path: "data.to[3]", value: `1`, wantErr: "data.to has 1 element; index 3 is out of range (use [1] to append)"},
		{path: "data.nope.x", value: `1`, wantErr: "data.nope does not exist (data has fields subject, to, n)"},
		{path: "data.subject.x", value: `1`, wantErr: "data.subject is a string, not an object"},
		{path: "data.subject[0]", value: `1`, wantErr: "data.subject is a string, not an array"},
		{path: "data.n[0]", value: `1`, wantErr: "data.n is an object, not an array"},
		{path: "data.to.x", value: `1`, wantErr: "data.to is an array, not an object"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			root, _ := Parse([]byte(doc))
			p, err := ParsePath(tt.path)
			if err != nil {
				t.Fatal(err)
			}
			v, _ := Parse([]byte(tt.value))
			err = Set(root, p, v)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			got, _ := Marshal(root)
			if err != nil || string(got) != tt.want {
				t.Errorf("got %s, %v\nwant %s", got, err, tt.want)
			}
		})
	}
}
