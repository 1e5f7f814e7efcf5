package apitest

import (
	"io"
	"net/http"
	"strings"
)

func readBody(r *http.Request) string {
	if r.Body == nil {
		return ""
	}
	b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	return string(b)
}

func readerOf(s string) io.ReadCloser { return io.NopCloser(strings.NewReader(s)) }
