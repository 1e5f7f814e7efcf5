// Package jsondoc holds JSON documents that keep their object key order and
// exact numbers, so a payload can be edited and re-sent reading like the
// original, and edited by dotted paths such as data.to[0].
package jsondoc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Value is a JSON value: *Object, []Value, string, json.Number, bool or nil.
type Value = any

// Member is one key of an object, in order.
type Member struct {
	Key   string
	Value Value
}

// Object is a JSON object with its key order.
type Object struct {
	Members []Member
}

// Get returns the value of key.
func (o *Object) Get(key string) (Value, bool) {
	for _, m := range o.Members {
		if m.Key == key {
			return m.Value, true
		}
	}
	return nil, false
}

// Set replaces key's value in place, or appends the key.
func (o *Object) Set(key string, v Value) {
	for i, m := range o.Members {
		if m.Key == key {
			o.Members[i].Value = v
			return
		}
	}
	o.Members = append(o.Members, Member{Key: key, Value: v})
}

// Keys returns the keys in order.
func (o *Object) Keys() []string {
	keys := make([]string, len(o.Members))
	for i, m := range o.Members {
		keys[i] = m.Key
	}
	return keys
}

// MaxDepth bounds how deeply arrays and objects may nest: the parser
// recurses, and a file of a few MB of "[" must be an error, not a stack
// overflow.
const MaxDepth = 1000

var errDepth = fmt.Errorf("arrays and objects nest deeper than %d levels", MaxDepth)

// Parse decodes exactly one JSON document.
func Parse(data []byte) (Value, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := parseValue(dec, 0)
	if err != nil {
		if strings.Contains(err.Error(), "exceeded max depth") { // encoding/json's own bound
			err = errDepth
		}
		return nil, locate(data, dec, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, locate(data, dec, errors.New("unexpected data after the JSON value"))
	}
	return v, nil
}

func parseValue(dec *json.Decoder, depth int) (Value, error) {
	tok, err := dec.Token()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, io.ErrUnexpectedEOF
		}
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		if depth >= MaxDepth {
			return nil, errDepth
		}
		switch t {
		case '{':
			obj := &Object{}
			// Where each key sits, so a huge object is not quadratic to read.
			index := map[string]int{}
			for dec.More() {
				keyTok, err := dec.Token()
				if err != nil {
					return nil, err
				}
				key, ok := keyTok.(string)
				if !ok {
					return nil, fmt.Errorf("object key is not a string")
				}
				v, err := parseValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				// A repeated key keeps its first place and its last value,
				// as JSON.parse does.
				if i, ok := index[key]; ok {
					obj.Members[i].Value = v
				} else {
					index[key] = len(obj.Members)
					obj.Members = append(obj.Members, Member{Key: key, Value: v})
				}
			}
			if _, err := dec.Token(); err != nil { // '}'
				return nil, err
			}
			return obj, nil
		case '[':
			arr := []Value{}
			for dec.More() {
				v, err := parseValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				arr = append(arr, v)
			}
			if _, err := dec.Token(); err != nil { // ']'
				return nil, err
			}
			return arr, nil
		}
		return nil, fmt.Errorf("unexpected %q", t)
	default:
		return tok, nil
	}
}

// locate adds the line and column where decoding stopped.
func locate(data []byte, dec *json.Decoder, err error) error {
	offset := dec.InputOffset()
	// The token decoder's offsets are relative to its buffer; a plain decode
	// of the whole input gives the absolute position of a syntax error.
	var syn *json.SyntaxError
	var whole any
	if !errors.Is(err, errDepth) && errors.As(json.Unmarshal(data, &whole), &syn) {
		offset, err = syn.Offset, syn
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || strings.HasPrefix(err.Error(), "unexpected end of JSON input") {
		offset = int64(len(data))
		err = errors.New("unexpected end of input (truncated JSON?)")
	}
	if offset > int64(len(data)) {
		offset = int64(len(data))
	}
	line := 1 + bytes.Count(data[:offset], []byte("\n"))
	col := int(offset) - bytes.LastIndexByte(data[:offset], '\n')
	return fmt.Errorf("line %d, column %d: %w", line, col, err)
}

// Marshal encodes v compactly, as JavaScript's JSON.stringify does: key order
// kept, and <, > and & left as they are.
func Marshal(v Value) ([]byte, error) {
	var buf bytes.Buffer
	if err := write(&buf, v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// MarshalIndent is Marshal with indentation, for display.
func MarshalIndent(v Value, indent string) ([]byte, error) {
	compact, err := Marshal(v)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, compact, "", indent); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func write(buf *bytes.Buffer, v Value) error {
	switch v := v.(type) {
	case nil:
		buf.WriteString("null")
	case bool:
		if v {
			buf.WriteString("true")
		} else {
			buf.WriteString("false")
		}
	case json.Number:
		buf.WriteString(v.String())
	case string:
		writeString(buf, v)
	case *Object:
		buf.WriteByte('{')
		for i, m := range v.Members {
			if i > 0 {
				buf.WriteByte(',')
			}
			writeString(buf, m.Key)
			buf.WriteByte(':')
			if err := write(buf, m.Value); err != nil {
				return err
			}
		}
		buf.WriteByte('}')
	case []Value:
		buf.WriteByte('[')
		for i, item := range v {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := write(buf, item); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
	default:
		return fmt.Errorf("jsondoc: cannot encode %T", v)
	}
	return nil
}

func writeString(buf *bytes.Buffer, s string) {
	var tmp bytes.Buffer
	enc := json.NewEncoder(&tmp)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	buf.Write(bytes.TrimSuffix(tmp.Bytes(), []byte("\n")))
}

// Clone deep-copies v.
func Clone(v Value) Value {
	switch v := v.(type) {
	case *Object:
		c := &Object{Members: make([]Member, len(v.Members))}
		for i, m := range v.Members {
			c.Members[i] = Member{Key: m.Key, Value: Clone(m.Value)}
		}
		return c
	case []Value:
		c := make([]Value, len(v))
		for i, item := range v {
			c[i] = Clone(item)
		}
		return c
	}
	return v
}

// ParseScalar reads a --set value: JSON where it parses as one JSON value,
// otherwise the text as a string.
func ParseScalar(s string) Value {
	if v, err := Parse([]byte(s)); err == nil && strings.TrimSpace(s) != "" {
		return v
	}
	return s
}
