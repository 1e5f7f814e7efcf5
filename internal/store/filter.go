package store

import (
	"errors"
	"strconv"
	"strings"
)

// ParseVerdict reads a verdict filter as people write it: valid, invalid,
// missing, or unchecked (the verdict "not checked"); "" is any.
func ParseVerdict(s string) (Verdict, error) {
	switch s {
	case "":
		return "", nil
	case "valid", "invalid", "missing":
		return Verdict(s), nil
	case "unchecked", string(VerdictSkipped):
		return VerdictSkipped, nil
	}
	return "", errors.New("verdict: want valid, invalid, missing or unchecked")
}

// ParseAnswer reads an answer filter, a status ("500") or a class
// ("5xx"), as the range of statuses it keeps.
func ParseAnswer(s string) (lo, hi int, err error) {
	if len(s) == 3 && strings.HasSuffix(s, "xx") && s[0] >= '1' && s[0] <= '5' {
		c := int(s[0]-'0') * 100
		return c, c + 99, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 100 || n > 599 {
		return 0, 0, errors.New("status: want a status (404) or a class (4xx)")
	}
	return n, n, nil
}
