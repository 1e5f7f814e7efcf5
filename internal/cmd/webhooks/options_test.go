package webhooks

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jasni/jasni-cli/internal/cmdutil"
	"github.com/jasni/jasni-cli/internal/config"
	"github.com/jasni/jasni-cli/internal/iostreams"
	"github.com/spf13/cobra"
)

func runArgs(cmd *cobra.Command, args string) error {
	cmd.SetArgs(strings.Fields(args))
	cmd.SetOut(&strings.Builder{})
	cmd.SetErr(&strings.Builder{})
	_, err := cmd.ExecuteC()
	return err
}

func factory() *cmdutil.Factory {
	ios, _, _, _ := iostreams.Test()
	return &cmdutil.Factory{IOStreams: ios, Getenv: func(string) string { return "" }, Config: func() (*config.Config, error) {
		return config.Load(filepath.Join(os.TempDir(), "jasni-options-test-none.toml"), "", func(string) string { return "" })
	}}
}

// Flags become Options, checked before anything reaches the API.
func TestFlagsToOptions(t *testing.T) {
	t.Run("create", func(t *testing.T) {
		tests := []struct {
			args, wantErr, wantEvents, wantSave string
		}{
			{args: "--url https://a.example/h", wantEvents: "all"},
			{args: "--url https://a.example/h --events email.sent,email.bounced --save-secret staging", wantEvents: "email.sent,email.bounced", wantSave: "staging"},
			{args: "--url http://localhost:3000/h", wantEvents: "all"},
			{args: "", wantErr: "--url is required"},
			{args: "--url http://a.example/h", wantErr: "plain http"},
			{args: "--url http://a.example/h --allow-http", wantEvents: "all"},
			{args: "--url https://a.example/h --events bounced", wantErr: "did you mean email.bounced?"},
			{args: "--url https://a.example/h --save-secret=", wantErr: "--save-secret needs a profile name"},
		}
		for _, tt := range tests {
			var got *CreateOptions
			err := runArgs(NewCmdCreate(factory(), func(o *CreateOptions) error { got = o; return nil }), tt.args)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("%q: err %v, want %q", tt.args, err, tt.wantErr)
				}
				continue
			}
			events := strings.Join(got.Events, ",")
			if len(got.Events) == 8 {
				events = "all"
			}
			if err != nil || events != tt.wantEvents || got.SaveSecret != tt.wantSave {
				t.Errorf("%q: %+v, %v", tt.args, got, err)
			}
		}
	})
	t.Run("update", func(t *testing.T) {
		tests := []struct{ args, wantErr, want string }{
			{args: "wh_1 --active=false", want: "active=false"},
			{args: "wh_1 --url https://b.example/h --description x", want: "url=https://b.example/h description=x"},
			{args: "wh_1 --events email.sent", want: "events=email.sent"},
			{args: "wh_1", wantErr: "nothing to change"},
			{args: "wh_1 --url ftp://x", wantErr: "--url"},
		}
		for _, tt := range tests {
			var got *UpdateOptions
			err := runArgs(NewCmdUpdate(factory(), func(o *UpdateOptions) error { got = o; return nil }), tt.args)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("%q: err %v, want %q", tt.args, err, tt.wantErr)
				}
				continue
			}
			var parts []string
			c := got.Change
			if c.URL != nil {
				parts = append(parts, "url="+*c.URL)
			}
			if c.Description != nil {
				parts = append(parts, "description="+*c.Description)
			}
			if c.Events != nil {
				parts = append(parts, "events="+strings.Join(c.Events, ","))
			}
			if c.Active != nil && !*c.Active {
				parts = append(parts, "active=false")
			}
			if err != nil || got.ID != "wh_1" || strings.Join(parts, " ") != tt.want {
				t.Errorf("%q: %v %v", tt.args, parts, err)
			}
		}
	})
	t.Run("delete", func(t *testing.T) {
		var got *DeleteOptions
		if err := runArgs(NewCmdDelete(factory(), func(o *DeleteOptions) error { got = o; return nil }), "wh_1 --yes"); err != nil || !got.Confirmed || got.ID != "wh_1" {
			t.Errorf("--yes: %+v %v", got, err)
		}
		if err := runArgs(NewCmdDelete(factory(), func(o *DeleteOptions) error { return nil }), "wh_1"); err == nil || !strings.Contains(err.Error(), "--yes is required") {
			t.Errorf("without a terminal: %v", err)
		}
	})
}
