// Package config resolves settings with one precedence everywhere:
// flag > environment (JASNI_*) > config file (the chosen profile) > default.
// Flags are applied by the commands; this package covers the rest.
//
// The file is TOML with one table per profile:
//
//	[default]
//	webhook_secret = "whsec_..."
//	trigger_url = "http://127.0.0.1:3000/webhooks/jasni"
//
//	[staging]
//	api_key = "jsk_..."
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/pelletier/go-toml/v2"
	"github.com/spf13/viper"
)

// Keys known to the config file. Each has the environment variable
// JASNI_<KEY in upper case>.
const (
	KeyAPIKey        = "api_key"
	KeyAPIURL        = "api_url"
	KeyWebhookSecret = "webhook_secret"
	KeyTriggerURL    = "trigger_url"
	// KeyProvider is the webhook provider: a built-in name or a folder.
	KeyProvider = "provider"
	// KeyNgrokAuthtoken has no JASNI_ variable: ngrok's own NGROK_AUTHTOKEN is read instead.
	KeyNgrokAuthtoken = "ngrok_authtoken"
	// KeyDevWebhookID is the development webhook listen keeps for the profile.
	KeyDevWebhookID = "dev_webhook_id"
)

// DefaultProfile is used when neither --profile nor JASNI_PROFILE names one.
const DefaultProfile = "default"

// envAliases are extra variable names read after JASNI_<KEY>, in order.
// WEBHOOK_SECRET is the name the Jasni docs tell apps to use.
var envAliases = map[string][]string{
	KeyWebhookSecret: {"WEBHOOK_SECRET"},
}

// Config is the resolved configuration of one profile.
type Config struct {
	Path    string
	Profile string

	getenv func(string) string
	file   *viper.Viper   // the whole file for reading; keys are "<profile>.<key>"
	raw    map[string]any // the whole file as parsed, for writing it back
}

// DefaultPath is $XDG_CONFIG_HOME/jasni/config.toml, or ~/.config/jasni/config.toml.
func DefaultPath(getenv func(string) string) (string, error) {
	if dir := getenv("XDG_CONFIG_HOME"); dir != "" {
		return filepath.Join(dir, "jasni", "config.toml"), nil
	}
	home := getenv("HOME")
	if home == "" {
		var err error
		if home, err = os.UserHomeDir(); err != nil {
			return "", fmt.Errorf("find config directory: set XDG_CONFIG_HOME or HOME, or pass --config: %w", err)
		}
	}
	return filepath.Join(home, ".config", "jasni", "config.toml"), nil
}

// Load reads the config file at path (a missing file is an empty config) and
// selects profile. getenv is os.Getenv outside tests.
func Load(path, profile string, getenv func(string) string) (*Config, error) {
	if profile == "" {
		profile = DefaultProfile
	}
	c := &Config{Path: path, Profile: profile, getenv: getenv, file: viper.New(), raw: map[string]any{}}
	c.file.SetConfigType("toml")

	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return c, nil
	case err != nil:
		return nil, fmt.Errorf("read config file: %w", err)
	}
	if err := c.file.ReadConfig(bytes.NewReader(data)); err != nil {
		return nil, parseError(path, err)
	}
	if err := toml.Unmarshal(data, &c.raw); err != nil {
		return nil, parseError(path, err)
	}
	return c, nil
}

func parseError(path string, err error) error {
	var de *toml.DecodeError
	if errors.As(err, &de) {
		row, col := de.Position()
		return fmt.Errorf("config file %s is not valid TOML: line %d, column %d: %s (fix or move the file; jasni will not overwrite it)", path, row, col, de.Error())
	}
	return fmt.Errorf("config file %s could not be parsed: %w", path, err)
}

// Get returns the value of key: the environment first, then the profile's
// table in the file, else "".
func (c *Config) Get(key string) string {
	v, _ := c.Lookup(key)
	return v
}

// Lookup is Get that also says where the value came from, for messages such
// as "the secret from WEBHOOK_SECRET did not verify".
func (c *Config) Lookup(key string) (value, source string) {
	names := append([]string{"JASNI_" + strings.ToUpper(key)}, envAliases[key]...)
	for _, name := range names {
		if v := c.getenv(name); v != "" {
			return v, name
		}
	}
	if v := c.file.GetString(c.Profile + "." + key); v != "" {
		return v, fmt.Sprintf("%s [%s] %s", c.Path, c.Profile, key)
	}
	return "", ""
}

// Value is one setting and where it came from.
type Value struct{ Value, Source string }

// LookupAll is every value key has, in precedence order (the environment's
// names, then the profile), without repeats: a resend tries each secret
// configured until one verifies the stored delivery.
func (c *Config) LookupAll(key string) []Value {
	var out []Value
	add := func(v, src string) {
		if v == "" {
			return
		}
		for _, o := range out {
			if o.Value == v {
				return
			}
		}
		out = append(out, Value{v, src})
	}
	for _, name := range append([]string{"JASNI_" + strings.ToUpper(key)}, envAliases[key]...) {
		add(c.getenv(name), name)
	}
	add(c.file.GetString(c.Profile+"."+key), fmt.Sprintf("%s [%s] %s", c.Path, c.Profile, key))
	return out
}

// Profiles lists the profile tables present in the file.
func (c *Config) Profiles() []string {
	var names []string
	for name, v := range c.file.AllSettings() {
		if _, ok := v.(map[string]any); ok {
			names = append(names, name)
		}
	}
	return names
}
