package store

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/jasni/jasni-cli/internal/termsafe"
)

// AnswerSummary is the gist of an app's answer for a one-line view: the
// message of a JSON error ({"error":"boom"}, {"error":{"message":…}},
// {"message":…}, {"detail":…}), else the first line of text that is not
// blank. It is made safe for a terminal and kept short.
func AnswerSummary(body []byte) string {
	const most = 160
	var doc map[string]any
	if len(body) < AnswerKeep && json.Unmarshal(body, &doc) == nil {
		for _, k := range []string{"error", "message", "detail", "error_description", "msg", "title", "errors", "reason"} {
			if s := messageOf(doc[k]); s != "" {
				return clipText(termsafe.Line(s), most)
			}
		}
	}
	if !utf8.Valid(body) {
		return fmt.Sprintf("(%d bytes that are not text)", len(body))
	}
	for _, line := range strings.Split(string(body), "\n") {
		if line = strings.TrimSpace(stripTags(line)); line != "" {
			return clipText(termsafe.Line(line), most)
		}
	}
	return ""
}

// messageOf finds the words in a JSON error value: a string, or an object's
// (or the first list entry's) message.
func messageOf(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case map[string]any:
		for _, k := range []string{"message", "detail", "description", "error", "msg"} {
			if s := messageOf(v[k]); s != "" {
				return s
			}
		}
	case []any:
		if len(v) > 0 {
			return messageOf(v[0])
		}
	}
	return ""
}

// stripTags drops HTML tags from a line, so an error page's first line
// reads as its words.
func stripTags(s string) string {
	if !strings.Contains(s, "<") {
		return s
	}
	var b strings.Builder
	in := false
	for _, r := range s {
		switch {
		case r == '<':
			in = true
		case r == '>':
			in = false
		case !in:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func clipText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
