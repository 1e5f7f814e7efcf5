package jsonpeek

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestFind(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		path []string
		want string // "" for not found
	}{
		{"top level string", `{"event":"email.sent","data":{}}`, []string{"event"}, `"email.sent"`},
		{"nested", `{"event":"x","data":{"id":"msg_1","to":["a"]}}`, []string{"data", "id"}, `"msg_1"`},
		{"number", `{"data":{"id":42}}`, []string{"data", "id"}, `42`},
		{"after big values", `{"html":"` + strings.Repeat(`a\"}{`, 1000) + `","list":[[[{"id":1}]]],"data":{"x":{"id":0},"id":true}}`, []string{"data", "id"}, `true`},
		{"spaces", "{ \"data\" :\n { \"id\" : \"a b\" } }", []string{"data", "id"}, `"a b"`},
		{"escaped key", `{"d\u0061ta":{"id":"x"}}`, []string{"data", "id"}, `"x"`},
		{"first of duplicates", `{"event":"a","event":"b"}`, []string{"event"}, `"a"`},
		{"absent", `{"data":{"idx":1}}`, []string{"data", "id"}, ``},
		{"not an object on the path", `{"data":["id"]}`, []string{"data", "id"}, ``},
		{"top level array", `[{"event":"x"}]`, []string{"event"}, ``},
		{"truncated", `{"data":{"id":"ab`, []string{"data", "id"}, ``},
		{"empty", ``, []string{"event"}, ``},
		{"deep nesting skipped", `{"a":` + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + `,"event":"deep"}`, []string{"event"}, `"deep"`},
		{"unclosed nesting", `{"a":` + strings.Repeat("[", 100000) + `,"event":"x"}`, []string{"event"}, ``},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Find([]byte(tt.doc), tt.path)[0]
			if string(got) != tt.want {
				t.Errorf("Find = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestFindSeveralStopsEarly(t *testing.T) {
	doc := []byte(`{"event":"email.received","timestamp":"2024-01-15T10:30:00.000Z","data":{"id":"m1","html":"...`)
	got := Find(doc, []string{"event"}, []string{"timestamp"}, []string{"data", "id"})
	want := []string{`"email.received"`, `"2024-01-15T10:30:00.000Z"`, `"m1"`}
	for i := range want {
		if string(got[i]) != want[i] {
			t.Errorf("path %d = %q, want %q (the rest of the body is never read)", i, got[i], want[i])
		}
	}
	if s, ok := String(doc, "event"); !ok || s != "email.received" {
		t.Errorf("String = %q %v", s, ok)
	}
	if _, ok := String([]byte(`{"data":{"id":1}}`), "data", "id"); ok {
		t.Error("String of a number")
	}
}

// FuzzFind: no input panics, and on valid JSON whatever is found is itself
// valid JSON and agrees with encoding/json.
func FuzzFind(f *testing.F) {
	for _, seed := range []string{
		`{"event":"email.received","timestamp":"2024-01-15T10:30:00.000Z","data":{"id":"m1"}}`,
		`{"data":{"id":[1,2,{"x":"}"}]}}`, `{"a":"\"","data":{"id":1e5}}`, `{`, `{"data":`, `"x"`, `{"data":{"id":"\u00e9"}}`,
		`{"event":"\u001b]0;PWNED\u0007"}`, `{"a":[[[[[[`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		paths := [][]string{{"event"}, {"data", "id"}, {"timestamp"}}
		got := Find(doc, paths...)
		if !json.Valid(doc) {
			return
		}
		var tree any
		if json.Unmarshal(doc, &tree) != nil {
			return
		}
		for i, path := range paths {
			if got[i] == nil {
				continue
			}
			if !json.Valid(got[i]) {
				t.Fatalf("path %v: found %q, not JSON", path, got[i])
			}
			want, ok := walk(tree, path)
			if !ok {
				t.Fatalf("path %v: found %q where encoding/json finds nothing", path, got[i])
			}
			var v any
			_ = json.Unmarshal(got[i], &v)
			if !reflect.DeepEqual(v, want) && !hasDuplicateKeys(doc) {
				t.Fatalf("path %v: found %v, encoding/json %v", path, v, want)
			}
		}
	})
}

func walk(v any, path []string) (any, bool) {
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = m[k]; !ok {
			return nil, false
		}
	}
	return v, true
}

// hasDuplicateKeys is true when an object repeats a name: encoding/json keeps
// the last, Find the first.
func hasDuplicateKeys(doc []byte) bool {
	dec := json.NewDecoder(strings.NewReader(string(doc)))
	type frame struct {
		obj  bool
		seen map[string]bool
		key  bool // the next string token is a key
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		switch tok := tok.(type) {
		case json.Delim:
			switch tok {
			case '{', '[':
				if top != nil && top.obj {
					top.key = true
				}
				stack = append(stack, &frame{obj: tok == '{', seen: map[string]bool{}, key: tok == '{'})
			default:
				stack = stack[:len(stack)-1]
			}
		case string:
			if top != nil && top.obj && top.key {
				if top.seen[tok] {
					return true
				}
				top.seen[tok] = true
				top.key = false
				continue
			}
			if top != nil && top.obj {
				top.key = true
			}
		default:
			if top != nil && top.obj {
				top.key = true
			}
		}
	}
}
