package provider

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/jasni/jasni-cli/fixtures"
	"github.com/jasni/jasni-cli/internal/suggest"
)

// Default is the provider used when none is named.
const Default = "jasni"

// BuiltinNames lists the providers that come with jasni.
func BuiltinNames() []string { return fixtures.ProviderNames() }

// Builtin returns a built-in provider; an unknown name is an error that
// suggests the nearest.
func Builtin(name string) (*Provider, error) {
	fsys, ok := fixtures.Provider(name)
	if !ok {
		msg := fmt.Sprintf("there is no provider %q", name)
		if near := suggest.Closest(name, BuiltinNames()); near != "" {
			msg += fmt.Sprintf("; did you mean %s?", near)
		}
		return nil, fmt.Errorf("%s (built in: %s; or give the path of a provider folder)", msg, strings.Join(BuiltinNames(), ", "))
	}
	return FromFS(fsys, name)
}

// Load finds a provider by name or path: a built-in name, a folder path
// (anything with a path separator, or an existing folder), or a name with a
// folder in dir (the config directory's providers folder; "" for none).
func Load(nameOrPath, dir string) (*Provider, error) {
	if nameOrPath == "" {
		nameOrPath = Default
	}
	if _, ok := fixtures.Provider(nameOrPath); ok {
		return Builtin(nameOrPath)
	}
	path := nameOrPath
	if !strings.ContainsAny(nameOrPath, `/\`) && dir != "" {
		if fi, err := os.Stat(filepath.Join(dir, nameOrPath)); err == nil && fi.IsDir() {
			path = filepath.Join(dir, nameOrPath)
		}
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		p, err := FromFS(os.DirFS(path), path)
		if err == nil {
			p.Folder, _ = filepath.Abs(path)
		}
		return p, err
	}
	return Builtin(nameOrPath) // for its message
}

// FromFS reads a provider folder: provider.toml and the event files beside
// it. where names the folder in errors.
func FromFS(fsys fs.FS, where string) (*Provider, error) {
	data, err := fs.ReadFile(fsys, "provider.toml")
	if err != nil {
		return nil, fmt.Errorf("provider %s: no provider.toml in the folder", where)
	}
	spec, err := ParseSpec(filepath.Join(where, "provider.toml"), data)
	if err != nil {
		return nil, err
	}
	p := &Provider{Spec: spec}
	if err := p.loadEvents(fsys, where); err != nil {
		return nil, err
	}
	return p, nil
}
