package cmdutil

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/jasni/jasni-cli/internal/api"
	"github.com/jasni/jasni-cli/internal/build"
	"github.com/jasni/jasni-cli/internal/config"
	"github.com/jasni/jasni-cli/internal/provider"
	"github.com/spf13/cobra"
)

// APITimeout bounds each API request, so a hung API never hangs the CLI.
const APITimeout = 30 * time.Second

// KeyPrefix starts every Jasni API key.
const KeyPrefix = "jsk_"

var errNoKey = errors.New("no API key")

// ErrNoAPIKey is returned when no Jasni key is configured anywhere.
var ErrNoAPIKey = WithExitCode(ExitAuth, fmt.Errorf("%w: run \"jasni login\", or set JASNI_API_KEY", errNoKey))

// AddAPIFlags adds --api-key and --api-url to cmd and its subcommands.
func AddAPIFlags(cmd *cobra.Command) {
	cmd.PersistentFlags().String("api-key", "", "API key: Jasni's start jsk_ (default: JASNI_API_KEY, then the profile's saved key)")
	cmd.PersistentFlags().String("api-url", "", "API base URL (default: JASNI_API_URL, the profile's api_url, or the provider's own: "+api.DefaultBaseURL+" for Jasni)")
	config.BindFlag(cmd.PersistentFlags(), "api-key", config.KeyAPIKey)
	config.BindFlag(cmd.PersistentFlags(), "api-url", config.KeyAPIURL)
}

// CheckAPIKey refuses what cannot be a Jasni key, without echoing it.
func CheckAPIKey(key string) error {
	if !strings.HasPrefix(key, KeyPrefix) || len(key) <= len(KeyPrefix) || strings.ContainsAny(key, " \t\r\n") {
		return FlagErrorf("that is not a Jasni API key: keys start with %q and have no spaces (find yours in the Jasni dashboard)", KeyPrefix)
	}
	return nil
}

// CheckProviderAPIKey refuses what cannot be a key of p's API, without
// echoing it: Jasni's keys start jsk_, and no key has spaces.
func CheckProviderAPIKey(p *provider.Provider, key string) error {
	switch {
	case p.API.KeyPrefix == KeyPrefix:
		return CheckAPIKey(key)
	case !strings.HasPrefix(key, p.API.KeyPrefix) || strings.ContainsAny(key, " \t\r\n"):
		what := "have no spaces"
		if p.API.KeyPrefix != "" {
			what = fmt.Sprintf("start with %q and have no spaces", p.API.KeyPrefix)
		}
		return FlagErrorf("that is not an API key for %s: keys %s", p.Title, what)
	}
	return nil
}

// checkBaseURL refuses an API URL the paths cannot be added to: not
// http(s), with a query, or ending in the first part of the paths
// (https://api.example.com/v1 for /v1/webhooks would ask /v1/v1/webhooks).
func checkBaseURL(raw, path string) error {
	if err := CheckURL("--api-url", raw); err != nil {
		return err
	}
	u, _ := url.Parse(raw)
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return FlagErrorf("--api-url %q: give the API's address alone, such as https://api.example.com (no query, fragment or credentials)", raw)
	}
	first, _, _ := strings.Cut(strings.TrimPrefix(path, "/"), "/")
	if dir := strings.TrimRight(u.Path, "/"); first != "" && strings.HasSuffix(dir, "/"+first) {
		return FlagErrorf("--api-url %q ends with /%s, which jasni adds itself (it asks %s): drop it, e.g. --api-url %s", raw, first, path, strings.TrimSuffix(strings.TrimRight(raw, "/"), "/"+first))
	}
	return nil
}

// APIClient builds a client for the API of the provider named by
// --provider, JASNI_PROVIDER or the profile (Jasni's by default).
func APIClient(f *Factory, cmd *cobra.Command) (*api.Client, error) {
	cfg, err := f.Config()
	if err != nil {
		return nil, err
	}
	p, err := APIProvider(cmd, cfg)
	if err != nil {
		return nil, err
	}
	return APIClientFor(f, cmd, cfg, p)
}

// APIProvider resolves the provider whose API a command manages, and
// refuses one without an [api] table.
func APIProvider(cmd *cobra.Command, cfg *config.Config) (*provider.Provider, error) {
	p, err := Provider(cmd, cfg)
	if err != nil {
		return nil, err
	}
	if !p.HasAPI() && !cmd.Flags().Changed("provider") {
		// The profile's provider is for listen and trigger: its webhooks
		// are registered elsewhere, so the webhooks commands manage
		// Jasni's, as they always have.
		return provider.Builtin(provider.Default)
	}
	if !p.HasAPI() {
		var with []string
		for _, name := range provider.BuiltinNames() {
			if b, err := provider.Builtin(name); err == nil && b.HasAPI() {
				with = append(with, name)
			}
		}
		return nil, FlagErrorf("--provider %s: jasni does not manage %s webhooks: register them with %s itself. It manages those of %s, and of a provider folder with an [api] table",
			p.Name, p.Title, p.Title, strings.Join(with, " and "))
	}
	return p, nil
}

// APIClientFor builds a client for p's API from --api-key/--api-url, the
// environment and the profile, in that order.
func APIClientFor(f *Factory, cmd *cobra.Command, cfg *config.Config, p *provider.Provider) (*api.Client, error) {
	spec := p.API
	key, source := cfg.WithFlags(cmd.Flags()).Lookup(config.KeyAPIKey)
	jasni := spec.KeyPrefix == KeyPrefix
	if !jasni && key != "" && !FromEnvironment(source) && !strings.HasPrefix(source, "--") && cfg.FileValue(cfg.Profile, config.KeyProvider) != p.Name {
		// The profile's key is for the profile's provider (Jasni's,
		// saved by jasni login): it never goes to another provider's API.
		key = ""
	}
	if !jasni && strings.HasPrefix(key, KeyPrefix) {
		return nil, FlagErrorf("the API key from %s is a Jasni key (jsk_): jasni does not send it to the %s API; pass that API's key with --api-key", source, p.Title)
	}
	switch {
	case key == "" && jasni:
		return nil, ErrNoAPIKey
	case key == "":
		return nil, WithExitCode(ExitAuth, fmt.Errorf("%w for the %s API: pass --api-key, or set JASNI_API_KEY", errNoKey, p.Name))
	}
	if err := CheckProviderAPIKey(p, key); err != nil {
		return nil, err
	}
	baseURL := cmp.Or(cfg.WithFlags(cmd.Flags()).Get(config.KeyAPIURL), spec.BaseURL)
	if baseURL == "" {
		return nil, FlagErrorf("--api-url is required for --provider %s: its API has no address of its own (the docs' api.example.com stands for the provider's host); pass --api-url https://HOST or set JASNI_API_URL", p.Name)
	}
	if err := checkBaseURL(baseURL, spec.Path); err != nil {
		return nil, err
	}
	c, err := NewAPIClient(f, cmd, cfg, key, baseURL)
	if err != nil {
		return nil, err
	}
	c.Contract = api.Contract{Path: spec.Path, Auth: spec.Auth, UpdateMethod: spec.UpdateMethod, Object: spec.Object, List: spec.List, TestPath: spec.TestPath}
	if !jasni {
		c.Provider = p.Name
	}
	return c, nil
}

// NewAPIClient builds a client of Jasni's API for key, at baseURL (""
// resolves --api-url, the environment and the profile).
func NewAPIClient(f *Factory, cmd *cobra.Command, cfg *config.Config, key, baseURL string) (*api.Client, error) {
	if baseURL == "" {
		baseURL = cfg.WithFlags(cmd.Flags()).Get(config.KeyAPIURL)
	}
	httpClient, err := f.HttpClient()
	if err != nil {
		return nil, err
	}
	if httpClient.Timeout == 0 {
		withTimeout := *httpClient
		withTimeout.Timeout = APITimeout
		httpClient = &withTimeout
	}
	if f.DebugAPI != nil && f.DebugAPI() {
		traced := *httpClient
		trace := api.NewTrace(httpClient.Transport, f.IOStreams.ErrOut)
		trace.Mask = []string{key}
		traced.Transport = trace
		httpClient = &traced
	}
	if api.Insecure(baseURL) {
		fmt.Fprintf(f.IOStreams.ErrOut, "warning: the API URL %s is plain http and not on this machine: your API key crosses the network unencrypted. Use https.\n", baseURL)
	}
	c := api.New(baseURL, key, httpClient, build.UserAgent())
	c.OnRetry = func(status int, wait time.Duration, retry, of int) {
		fmt.Fprintf(f.IOStreams.ErrOut, "The API answered %d %s; retrying in %s (%d of %d)...\n", status, http.StatusText(status), wait.Round(100*time.Millisecond), retry, of)
	}
	return c, nil
}
