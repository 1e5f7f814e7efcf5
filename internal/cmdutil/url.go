package cmdutil

import (
	"errors"
	"net/url"
	"strings"
)

// CheckURL checks that raw is an absolute http(s) URL, naming flag in errors.
func CheckURL(flag, raw string) error {
	if raw == "" {
		return FlagErrorf("%s is empty", flag)
	}
	u, err := url.Parse(raw)
	if err != nil && !strings.Contains(raw, "://") {
		if _, err := url.Parse("http://" + raw); err == nil { // 127.0.0.1:3000
			return FlagErrorf("%s %q has no scheme: did you mean http://%s?", flag, raw, raw)
		}
	}
	if err != nil {
		return FlagErrorf("%s %q is not a valid URL: %v", flag, raw, errors.Unwrap(err))
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		if u.Host == "" && u.Opaque != "" || u.Scheme == "localhost" || !strings.Contains(raw, "://") {
			return FlagErrorf("%s %q has no scheme: did you mean http://%s?", flag, raw, raw)
		}
		return FlagErrorf("%s %q: the scheme must be http or https", flag, raw)
	}
	if u.Host == "" {
		return FlagErrorf("%s %q has no host", flag, raw)
	}
	return nil
}
