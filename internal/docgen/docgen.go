// Package docgen writes what is generated from the command tree: shell
// completion scripts (committed under completions/) and man pages (built
// into release archives). Neither is ever edited by hand.
package docgen

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jasni/jasni-cli/internal/cmd/root"
	"github.com/jasni/jasni-cli/internal/cmdutil"
	"github.com/jasni/jasni-cli/internal/config"
	"github.com/jasni/jasni-cli/internal/iostreams"
	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
	"github.com/spf13/pflag"
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

// WriteManPages writes one section-1 page per command into dir, gzipped
// (jasni-trigger.1.gz), as Debian policy and Homebrew expect. Each page has
// its command's own title (JASNI-TRIGGER(1)); the date is SOURCE_DATE_EPOCH's
// when set, so a release rebuilds the same bytes.
func WriteManPages(cmd *cobra.Command, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	cmd.DisableAutoGenTag = true
	escapeForMarkdown(cmd, map[*pflag.Flag]bool{})
	var date *time.Time
	if epoch := os.Getenv("SOURCE_DATE_EPOCH"); epoch != "" {
		var secs int64
		if _, err := fmt.Sscan(epoch, &secs); err == nil {
			t := time.Unix(secs, 0).UTC()
			date = &t
		}
	}
	return eachCommand(cmd, func(c *cobra.Command) error {
		var page bytes.Buffer
		// No Title: cobra makes it from the command path, JASNI-TRIGGER.
		header := &doc.GenManHeader{Section: "1", Source: "jasni", Manual: "jasni manual", Date: date}
		if err := doc.GenMan(c, header, &page); err != nil {
			return fmt.Errorf("man page of %s: %w", c.CommandPath(), err)
		}
		return writeGzip(filepath.Join(dir, ManPageName(c)), page.Bytes())
	})
}

// ManPageName is the file name of c's man page: jasni-webhooks-create.1.gz.
func ManPageName(c *cobra.Command) string {
	return strings.ReplaceAll(c.CommandPath(), " ", "-") + ".1.gz"
}

// eachCommand calls fn for cmd and every command under it that has a page:
// the visible ones, as cobra's own man tree does.
func eachCommand(cmd *cobra.Command, fn func(*cobra.Command) error) error {
	if !cmd.IsAvailableCommand() && cmd.HasParent() || cmd.IsAdditionalHelpTopicCommand() {
		return nil
	}
	if err := fn(cmd); err != nil {
		return err
	}
	for _, c := range cmd.Commands() {
		if err := eachCommand(c, fn); err != nil {
			return err
		}
	}
	return nil
}

// writeGzip writes data compressed, with no name or time in the header, so
// the same page compresses to the same bytes.
func writeGzip(path string, data []byte) error {
	var b bytes.Buffer
	zw, err := gzip.NewWriterLevel(&b, gzip.BestCompression)
	if err != nil {
		return err
	}
	if _, err := zw.Write(data); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}

// markdownAngles escapes < and >: cobra writes the page as markdown, where
// "jasni <command>" and "/webhooks/<provider>" would be read as HTML tags
// and dropped. Examples are code blocks and keep theirs.
var markdownAngles = strings.NewReplacer("<", `\<`, ">", `\>`)

func escapeForMarkdown(cmd *cobra.Command, seen map[*pflag.Flag]bool) {
	cmd.Use = markdownAngles.Replace(cmd.Use)
	cmd.Short = markdownAngles.Replace(cmd.Short)
	cmd.Long = markdownAngles.Replace(cmd.Long)
	for _, fs := range []*pflag.FlagSet{cmd.LocalFlags(), cmd.InheritedFlags(), cmd.PersistentFlags()} {
		fs.VisitAll(func(f *pflag.Flag) {
			if !seen[f] {
				seen[f] = true
				f.Usage = markdownAngles.Replace(f.Usage)
			}
		})
	}
	for _, c := range cmd.Commands() {
		escapeForMarkdown(c, seen)
	}
}
