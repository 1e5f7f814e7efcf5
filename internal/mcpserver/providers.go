package mcpserver

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/jasni/jasni-cli/internal/delivery"
	"github.com/jasni/jasni-cli/internal/provider"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

type providerArg struct {
	Provider string `json:"provider,omitempty" jsonschema:"a provider's name from list_providers; default: the profile's provider, else jasni"`
}

type providerInfo struct {
	Name      string `json:"name" jsonschema:"what the provider argument of the other tools takes"`
	Title     string `json:"title"`
	Signature string `json:"signature" jsonschema:"how its deliveries are signed"`
	Events    int    `json:"events" jsonschema:"how many event types it has fixtures of"`
}

type providersOut struct {
	Default   string         `json:"default" jsonschema:"the provider the tools use when none is named"`
	Providers []providerInfo `json:"providers"`
}

type eventInfo struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
}

type eventsOut struct {
	Provider string      `json:"provider"`
	Events   []eventInfo `json:"events"`
}

type showEventIn struct {
	providerArg
	Event string `json:"event" jsonschema:"an event type from list_events, such as email.received"`
}

type showEventOut struct {
	Provider string `json:"provider"`
	Event    string `json:"event"`
	Body     string `json:"body" jsonschema:"the fixture's JSON, as trigger sends it before ids and times are made fresh"`
}

type signIn struct {
	providerArg
	Body      string `json:"body" jsonschema:"the exact raw body to sign, byte for byte as it will be sent"`
	Secret    string `json:"secret,omitempty" jsonschema:"the webhook secret; default: the configured one (never returned)"`
	Timestamp int64  `json:"timestamp,omitempty" jsonschema:"Unix seconds to sign at; default: now"`
	URL       string `json:"url,omitempty" jsonschema:"the URL it will be sent to, for providers that sign it (Twilio)"`
}

type signOut struct {
	Provider string            `json:"provider"`
	Headers  map[string]string `json:"headers" jsonschema:"the headers to send with the body: signature, and timestamp and id where the scheme has them"`
}

type verifyIn struct {
	providerArg
	Body    string            `json:"body" jsonschema:"the exact raw body as the receiver got it"`
	Headers map[string]string `json:"headers" jsonschema:"the request's headers, at least the signature header (and the timestamp and id headers where the scheme has them)"`
	Secret  string            `json:"secret,omitempty" jsonschema:"the webhook secret; default: the configured one (never returned)"`
	URL     string            `json:"url,omitempty" jsonschema:"the URL the request was sent to, for providers that sign it (Twilio)"`
}

type verifyOut struct {
	Provider string `json:"provider"`
	provider.Diagnosis
}

func (s *Server) addProviderTools() {
	closed := &mcp.ToolAnnotations{ReadOnlyHint: true, OpenWorldHint: hint(false), IdempotentHint: true}
	add(s, &mcp.Tool{Name: "list_providers", Title: "List webhook providers", Annotations: closed,
		Description: "The webhook providers jasni can sign, verify and send events for: Jasni (the default), the generic REST API, Voisnap, Standard Webhooks, Stripe, GitHub, Slack, Shopify and others."},
		func(ctx context.Context, _ *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, providersOut, error) {
			out := providersOut{Default: provider.Default}
			if p, err := s.provider(""); err == nil {
				out.Default = p.Name
			}
			for _, name := range provider.BuiltinNames() {
				p, err := provider.Builtin(name)
				if err != nil {
					return nil, out, err
				}
				out.Providers = append(out.Providers, providerInfo{p.Name, p.Title, p.Summary(), len(p.Events())})
			}
			return nil, out, nil
		})
	add(s, &mcp.Tool{Name: "list_events", Title: "List a provider's event types", Annotations: closed,
		Description: "A provider's event types, with what each means: the names trigger and show_event take."},
		func(ctx context.Context, _ *mcp.CallToolRequest, in providerArg) (*mcp.CallToolResult, eventsOut, error) {
			p, err := s.provider(in.Provider)
			if err != nil {
				return nil, eventsOut{}, err
			}
			out := eventsOut{Provider: p.Name, Events: []eventInfo{}}
			for _, e := range p.Events() {
				out.Events = append(out.Events, eventInfo{e.Name, e.Description})
			}
			return nil, out, nil
		})
	add(s, &mcp.Tool{Name: "show_event", Title: "Show an event's fixture", Annotations: closed,
		Description: "The body of one event type as the provider sends it: use it to write or test the handler's parsing."},
		func(ctx context.Context, _ *mcp.CallToolRequest, in showEventIn) (*mcp.CallToolResult, showEventOut, error) {
			p, err := s.provider(in.Provider)
			if err != nil {
				return nil, showEventOut{}, err
			}
			e, ok := p.Event(in.Event)
			if !ok {
				return nil, showEventOut{}, unknownEvent(p, in.Event)
			}
			return nil, showEventOut{Provider: p.Name, Event: e.Name, Body: string(e.JSON)}, nil
		})
	add(s, &mcp.Tool{Name: "sign", Title: "Sign a body", Annotations: closed,
		Description: "The signature headers a provider would send with a body, made with the webhook secret. The secret itself is never returned."},
		func(ctx context.Context, _ *mcp.CallToolRequest, in signIn) (*mcp.CallToolResult, signOut, error) {
			p, err := s.provider(in.Provider)
			if err != nil {
				return nil, signOut{}, err
			}
			keys, err := s.keys(p, in.Secret)
			if err != nil {
				return nil, signOut{}, err
			}
			at := s.cfg.Now()
			if in.Timestamp != 0 {
				at = time.Unix(in.Timestamp, 0)
			}
			h := http.Header{}
			if err := delivery.Sign(h, []byte(in.Body), delivery.Signing{Provider: p, Keys: keys[:1], Timestamp: at, URL: in.URL}); err != nil {
				return nil, signOut{}, err
			}
			out := signOut{Provider: p.Name, Headers: map[string]string{}}
			for k := range h {
				out.Headers[k] = h.Get(k)
			}
			return nil, out, nil
		})
	add(s, &mcp.Tool{Name: "verify", Title: "Verify a signature, and explain a failure", Annotations: closed,
		Description: "Checks a received body and its headers against the webhook secret the way the provider's receivers do, and when it fails names the likely cause (a re-serialised body, a wrong secret form, an old timestamp, ...) and the fix, as `jasni verify` does."},
		func(ctx context.Context, _ *mcp.CallToolRequest, in verifyIn) (*mcp.CallToolResult, verifyOut, error) {
			p, err := s.provider(in.Provider)
			if err != nil {
				return nil, verifyOut{}, err
			}
			secrets := s.secrets(in.Secret)
			if len(secrets) == 0 {
				return nil, verifyOut{}, fmt.Errorf("no webhook secret: pass secret, or save one for every tool with: jasni config set webhook_secret -")
			}
			h := http.Header{}
			for k, v := range in.Headers {
				h.Set(k, v)
			}
			d := p.DiagnoseURL(secrets[0], []byte(in.Body), h, s.cfg.Now(), in.URL)
			for _, other := range secrets[1:] {
				if d.Valid {
					break
				}
				if alt := p.DiagnoseURL(other, []byte(in.Body), h, s.cfg.Now(), in.URL); alt.Valid {
					d = alt
				}
			}
			return nil, verifyOut{Provider: p.Name, Diagnosis: scrubDiagnosis(d, secrets)}, nil
		})
}

// scrubDiagnosis keeps a secret out of the explanation, should a cause
// ever quote it.
func scrubDiagnosis(d provider.Diagnosis, secrets []string) provider.Diagnosis {
	scrub := func(s string) string {
		for _, secret := range secrets {
			if len(secret) >= 4 {
				s = strings.ReplaceAll(s, secret, "[the secret]")
			}
		}
		return s
	}
	d.Cause, d.Fix = scrub(d.Cause), scrub(d.Fix)
	for i := range d.Notes {
		d.Notes[i] = scrub(d.Notes[i])
	}
	return d
}

func unknownEvent(p *provider.Provider, name string) error {
	return fmt.Errorf("%s has no event %q; its events: %s", p.Title, name, strings.Join(p.EventNames(), ", "))
}
