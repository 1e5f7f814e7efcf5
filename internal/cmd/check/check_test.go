package check_test

import (
	"encoding/json"
	"encoding/xml"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jasni/jasni-cli/internal/clitest"
	"github.com/jasni/jasni-cli/internal/exampleapp"
)

const secret = "whsec_check_cmd"

func TestCheckCommand(t *testing.T) {
	app := httptest.NewServer(exampleapp.New(secret).Handler())
	defer app.Close()
	// The docs' verifySignature, literally: timingSafeEqual throws on a
	// missing header or a length mismatch, and Express answers 500.
	throws := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.Header.Get("X-Webhook-Signature")) != 64 {
			http.Error(w, "RangeError: Input buffers must have the same byte length", http.StatusInternalServerError)
			return
		}
		http.Error(w, "Invalid signature", http.StatusUnauthorized)
	}))
	defer throws.Close()
	acceptsAll := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer acceptsAll.Close()
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := "http://" + ln.Addr().String() + "/webhooks/jasni"
	ln.Close()
	junit := filepath.Join(t.TempDir(), "check.xml")

	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  []string
		wantErr  string
	}{
		{name: "docs app passes, replay warns", args: []string{"--url", app.URL + "/webhooks/jasni", "--secret", secret},
			wantOut: []string{"✓ event/email.received", "✓ tampered-body  rejected with 401", "! replay"}, wantErr: "20 passed, 1 warning, 0 failed"},
		{name: "strict does not count the note on Jasni's timestamps", args: []string{"--url", app.URL + "/webhooks/jasni", "--secret", secret, "--strict", "--only", "replay"},
			wantErr: "0 passed, 1 warning, 0 failed"},
		{name: "strict fails on a warning about the endpoint", args: []string{"--url", throws.URL, "--secret", secret, "--strict", "--only", "missing-signature"},
			wantCode: 3, wantOut: []string{"the verification code threw"}, wantErr: "(--strict fails on warnings)"},
		{name: "accepts forgeries", args: []string{"--url", acceptsAll.URL, "--secret", secret, "--only", "tampered-body,event/email.sent"},
			wantCode: 3, wantOut: []string{"✗ tampered-body  answered 200: the endpoint accepts forgeries", "sent a field added after signing"}},
		{name: "wrong path", args: []string{"--url", app.URL + "/wrong", "--secret", secret, "--only", "tampered-body"},
			wantCode: 3, wantOut: []string{"no webhook endpoint at this URL"}},
		{name: "unreachable", args: []string{"--url", closed, "--secret", secret, "--only", "event"}, wantCode: 4, wantErr: "could not be reached"},
		{name: "no secret", args: []string{"--url", app.URL}, wantCode: 2, wantErr: "no webhook secret"},
		{name: "no url", args: []string{"--secret", secret}, wantCode: 2, wantErr: "--url is required"},
		{name: "unknown check", args: []string{"--url", app.URL, "--secret", secret, "--only", "duplicates"}, wantCode: 2, wantErr: "did you mean duplicate?"},
		{name: "junit", args: []string{"--url", app.URL + "/webhooks/jasni", "--secret", secret, "--only", "https,replay,wrong-secret", "--junit", junit}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := clitest.Run(t, clitest.Options{}, append([]string{"check"}, tt.args...)...)
			if int(res.Code) != tt.wantCode {
				t.Fatalf("exit %d, want %d\n%s%s", res.Code, tt.wantCode, res.Stdout, res.Stderr)
			}
			for _, w := range tt.wantOut {
				if !strings.Contains(res.Stdout, w) {
					t.Errorf("stdout lacks %q:\n%s", w, res.Stdout)
				}
			}
			if !strings.Contains(res.Stderr, tt.wantErr) {
				t.Errorf("stderr lacks %q:\n%s", tt.wantErr, res.Stderr)
			}
		})
	}

	var suites struct {
		Suite struct {
			Tests    int `xml:"tests,attr"`
			Failures int `xml:"failures,attr"`
			Cases    []struct {
				Name    string    `xml:"name,attr"`
				Failure *struct{} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	b, err := os.ReadFile(junit)
	if err != nil || xml.Unmarshal(b, &suites) != nil || suites.Suite.Tests != 3 || suites.Suite.Failures != 0 || len(suites.Suite.Cases) != 3 {
		t.Errorf("junit: %v\n%s", err, b)
	}
}

func TestCheckJSON(t *testing.T) {
	app := httptest.NewServer(exampleapp.New(secret).Handler())
	defer app.Close()
	res := clitest.Run(t, clitest.Options{}, "check", "--url", app.URL+"/webhooks/jasni", "--secret", secret, "--skip", "large-payload", "-o", "json")
	var out struct {
		OK       bool `json:"ok"`
		Passed   int  `json:"passed"`
		Warnings int  `json:"warnings"`
		Results  []struct {
			Name     string            `json:"name"`
			Status   string            `json:"status"`
			Evidence []json.RawMessage `json:"evidence"`
		} `json:"results"`
	}
	if res.Code != 0 || json.Unmarshal([]byte(res.Stdout), &out) != nil || !out.OK || out.Passed != 19 || out.Warnings != 1 || len(out.Results) != 20 || res.Stderr != "" {
		t.Errorf("exit %d %+v\n%s\n%s", res.Code, out, res.Stdout, res.Stderr)
	}
}
