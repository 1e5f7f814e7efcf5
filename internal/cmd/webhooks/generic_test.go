package webhooks_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jasni/jasni-cli/internal/api/apitest"
	"github.com/jasni/jasni-cli/internal/clitest"
	"github.com/jasni/jasni-cli/internal/golden"
)

const genericKey = "YOUR_TOKEN_0123456789"

func newGenericEnv(t *testing.T, shape apitest.Shape) *env {
	srv := apitest.NewGeneric(shape, genericKey)
	t.Cleanup(srv.Close)
	return &env{t: t, srv: srv, config: t.TempDir() + "/jasni/config.toml"}
}

// generic runs a webhooks command against the generic API, the way the
// README shows: the address and token in the environment.
func (e *env) generic(opts clitest.Options, args ...string) clitest.Result {
	e.t.Helper()
	if opts.Env == nil {
		opts.Env = map[string]string{}
	}
	if _, set := opts.Env["JASNI_API_KEY"]; !set {
		opts.Env["JASNI_API_KEY"] = genericKey
	}
	res := e.run(opts, append([]string{"webhooks", "--provider", "generic"}, args...)...)
	if strings.Contains(res.Stdout+res.Stderr, genericKey) {
		e.t.Errorf("the API key appears in the output of %v", args)
	}
	return res
}

// Every subcommand against the 003 guide's API, whichever shape its
// answers take.
func TestGenericLifecycle(t *testing.T) {
	for _, shape := range []struct {
		name  string
		shape apitest.Shape
	}{{"top level", apitest.ShapeTop}, {"under data", apitest.ShapeData}, {"under webhook", apitest.ShapeWebhook}} {
		t.Run(shape.name, func(t *testing.T) {
			e := newGenericEnv(t, shape.shape)
			res := e.generic(clitest.Options{}, "create", "--url", "https://your-app.example.com/webhooks", "--events", "resource.created,resource.updated", "-o", "json")
			var created struct{ ID, Secret string }
			if err := json.Unmarshal([]byte(res.Stdout), &created); err != nil || res.Code != 0 {
				t.Fatalf("create: exit %d %v\n%s%s", res.Code, err, res.Stdout, res.Stderr)
			}
			stored := e.srv.Webhooks()
			if len(stored) != 1 || stored[0].Secret == "" || stored[0].Secret != created.Secret || created.ID != stored[0].ID {
				t.Fatalf("the secret shown (%q) is not the one registered: %+v", created.Secret, stored)
			}
			if !strings.HasPrefix(created.Secret, "whsec_") || len(created.Secret) < 40 {
				t.Errorf("a weak secret: %q", created.Secret)
			}
			req := e.srv.Requests()[0]
			var body map[string]any
			json.Unmarshal([]byte(req.Body), &body)
			if req.Method != "POST" || req.Path != "/v1/webhooks" || req.Authorization != "Bearer "+genericKey || body["secret"] != created.Secret || len(body) != 3 {
				t.Errorf("create sent %s %s %q %v; want the guide's POST /v1/webhooks with url, events and secret", req.Method, req.Path, req.Authorization, body)
			}

			res = e.generic(clitest.Options{}, "list", "-o", "json")
			if res.Code != 0 || !strings.Contains(res.Stdout, created.ID) || strings.Contains(res.Stdout, created.Secret) {
				t.Fatalf("list: exit %d\n%s%s", res.Code, res.Stdout, res.Stderr)
			}
			res = e.generic(clitest.Options{}, "get", created.ID)
			if res.Code != 0 || !strings.Contains(res.Stdout, "resource.created, resource.updated") || !strings.Contains(res.Stdout, "active") {
				t.Errorf("get: exit %d\n%s%s", res.Code, res.Stdout, res.Stderr)
			}

			res = e.generic(clitest.Options{}, "update", created.ID, "--events", "resource.created")
			reqs := e.srv.Requests()
			last := reqs[len(reqs)-1]
			if res.Code != 0 || last.Method != "PATCH" || last.Path != "/v1/webhooks/"+created.ID || last.Body != `{"events":["resource.created"]}` {
				t.Errorf("update: exit %d, sent %s %s %s; want PATCH with only the changed field\n%s", res.Code, last.Method, last.Path, last.Body, res.Stderr)
			}

			res = e.generic(clitest.Options{}, "delete", created.ID, "--yes")
			if res.Code != 0 || len(e.srv.Webhooks()) != 0 {
				t.Errorf("delete: exit %d %s", res.Code, res.Stderr)
			}
			res = e.generic(clitest.Options{}, "list")
			if res.Code != 0 || !strings.Contains(res.Stderr, "jasni webhooks create --provider generic") {
				t.Errorf("empty list: exit %d %q", res.Code, res.Stderr)
			}
		})
	}
}

// The secret is shown once, as Jasni's is, and --secret registers the
// user's own.
func TestGenericCreateShowsTheSecret(t *testing.T) {
	e := newGenericEnv(t, apitest.ShapeTop)
	res := e.generic(clitest.Options{TTY: true, Env: map[string]string{"NO_COLOR": "1"}}, "create", "--url", "https://your-app.example.com/webhooks", "--events", "resource.created", "--secret", "whsec_mine_0123456789")
	if res.Code != 0 || e.srv.Webhooks()[0].Secret != "whsec_mine_0123456789" {
		t.Fatalf("exit %d: %s", res.Code, res.Stderr)
	}
	golden.Assert(t, stable(res.Stdout))

	res = e.generic(clitest.Options{}, "create", "--url", "https://your-app.example.com/webhooks", "--save-secret", "generic")
	secret := e.srv.Webhooks()[1].Secret
	data, _ := os.ReadFile(e.config)
	if res.Code != 0 || !strings.Contains(string(data), secret) || !strings.Contains(string(data), `provider = 'generic'`) {
		t.Errorf("--save-secret: exit %d %s\n%s", res.Code, res.Stderr, data)
	}
}

// An answer without the webhook still shows the secret jasni sent: the
// webhook exists with it.
func TestGenericCreateWithoutAnAnswer(t *testing.T) {
	e := newGenericEnv(t, apitest.ShapeTop)
	e.srv.Inject(apitest.Fault{Status: http.StatusCreated, Body: "Created"})
	res := e.generic(clitest.Options{}, "create", "--url", "https://your-app.example.com/webhooks")
	sent := map[string]any{}
	json.Unmarshal([]byte(e.srv.Requests()[0].Body), &sent)
	if res.Code != 0 || !strings.Contains(res.Stdout, sent["secret"].(string)) || !strings.Contains(res.Stderr, "did not include the webhook's id") {
		t.Errorf("exit %d\n%s%s", res.Code, res.Stdout, res.Stderr)
	}
	// No answer at all: the webhook may exist, so the secret is told.
	e.srv.Inject(apitest.Fault{Status: http.StatusBadGateway, Body: "<html>bad gateway</html>"})
	res = e.generic(clitest.Options{}, "create", "--url", "https://your-app.example.com/webhooks")
	json.Unmarshal([]byte(e.srv.Requests()[1].Body), &sent)
	if res.Code == 0 || !strings.Contains(res.Stderr, "its secret is:\n  "+sent["secret"].(string)) {
		t.Errorf("exit %d\n%s", res.Code, res.Stderr)
	}
}

// webhooks test asks the API for a test delivery; the API sends it, signed
// as its guide says, to the webhook's URL.
func TestGenericTestDelivery(t *testing.T) {
	e := newGenericEnv(t, apitest.ShapeData)
	got := make(chan string, 1)
	var secret string
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write(body)
		if !hmac.Equal([]byte(r.Header.Get("X-Webhook-Signature")), []byte(hex.EncodeToString(mac.Sum(nil)))) {
			w.WriteHeader(http.StatusUnauthorized)
			got <- "bad signature"
			return
		}
		got <- string(body)
	}))
	defer app.Close()
	res := e.generic(clitest.Options{}, "create", "--url", app.URL+"/webhooks", "-o", "json")
	var created struct{ ID, Secret string }
	json.Unmarshal([]byte(res.Stdout), &created)
	secret = created.Secret

	res = e.generic(clitest.Options{Env: map[string]string{"NO_COLOR": "1"}}, "test", created.ID, "--event", "payment.failed")
	last := e.srv.Requests()[len(e.srv.Requests())-1]
	if res.Code != 0 || last.Path != "/v1/webhooks/test" || last.Body != `{"webhook_id":"`+created.ID+`","event_type":"payment.failed"}` {
		t.Fatalf("test: exit %d, sent %s %s\n%s", res.Code, last.Path, last.Body, res.Stderr)
	}
	if body := <-got; !strings.Contains(body, `"type":"payment.failed"`) {
		t.Errorf("the app got %q", body)
	}
	if !strings.Contains(res.Stdout, "accepted a test payment.failed delivery to webhook "+created.ID+" (200 OK)") || !strings.Contains(res.Stdout, `"delivered":true`) {
		t.Errorf("test said:\n%s", res.Stdout)
	}

	res = e.generic(clitest.Options{}, "test", created.ID, "-o", "json")
	var out struct {
		EventType string `json:"event_type"`
		Status    int
		Answer    map[string]any
	}
	<-got
	if err := json.Unmarshal([]byte(res.Stdout), &out); err != nil || out.EventType != "resource.created" || out.Status != 200 || out.Answer["response_status"] != float64(200) {
		t.Errorf("test -o json: %v %s", err, res.Stdout)
	}
}

func TestGenericBadInput(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		args []string
		code int
		want string
	}{
		{"no api url", map[string]string{"JASNI_API_URL": ""}, []string{"list"}, 2, "--api-url is required for --provider generic"},
		{"no key", map[string]string{"JASNI_API_KEY": ""}, []string{"list"}, 5, "no API key for the generic API: pass --api-key, or set JASNI_API_KEY"},
		{"wrong key", map[string]string{"JASNI_API_KEY": "wrong_token"}, []string{"list"}, 5, "the API rejected the key (401): Invalid API key. Pass a key of the generic API with --api-key or JASNI_API_KEY"},
		{"unknown id", nil, []string{"update", "wh_nope", "--events", "user.created"}, 1, `webhook wh_nope was not found (404). List them with "jasni webhooks list --provider generic"`},
		{"unknown id on test", nil, []string{"test", "wh_nope"}, 1, "webhook wh_nope was not found (404)"},
		{"unknown id on delete", nil, []string{"delete", "wh_nope", "--yes"}, 1, "webhook wh_nope was not found (404)"},
		{"a Jasni event", nil, []string{"create", "--url", "https://a.example.com", "--events", "email.received"}, 2, "unknown event \"email.received\""},
		{"a misspelt event", nil, []string{"test", "wh_1", "--event", "payment.faild"}, 2, "did you mean payment.failed?"},
		{"empty secret", nil, []string{"create", "--url", "https://a.example.com", "--secret", ""}, 2, "--secret is empty"},
		{"plain http", nil, []string{"create", "--url", "http://a.example.com"}, 2, "Generic REST API deliveries carry your data, so use https"},
		{"API says no", nil, []string{"create", "--url", "ftp://x.example.com/hook", "--allow-http"}, 2, "--url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newGenericEnv(t, apitest.ShapeTop)
			res := e.generic(clitest.Options{Env: tt.env}, tt.args...)
			if int(res.Code) != tt.code || !strings.Contains(res.Stderr, tt.want) {
				t.Errorf("exit %d stderr %q; want %d and %q", res.Code, res.Stderr, tt.code, tt.want)
			}
		})
	}
}

// What only the generic API has is refused for Jasni's, saying what to do
// instead, and a provider whose API jasni does not manage is named.
func TestProviderWithoutTheFeature(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"webhooks", "test", "wh_1"}, "the Jasni API has no test endpoint: send a signed test delivery yourself with: jasni trigger email.received --url URL"},
		{[]string{"webhooks", "create", "--url", "https://a.example.com", "--secret", "whsec_x"}, "--secret: Jasni makes each webhook's secret itself"},
		{[]string{"webhooks", "list", "--provider", "stripe"}, "jasni does not manage Stripe webhooks"},
	}
	for _, tt := range tests {
		e := newEnv(t)
		res := e.run(clitest.Options{}, tt.args...)
		if res.Code != 2 || !strings.Contains(res.Stderr, tt.want) || len(e.srv.Requests()) != 0 {
			t.Errorf("%v: exit %d %q; want 2 and %q, before any request", tt.args, res.Code, res.Stderr, tt.want)
		}
	}
}

// What an API built from the guide may answer that the guide does not
// show: errors in other shapes, a 2xx test answer that says the delivery
// failed, a web page where the API should be.
func TestGenericUndocumentedAnswers(t *testing.T) {
	tests := []struct {
		name  string
		fault apitest.Fault
		args  []string
		code  int
		out   string
		err   string
	}{
		{"an error object with a numeric code", apitest.Fault{Status: 422, Body: `{"error":{"message":"url is not reachable","code":422}}`},
			[]string{"create", "--url", "https://a.example.com/h"}, 1, "", "the API refused (422): url is not reachable"},
		{"an error in plain text", apitest.Fault{Status: 401, Body: "Unauthorized: token expired\nmore"},
			[]string{"list"}, 5, "", "the API rejected the key (401): Unauthorized: token expired."},
		{"a test whose delivery failed", apitest.Fault{Status: 200, Body: `{"success":false,"error":"connection refused","response_status":null}`},
			[]string{"test", "wh_1"}, 3, "says the test resource.created delivery to webhook wh_1 failed: connection refused", ""},
		{"the same, as JSON", apitest.Fault{Status: 200, Body: `{"delivered":false}`},
			[]string{"test", "wh_1", "-o", "json"}, 3, `"ok": false`, ""},
		{"a web page answering a create", apitest.Fault{Status: 200, Body: "<html>Welcome to nginx</html>"},
			[]string{"create", "--url", "https://a.example.com/h"}, 1, "Signing secret", "HTML page, not JSON (is the API URL right?); the webhook may not exist: check with jasni webhooks list --provider generic"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newGenericEnv(t, apitest.ShapeTop)
			e.srv.Inject(tt.fault)
			res := e.generic(clitest.Options{}, tt.args...)
			if int(res.Code) != tt.code || !strings.Contains(res.Stdout, tt.out) || !strings.Contains(res.Stderr, tt.err) {
				t.Errorf("exit %d\nstdout %q\nstderr %q\nwant %d, %q, %q", res.Code, res.Stdout, res.Stderr, tt.code, tt.out, tt.err)
			}
		})
	}
}

func TestGenericAPIURLs(t *testing.T) {
	for _, tt := range []struct{ url, want string }{
		{"127.0.0.1:8787", "has no scheme: did you mean http://127.0.0.1:8787?"},
		{"ftp://127.0.0.1:8787", "the scheme must be http or https"},
		{"https://api.example.com/v1", "ends with /v1, which jasni adds itself (it asks /v1/webhooks): drop it, e.g. --api-url https://api.example.com"},
		{"https://api.example.com?x=1", "no query"},
	} {
		e := newGenericEnv(t, apitest.ShapeTop)
		res := e.generic(clitest.Options{}, "list", "--api-url", tt.url)
		if res.Code != 2 || !strings.Contains(res.Stderr, tt.want) {
			t.Errorf("--api-url %s: exit %d %q, want 2 and %q", tt.url, res.Code, res.Stderr, tt.want)
		}
	}
	e := newGenericEnv(t, apitest.ShapeTop)
	if res := e.generic(clitest.Options{}, "get", "wh_nope"); res.Code != 1 || !strings.Contains(res.Stderr, `"jasni webhooks list --provider generic"`) {
		t.Errorf("get an unknown id: %d %q", res.Code, res.Stderr)
	}
}

// The Jasni key that jasni login saved never goes to another provider's
// API: the profile's key is for the profile's provider. And a profile
// whose provider has no API still manages Jasni's webhooks.
func TestJasniKeyStaysWithJasni(t *testing.T) {
	e := newGenericEnv(t, apitest.ShapeTop)
	os.MkdirAll(filepath.Dir(e.config), 0o700)
	os.WriteFile(e.config, []byte("[default]\napi_key = \"jsk_saved_by_login_0123\"\n"), 0o600)
	res := e.generic(clitest.Options{Env: map[string]string{"JASNI_API_KEY": ""}}, "list")
	if res.Code != 5 || !strings.Contains(res.Stderr, "no API key for the generic API") || len(e.srv.Requests()) != 0 {
		t.Errorf("the profile's Jasni key: exit %d %q, %d requests", res.Code, res.Stderr, len(e.srv.Requests()))
	}
	res = e.generic(clitest.Options{Env: map[string]string{"JASNI_API_KEY": "jsk_from_env_0123456"}}, "list")
	if res.Code != 2 || !strings.Contains(res.Stderr, "is a Jasni key (jsk_): jasni does not send it") || len(e.srv.Requests()) != 0 {
		t.Errorf("a Jasni key in the environment: exit %d %q", res.Code, res.Stderr)
	}

	j := newEnv(t)
	os.MkdirAll(filepath.Dir(j.config), 0o700)
	os.WriteFile(j.config, []byte("[default]\nprovider = \"stripe\"\n"), 0o600)
	if res := j.run(clitest.Options{}, "webhooks", "list", "-o", "json"); res.Code != 0 {
		t.Errorf("a profile for Stripe: exit %d %q", res.Code, res.Stderr)
	}
}
