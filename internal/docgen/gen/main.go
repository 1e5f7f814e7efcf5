// Command gen writes the generated files: `go run ./internal/docgen/gen`
// refreshes completions/; with -man DIR it also writes man pages there.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/jasni/jasni-cli/internal/docgen"
)

func main() {
	completions := flag.String("completions", "completions", "directory for the shell completion scripts")
	man := flag.String("man", "", "directory for man pages (none when empty)")
	flag.Parse()
	if err := docgen.WriteCompletions(docgen.Root(), *completions); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
	if *man != "" {
		if err := docgen.WriteManPages(docgen.Root(), *man); err != nil {
			fmt.Fprintln(os.Stderr, "gen:", err)
			os.Exit(1)
		}
	}
}
