package provider

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Diagnosis explains a signature check for a person debugging one.
type Diagnosis struct {
	Valid bool `json:"valid"`
	// Cause is the most likely reason the check failed, as one sentence.
	Cause string `json:"cause,omitempty"`
	// Fix says what to change.
	Fix string `json:"fix,omitempty"`
	// Notes are smaller findings, such as whitespace that was ignored.
	Notes []string `json:"notes,omitempty"`
}

// Diagnose checks a received signature (in h, with the timestamp and id
// headers the scheme signs) against body and secret, the way the provider's
// receivers do, and when it fails tries the usual mistakes one at a time to
// name the cause: a prefix or encoding the scheme does not use, upper-case
// hex, a timestamp outside the window, a body that was re-serialised or
// gained a newline, a secret used in the wrong form.
func (p *Provider) Diagnose(secret string, body []byte, h http.Header, now time.Time) Diagnosis {
	return p.DiagnoseURL(secret, body, h, now, "")
}

// DiagnoseURL is Diagnose for a delivery sent to target, which some
// schemes sign (Twilio's).
func (p *Provider) DiagnoseURL(secret string, body []byte, h http.Header, now time.Time, target string) Diagnosis {
	var d Diagnosis
	if p.SignsURL() && target == "" {
		return d.fail(p.Title+" signs the URL it sent the delivery to, and none was given", "pass the URL "+p.Title+" was given, exactly, with --url")
	}
	sig := p.Signature
	received := h.Get(sig.Header)
	value := strings.TrimSpace(received)
	if value != received {
		d.Notes = append(d.Notes, "the signature had surrounding whitespace, which was ignored")
	}
	if name, rest, ok := strings.Cut(value, ":"); ok && strings.EqualFold(strings.TrimSpace(name), sig.Header) {
		value = strings.TrimSpace(rest)
	}
	if value == "" {
		return d.fail("there is no signature", "pass the "+sig.Header+" header's value with --signature")
	}
	h = h.Clone()
	h.Set(sig.Header, value)
	if cause, fix, ok := p.formatProblem(h); !ok {
		return d.fail(cause, fix)
	}

	key, err := p.ParseKey(secret)
	if err != nil {
		return d.fail(err.Error(), "use the secret exactly as the provider showed it")
	}
	// The signature first, whatever the time: a stale but otherwise right
	// delivery should be called stale, not wrong.
	err = p.VerifyURL([]Key{key}, body, h, timeOf(h, body, p, now), target)
	switch {
	case errors.Is(err, ErrMissingTimestamp) && p.Signature.Timestamp == "item":
		return d.fail("the signature header has no "+p.Signature.TimestampItem+"= item, and this scheme signs it", "copy the "+sig.Header+" header whole, as received")
	case errors.Is(err, ErrMissingTimestamp) && p.Signature.Timestamp == "body":
		return d.fail("the body has no "+p.Envelope.Timestamp+", and this scheme checks it", "use the raw request body, as received")
	case errors.Is(err, ErrMissingTimestamp):
		return d.fail("there is no timestamp, and this scheme signs it", "pass the "+p.Headers.Timestamp+" header's value with --timestamp")
	case errors.Is(err, ErrMissingID):
		return d.fail("there is no delivery id, and this scheme signs it", "pass the "+p.Headers.ID+" header's value with --id")
	case err == nil:
		if err := p.VerifyURL([]Key{key}, body, h, now, target); errors.Is(err, ErrStale) {
			return d.fail(fmt.Sprintf("the signature matches, but %v: a receiver following the docs refuses it", err),
				"check the sender's and receiver's clocks, or whether this is an old delivery being replayed")
		}
		d.Valid = true
		return d
	}
	matches := func(k Key, b []byte) bool { return p.VerifyURL([]Key{k}, b, h, timeOf(h, b, p, now), target) == nil }
	for _, v := range bodyVariants(body) {
		if matches(key, v.body) {
			return d.fail(v.cause, v.fix)
		}
	}
	for _, v := range p.secretVariants(secret) {
		if matches(Key{b: v.key}, body) {
			return d.fail(v.cause, v.fix)
		}
	}
	if json.Valid(body) && keysSorted(body) {
		d.Notes = append(d.Notes, "this copy's keys are in sorted order, as jq -S, json.dumps(sort_keys=True) or a re-serialised map write them: if it was parsed and re-serialised, the bytes that were signed are lost and no secret will match")
	}
	return d.fail("the secret is not the one this body was signed with, or the body is not byte for byte the one that was sent",
		"use the secret shown when the webhook was created, exactly as shown, and the raw request body as received, before any JSON parsing")
}

func (d Diagnosis) fail(cause, fix string) Diagnosis {
	d.Valid, d.Cause, d.Fix = false, cause, fix
	return d
}

// timeOf is the timestamp the delivery claims, so that the signature can be
// checked apart from the window.
func timeOf(h http.Header, body []byte, p *Provider, now time.Time) time.Time {
	if t, ok := p.ClaimedTime(h, body); ok {
		return t
	}
	return now
}

// formatProblem says what is wrong with the form of the signature header
// in h, in the scheme's terms, before any MAC is computed.
func (p *Provider) formatProblem(h http.Header) (cause, fix string, ok bool) {
	sig := p.Signature
	copyFix := "copy the " + sig.Header + " header exactly as received"
	parts, _, _ := p.signatureValues(h)
	if sig.Items != "" && len(parts) == 0 {
		return fmt.Sprintf("the signature header has no %s= item: %s sends items such as %s=…%s%s=…", sig.Item, p.Title, sig.TimestampItem, sig.Items, sig.Item), copyFix, false
	}
	size := p.macSize()
	what := map[string]string{"hmac-sha1": "SHA-1", "hmac-sha256": "SHA-256", "hmac-sha512": "SHA-512"}[sig.Algorithm]
	var last string
	for _, part := range parts {
		part = strings.TrimSpace(part)
		rest, hasPrefix := strings.CutPrefix(part, sig.Prefix)
		switch {
		case !hasPrefix && sig.Prefix != "":
			last = fmt.Sprintf("the signature does not start with %q, as %s's signatures do", sig.Prefix, p.Title)
			continue
		case sig.Prefix == "" && sig.Items == "" && (strings.HasPrefix(part, "sha256=") || strings.HasPrefix(part, "v1,") || strings.HasPrefix(part, "t=")):
			before, _, _ := strings.Cut(part, "=")
			if strings.HasPrefix(part, "v1,") {
				before = "v1,"
			}
			return fmt.Sprintf("the signature starts with %q, which %s does not send: it is another provider's format", before, p.Title),
				"check which provider sent it (jasni providers list), and verify with --provider", false
		}
		if sig.Encoding == "hex" {
			if b, err := hex.DecodeString(rest); err == nil && len(b) == size {
				if rest != strings.ToLower(rest) {
					return "the signature is in upper case: " + p.Title + " sends lower-case hex, and receivers that compare strings refuse it",
						"send or compare it in lower case", false
				}
				return "", "", true
			}
			if b, err := base64.StdEncoding.DecodeString(rest); err == nil && len(b) == size {
				return "the signature is base64, but " + p.Title + " sends hex", copyFix, false
			}
			last = fmt.Sprintf("the signature is not a hex %s (%d hex characters)", what, 2*size)
			continue
		}
		if b, err := base64.StdEncoding.DecodeString(rest); err == nil && len(b) == size {
			return "", "", true
		}
		if b, err := hex.DecodeString(rest); err == nil && len(b) == size {
			return "the signature is hex, but " + p.Title + " sends base64", copyFix, false
		}
		last = "the signature is not a base64 " + what
	}
	return last, copyFix, false
}

type bodyVariant struct {
	body       []byte
	cause, fix string
}

const rawBodyFix = "verify the raw request bytes, before any JSON parsing (Express: express.raw({type: 'application/json'}); Flask: request.get_data())"

func bodyVariants(body []byte) []bodyVariant {
	var out []bodyVariant
	trimmed := bytes.TrimRight(body, "\r\n")
	if len(trimmed) != len(body) {
		out = append(out, bodyVariant{trimmed,
			"the body has a trailing newline that was not signed (an editor, echo or a heredoc adds one)",
			"remove the trailing newline (printf '%s' instead of echo), or save the body exactly as received"})
	}
	out = append(out, bodyVariant{append(append([]byte(nil), body...), '\n'),
		"the signed body ended with a newline that this copy lacks",
		"save the body exactly as received, final newline included"})
	// Line endings converted on the way (a Windows editor, a tool that
	// normalises text).
	if bytes.Contains(body, []byte("\r\n")) {
		out = append(out, bodyVariant{bytes.ReplaceAll(body, []byte("\r\n"), []byte("\n")),
			"this copy has CRLF line endings where the signed body had LF: something converted them (a Windows editor, a text-mode copy)",
			"save the body as binary, exactly as received"})
	} else if bytes.Contains(body, []byte("\n")) {
		out = append(out, bodyVariant{bytes.ReplaceAll(body, []byte("\n"), []byte("\r\n")),
			"this copy has LF line endings where the signed body had CRLF: something converted them",
			"save the body as binary, exactly as received"})
	}

	if !json.Valid(body) {
		return out
	}
	// The copy's form against the signed body's, named as what changed.
	copyForm := jsonForm(body)
	changed := func(signedForm string) string {
		return fmt.Sprintf("the body was parsed and re-serialised before verifying: this copy is %s, but the signed body was %s (the same JSON, other bytes)", copyForm, signedForm)
	}
	var compact bytes.Buffer
	_ = json.Compact(&compact, body)
	if !bytes.Equal(compact.Bytes(), body) {
		out = append(out, bodyVariant{compact.Bytes(), changed("compact, as " + "JSON.stringify writes it"), rawBodyFix})
	}
	var indented bytes.Buffer
	if json.Indent(&indented, compact.Bytes(), "", "  ") == nil && !bytes.Equal(indented.Bytes(), body) {
		out = append(out, bodyVariant{indented.Bytes(), changed("pretty-printed"), rawBodyFix})
	}
	if py := pythonStyle(compact.Bytes()); !bytes.Equal(py, body) {
		out = append(out, bodyVariant{py, changed(`spaced as Python's json.dumps writes it (", " and ": ")`), rawBodyFix})
	}
	var v any
	if json.Unmarshal(body, &v) == nil {
		if sorted, err := json.Marshal(v); err == nil && !bytes.Equal(sorted, body) {
			out = append(out, bodyVariant{sorted, changed("compact with its keys sorted"), rawBodyFix})
		}
	}
	return out
}

// jsonForm names how a JSON document is laid out, for messages.
func jsonForm(body []byte) string {
	var compact bytes.Buffer
	_ = json.Compact(&compact, body)
	sorted := ""
	if keysSorted(body) {
		sorted = ", with its keys sorted"
	}
	switch {
	case bytes.Contains(body, []byte("\r\n")):
		return "pretty-printed with CRLF line endings" + sorted
	case bytes.Contains(body, []byte("\n")):
		return "pretty-printed" + sorted
	case bytes.Equal(compact.Bytes(), body):
		return "compact" + sorted
	case bytes.Equal(pythonStyle(compact.Bytes()), body):
		return `spaced as Python's json.dumps writes it (", " and ": ")` + sorted
	}
	return "spaced differently" + sorted
}

// keysSorted reports whether every object in a JSON document with more than
// one key has them in sorted order, as jq -S, json.dumps(sort_keys=True) or
// a re-serialised map write them.
func keysSorted(body []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(body))
	// One level per open object or array, with the last key seen.
	type level struct {
		object bool
		last   string
		keys   int
		key    bool // the next string token is a key
	}
	var stack []level
	multi := false
	for {
		tok, err := dec.Token()
		if err != nil {
			return multi
		}
		top := len(stack) - 1
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{', '[':
				if top >= 0 && stack[top].object {
					stack[top].key = true
				}
				stack = append(stack, level{object: t == '{', key: t == '{'})
			default:
				stack = stack[:top]
			}
			continue
		case string:
			if top >= 0 && stack[top].object && stack[top].key {
				if stack[top].keys > 0 && t < stack[top].last {
					return false
				}
				if stack[top].keys > 0 {
					multi = true
				}
				stack[top].last, stack[top].key = t, false
				stack[top].keys++
				continue
			}
		}
		if top >= 0 && stack[top].object {
			stack[top].key = true
		}
	}
}

// pythonStyle re-spaces compact JSON the way Python's json.dumps does by
// default, keeping key order: ", " between items and ": " after keys.
func pythonStyle(compact []byte) []byte {
	var out bytes.Buffer
	inString, escaped := false, false
	for _, c := range compact {
		out.WriteByte(c)
		switch {
		case escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case c == '"':
			inString = !inString
		case !inString && (c == ',' || c == ':'):
			out.WriteByte(' ')
		}
	}
	return out.Bytes()
}

type secretVariant struct {
	key        []byte
	cause, fix string
}

// secretVariants are the forms a secret is mistakenly used in, for this
// provider's key form.
func (p *Provider) secretVariants(secret string) []secretVariant {
	var out []secretVariant
	if t := strings.TrimSpace(secret); t != secret {
		if k, err := p.ParseKey(t); err == nil {
			out = append(out, secretVariant{k.b,
				"the secret has surrounding whitespace (often a newline from a file or an env file)",
				"trim the secret before using it as the key"})
		}
	}
	if p.Signature.Key == "base64" {
		out = append(out, secretVariant{[]byte(secret),
			fmt.Sprintf("it was signed with the whole secret string as the key, but %s's key is the base64 after %q, decoded", p.Title, p.Signature.KeyPrefix),
			fmt.Sprintf("strip %q and base64-decode the rest to get the key (the provider's libraries do this)", p.Signature.KeyPrefix)})
		return out
	}
	if rest, ok := strings.CutPrefix(secret, "whsec_"); ok {
		out = append(out, secretVariant{[]byte(rest),
			`it was signed with the secret without its "whsec_" prefix, but the key is the whole string`,
			`use the whole secret, "whsec_" included, as the HMAC key`})
		if key, err := base64.StdEncoding.DecodeString(rest); err == nil && len(key) > 0 {
			out = append(out, secretVariant{key,
				"it was signed with the base64-decoded part after whsec_ (Standard Webhooks libraries do that), but " + p.Title + " uses the whole secret string",
				`use the whole secret string, "whsec_" included, as UTF-8 bytes`})
		}
	} else {
		out = append(out, secretVariant{[]byte("whsec_" + secret),
			`it was signed with "whsec_" in front of this secret: the key is the whole secret string`,
			`add the "whsec_" prefix to the secret you verify with`})
	}
	return out
}
