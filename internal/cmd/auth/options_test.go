package auth

import (
	"strings"
	"testing"

	"github.com/jasni/jasni-cli/internal/cmdutil"
	"github.com/jasni/jasni-cli/internal/iostreams"
)

func TestLoginFlagsToOptions(t *testing.T) {
	tests := []struct {
		args          string
		tty           bool
		wantKey, want string
		wantErr       string
	}{
		{args: "--api-key jsk_1 --api-url http://127.0.0.1:9", wantKey: "jsk_1", want: "http://127.0.0.1:9"},
		{args: "", wantKey: ""}, // piped: read from stdin when it runs
		{args: "", tty: true, wantKey: ""},
	}
	for _, tt := range tests {
		ios, _, _, _ := iostreams.Test()
		ios.SetTTY(tt.tty)
		f := &cmdutil.Factory{IOStreams: ios, Getenv: func(string) string { return "" }}
		var got *LoginOptions
		cmd := NewCmdLogin(f, func(o *LoginOptions) error { got = o; return nil })
		cmd.SetArgs(strings.Fields(tt.args))
		cmd.SetErr(&strings.Builder{})
		if _, err := cmd.ExecuteC(); err != nil || got.Key != tt.wantKey || got.APIURL != tt.want || got.Client == nil {
			t.Errorf("%q: %+v %v", tt.args, got, err)
		}
	}
}
