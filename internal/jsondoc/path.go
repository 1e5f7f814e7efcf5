package jsondoc

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Step is one part of a path: a key, or an index when IsIndex is set.
type Step struct {
	Key     string
	Index   int
	IsIndex bool
}

// Path is a parsed dotted path such as data.to[0] or data.dnsRecords.mx.
type Path []Step

// ParsePath parses a dotted path. Keys may hold any character but . [ and ];
// an index is a non-negative number in brackets.
func ParsePath(s string) (Path, error) {
	bad := func(pos int, format string, args ...any) error {
		return fmt.Errorf("bad path %q: %s at position %d", s, fmt.Sprintf(format, args...), pos+1)
	}
	if s == "" {
		return nil, errors.New("bad path: empty")
	}
	var p Path
	i := 0
	expectKey := true
	for i < len(s) {
		switch c := s[i]; c {
		case '[':
			end := strings.IndexByte(s[i:], ']')
			if end < 0 {
				return nil, fmt.Errorf("bad path %q: missing \"]\"", s)
			}
			raw := s[i+1 : i+end]
			n, err := strconv.Atoi(raw)
			if err != nil || n < 0 || raw == "" || strings.HasPrefix(raw, "+") {
				return nil, bad(i+1, "index %q is not a number from 0 up", raw)
			}
			if len(p) == 0 {
				return nil, bad(i, "a path starts with a name, not an index")
			}
			p = append(p, Step{Index: n, IsIndex: true})
			i += end + 1
			expectKey = false
		case '.':
			if expectKey {
				return nil, bad(i, "empty name")
			}
			i++
			expectKey = true
			if i == len(s) {
				return nil, bad(i, "empty name")
			}
		case ']':
			return nil, bad(i, "\"]\" without \"[\"")
		default:
			if !expectKey {
				return nil, bad(i, "expected \".\" or \"[\" after %q", s[:i])
			}
			end := strings.IndexAny(s[i:], ".[]")
			if end < 0 {
				end = len(s) - i
			}
			p = append(p, Step{Key: s[i : i+end]})
			i += end
			expectKey = false
		}
	}
	return p, nil
}

func (p Path) String() string {
	var b strings.Builder
	for i, st := range p {
		if st.IsIndex {
			fmt.Fprintf(&b, "[%d]", st.Index)
			continue
		}
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(st.Key)
	}
	return b.String()
}

// Get returns the value at p.
func Get(root Value, p Path) (Value, error) {
	cur := root
	for i, st := range p {
		next, err := step(cur, p[:i], st)
		if err != nil {
			return nil, err
		}
		cur = next
	}
	return cur, nil
}

func step(cur Value, at Path, st Step) (Value, error) {
	if st.IsIndex {
		arr, ok := cur.([]Value)
		if !ok {
			return nil, fmt.Errorf("%s is %s, not an array", describe(at), kindOf(cur))
		}
		if st.Index >= len(arr) {
			return nil, fmt.Errorf("%s has %s; index %d is out of range", describe(at), elements(len(arr)), st.Index)
		}
		return arr[st.Index], nil
	}
	obj, ok := cur.(*Object)
	if !ok {
		return nil, fmt.Errorf("%s is %s, not an object", describe(at), kindOf(cur))
	}
	v, ok := obj.Get(st.Key)
	if !ok {
		return nil, fmt.Errorf("%s does not exist (%s has %s)", describe(append(at, st)), describe(at), keyList(obj))
	}
	return v, nil
}

// Set sets the value at p. Every parent must exist; a new key may be added to
// an existing object, and an array may grow by one (index == length).
func Set(root Value, p Path, v Value) error {
	if len(p) == 0 {
		return errors.New("an empty path cannot be set")
	}
	parent, err := Get(root, p[:len(p)-1])
	if err != nil {
		return err
	}
	last := p[len(p)-1]
	at := p[:len(p)-1]
	if last.IsIndex {
		arr, ok := parent.([]Value)
		if !ok {
			return fmt.Errorf("%s is %s, not an array", describe(at), kindOf(parent))
		}
		switch {
		case last.Index < len(arr):
			arr[last.Index] = v
		case last.Index == len(arr):
			// Arrays live by value in their parent, so the grown one is stored back.
			return Set(root, at, append(arr, v))
		default:
			return fmt.Errorf("%s has %s; index %d is out of range (use [%d] to append)", describe(at), elements(len(arr)), last.Index, len(arr))
		}
		return nil
	}
	obj, ok := parent.(*Object)
	if !ok {
		return fmt.Errorf("%s is %s, not an object", describe(at), kindOf(parent))
	}
	obj.Set(last.Key, v)
	return nil
}

func describe(p Path) string {
	if len(p) == 0 {
		return "the document"
	}
	return p.String()
}

func elements(n int) string {
	if n == 1 {
		return "1 element"
	}
	return fmt.Sprintf("%d elements", n)
}

func keyList(obj *Object) string {
	if len(obj.Members) == 0 {
		return "no fields"
	}
	return "fields " + strings.Join(obj.Keys(), ", ")
}

func kindOf(v Value) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case string:
		return "a string"
	case *Object:
		return "an object"
	case []Value:
		return "an array"
	}
	return "a number"
}
