package deliveryview

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
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
	if d.Forward == nil || d.Forward.URL == "" || len(d.Attempts) == 0 {
		fmt.Fprintf(&b, "Forward    %s\n", ForwardText(d.Forward))
	}
	if d.Forward != nil && d.Forward.Fix != "" {
		fmt.Fprintf(&b, "Fix        %s\n", line(d.Forward.Fix))
	}
	for i := range d.Attempts {
		writeAttempt(&b, s, i+1, &d.Attempts[i])
	}
	fmt.Fprintf(&b, "\n%s\n", s.Bold("Headers"))
	writeHeaders(&b, "  ", d.Header)
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

// writeAttempt writes one attempt with the app's answer: its status, its
// headers and the start of its body.
func writeAttempt(b *strings.Builder, s *ui.Styles, n int, a *store.Attempt) {
	by := a.By
	if by == "" {
		by = "sent"
	}
	when := ""
	if !a.At.IsZero() {
		when = " at " + a.At.Local().Format(time.RFC3339)
	}
	fmt.Fprintf(b, "\n%s\n", s.Bold(fmt.Sprintf("Attempt %d (%s%s)", n, termsafe.Line(by), when)))
	fmt.Fprintf(b, "  %s\n", ForwardText(a))
	if a.Sent != nil {
		if len(a.Sent.Header) > 0 {
			fmt.Fprintln(b, "  Sent with these headers changed:")
			writeHeaders(b, "    ", a.Sent.Header)
		}
		if a.Sent.Body != nil {
			fmt.Fprintf(b, "  Sent an edited body (%d bytes):\n", len(a.Sent.Body))
			b.WriteString(Body(a.Sent.Body, "    "))
		}
	}
	if a.Status == 0 {
		return
	}
	fmt.Fprintln(b, "  Answer headers:")
	writeHeaders(b, "    ", a.Header)
	switch {
	case a.BodySize == 0:
		fmt.Fprintln(b, "  Answer body: empty")
	case a.Truncated():
		fmt.Fprintf(b, "  Answer body (first %d of %d bytes):\n", len(a.Body), a.BodySize)
		b.WriteString(Body(a.Body, "    "))
	default:
		fmt.Fprintf(b, "  Answer body (%d bytes):\n", a.BodySize)
		b.WriteString(Body(a.Body, "    "))
	}
}

func writeHeaders(b *strings.Builder, indent string, h http.Header) {
	for _, k := range slices.Sorted(maps.Keys(h)) {
		fmt.Fprintf(b, "%s%s: %s\n", indent, termsafe.Line(k), termsafe.Line(strings.Join(h[k], ", ")))
	}
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
