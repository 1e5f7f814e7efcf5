package cmdutil

import (
	"io"
	"testing"
	"time"

	"github.com/spf13/cobra"
)

// pflag's own messages (Go's strconv and time errors, "unknown flag") are
// turned into ones that say what to type.
func TestExplainFlagError(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--port", "abc"}, `--port "abc": want a whole number`},
		{[]string{"--timeout", "5"}, `--timeout "5": want a duration with its unit, like 5s, 500ms or 2m`},
		{[]string{"-c", "x"}, `--concurrency "x": want a whole number`},
		{[]string{"--ratio", "lots"}, `--ratio "lots": want a number`},
		{[]string{"--port", "99999999999999999999"}, `--port "99999999999999999999": too large`},
		{[]string{"--al"}, "unknown flag --al: did you mean --all?"},
		{[]string{"--zzzzzz"}, "unknown flag --zzzzzz (jasni trigger --help lists them)"},
	} {
		cmd := &cobra.Command{Use: "trigger", RunE: func(*cobra.Command, []string) error { return nil }}
		cmd.Flags().Int("port", 0, "")
		cmd.Flags().Duration("timeout", time.Second, "")
		cmd.Flags().IntP("concurrency", "c", 1, "")
		cmd.Flags().Float64("ratio", 0, "")
		cmd.Flags().Bool("all", false, "")
		root := &cobra.Command{Use: "jasni"}
		root.AddCommand(cmd)
		root.SetFlagErrorFunc(ExplainFlagError)
		root.SetArgs(append([]string{"trigger"}, tc.args...))
		root.SetOut(io.Discard)
		root.SetErr(io.Discard)
		err := root.Execute()
		if err == nil || err.Error() != tc.want {
			t.Errorf("%v: %v\nwant %s", tc.args, err, tc.want)
		}
		if _, ok := err.(*FlagError); !ok {
			t.Errorf("%v: %T, want a usage error (exit 2)", tc.args, err)
		}
	}
}
