package cmdutil

import (
	"net/http"
	"strings"

	"golang.org/x/net/http/httpguts"
)

// reserved headers describe the connection or the framing of one request;
// Go's client sets them itself and drops a value given in a header map.
var reserved = map[string]bool{
	"Host": true, "Content-Length": true, "Transfer-Encoding": true, "Connection": true,
	"Keep-Alive": true, "Te": true, "Trailer": true, "Upgrade": true, "Proxy-Connection": true,
}

// ParseHeader reads a --header value, "Name: value". An empty value is
// allowed; what it means is up to the command. A name or value that HTTP
// cannot carry is refused here, not when the first request is sent.
func ParseHeader(s string) (name, value string, err error) {
	name, value, ok := strings.Cut(s, ":")
	name, value = strings.TrimSpace(name), strings.TrimSpace(value)
	switch {
	case !ok || name == "":
		return "", "", FlagErrorf("--header %q: want Name:value, e.g. --header \"X-Test: 1\"", s)
	case strings.ContainsAny(name, " \t\r\n"):
		return "", "", FlagErrorf("--header %q: the name %q has a space, which a header name cannot hold (e.g. %s)", s, name, strings.Join(strings.Fields(name), "-"))
	case !httpguts.ValidHeaderFieldName(name):
		return "", "", FlagErrorf("--header %q: the name %q has characters a header name cannot hold (letters, digits and !#$%%&'*+-.^_`|~ only)", s, name)
	case !httpguts.ValidHeaderFieldValue(value):
		return "", "", FlagErrorf("--header %q: the value holds a control character or line break, which HTTP cannot carry", s)
	case reserved[http.CanonicalHeaderKey(name)]:
		return "", "", FlagErrorf("--header %q: jasni sets %s itself for each request (the host comes from the URL)", s, http.CanonicalHeaderKey(name))
	}
	return name, value, nil
}
