package trigger

import (
	"context"
	"net/http"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jasni/jasni-cli/internal/cmdutil"
	"github.com/jasni/jasni-cli/internal/config"
	"github.com/jasni/jasni-cli/internal/delivery"
	"github.com/jasni/jasni-cli/internal/iostreams"
)

func testFactory(t *testing.T, env map[string]string) *cmdutil.Factory {
	ios, _, _, _ := iostreams.Test()
	path := filepath.Join(t.TempDir(), "config.toml")
	return &cmdutil.Factory{
		IOStreams:  ios,
		HttpClient: func() (*http.Client, error) { return http.DefaultClient, nil },
		Config: func() (*config.Config, error) {
			return config.Load(path, "", func(k string) string { return env[k] })
		},
		Now: time.Now,
	}
}

// TestNewCmdTrigger checks how flags and the environment become Options.
func TestNewCmdTrigger(t *testing.T) {
	const url = "http://127.0.0.1:3000/webhooks/jasni"
	tests := []struct {
		name    string
		args    string
		env     map[string]string
		check   func(t *testing.T, o *Options)
		wantErr string
	}{
		{
			name: "one event",
			args: "email.received --url " + url + " --secret whsec_a",
			check: func(t *testing.T, o *Options) {
				want := []string{"email.received"}
				if !reflect.DeepEqual(o.Events, want) || o.URL != url || o.Secret != "whsec_a" || o.SecretSource != "--secret" {
					t.Errorf("events %v url %q secret source %q", o.Events, o.URL, o.SecretSource)
				}
				if !reflect.DeepEqual(o.Schedule, []time.Duration{0}) || o.Repeat != 1 || o.Timeout != 30*time.Second {
					t.Errorf("schedule %v repeat %d timeout %v, want one attempt, 1, 30s", o.Schedule, o.Repeat, o.Timeout)
				}
			},
		},
		{
			name: "all events",
			args: "--all --url " + url + " --secret s",
			check: func(t *testing.T, o *Options) {
				if len(o.Events) != 8 || o.Events[0] != "email.received" || o.Events[7] != "domain.verified" {
					t.Errorf("events = %v, want the eight documented ones", o.Events)
				}
			},
		},
		{
			name: "environment supplies URL and the docs' secret variable",
			args: "email.sent",
			env:  map[string]string{"JASNI_TRIGGER_URL": url, "WEBHOOK_SECRET": "whsec_env"},
			check: func(t *testing.T, o *Options) {
				if o.URL != url || o.Secret != "whsec_env" || o.SecretSource != "WEBHOOK_SECRET" {
					t.Errorf("url %q secret from %q", o.URL, o.SecretSource)
				}
			},
		},
		{
			name: "flag beats environment",
			args: "email.sent --url http://other/x --secret whsec_flag",
			env:  map[string]string{"JASNI_TRIGGER_URL": url, "JASNI_WEBHOOK_SECRET": "whsec_env"},
			check: func(t *testing.T, o *Options) {
				if o.URL != "http://other/x" || o.Secret != "whsec_flag" {
					t.Errorf("url %q secret from %q", o.URL, o.SecretSource)
				}
			},
		},
		{
			name: "retry on Jasni's schedule",
			args: "email.sent --url " + url + " --secret s --retry",
			check: func(t *testing.T, o *Options) {
				if !reflect.DeepEqual(o.Schedule, delivery.JasniSchedule) {
					t.Errorf("schedule = %v", o.Schedule)
				}
			},
		},
		{
			name: "retry delays",
			args: "email.sent --url " + url + " --secret s --retry-delays 0,100ms,1s",
			check: func(t *testing.T, o *Options) {
				want := []time.Duration{0, 100 * time.Millisecond, time.Second}
				if !reflect.DeepEqual(o.Schedule, want) {
					t.Errorf("schedule = %v, want %v", o.Schedule, want)
				}
			},
		},
		{
			name: "headers added and removed",
			args: "email.sent --url " + url + " --secret s --header X-Extra:1 --header X-Webhook-Signature:",
			check: func(t *testing.T, o *Options) {
				if o.Headers.Get("X-Extra") != "1" || !reflect.DeepEqual(o.Removed, []string{"X-Webhook-Signature"}) {
					t.Errorf("headers %v removed %v", o.Headers, o.Removed)
				}
			},
		},
		{
			name: "unsigned",
			args: "email.sent --url " + url + " --unsigned",
			check: func(t *testing.T, o *Options) {
				if !o.Unsigned || o.Secret != "" {
					t.Errorf("unsigned %v secret set %v", o.Unsigned, o.Secret != "")
				}
			},
		},
		{name: "unknown event suggests", args: "email.recieved --url " + url + " --secret s", wantErr: `unknown event "email.recieved": did you mean email.received?`},
		{name: "unknown event lists", args: "nope --url " + url + " --secret s", wantErr: "Known events: email.received, email.sent"},
		{name: "no events", args: "--url " + url + " --secret s", wantErr: "name the events to send, or use --all"},
		{name: "events and all", args: "email.sent --all --url " + url + " --secret s", wantErr: "not both"},
		{name: "no URL", args: "email.sent --secret s", wantErr: "no URL to send to"},
		{name: "URL without scheme", args: "email.sent --url localhost:3000/webhooks --secret s", wantErr: "did you mean http://localhost:3000/webhooks?"},
		{name: "URL with another scheme", args: "email.sent --url ftp://host/x --secret s", wantErr: "the scheme must be http or https"},
		{name: "URL without host", args: "email.sent --url http:///x --secret s", wantErr: "has no host"},
		{name: "malformed URL", args: "email.sent --url http://[::1 --secret s", wantErr: "is not a valid URL"},
		{name: "no secret", args: "email.sent --url " + url, wantErr: "no webhook secret"},
		{name: "unsigned with secret", args: "email.sent --url " + url + " --secret s --unsigned", wantErr: "contradict"},
		{name: "repeat zero", args: "email.sent --url " + url + " --secret s --repeat 0", wantErr: "--repeat must be at least 1"},
		{name: "bad header", args: "email.sent --url " + url + " --secret s --header nocolon", wantErr: "want Name:value"},
		{name: "bad retry delay", args: "email.sent --url " + url + " --secret s --retry-delays 0,soon", wantErr: `"soon" is not a duration`},
		{name: "all with data file", args: "--all --url " + url + " --secret s --data-file x.json", wantErr: "cannot be combined with --all"},
		{name: "bad timeout", args: "email.sent --url " + url + " --secret s --timeout 0s", wantErr: "--timeout must be positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := testFactory(t, tt.env)
			var got *Options
			cmd := NewCmdTrigger(f, func(_ context.Context, o *Options) error {
				got = o
				return nil
			})
			cmd.SetArgs(strings.Fields(tt.args))
			cmd.SetOut(f.IOStreams.Out)
			cmd.SetErr(f.IOStreams.ErrOut)
			err := cmd.Execute()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				if cmdutil.CodeOf(err) != cmdutil.ExitUsage {
					t.Errorf("exit code %d, want %d (usage)", cmdutil.CodeOf(err), cmdutil.ExitUsage)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, got)
		})
	}
}
