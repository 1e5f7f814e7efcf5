package provider

import (
	"fmt"

	"github.com/jasni/jasni-cli/fixtures"
	"github.com/jasni/jasni-cli/internal/suggest"
)

// Default is the provider used when none is named.
const Default = "jasni"

// BuiltinNames lists the providers that come with jasni.
func BuiltinNames() []string { return fixtures.ProviderNames() }

// Builtin returns a built-in provider's spec; an unknown name is an error
// that suggests the nearest.
func Builtin(name string) (*Spec, error) {
	data, ok := fixtures.ProviderSpec(name)
	if !ok {
		msg := fmt.Sprintf("there is no provider %q", name)
		if near := suggest.Closest(name, BuiltinNames()); near != "" {
			msg += fmt.Sprintf("; did you mean %s?", near)
		}
		return nil, fmt.Errorf("%s (built in: %v)", msg, BuiltinNames())
	}
	return ParseSpec(name+"/provider.toml", data)
}
