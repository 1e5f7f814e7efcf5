package signature

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"strings"
)

// Diagnosis explains a Jasni signature check for a person debugging one.
type Diagnosis struct {
	Valid bool `json:"valid"`
	// Cause is the most likely reason the check failed, as one sentence.
	Cause string `json:"cause,omitempty"`
	// Fix says what to change.
	Fix string `json:"fix,omitempty"`
	// Notes are smaller findings, such as a prefix that had to be removed.
	Notes []string `json:"notes,omitempty"`
}

// DiagnoseJasni checks received (the X-Webhook-Signature value) against body
// and secret and, when they do not match, tries the usual mistakes one at a
// time to name the cause: a body that was re-serialised or gained a newline,
// a secret used without its prefix or with whitespace, a signature in another
// scheme's format.
func DiagnoseJasni(secret string, body []byte, received string) Diagnosis {
	var d Diagnosis
	sig := strings.TrimSpace(received)
	if sig != received {
		d.Notes = append(d.Notes, "the signature had surrounding whitespace, which was ignored")
	}
	if name, value, ok := strings.Cut(sig, ":"); ok && strings.EqualFold(strings.TrimSpace(name), HeaderJasniSignature) {
		sig = strings.TrimSpace(value)
	}
	switch {
	case strings.HasPrefix(sig, "sha256="):
		d.Notes = append(d.Notes, `the signature starts with "sha256=": Jasni sends bare hex (the prefixed form is another provider's timestamped scheme)`)
		sig = strings.TrimPrefix(sig, "sha256=")
	case strings.HasPrefix(sig, "v1,"):
		d.Cause = `the signature is in Standard Webhooks format ("v1,<base64>"), not Jasni's hex`
		d.Fix = "check which provider sent it; Jasni signs with lowercase hex HMAC-SHA256"
		return d
	}
	if sig != strings.ToLower(sig) {
		d.Notes = append(d.Notes, "the signature is in upper case: Jasni sends lower-case hex, so a receiver comparing strings must lower-case it first")
		sig = strings.ToLower(sig)
	}
	if sig == "" {
		d.Cause = "there is no signature"
		d.Fix = "pass the X-Webhook-Signature header value with --signature"
		return d
	}
	if raw, err := hex.DecodeString(sig); err != nil || len(raw) != 32 {
		d.Cause = "the signature is not a hex SHA-256 (64 hex characters)"
		if b, err := base64.StdEncoding.DecodeString(sig); err == nil && len(b) == 32 {
			d.Cause = "the signature is base64, but Jasni sends hex"
		}
		d.Fix = "copy the X-Webhook-Signature header exactly as received"
		return d
	}

	j := Jasni{}
	matches := func(key string, b []byte) bool {
		return j.Verify(key, b, headerWith(sig)) == nil
	}
	if matches(secret, body) {
		d.Valid = true
		return d
	}

	for _, v := range bodyVariants(body) {
		if matches(secret, v.body) {
			d.Cause = v.cause
			d.Fix = v.fix
			return d
		}
	}
	for _, v := range secretVariants(secret) {
		if matches(v.secret, body) {
			d.Cause = v.cause
			d.Fix = v.fix
			return d
		}
	}
	d.Cause = "the secret is not the one this body was signed with, or the body is not byte for byte the one that was sent"
	d.Fix = "use the secret shown when the webhook was created (whsec_ included), and the raw request body as received, before any JSON parsing"
	return d
}

func headerWith(sig string) map[string][]string {
	return map[string][]string{HeaderJasniSignature: {sig}}
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

	if !json.Valid(body) {
		return out
	}
	reserialised := "the signature matches the same JSON serialised differently: the body was parsed and re-serialised before verifying"
	var compact bytes.Buffer
	if json.Compact(&compact, body) == nil && !bytes.Equal(compact.Bytes(), body) {
		out = append(out, bodyVariant{compact.Bytes(), reserialised + " (here: compacted)", rawBodyFix})
	}
	var indented bytes.Buffer
	if json.Indent(&indented, compact.Bytes(), "", "  ") == nil {
		out = append(out, bodyVariant{indented.Bytes(), reserialised + " (here: pretty-printed)", rawBodyFix})
	}
	if spaced, ok := pythonStyle(compact.Bytes()); ok {
		out = append(out, bodyVariant{spaced, reserialised + " (here: with \", \" and \": \" separators, as Python's json.dumps writes)", rawBodyFix})
	}
	var v any
	if json.Unmarshal(body, &v) == nil {
		if sorted, err := json.Marshal(v); err == nil {
			out = append(out, bodyVariant{sorted, reserialised + " (here: keys sorted)", rawBodyFix})
		}
	}
	return out
}

// pythonStyle re-spaces compact JSON the way Python's json.dumps does by
// default, keeping key order: ", " between items and ": " after keys.
func pythonStyle(compact []byte) ([]byte, bool) {
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
	return out.Bytes(), true
}

type secretVariant struct {
	secret, cause, fix string
}

func secretVariants(secret string) []secretVariant {
	var out []secretVariant
	if t := strings.TrimSpace(secret); t != secret {
		out = append(out, secretVariant{t,
			"the secret has surrounding whitespace (often a newline from a file or an env file)",
			"trim the secret before using it as the key"})
	}
	if rest, ok := strings.CutPrefix(secret, "whsec_"); ok {
		out = append(out, secretVariant{rest,
			`it was signed with the secret without its "whsec_" prefix, but the key is the whole string`,
			`use the whole secret, "whsec_" included, as the HMAC key`})
		if key, err := base64.StdEncoding.DecodeString(rest); err == nil && len(key) > 0 {
			out = append(out, secretVariant{string(key),
				"it was signed with the base64-decoded part after whsec_ (Standard Webhooks libraries do that), but Jasni uses the whole secret string",
				`use the whole secret string, "whsec_" included, as UTF-8 bytes`})
		}
	} else {
		out = append(out, secretVariant{"whsec_" + secret,
			`it was signed with "whsec_" in front of this secret: the key is the whole secret string`,
			`add the "whsec_" prefix to the secret you verify with`})
	}
	return out
}
