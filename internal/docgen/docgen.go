// Package docgen writes what is generated from the command tree: shell
// completion scripts (committed under completions/) and man pages (built
// into release archives). Neither is ever edited by hand.
package docgen

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/jasni/jasni-cli/internal/cmd/root"
	"github.com/jasni/jasni-cli/internal/cmdutil"
	"github.com/jasni/jasni-cli/internal/config"
	"github.com/jasni/jasni-cli/internal/iostreams"
	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

// Root builds the command tree with inert dependencies: generation must not
// read the user's config or environment.
func Root() *cobra.Command {
	ios, _, _, _ := iostreams.Test()
	f := &cmdutil.Factory{
		IOStreams:  ios,
		HttpClient: func() (*http.Client, error) { return http.DefaultClient, nil },
		Config: func() (*config.Config, error) {
			return config.Load(os.DevNull, "", func(string) string { return "" })
		},
		Now:    time.Now,
		Getenv: func(string) string { return "" },
	}
	cmd := root.NewCmdRoot(f, &root.Globals{})
	cmd.InitDefaultCompletionCmd()
	return cmd
}

// Completions returns each shell's completion script by file name.
func Completions(cmd *cobra.Command) (map[string][]byte, error) {
	out := map[string][]byte{}
	for name, gen := range map[string]func(*bytes.Buffer) error{
		"jasni.bash": func(b *bytes.Buffer) error { return cmd.GenBashCompletionV2(b, true) },
		"_jasni":     func(b *bytes.Buffer) error { return cmd.GenZshCompletion(b) },
		"jasni.fish": func(b *bytes.Buffer) error { return cmd.GenFishCompletion(b, true) },
		"jasni.ps1":  func(b *bytes.Buffer) error { return cmd.GenPowerShellCompletionWithDesc(b) },
	} {
		var b bytes.Buffer
		if err := gen(&b); err != nil {
			return nil, fmt.Errorf("generate %s: %w", name, err)
		}
		out[name] = b.Bytes()
	}
	return out, nil
}

// WriteCompletions writes the scripts into dir.
func WriteCompletions(cmd *cobra.Command, dir string) error {
	scripts, err := Completions(cmd)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for name, data := range scripts {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// WriteManPages writes one section-1 page per command into dir.
func WriteManPages(cmd *cobra.Command, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	header := &doc.GenManHeader{Title: "JASNI", Section: "1", Source: "jasni", Manual: "jasni manual"}
	// A fixed date keeps the pages reproducible from one build to the next.
	if epoch := os.Getenv("SOURCE_DATE_EPOCH"); epoch != "" {
		var secs int64
		if _, err := fmt.Sscan(epoch, &secs); err == nil {
			t := time.Unix(secs, 0).UTC()
			header.Date = &t
		}
	}
	cmd.DisableAutoGenTag = true
	return doc.GenManTree(cmd, header, dir)
}
