package trigger

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jasni/jasni-cli/internal/cmdutil"
	"github.com/jasni/jasni-cli/internal/load"
)

func TestLoadFlags(t *testing.T) {
	const base = "email.sent --url http://127.0.0.1:1/x --secret s "
	tests := []struct {
		args    string
		want    *LoadOptions
		wantErr string
	}{
		{args: "", want: nil},
		{args: "--count 100 -c 8 --rate 50/s --max-p99 250ms --max-error-rate 1%", want: &LoadOptions{Count: 100, Concurrency: 8, Rate: 50, MaxP99: 250 * time.Millisecond, MaxErrorRate: 0.01, errorGate: true}},
		{args: "--duration 2s --same --print-each --rate 10", want: &LoadOptions{Duration: 2 * time.Second, Concurrency: 1, Same: true, PrintEach: true, Rate: 10}},
		{args: "--max-error-rate 0 --count 5", want: &LoadOptions{Count: 5, Concurrency: 1, errorGate: true}},
		{args: "-c 4", wantErr: "needs --count N or --duration D"},
		{args: "--count 0", wantErr: "--count must be at least 1"},
		{args: "--count 5 --rate fast", wantErr: "--rate \"fast\""},
		{args: "--count 5 --max-error-rate 150%", wantErr: "--max-error-rate"},
		{args: "--count 5 --repeat 2", wantErr: "use --count with --same"},
		{args: "--count 5 --retry", wantErr: "--retry does not apply"},
		{args: "--count 5 --print-body", wantErr: "use --print-each"},
	}
	for _, tt := range tests {
		t.Run(tt.args, func(t *testing.T) {
			f := testFactory(t, nil)
			var got *Options
			cmd := NewCmdTrigger(f, func(_ context.Context, o *Options) error { got = o; return nil })
			cmd.SetArgs(strings.Fields(base + tt.args))
			cmd.SetOut(f.IOStreams.Out)
			cmd.SetErr(f.IOStreams.ErrOut)
			err := cmd.Execute()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || cmdutil.CodeOf(err) != cmdutil.ExitUsage {
					t.Fatalf("err = %v, want a usage error with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (got.Load == nil) != (tt.want == nil) || got.Load != nil && *got.Load != *tt.want {
				t.Errorf("load = %+v, want %+v", got.Load, tt.want)
			}
		})
	}
}

// The gates decide the exit status.
func TestGates(t *testing.T) {
	tests := []struct {
		name string
		s    load.Summary
		lo   LoadOptions
		want string
	}{
		{"clean", load.Summary{Requests: 100, OK: 100, Latency: load.Percentiles{P99: 10}}, LoadOptions{MaxP99: 20 * time.Millisecond}, ""},
		{"any failure fails by default", load.Summary{Requests: 100, OK: 99, Failed: 1, ErrorRate: 0.01}, LoadOptions{}, "1 of 100 deliveries failed"},
		{"within --max-error-rate", load.Summary{Requests: 100, OK: 99, Failed: 1, ErrorRate: 0.01}, LoadOptions{MaxErrorRate: 0.01, errorGate: true}, ""},
		{"above --max-error-rate", load.Summary{Requests: 100, OK: 98, Failed: 2, ErrorRate: 0.02}, LoadOptions{MaxErrorRate: 0.01, errorGate: true}, "above --max-error-rate"},
		{"p99 above --max-p99", load.Summary{Requests: 100, OK: 100, Latency: load.Percentiles{P99: 30}}, LoadOptions{MaxP99: 20 * time.Millisecond}, "above --max-p99 20ms"},
		{"nothing sent", load.Summary{}, LoadOptions{}, "no delivery was sent"},
	}
	for _, tt := range tests {
		got := strings.Join(gates(&tt.s, &tt.lo), "; ")
		if tt.want == "" && got != "" || tt.want != "" && !strings.Contains(got, tt.want) {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}
