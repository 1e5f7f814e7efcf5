package app_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jasni/jasni-cli/internal/clitest"
)

func TestExitCodesAndErrors(t *testing.T) {
	badConfig := filepath.Join(t.TempDir(), "config.toml")
	os.WriteFile(badConfig, []byte("[default\nwebhook_secret = 1\n"), 0o600)
	typoConfig := filepath.Join(t.TempDir(), "config.toml")
	os.WriteFile(typoConfig, []byte("[default]\nwebook_secret = \"whsec_x\"\n"), 0o600)
	typoConfig2 := filepath.Join(t.TempDir(), "config.toml")
	os.WriteFile(typoConfig2, []byte("[default]\nwebook_secret = \"whsec_x\"\n"), 0o600)
	tests := []struct {
		name       string
		opts       clitest.Options
		args       []string
		code       int
		wantStderr string
	}{
		{name: "no arguments prints a getting-started text", args: nil, code: 0},
		{name: "unknown command", args: []string{"trigerr"}, code: 2, wantStderr: `unknown command "trigerr"`},
		{name: "unknown flag", args: []string{"version", "--nope"}, code: 2, wantStderr: "unknown flag --nope"},
		{name: "bad output format", args: []string{"version", "-o", "yaml"}, code: 2, wantStderr: "--output must be text or json"},
		{name: "too many arguments", args: []string{"fixtures", "show", "a", "b"}, code: 2, wantStderr: "jasni fixtures show takes 1 argument(s), not 2 (usage: jasni fixtures show EVENT)"},
		{name: "a missing argument", args: []string{"fixtures", "show"}, code: 2, wantStderr: "jasni fixtures show needs EVENT (usage: jasni fixtures show EVENT)"},
		{name: "help on a mistyped command", args: []string{"help", "triger"}, code: 2, wantStderr: `unknown command "triger" for "jasni": did you mean "trigger"?`},
		{name: "help on a mistyped subcommand", args: []string{"help", "events", "resnd"}, code: 2, wantStderr: `unknown command "resnd" for "jasni events": did you mean "resend"?`},
		{name: "help on a command", args: []string{"help", "events", "resend"}, code: 0},
		{name: "malformed config names file and line", opts: clitest.Options{Env: map[string]string{"JASNI_CONFIG": badConfig}},
			args: []string{"sign", "--secret", "s"}, code: 1, wantStderr: badConfig + " is not valid TOML: line 1"},
		// No silent fallback (issue 24).
		{name: "an empty --secret", args: []string{"trigger", "--all", "--url", "http://127.0.0.1:1", "--secret", ""}, code: 2,
			wantStderr: "--secret is empty: give a value, or leave the flag out to use JASNI_WEBHOOK_SECRET, WEBHOOK_SECRET, the profile's webhook_secret"},
		{name: "a --config that does not exist", args: []string{"sign", "--secret", "s", "--config", "/nonexistent/jasni.toml"}, code: 2,
			wantStderr: "--config /nonexistent/jasni.toml: there is no such file"},
		{name: "a mistyped config key", opts: clitest.Options{Env: map[string]string{"JASNI_CONFIG": typoConfig}},
			args: []string{"sign", "--secret", "s"}, code: 1, wantStderr: `unknown setting "webook_secret": did you mean webhook_secret?`},
		{name: "the mistyped key can be removed as the error says", opts: clitest.Options{Env: map[string]string{"JASNI_CONFIG": typoConfig2}},
			args: []string{"config", "unset", "webook_secret"}, code: 0, wantStderr: `Removed webook_secret`},
		{name: "a mistyped command before a flag", args: []string{"triger", "--all"}, code: 2, wantStderr: `unknown command "triger" for "jasni": did you mean "trigger"?`},
		{name: "a bad rate alone", args: []string{"trigger", "email.sent", "--rate", "-1", "--url", "http://127.0.0.1:1", "--secret", "s"}, code: 2, wantStderr: `--rate "-1": give deliveries a second`},
		{name: "a header name with a space", args: []string{"trigger", "email.sent", "--header", "Bad Name: x", "--url", "http://127.0.0.1:1", "--secret", "s"}, code: 2,
			wantStderr: `the name "Bad Name" has a space`},
		{name: "a mistyped forward scheme", args: []string{"listen", "--tunnel", "local", "--forward", "htp:/x y"}, code: 2, wantStderr: `--forward "htp:/x y": it has a space`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := clitest.Run(t, tt.opts, tt.args...)
			if int(res.Code) != tt.code {
				t.Errorf("exit %d, want %d; stderr %q", res.Code, tt.code, res.Stderr)
			}
			if !strings.Contains(res.Stderr, tt.wantStderr) {
				t.Errorf("stderr %q, want %q", res.Stderr, tt.wantStderr)
			}
			if tt.code != 0 && strings.Count(res.Stderr, "Error:") != 1 {
				t.Errorf("want the error printed once:\n%s", res.Stderr)
			}
		})
	}
}

func TestNoArgsGettingStarted(t *testing.T) {
	res := clitest.Run(t, clitest.Options{})
	if !strings.Contains(res.Stdout, "Get started:") || !strings.Contains(res.Stdout, "jasni trigger --all") {
		t.Errorf("stdout:\n%s", res.Stdout)
	}
}
