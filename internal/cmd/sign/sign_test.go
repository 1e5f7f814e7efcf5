package sign_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jasni/jasni-cli/internal/clitest"
)

// printf '%s' '{"event":"email.sent"}' | openssl dgst -sha256 -hmac whsec_test
const vector = "8535ca888c6215c5f1125efe1f490eabf68037fcc793bd214d3e9d0b7988b406"

func TestSign(t *testing.T) {
	file := filepath.Join(t.TempDir(), "body.json")
	os.WriteFile(file, []byte(`{"event":"email.sent"}`), 0o644)
	tests := []struct {
		name     string
		opts     clitest.Options
		args     []string
		wantOut  string
		wantCode int
		wantErr  string
	}{
		{name: "stdin", opts: clitest.Options{Stdin: `{"event":"email.sent"}`}, args: []string{"--secret", "whsec_test"}, wantOut: vector + "\n"},
		{name: "file", args: []string{file, "--secret", "whsec_test"}, wantOut: vector + "\n"},
		{name: "secret from env", opts: clitest.Options{Env: map[string]string{"WEBHOOK_SECRET": "whsec_test"}}, args: []string{file}, wantOut: vector + "\n"},
		{name: "newline changes it", opts: clitest.Options{Stdin: "{\"event\":\"email.sent\"}\n"}, args: []string{"--secret", "whsec_test"}, wantOut: "c"},
		{name: "no secret", args: []string{file}, wantCode: 2, wantErr: "no webhook secret"},
		{name: "terminal stdin", opts: clitest.Options{TTY: true}, args: []string{"--secret", "s"}, wantCode: 2, wantErr: "pipe the body on stdin"},
		{name: "missing file", args: []string{"nope.json", "--secret", "s"}, wantCode: 2, wantErr: "read nope.json: no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := clitest.Run(t, tt.opts, append([]string{"sign"}, tt.args...)...)
			if int(res.Code) != tt.wantCode {
				t.Fatalf("exit %d, want %d: %s", res.Code, tt.wantCode, res.Stderr)
			}
			if tt.name == "newline changes it" {
				if res.Stdout == vector+"\n" || len(strings.TrimSpace(res.Stdout)) != 64 {
					t.Errorf("a trailing newline must change the signature: %q", res.Stdout)
				}
				return
			}
			if res.Stdout != tt.wantOut {
				t.Errorf("stdout = %q, want %q", res.Stdout, tt.wantOut)
			}
			if !strings.Contains(res.Stderr, tt.wantErr) {
				t.Errorf("stderr = %q, want %q", res.Stderr, tt.wantErr)
			}
		})
	}
}

func TestSignJSON(t *testing.T) {
	res := clitest.Run(t, clitest.Options{Stdin: `{"event":"email.sent"}`}, "sign", "--secret", "whsec_test", "--output", "json")
	var got struct {
		Signature string            `json:"signature"`
		BodyBytes int               `json:"body_bytes"`
		Headers   map[string]string `json:"headers"`
	}
	if err := json.Unmarshal([]byte(res.Stdout), &got); err != nil {
		t.Fatalf("%v: %s", err, res.Stdout)
	}
	if got.Signature != vector || got.BodyBytes != 22 || got.Headers["X-Webhook-Signature"] != vector || got.Headers["X-Webhook-Timestamp"] == "" {
		t.Errorf("got %+v", got)
	}
}

// jasni sign reproduces the Standard Webhooks spec's published test vector.
func TestSignStandardWebhooksVector(t *testing.T) {
	dir := t.TempDir()
	body := filepath.Join(dir, "body.json")
	if err := os.WriteFile(body, []byte(`{"test": 2432232314}`), 0o600); err != nil {
		t.Fatal(err)
	}
	res := clitest.Run(t, clitest.Options{}, "sign", "--provider", "standard", "--secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
		"--id", "msg_p5jXN8AQM9LWM0D4loKWxJek", "--timestamp", "1614265330", body)
	if res.Code != 0 || res.Stdout != "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=\n" {
		t.Errorf("exit %d stdout %q stderr %q", res.Code, res.Stdout, res.Stderr)
	}
	res = clitest.Run(t, clitest.Options{}, "sign", "--provider", "standard", "--secret", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", body)
	if res.Code != 2 || !strings.Contains(res.Stderr, `starts with "whsec_"`) {
		t.Errorf("a secret without whsec_: exit %d %q", res.Code, res.Stderr)
	}
}
