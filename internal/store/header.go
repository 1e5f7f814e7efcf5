package store

import (
	"bytes"
	"net/http"
)

// Headers are kept as they travel: "Name: value" lines. It is several times
// cheaper to write than JSON, and a header value from the network cannot
// hold a line break (the server refuses those).

func encodeHeader(buf []byte, h http.Header) []byte {
	for k, vs := range h {
		for _, v := range vs {
			buf = append(buf, k...)
			buf = append(buf, ':', ' ')
			buf = append(buf, v...)
			buf = append(buf, '\n')
		}
	}
	return buf
}

// decodeHeader reads what encodeHeader wrote, and never fails: a line
// without a colon is skipped.
func decodeHeader(data []byte) http.Header {
	h := http.Header{}
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		k, v, ok := bytes.Cut(line, []byte(": "))
		if !ok || len(k) == 0 {
			continue
		}
		key := string(k)
		h[key] = append(h[key], string(v))
	}
	return h
}
