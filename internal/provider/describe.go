package provider

import (
	"fmt"
	"sort"
	"strings"
)

// Fact is one line of what a provider sends, for `providers show`.
type Fact struct{ Label, Text string }

// Describe says, in a person's words, how the provider signs and sends a
// delivery.
func (s *Spec) Describe() []Fact {
	sig := s.Signature
	mac := strings.ToUpper(sig.Algorithm)
	value := fmt.Sprintf("%s<%s of %s over %q>", sig.Prefix, sig.Encoding, mac, sig.Payload)
	if sig.Algorithm == "ed25519" {
		value = fmt.Sprintf("%s<%s of the Ed25519 signature of %q>", sig.Prefix, sig.Encoding, sig.Payload)
	}
	var out []Fact
	switch {
	case sig.Items != "":
		out = append(out, Fact{"Signature", fmt.Sprintf("%s: %s (one %s= per secret during a rotation)", sig.Header, sig.itemsForm(value), sig.Item)})
	case sig.Separator != "":
		out = append(out, Fact{"Signature", fmt.Sprintf("%s: %s, several separated by %q", sig.Header, value, sig.Separator)})
	default:
		out = append(out, Fact{"Signature", sig.Header + ": " + value})
	}
	key := "the whole secret string, as UTF-8"
	switch {
	case sig.Algorithm == "ed25519":
		key = "hex: the public key (64 characters) verifies, the private key (128: seed and public key) signs"
	case sig.Key == "base64":
		key = "the base64 after " + sig.KeyPrefix + ", decoded"
	case sig.Key == "hex":
		key = "the hex after " + sig.KeyPrefix + ", decoded"
		if sig.KeyPrefix == "" {
			key = "the secret's hex, decoded"
		}
	}
	out = append(out, Fact{"Key", key})
	unit := map[string]string{"s": "Unix seconds", "ms": "Unix milliseconds", "rfc3339": "RFC 3339"}[sig.TimestampUnit]
	switch sig.Timestamp {
	case "header":
		out = append(out, Fact{"Timestamp", s.Headers.Timestamp + ", " + unit})
	case "item":
		out = append(out, Fact{"Timestamp", "the " + sig.TimestampItem + "= item of " + sig.Header + ", " + unit})
	case "body":
		out = append(out, Fact{"Timestamp", "the body's " + s.Envelope.Timestamp + " (" + s.Envelope.TimestampFormat + ")"})
	}
	switch {
	case sig.Tolerance.Duration > 0:
		out = append(out, Fact{"Window", fmt.Sprintf("the timestamp within %s of now", sig.Tolerance)})
	default:
		out = append(out, Fact{"Window", "none: the timestamp is not checked"})
	}
	if s.Headers.ID != "" {
		out = append(out, Fact{"Delivery id", s.Headers.ID})
	}
	if s.Headers.Event != "" {
		out = append(out, Fact{"Event", s.Headers.Event})
	}
	if a := s.API; s.HasAPI() {
		where := a.BaseURL + a.Path
		if a.BaseURL == "" {
			where = "--api-url + " + a.Path
		}
		who := "made by " + s.Title + ", shown once"
		if a.Secret == "client" {
			who = "made by jasni and sent"
		}
		text := fmt.Sprintf("%s (secret %s)", where, who)
		if a.TestPath != "" {
			text += "; test deliveries at " + a.TestPath
		}
		out = append(out, Fact{"Webhooks", text})
	}
	if hs := s.Handshake; hs.Match != "" {
		out = append(out, Fact{"Handshake", fmt.Sprintf("%s (when %s), answered by listen with %s", hs.Event, hs.Match, hs.Answer)})
	}
	extra := make([]string, 0, len(s.Headers.Extra))
	for k, v := range s.Headers.Extra {
		extra = append(extra, k+": "+v)
	}
	sort.Strings(extra)
	for _, e := range extra {
		out = append(out, Fact{"Also sends", e})
	}
	return out
}

// Summary is the scheme on one line, for `providers list`.
func (s *Spec) Summary() string {
	sig := s.Signature
	value := fmt.Sprintf("%s%s %s of %s", sig.Prefix, sig.Encoding, strings.ToUpper(sig.Algorithm), sig.Payload)
	if sig.Items != "" {
		value = sig.itemsForm(value)
	}
	out := sig.Header + ": " + value
	if sig.Tolerance.Duration > 0 {
		out += fmt.Sprintf(", within %s", sig.Tolerance)
	}
	return out
}

// itemsForm is a combined header's items around one signature's value:
// t=<timestamp>,v1=VALUE.
func (sig SignatureSpec) itemsForm(value string) string {
	out := sig.Item + "=" + value
	if sig.TimestampItem != "" {
		out = sig.TimestampItem + "=<timestamp>" + sig.Items + out
	}
	return out
}
