package events

import (
	"strings"
	"testing"
	"time"

	"github.com/jasni/jasni-cli/internal/cmdutil"
	"github.com/jasni/jasni-cli/internal/config"
	"github.com/jasni/jasni-cli/internal/iostreams"
	"github.com/spf13/cobra"
)

func testFactory(t *testing.T, env map[string]string) *cmdutil.Factory {
	ios, _, _, _ := iostreams.Test()
	getenv := func(k string) string { return env[k] }
	return &cmdutil.Factory{
		IOStreams: ios,
		Getenv:    getenv,
		Now:       func() time.Time { return time.Unix(1700000000, 0) },
		Config: func() (*config.Config, error) {
			return config.Load(t.TempDir()+"/config.toml", "default", getenv)
		},
	}
}

func run(t *testing.T, cmd *cobra.Command, args string) error {
	t.Helper()
	cmd.SetArgs(strings.Fields(args))
	cmd.SetOut(&strings.Builder{})
	cmd.SetErr(&strings.Builder{})
	_, err := cmd.ExecuteC()
	return err
}

// Flags become Options; the history is resolved but never opened.
func TestFlagsToOptions(t *testing.T) {
	env := map[string]string{"JASNI_HISTORY": "/tmp/h.db", "WEBHOOK_SECRET": "whsec_env"}
	t.Run("list", func(t *testing.T) {
		tests := []struct {
			args    string
			want    ListOptions
			wantErr string
		}{
			{"", ListOptions{Limit: 20}, ""},
			{"--event email.bounced --limit 0 --rejected", ListOptions{Event: "email.bounced", Rejected: true}, ""},
			{"--event SessionEnded", ListOptions{Event: "SessionEnded", Limit: 20}, ""},
			{"--limit -1", ListOptions{}, "--limit must be 0"},
			{"--event bounced", ListOptions{}, "did you mean email.bounced?"},
		}
		for _, tt := range tests {
			var got *ListOptions
			err := run(t, NewCmdList(testFactory(t, env), func(o *ListOptions) error { got = o; return nil }), tt.args)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("%q: err %v, want %q", tt.args, err, tt.wantErr)
				}
				continue
			}
			if err != nil || got.Event != tt.want.Event || got.Limit != tt.want.Limit || got.Rejected != tt.want.Rejected || got.History.Path != "/tmp/h.db" {
				t.Errorf("%q: %+v, %v; want %+v", tt.args, got, err, tt.want)
			}
		}
	})
	t.Run("show and resend", func(t *testing.T) {
		tests := []struct {
			args, wantErr string
			want          Selector
			wantForward   string
			wantSecrets   int
		}{
			{args: "dlv_1", want: Selector{ID: "dlv_1"}},
			{args: "--last", want: Selector{Last: true}},
			{args: "--last --forward 4000 --secret a --secret b", want: Selector{Last: true}, wantForward: "http://localhost:4000", wantSecrets: 2},
			{args: "", wantErr: "Give its ID"},
			{args: "dlv_1 --last", wantErr: "not both"},
			{args: "dlv_1 --as-is --secret a", wantErr: "choose one"},
			{args: "dlv_1 --forward ftp://x", wantErr: "--forward"},
			{args: "dlv_1 --timeout 0s", wantErr: "--timeout"},
		}
		for _, tt := range tests {
			var got *ResendOptions
			err := run(t, NewCmdResend(testFactory(t, env), func(o *ResendOptions) error { got = o; return nil }), tt.args)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("resend %q: err %v, want %q", tt.args, err, tt.wantErr)
				}
				continue
			}
			if err != nil || got.Delivery != tt.want || len(got.Secrets) != tt.wantSecrets || len(got.Configured) != 1 || got.Provider.Name != "jasni" {
				t.Errorf("resend %q: %+v, %v", tt.args, got, err)
				continue
			}
			if fw := got.Forward; tt.wantForward != "" && (fw == nil || fw.String() != tt.wantForward) {
				t.Errorf("resend %q: forward %v", tt.args, fw)
			}
			if !strings.Contains(tt.args, "as-is") && !strings.Contains(tt.args, "forward") {
				var show *ShowOptions
				if err := run(t, NewCmdShow(testFactory(t, env), func(o *ShowOptions) error { show = o; return nil }), tt.args); err != nil || show.Delivery != tt.want {
					t.Errorf("show %q: %+v, %v", tt.args, show, err)
				}
			}
		}
	})
	t.Run("prune", func(t *testing.T) {
		for args, want := range map[string]string{"--all": "", "--older-than 24h": "", "": "give --older-than", "--all --older-than 1h": "give --older-than"} {
			var got *PruneOptions
			err := run(t, NewCmdPrune(testFactory(t, env), func(o *PruneOptions) error { got = o; return nil }), args)
			if want == "" && (err != nil || got == nil) || want != "" && (err == nil || !strings.Contains(err.Error(), want)) {
				t.Errorf("prune %q: %v", args, err)
			}
		}
	})
}
