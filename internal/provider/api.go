package provider

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// APISpec says how a provider's webhook registrations are managed through
// its REST API, for `jasni webhooks`: where, with which key, who makes the
// secret, and where the webhook sits in an answer.
type APISpec struct {
	// BaseURL is the API's origin; "" when it has none of its own (a
	// placeholder in the docs), so --api-url is required.
	BaseURL string `toml:"base_url" json:"base_url,omitempty"`
	// Path is the webhooks collection: create and list there, and
	// PATH/{id} to update and delete.
	Path string `toml:"path" json:"path,omitempty"`
	// Auth is how the key travels: "bearer" (Authorization: Bearer KEY) or
	// "header:NAME".
	Auth string `toml:"auth" json:"auth,omitempty"`
	// KeyPrefix is how the provider's keys start (Jasni's jsk_), for
	// messages about a key of the wrong kind.
	KeyPrefix string `toml:"key_prefix" json:"key_prefix,omitempty"`
	// UpdateMethod is PATCH (the default; only the changed fields) or PUT.
	UpdateMethod string `toml:"update_method" json:"update_method,omitempty"`
	// Secret says who makes a webhook's secret: "provider" (it answers the
	// create with it, shown once) or "client" (jasni makes one and sends it).
	Secret string `toml:"secret" json:"secret,omitempty"`
	// Object lists where the webhook may sit in an answer, tried in turn:
	// dotted paths, "" for the top level. List is the same for a list.
	Object []string `toml:"object" json:"object,omitempty"`
	List   []string `toml:"list" json:"list,omitempty"`
	// TestPath, when set, is where a test delivery is asked for:
	// POST {"webhook_id", "event_type"}.
	TestPath string `toml:"test_path" json:"test_path,omitempty"`
}

// HasAPI reports whether the provider's registrations can be managed.
func (s *Spec) HasAPI() bool { return s.API.Path != "" }

// check validates the [api] table and fills in its defaults.
func (a *APISpec) check() error {
	if a.Path == "" {
		if a.BaseURL != "" || a.TestPath != "" || a.Secret != "" {
			return fmt.Errorf("api.path is missing: the webhooks collection, such as \"/v1/webhooks\"")
		}
		return nil
	}
	if a.BaseURL != "" {
		u, err := url.Parse(a.BaseURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			return fmt.Errorf("api.base_url %q: want an origin such as \"https://api.example.com\" (the paths go in api.path)", a.BaseURL)
		}
		a.BaseURL = strings.TrimRight(a.BaseURL, "/")
	}
	for field, p := range map[string]string{"api.path": a.Path, "api.test_path": a.TestPath} {
		if p != "" && (!strings.HasPrefix(p, "/") || strings.ContainsAny(p, "?# ")) {
			return fmt.Errorf("%s %q: a path from the API's origin, starting with /", field, p)
		}
	}
	switch {
	case a.Auth == "":
		a.Auth = "bearer"
	case a.Auth == "bearer":
	case strings.HasPrefix(a.Auth, "header:") && headerPattern().MatchString(strings.TrimPrefix(a.Auth, "header:")):
	default:
		return fmt.Errorf("api.auth %q: use bearer (Authorization: Bearer KEY) or header:NAME", a.Auth)
	}
	switch strings.ToUpper(a.UpdateMethod) {
	case "":
		a.UpdateMethod = http.MethodPatch
	case http.MethodPatch, http.MethodPut:
		a.UpdateMethod = strings.ToUpper(a.UpdateMethod)
	default:
		return fmt.Errorf("api.update_method %q: use PATCH or PUT", a.UpdateMethod)
	}
	switch a.Secret {
	case "":
		a.Secret = "provider"
	case "provider", "client":
	default:
		return fmt.Errorf("api.secret %q: use provider (it makes the secret and shows it once) or client (jasni makes one and sends it)", a.Secret)
	}
	if len(a.Object) == 0 {
		a.Object = []string{"data.webhook", "webhook", "data", ""}
	}
	if len(a.List) == 0 {
		a.List = []string{"data.webhooks", "webhooks", "data", ""}
	}
	return nil
}
