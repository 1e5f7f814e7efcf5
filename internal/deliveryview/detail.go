package deliveryview

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/jasni/jasni-cli/internal/store"
	"github.com/jasni/jasni-cli/internal/termsafe"
	"github.com/jasni/jasni-cli/internal/ui"
)

// Detail writes everything about d: request, verdict, forward and
// resends, headers, and the body laid out when it is JSON.
func Detail(w io.Writer, s *ui.Styles, d *store.Delivery) error {
	line := termsafe.Line
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s\n", s.Bold("Delivery"), s.Accent(line(d.ID)))
	fmt.Fprintf(&b, "Received   %s from %s\n", d.ReceivedAt.Local().Format(time.RFC3339), line(d.RemoteAddr))
	fmt.Fprintf(&b, "Request    %s %s\n", line(d.Method), line(d.Path))
	fmt.Fprintf(&b, "Event      %s\n", What(d))
	fmt.Fprintf(&b, "Signature  %s\n", styleVerdict(s, d))
	if d.Rejected {
		fmt.Fprintln(&b, "Refused    yes: kept apart from the deliveries, with only the start of its body")
	}
	if d.Duplicate {
		fmt.Fprintln(&b, "Duplicate  yes: the same delivery as an earlier one, by the provider's dedup key")
	}
	fmt.Fprintf(&b, "Answered   %s\n", answerText(d.Answer))
	fmt.Fprintf(&b, "Forward    %s\n", ForwardText(d.Forward))
	for i := range d.Resends {
		fmt.Fprintf(&b, "Resent     %s\n", ForwardText(&d.Resends[i]))
	}
	fmt.Fprintf(&b, "\n%s\n", s.Bold("Headers"))
	keys := make([]string, 0, len(d.Header))
	for k := range d.Header {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "  %s: %s\n", line(k), line(strings.Join(d.Header[k], ", ")))
	}
	if d.Truncated() {
		fmt.Fprintf(&b, "\n%s (first %d of %d bytes)\n", s.Bold("Body"), len(d.Body), d.BodySize)
	} else {
		fmt.Fprintf(&b, "\n%s (%d bytes)\n", s.Bold("Body"), len(d.Body))
	}
	// One delivery, asked for: laid out whole, its own lines kept.
	var pretty bytes.Buffer
	if json.Indent(&pretty, d.Body, "", "  ") == nil {
		b.WriteString(termsafe.Text(pretty.String()) + "\n")
	} else {
		b.WriteString(termsafe.Text(string(d.Body)) + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Bounds on how much of a body is laid out: indenting a deeply nested
// document multiplies its size, and a terminal is no place for megabytes.
// Beyond them the start is shown on one line.
const (
	layoutMaxBytes = 64 << 10
	layoutMaxDepth = 16
)

// Body is a body for a terminal, each line starting with indent: laid out
// when it is JSON of a reasonable size, else its start on one line, so that
// its own newlines cannot draw a fake delivery line.
func Body(body []byte, indent string) string {
	if len(body) <= layoutMaxBytes && jsonDepth(body) <= layoutMaxDepth {
		var pretty bytes.Buffer
		if json.Indent(&pretty, body, indent, "  ") == nil {
			return indent + termsafe.Text(pretty.String()) + "\n"
		}
	}
	head := body[:min(len(body), 4<<10)]
	text := indent + termsafe.Line(strings.TrimSpace(string(head)))
	if len(head) < len(body) {
		text += fmt.Sprintf(" … (%d bytes)", len(body))
	}
	return text + "\n"
}

// jsonDepth is how deeply brackets nest in doc, strings aside.
func jsonDepth(doc []byte) int {
	depth, deepest, inString, escaped := 0, 0, false, false
	for _, c := range doc {
		switch {
		case escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case c == '"':
			inString = !inString
		case inString:
		case c == '{' || c == '[':
			depth++
			deepest = max(deepest, depth)
		case c == '}' || c == ']':
			depth--
		}
	}
	return deepest
}
