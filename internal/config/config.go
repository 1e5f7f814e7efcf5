// Package config resolves settings with one precedence everywhere:
// flag > environment > config file (the chosen profile) > default.
//
// A command binds a flag to a setting where it defines the flag (BindFlag),
// and reads the setting through WithFlags; Lookup walks the layers in that
// one order, and says which layer a value came from, because jasni's
// messages name it ("the secret from WEBHOOK_SECRET did not verify").
//
// The file is TOML with one table per profile. Profile names keep their case:
//
//	[default]
//	webhook_secret = "whsec_..."
//	trigger_url = "http://127.0.0.1:3000/webhooks/jasni"
//
//	[Staging]
//	api_key = "jsk_..."
package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/jasni/jasni-cli/internal/suggest"
	"github.com/pelletier/go-toml/v2"
	"github.com/spf13/pflag"
)

// Keys known to the config file.
const (
	KeyAPIKey        = "api_key"
	KeyAPIURL        = "api_url"
	KeyWebhookSecret = "webhook_secret"
	KeyTriggerURL    = "trigger_url"
	// KeyProvider is the webhook provider: a built-in name or a folder.
	KeyProvider       = "provider"
	KeyNgrokAuthtoken = "ngrok_authtoken"
	// KeyDevWebhookID is the development webhook listen keeps for the profile.
	KeyDevWebhookID = "dev_webhook_id"
)

// Setting describes one key: the environment variables that override it,
// in order, and whether it is a secret (masked when listed).
type Setting struct {
	Key    string
	Env    []string
	Secret bool
	Help   string
}

// Settings are every key jasni reads, in the order `jasni config list`
// shows them.
var Settings = []Setting{
	{KeyAPIKey, []string{"JASNI_API_KEY"}, true, "Jasni API key (jsk_...), used by the webhooks commands"},
	{KeyAPIURL, []string{"JASNI_API_URL"}, false, "Jasni API base URL"},
	// WEBHOOK_SECRET is the name the Jasni docs tell apps to use.
	{KeyWebhookSecret, []string{"JASNI_WEBHOOK_SECRET", "WEBHOOK_SECRET"}, true, "Webhook secret that listen verifies with and trigger signs with"},
	{KeyTriggerURL, []string{"JASNI_TRIGGER_URL"}, false, "Where trigger sends events when --url is not given"},
	{KeyProvider, []string{"JASNI_PROVIDER"}, false, "Webhook provider: a built-in name or a provider folder"},
	// ngrok's own variable first: it is what ngrok's docs tell users to set.
	{KeyNgrokAuthtoken, []string{"NGROK_AUTHTOKEN", "JASNI_NGROK_AUTHTOKEN"}, true, "ngrok authtoken for listen's public tunnel"},
	{KeyDevWebhookID, []string{"JASNI_DEV_WEBHOOK_ID"}, false, "The development webhook listen keeps for the profile (set by listen)"},
}

// SettingOf returns the setting for key, or an error naming the nearest.
func SettingOf(key string) (Setting, error) {
	for _, s := range Settings {
		if s.Key == key {
			return s, nil
		}
	}
	names := make([]string, len(Settings))
	for i, s := range Settings {
		names[i] = s.Key
	}
	msg := fmt.Sprintf("unknown setting %q", key)
	if s := suggest.Closest(strings.ReplaceAll(strings.ToLower(key), "-", "_"), names); s != "" {
		msg += fmt.Sprintf(": did you mean %s?", s)
	}
	return Setting{}, fmt.Errorf("%s\nKnown settings: %s", msg, strings.Join(names, ", "))
}

// flagAnnotation marks a flag as the flag layer of a setting.
const flagAnnotation = "jasni_config_key"

// BindFlag makes the flag name of fs override key wherever a command reads
// key through WithFlags(fs). Call it where the flag is defined.
func BindFlag(fs *pflag.FlagSet, name, key string) {
	if err := fs.SetAnnotation(name, flagAnnotation, []string{key}); err != nil {
		panic(fmt.Sprintf("config.BindFlag: %v", err)) // a programming error: the flag is not defined
	}
}

// BoundKey is the setting flag f stands for, or "".
func BoundKey(f *pflag.Flag) string {
	if keys := f.Annotations[flagAnnotation]; len(keys) == 1 {
		return keys[0]
	}
	return ""
}

// DefaultProfile is used when neither --profile nor JASNI_PROFILE names one.
const DefaultProfile = "default"

// Config is the resolved configuration of one profile.
type Config struct {
	Path    string
	Profile string

	getenv func(string) string
	flags  *pflag.FlagSet
	raw    map[string]any // the whole file as parsed, for reading and writing it back
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
// selects profile ("" is the default one). A profile other than the default
// that the file does not have is an error naming the ones it has; commands
// that create profiles use Open.
func Load(path, profile string, getenv func(string) string) (*Config, error) {
	c, err := Open(path, profile, getenv)
	if err != nil {
		return nil, err
	}
	if err := c.CheckProfile(); err != nil {
		return nil, err
	}
	if err := c.checkKeys(); err != nil {
		return nil, err
	}
	return c, nil
}

// checkKeys refuses a mistyped key in the profile in use (one close to a
// key jasni knows): it would otherwise be ignored, and the setting
// silently taken from elsewhere. A key unlike any is left alone, as one a
// newer jasni may have written.
func (c *Config) checkKeys() error {
	names := make([]string, len(Settings))
	for i, s := range Settings {
		names[i] = s.Key
	}
	for _, key := range c.FileKeys(c.Profile) {
		if _, err := SettingOf(key); err != nil && suggest.Closest(strings.ReplaceAll(strings.ToLower(key), "-", "_"), names) != "" {
			return fmt.Errorf("config file %s, profile [%s]: %w\nRemove it from the file, or run: jasni config unset %s", c.Path, c.Profile, err, key)
		}
	}
	return nil
}

// Open is Load for commands that may create the profile (login, config set).
func Open(path, profile string, getenv func(string) string) (*Config, error) {
	if profile == "" {
		profile = DefaultProfile
	}
	c := &Config{Path: path, Profile: profile, getenv: getenv, raw: map[string]any{}}
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return c, nil
	case err != nil:
		return nil, fmt.Errorf("read config file: %w", err)
	}
	if err := toml.Unmarshal(data, &c.raw); err != nil {
		return nil, parseError(path, err)
	}
	return c, nil
}

// UnknownProfileError is returned for a profile the file does not have.
type UnknownProfileError struct {
	Profile, Path string
	Known         []string
}

func (e *UnknownProfileError) Error() string {
	msg := fmt.Sprintf("profile %q is not in %s", e.Profile, e.Path)
	if len(e.Known) == 0 {
		return msg + ": it has no profiles yet; create one with: jasni login --profile " + e.Profile
	}
	for _, k := range e.Known {
		if strings.EqualFold(k, e.Profile) {
			return fmt.Sprintf("%s: did you mean %s? (profile names are case-sensitive)", msg, k)
		}
	}
	if s := suggest.Closest(e.Profile, e.Known); s != "" {
		msg += fmt.Sprintf(": did you mean %s?", s)
	}
	return fmt.Sprintf("%s\nKnown profiles: %s (create one with: jasni login --profile %s)", msg, strings.Join(e.Known, ", "), e.Profile)
}

// CheckProfile refuses a profile other than the default that the file lacks.
func (c *Config) CheckProfile() error {
	if c.Profile == DefaultProfile || c.HasProfile(c.Profile) {
		return nil
	}
	return &UnknownProfileError{Profile: c.Profile, Path: c.Path, Known: c.Profiles()}
}

func parseError(path string, err error) error {
	var de *toml.DecodeError
	if errors.As(err, &de) {
		row, col := de.Position()
		return fmt.Errorf("config file %s is not valid TOML: line %d, column %d: %s (fix or move the file; jasni will not overwrite it)", path, row, col, de.Error())
	}
	return fmt.Errorf("config file %s could not be parsed: %w", path, err)
}

// WithFlags returns c reading the flags of fs that BindFlag bound, above
// the environment. c itself is unchanged.
func (c *Config) WithFlags(fs *pflag.FlagSet) *Config {
	withFlags := *c
	withFlags.flags = fs
	return &withFlags
}

// Value is one setting and where it came from: "--secret",
// "WEBHOOK_SECRET", or "<path> [<profile>] <key>".
type Value struct{ Value, Source string }

// layers calls yield with each value key has, from the highest precedence
// down, until yield returns false. It is the one place the order is written.
func (c *Config) layers(key string, yield func(Value) bool) {
	if f := c.boundFlag(key); f != nil && f.Changed {
		values := []string{f.Value.String()}
		if sv, ok := f.Value.(pflag.SliceValue); ok {
			values = sv.GetSlice()
		}
		for _, v := range values {
			if v != "" && !yield(Value{v, "--" + f.Name}) {
				return
			}
		}
	}
	for _, name := range envNames(key) {
		if v := c.getenv(name); v != "" && !yield(Value{v, name}) {
			return
		}
	}
	if v := c.FileValue(c.Profile, key); v != "" {
		yield(Value{v, c.FileSource(key)})
	}
}

// FileSource is how a value of key from the file is named as its source.
func (c *Config) FileSource(key string) string {
	return fmt.Sprintf("%s [%s] %s", c.Path, c.Profile, key)
}

func (c *Config) boundFlag(key string) *pflag.Flag {
	if c.flags == nil {
		return nil
	}
	var found *pflag.Flag
	c.flags.VisitAll(func(f *pflag.Flag) {
		if found == nil && slices.Contains(f.Annotations[flagAnnotation], key) {
			found = f
		}
	})
	return found
}

func envNames(key string) []string {
	for _, s := range Settings {
		if s.Key == key {
			return s.Env
		}
	}
	return []string{"JASNI_" + strings.ToUpper(key)}
}

// Lookup returns the value of key with the highest precedence and where it
// came from, or "" and "".
func (c *Config) Lookup(key string) (value, source string) {
	c.layers(key, func(v Value) bool {
		value, source = v.Value, v.Source
		return false
	})
	return value, source
}

// Get is Lookup's value alone.
func (c *Config) Get(key string) string {
	v, _ := c.Lookup(key)
	return v
}

// LookupAll is every value key has, in precedence order, without repeats: a
// resend tries each secret configured until one verifies the stored delivery.
func (c *Config) LookupAll(key string) []Value {
	var out []Value
	c.layers(key, func(v Value) bool {
		if !slices.ContainsFunc(out, func(o Value) bool { return o.Value == v.Value }) {
			out = append(out, v)
		}
		return true
	})
	return out
}

// Top is the values of the highest layer that sets key: every --secret
// given (a key rotation), else the one from the environment or the file.
func (c *Config) Top(key string) []Value {
	var out []Value
	c.layers(key, func(v Value) bool {
		if len(out) > 0 && out[0].Source != v.Source {
			return false
		}
		out = append(out, v)
		return true
	})
	return out
}

// Profiles lists the profile tables in the file, sorted, with their case.
func (c *Config) Profiles() []string {
	var names []string
	for name, v := range c.raw {
		if _, ok := v.(map[string]any); ok {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

// HasProfile reports whether the file has a table named profile.
func (c *Config) HasProfile(profile string) bool {
	_, ok := c.raw[profile].(map[string]any)
	return ok
}

// FileValue is the value in the file alone, ignoring flags and the
// environment. Numbers and booleans read as text; tables and lists as "".
func (c *Config) FileValue(profile, key string) string {
	table, _ := c.raw[profile].(map[string]any)
	switch v := table[key].(type) {
	case string:
		return v
	case int64, float64, bool:
		return fmt.Sprint(v)
	}
	return ""
}

// FileKeys lists the keys of profile's table, sorted, known or not.
func (c *Config) FileKeys(profile string) []string {
	table, _ := c.raw[profile].(map[string]any)
	keys := make([]string, 0, len(table))
	for k := range table {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Mask shows enough of a secret to tell two apart and no more: its prefix
// (through the first "_", when short, as in whsec_ or jsk_) and, when the
// rest is long, its last 4 characters.
func Mask(secret string) string {
	if secret == "" {
		return ""
	}
	prefix := ""
	if i := strings.IndexByte(secret, '_'); i >= 0 && i < 8 {
		prefix = secret[:i+1]
	}
	rest := []rune(secret[len(prefix):])
	if len(rest) < 12 {
		return prefix + "…"
	}
	return prefix + "…" + string(rest[len(rest)-4:])
}
