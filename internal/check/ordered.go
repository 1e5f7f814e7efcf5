package check

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// orderedValue is a JSON value that keeps its objects' key order, so that a
// grown delivery still looks like the provider's.
type orderedValue struct {
	keys   []string
	fields []orderedValue // with keys: an object
	list   []orderedValue // an array (non-nil, maybe empty, when isList)
	isList bool
	scalar any // string, json.Number, bool or nil
}

func (v *orderedValue) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	return v.decode(dec)
}

func (v *orderedValue) decode(dec *json.Decoder) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	d, ok := tok.(json.Delim)
	if !ok {
		v.scalar = tok
		return nil
	}
	if d == '[' {
		v.isList, v.list = true, []orderedValue{}
		for dec.More() {
			var item orderedValue
			if err := item.decode(dec); err != nil {
				return err
			}
			v.list = append(v.list, item)
		}
		_, err := dec.Token()
		return err
	}
	v.keys, v.fields = []string{}, []orderedValue{}
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return err
		}
		var field orderedValue
		if err := field.decode(dec); err != nil {
			return err
		}
		v.keys = append(v.keys, k.(string))
		v.fields = append(v.fields, field)
	}
	_, err = dec.Token()
	return err
}

func (v *orderedValue) MarshalJSON() ([]byte, error) {
	var out bytes.Buffer
	v.write(&out)
	return out.Bytes(), nil
}

func (v *orderedValue) write(out *bytes.Buffer) {
	switch {
	case v.keys != nil:
		out.WriteByte('{')
		for i, k := range v.keys {
			if i > 0 {
				out.WriteByte(',')
			}
			writeCompactString(out, k)
			out.WriteByte(':')
			v.fields[i].write(out)
		}
		out.WriteByte('}')
	case v.isList:
		out.WriteByte('[')
		for i := range v.list {
			if i > 0 {
				out.WriteByte(',')
			}
			v.list[i].write(out)
		}
		out.WriteByte(']')
	default:
		switch s := v.scalar.(type) {
		case string:
			writeCompactString(out, s)
		case nil:
			out.WriteString("null")
		default:
			fmt.Fprint(out, s)
		}
	}
}

// writeCompactString writes s as JSON.stringify does: no HTML escaping.
func writeCompactString(out *bytes.Buffer, s string) {
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	out.Truncate(out.Len() - 1) // Encode's newline
}

// walk calls fn on v and everything inside it.
func (v *orderedValue) walk(fn func(*orderedValue)) {
	fn(v)
	for i := range v.fields {
		v.fields[i].walk(fn)
	}
	for i := range v.list {
		v.list[i].walk(fn)
	}
}
