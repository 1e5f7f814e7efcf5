package cmdutil

import "strings"

// ParseHeader reads a --header value, "Name: value". An empty value is
// allowed; what it means is up to the command.
func ParseHeader(s string) (name, value string, err error) {
	name, value, ok := strings.Cut(s, ":")
	name = strings.TrimSpace(name)
	if !ok || name == "" || strings.ContainsAny(name, " \t\r\n") {
		return "", "", FlagErrorf("--header %q: want Name:value, e.g. --header \"X-Test: 1\"", s)
	}
	return name, strings.TrimSpace(value), nil
}
