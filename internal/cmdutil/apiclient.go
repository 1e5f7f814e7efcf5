package cmdutil

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/jasni/jasni-cli/internal/api"
	"github.com/jasni/jasni-cli/internal/build"
	"github.com/jasni/jasni-cli/internal/config"
	"github.com/spf13/cobra"
)

// APITimeout bounds each API request, so a hung API never hangs the CLI.
const APITimeout = 30 * time.Second

// KeyPrefix starts every Jasni API key.
const KeyPrefix = "jsk_"

// ErrNoAPIKey is returned when no key is configured anywhere.
var ErrNoAPIKey = WithExitCode(ExitAuth, fmt.Errorf("no API key: run \"jasni login\", or set JASNI_API_KEY"))

// AddAPIFlags adds --api-key and --api-url to cmd and its subcommands.
func AddAPIFlags(cmd *cobra.Command) {
	cmd.PersistentFlags().String("api-key", "", "Jasni API key, jsk_... (default: JASNI_API_KEY, then the profile's saved key)")
	cmd.PersistentFlags().String("api-url", "", "Jasni API base URL (default: JASNI_API_URL, the profile's api_url, or "+api.DefaultBaseURL+")")
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

// APIClient builds a client from --api-key/--api-url, the environment and the
// profile, in that order.
func APIClient(f *Factory, cmd *cobra.Command) (*api.Client, error) {
	cfg, err := f.Config()
	if err != nil {
		return nil, err
	}
	key := cfg.WithFlags(cmd.Flags()).Get(config.KeyAPIKey)
	if key == "" {
		return nil, ErrNoAPIKey
	}
	if err := CheckAPIKey(key); err != nil {
		return nil, err
	}
	return NewAPIClient(f, cmd, cfg, key)
}

// NewAPIClient builds a client for key, with the base URL resolved.
func NewAPIClient(f *Factory, cmd *cobra.Command, cfg *config.Config, key string) (*api.Client, error) {
	baseURL := cfg.WithFlags(cmd.Flags()).Get(config.KeyAPIURL)
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
		traced.Transport = api.NewTrace(httpClient.Transport, f.IOStreams.ErrOut)
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
