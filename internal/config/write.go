package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/pelletier/go-toml/v2"
)

// Set stores value under key in profile's table. Nothing is written until Save.
func (c *Config) Set(profile, key, value string) {
	table, _ := c.raw[profile].(map[string]any)
	if table == nil {
		table = map[string]any{}
		c.raw[profile] = table
	}
	table[key] = value
}

// Unset removes key from profile's table and reports whether it was there.
func (c *Config) Unset(profile, key string) bool {
	table, _ := c.raw[profile].(map[string]any)
	if _, ok := table[key]; !ok {
		return false
	}
	delete(table, key)
	return true
}

// Save writes the file atomically: a private temporary file, renamed over the
// old one, so a crash leaves either the old or the new file, never half of
// one. The file is 0600 and its directory 0700, since it holds secrets.
// Comments in a hand-edited file are not kept.
func (c *Config) Save() error {
	data, err := toml.Marshal(c.raw)
	if err != nil {
		return fmt.Errorf("encode config: %w", err)
	}
	dir := filepath.Dir(c.Path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create config directory %s: %w", dir, err)
	}
	tmp, err := os.CreateTemp(dir, ".config-*.toml")
	if err != nil {
		return fmt.Errorf("write config %s: %w", c.Path, err)
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("write config %s: %w", c.Path, err)
	}
	_, werr := tmp.Write(data)
	serr := tmp.Sync()
	cerr := tmp.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		return fmt.Errorf("write config %s: %w", c.Path, err)
	}
	if err := os.Rename(tmp.Name(), c.Path); err != nil {
		return fmt.Errorf("write config %s: %w", c.Path, err)
	}
	return nil
}
