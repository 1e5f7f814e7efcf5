package jsondoc

import (
	"encoding/json"
	"reflect"
	"testing"
)

// FuzzParse: any bytes give a value or an error, never a panic or a stack
// overflow; a value marshals to JSON that means the same to encoding/json.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		`{"event":"email.received","data":{"to":["a@b.c"],"n":1.50}}`, `[]`, `"\u00e9\ud83d\ude00"`, `{"a":1,"a":2}`,
		`[[[[[[[[[[`, `{"a":`, `1e999`, `-0`, `{"":null}`, "\xff",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := Parse(data)
		if err != nil {
			return
		}
		out, err := Marshal(v)
		if err != nil {
			t.Fatalf("Marshal of a parsed value: %v", err)
		}
		if !json.Valid(out) {
			t.Fatalf("Marshal gave invalid JSON %q for %q", out, data)
		}
		var a, b any
		if json.Unmarshal(data, &a) == nil && json.Unmarshal(out, &b) == nil && !reflect.DeepEqual(a, b) {
			t.Fatalf("meaning changed: %q -> %q", data, out)
		}
	})
}

// FuzzSetPath: any --set path and value on any document is set or refused
// with an error, never a panic.
func FuzzSetPath(f *testing.F) {
	f.Add(`{"data":{"to":["a"]}}`, "data.to[1]", "x")
	f.Add(`{"data":{"to":["a"]}}`, "data.to[99999999999999999999]", "1")
	f.Add(`[1]`, "a[0].b", "null")
	f.Add(`{"a":{}}`, "a..b", "{}")
	f.Add(`{"a":[]}`, "a[0][0]", "[")
	f.Fuzz(func(t *testing.T, doc, path, value string) {
		root, err := Parse([]byte(doc))
		if err != nil {
			return
		}
		p, err := ParsePath(path)
		if err != nil {
			return
		}
		if err := Set(root, p, ParseScalar(value)); err != nil {
			return
		}
		if _, err := Get(root, p); err != nil {
			t.Fatalf("Set(%q) succeeded but Get fails: %v", path, err)
		}
		if _, err := Marshal(root); err != nil {
			t.Fatal(err)
		}
	})
}
