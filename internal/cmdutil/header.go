package cmdutil

import (
	"strings"

	"golang.org/x/net/http/httpguts"
)

// ParseHeader reads a --header value, "Name: value". An empty value is
// allowed; what it means is up to the command. A name or value that HTTP
// cannot carry is refused here, not when the first request is sent.
func ParseHeader(s string) (name, value string, err error) {
	name, value, ok := strings.Cut(s, ":")
	name, value = strings.TrimSpace(name), strings.TrimSpace(value)
	switch {
	case !ok || name == "" || strings.ContainsAny(name, " \t\r\n"):
		return "", "", FlagErrorf("--header %q: want Name:value, e.g. --header \"X-Test: 1\"", s)
	case !httpguts.ValidHeaderFieldName(name):
		return "", "", FlagErrorf("--header %q: the name %q has characters a header name cannot hold (letters, digits and !#$%%&'*+-.^_`|~ only)", s, name)
	case !httpguts.ValidHeaderFieldValue(value):
		return "", "", FlagErrorf("--header %q: the value holds a control character or line break, which HTTP cannot carry", s)
	}
	return name, value, nil
}
