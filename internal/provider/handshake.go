package provider

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"

	"github.com/jasni/jasni-cli/internal/lazyre"

	"github.com/jasni/jasni-cli/internal/jsonpeek"
)

// HandshakeSpec describes the request some providers send to a new
// endpoint before any event, and the answer that proves the endpoint is
// theirs: Slack's url_verification, Zoom's endpoint.url_validation,
// Discord's PING, Twitch's webhook_callback_verification.
type HandshakeSpec struct {
	// Match says which requests are handshakes: "body:PATH=VALUE" (a field
	// of the body) or "header:NAME=VALUE".
	Match string `toml:"match" json:"match,omitempty"`
	// Answer is the body to answer with: {body:PATH} is a field of the
	// request's body, {hmac:body:PATH} its hex HMAC-SHA256 keyed with the
	// secret (Zoom's encryptedToken).
	Answer      string `toml:"answer" json:"answer,omitempty"`
	ContentType string `toml:"content_type" json:"content_type,omitempty"`
	// Event is the event file jasni trigger sends as the handshake.
	Event string `toml:"event" json:"event,omitempty"`
}

var (
	answerPart        = lazyre.New(`\{(hmac:)?body:([A-Za-z0-9_.-]+)\}`)
	answerPlaceholder = lazyre.New(`\{[a-z]+:[^{}"]*\}`)
	bareWord          = lazyre.New(`\{[A-Za-z_][A-Za-z0-9_.]*\}`)
)

// check validates the handshake and fills in defaults.
func (h *HandshakeSpec) check() error {
	if h.Match == "" {
		if h.Answer != "" || h.Event != "" {
			return fmt.Errorf("handshake.match is missing: say which requests are handshakes, as \"body:type=url_verification\" or \"header:NAME=VALUE\"")
		}
		return nil
	}
	kind, _, _, err := h.match()
	if err != nil {
		return err
	}
	if kind == "header" && !headerPattern().MatchString(strings.SplitN(strings.TrimPrefix(h.Match, "header:"), "=", 2)[0]) {
		return fmt.Errorf("handshake.match %q: not a header name", h.Match)
	}
	if ph := bareWord().FindString(h.Answer); ph != "" {
		return fmt.Errorf("handshake.answer %q: %s would be sent as written; a field of the request's body is {body:%s}", h.Answer, ph, strings.Trim(ph, "{}"))
	}
	// JSON answers hold braces of their own: a placeholder is {kind:…}.
	for _, ph := range answerPlaceholder().FindAllString(h.Answer, -1) {
		if !answerPart().MatchString(ph) {
			return fmt.Errorf("handshake.answer %q: %s is not {body:PATH} or {hmac:body:PATH}", h.Answer, ph)
		}
	}
	if h.ContentType == "" {
		h.ContentType = "text/plain; charset=utf-8"
	}
	return nil
}

// match splits Match into its kind, name and value.
func (h *HandshakeSpec) match() (kind, name, value string, err error) {
	kind, rest, _ := strings.Cut(h.Match, ":")
	name, value, ok := strings.Cut(rest, "=")
	if (kind != "body" && kind != "header") || !ok || name == "" {
		return "", "", "", fmt.Errorf("handshake.match %q: want \"body:PATH=VALUE\" or \"header:NAME=VALUE\"", h.Match)
	}
	return kind, name, value, nil
}

// IsHandshake reports whether a request is the provider's handshake.
func (s *Spec) IsHandshake(h http.Header, body []byte) bool {
	if s.Handshake.Match == "" {
		return false // most providers: nothing to look at on each delivery
	}
	kind, name, value, err := s.Handshake.match()
	if err != nil {
		return false
	}
	if kind == "header" {
		return h.Get(name) == value
	}
	raw := jsonpeek.Find(body, splitPath(name))[0]
	if len(raw) == 0 {
		return false
	}
	var str string
	if json.Unmarshal(raw, &str) == nil {
		return str == value
	}
	return string(raw) == value
}

// HandshakeAnswer is the answer to a handshake request, made with key;
// ok is false when the request is not one, or the answer needs a secret
// and there is none.
func (s *Spec) HandshakeAnswer(h http.Header, body []byte, keys []Key) (answer []byte, contentType string, ok bool) {
	if !s.IsHandshake(h, body) {
		return nil, "", false
	}
	jsonAnswer := strings.Contains(s.Handshake.ContentType, "json")
	ok = true
	out := answerPart().ReplaceAllStringFunc(s.Handshake.Answer, func(ph string) string {
		m := answerPart().FindStringSubmatch(ph)
		raw := jsonpeek.Find(body, splitPath(m[2]))[0]
		var v string
		if json.Unmarshal(raw, &v) != nil {
			v = string(raw)
		}
		if m[1] != "" {
			if len(keys) == 0 || keys[0].b == nil {
				ok = false
				return ""
			}
			mac := hmac.New(sha256.New, keys[0].b)
			mac.Write([]byte(v))
			v = hex.EncodeToString(mac.Sum(nil))
		}
		if jsonAnswer {
			q, _ := json.Marshal(v)
			return string(q[1 : len(q)-1]) // within the template's quotes
		}
		return v
	})
	return []byte(out), s.Handshake.ContentType, ok
}

// HandshakeHeader is the header a handshake request carries to say so,
// for event when it is the handshake's event (Twitch's message type).
func (s *Spec) HandshakeHeader(event string) (name, value string, ok bool) {
	kind, name, value, err := s.Handshake.match()
	if err != nil || kind != "header" || event == "" || event != s.Handshake.Event {
		return "", "", false
	}
	return name, value, true
}

// JudgeHandshakeAnswer says why an app's answer to the handshake request
// (h, body) is not the one the provider requires, or "" when it is: the
// same text, or the same JSON.
func (s *Spec) JudgeHandshakeAnswer(h http.Header, body []byte, keys []Key, answer []byte) string {
	want, _, ok := s.HandshakeAnswer(h, body, keys)
	if !ok {
		return ""
	}
	if strings.Contains(s.Handshake.ContentType, "json") {
		var a, b any
		if json.Unmarshal(answer, &a) == nil && json.Unmarshal(want, &b) == nil && reflect.DeepEqual(a, b) {
			return ""
		}
	} else if strings.TrimSpace(string(answer)) == strings.TrimSpace(string(want)) {
		return ""
	}
	return fmt.Sprintf("answered the %s handshake with %q; %s requires %q", s.Handshake.Event, clipAnswer(answer), s.Title, want)
}

func clipAnswer(b []byte) string {
	if len(b) > 120 {
		return string(b[:120]) + "…"
	}
	return string(b)
}
