package verify_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jasni/jasni-cli/internal/clitest"
	"github.com/jasni/jasni-cli/internal/golden"
)

const (
	body   = `{"event":"email.sent","data":{"id":"1"}}`
	secret = "whsec_test"
)

func sigOf(t *testing.T, b string) string {
	t.Helper()
	res := clitest.Run(t, clitest.Options{Stdin: b}, "sign", "--secret", secret)
	if res.Code != 0 {
		t.Fatal(res.Stderr)
	}
	return res.Stdout[:64]
}

func TestVerify(t *testing.T) {
	valid := sigOf(t, body)
	pretty := sigOf(t, "{\n  \"event\": \"email.sent\",\n  \"data\": {\n    \"id\": \"1\"\n  }\n}")
	tests := []struct {
		name  string
		stdin string
		sig   string
		code  int
	}{
		{"valid", body, valid, 0},
		{"trailing newline", body + "\n", valid, 3},
		{"reserialised", body, pretty, 3},
		{"wrong secret", body, sigOf(t, body+" "), 3},
		{"not hex", body, "nothex", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := clitest.Run(t, clitest.Options{Stdin: tt.stdin}, "verify", "--secret", secret, "--signature", tt.sig)
			if int(res.Code) != tt.code {
				t.Errorf("exit %d, want %d", res.Code, tt.code)
			}
			golden.Assert(t, res.Stdout+"--- stderr\n"+res.Stderr)
		})
	}
}

func TestVerifyJSON(t *testing.T) {
	res := clitest.Run(t, clitest.Options{Stdin: body + "\n"}, "verify", "--secret", secret, "--signature", sigOf(t, body), "--output", "json")
	var d struct {
		Valid bool   `json:"valid"`
		Cause string `json:"cause"`
		Fix   string `json:"fix"`
	}
	if err := json.Unmarshal([]byte(res.Stdout), &d); err != nil || d.Valid || d.Cause == "" || d.Fix == "" || res.Code != 3 {
		t.Errorf("exit %d, %+v (%v)", res.Code, d, err)
	}
}

func TestVerifyNeedsSignature(t *testing.T) {
	res := clitest.Run(t, clitest.Options{Stdin: body}, "verify", "--secret", secret)
	if res.Code != 2 {
		t.Errorf("exit %d, want 2: %s", res.Code, res.Stderr)
	}
}

// verify --provider checks in that scheme's terms: Voisnap signs the
// timestamp, so an old one is called stale even when the MAC is right.
func TestVerifyPerProvider(t *testing.T) {
	const vs = "vs_secret"
	body := `{"type":"Error","data":{}}`
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	old := strconv.FormatInt(time.Now().Add(-time.Hour).Unix(), 10)
	sig := func(ts string) string {
		m := hmac.New(sha256.New, []byte(vs))
		m.Write([]byte(ts + "." + body))
		return "sha256=" + hex.EncodeToString(m.Sum(nil))
	}
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--signature", sig(ts), "--timestamp", ts}, 0, "signature valid"},
		{[]string{"--signature", sig(old), "--timestamp", old}, 3, "the signature matches, but the timestamp"},
		{[]string{"--signature", sig(ts)}, 3, "no timestamp"},
		{[]string{"--signature", strings.TrimPrefix(sig(ts), "sha256="), "--timestamp", ts}, 3, `does not start with "sha256="`},
	}
	for _, tt := range tests {
		res := clitest.Run(t, clitest.Options{Stdin: body}, append([]string{"verify", "--provider", "voisnap", "--secret", vs}, tt.args...)...)
		if int(res.Code) != tt.code || !strings.Contains(res.Stdout, tt.want) {
			t.Errorf("%v: exit %d\n%s", tt.args, res.Code, res.Stdout)
		}
	}
}
