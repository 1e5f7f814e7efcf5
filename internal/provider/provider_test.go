package provider

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

func builtin(t *testing.T, name string) *Provider {
	t.Helper()
	s, err := Builtin(name)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func key(t *testing.T, s *Provider, secret string) Key {
	t.Helper()
	k, err := s.ParseKey(secret)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestBuiltinsParse(t *testing.T) {
	names := BuiltinNames()
	for _, want := range []string{"generic", "github", "jasni", "paddle", "resend", "standard", "stripe", "svix", "voisnap"} {
		if !slices.Contains(names, want) {
			t.Errorf("built-ins %v lack %s", names, want)
		}
	}
	for _, n := range names {
		if s := builtin(t, n); s.Name != n {
			t.Errorf("%s/provider.toml names itself %q", n, s.Name)
		}
	}
	if _, err := Builtin("voisnapp"); err == nil || !strings.Contains(err.Error(), "did you mean voisnap?") {
		t.Errorf("unknown provider: %v", err)
	}
}

// The published Standard Webhooks test vector, signed and verified.
func TestStandardWebhooksVector(t *testing.T) {
	s := builtin(t, "standard")
	k := key(t, s, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	m := Message{Body: []byte(`{"test": 2432232314}`), ID: "msg_p5jXN8AQM9LWM0D4loKWxJek", Timestamp: time.Unix(1614265330, 0)}
	h := s.Sign([]Key{k}, m)
	if got := h.Get("webhook-signature"); got != "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=" {
		t.Errorf("signature %q", got)
	}
	if h.Get("webhook-id") != m.ID || h.Get("webhook-timestamp") != "1614265330" {
		t.Errorf("headers %v", h)
	}
	if err := s.Verify([]Key{k}, m.Body, h, m.Timestamp.Add(time.Minute)); err != nil {
		t.Errorf("verify: %v", err)
	}
	if err := s.Verify([]Key{k}, m.Body, h, m.Timestamp.Add(6*time.Minute)); !errors.Is(err, ErrStale) {
		t.Errorf("6 minutes later: %v, want stale", err)
	}
	// Key rotation: a header with an old and a new signature verifies with either key.
	old := key(t, s, "whsec_"+"c2VjcmV0LW9sZA==")
	h = s.Sign([]Key{old, k}, m)
	if !strings.Contains(h.Get("webhook-signature"), " v1,") {
		t.Errorf("two keys, one header: %q", h.Get("webhook-signature"))
	}
	for _, kk := range []Key{old, k} {
		if err := s.Verify([]Key{kk}, m.Body, h, m.Timestamp); err != nil {
			t.Errorf("rotation: %v", err)
		}
	}
	for _, bad := range []string{"MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_not base64!"} {
		if _, err := s.ParseKey(bad); err == nil {
			t.Errorf("ParseKey(%q) accepted", bad)
		}
	}
}

// Voisnap, computed here the way the guide's FastAPI handler does.
func TestVoisnapAsTheGuideComputesIt(t *testing.T) {
	s := builtin(t, "voisnap")
	secret, body, ts := "vs_secret", []byte(`{"type":"SessionEnded","data":{"conversationId":"c1"}}`), time.Unix(1700000000, 0)
	h := s.Sign([]Key{key(t, s, secret)}, Message{Body: body, Timestamp: ts, ID: "dlv_1"})
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(strconv.FormatInt(ts.Unix(), 10) + "." + string(body)))
	if want := "sha256=" + hex.EncodeToString(mac.Sum(nil)); h.Get("X-Webhook-Signature") != want {
		t.Errorf("signature %q, want %q", h.Get("X-Webhook-Signature"), want)
	}
	if h.Get("X-Webhook-Delivery-Id") != "dlv_1" || h.Get("X-Webhook-Timestamp") != "1700000000" {
		t.Errorf("headers %v", h)
	}
	k := key(t, s, secret)
	tests := []struct {
		name string
		now  time.Time
		edit func()
		want error
	}{
		{"fresh", ts.Add(299 * time.Second), func() {}, nil},
		{"stale", ts.Add(301 * time.Second), func() {}, ErrStale},
		{"from the future", ts.Add(-301 * time.Second), func() {}, ErrStale},
		{"upper-case hex, which the guide's compare_digest rejects", ts, func() {
			h.Set("X-Webhook-Signature", "sha256="+strings.ToUpper(strings.TrimPrefix(h.Get("X-Webhook-Signature"), "sha256=")))
		}, ErrMalformedSignature},
		{"no prefix", ts, func() { h.Set("X-Webhook-Signature", strings.TrimPrefix(h.Get("X-Webhook-Signature"), "sha256=")) }, ErrMalformedSignature},
		{"no timestamp", ts, func() { h.Del("X-Webhook-Timestamp") }, ErrMissingTimestamp},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h = s.Sign([]Key{k}, Message{Body: body, Timestamp: ts, ID: "dlv_1"})
			tt.edit()
			err := s.Verify([]Key{k}, body, h, tt.now)
			if (tt.want == nil) != (err == nil) || tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

func hmacHex(key, msg string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(msg))
	return hex.EncodeToString(m.Sum(nil))
}

// Jasni's built-in form signs as the Jasni docs' receivers check.
func TestJasniMatchesTheSignaturePackage(t *testing.T) {
	s := builtin(t, "jasni")
	body := []byte(`{"event":"email.sent"}`)
	h := s.Sign([]Key{key(t, s, "whsec_x")}, Message{Body: body, Timestamp: time.Unix(5, 0)})
	if h.Get("X-Webhook-Signature") != hmacHex("whsec_x", string(body)) || h.Get("X-Webhook-Timestamp") != "5" {
		t.Errorf("headers %v", h)
	}
	// The timestamp is not signed, so any age verifies.
	if err := s.Verify([]Key{key(t, s, "whsec_x")}, body, h, time.Now()); err != nil {
		t.Error(err)
	}
	if err := s.Verify([]Key{key(t, s, "whsec_y")}, body, h, time.Now()); !errors.Is(err, ErrMismatch) {
		t.Errorf("wrong secret: %v", err)
	}
}

func TestSpecErrorsNameTheField(t *testing.T) {
	base := "name = \"acme\"\n[signature]\nheader = \"X-Acme-Sig\"\n"
	tests := []struct{ toml, want string }{
		{base, ""},
		{"name = \"Acme Inc\"\n[signature]\nheader = \"X\"\n", "name \"Acme Inc\""},
		{base + "encoding = \"base32\"\n", "signature.encoding \"base32\""},
		{base + "payload = \"{ts}.{body}\"\n", "{ts} is not one of"},
		{base + "payload = \"{timestamp}.{body}\"\n", "set headers.timestamp to the header that carries it"},
		{base + "key = \"base64\"\n", "needs signature.key_prefix"},
		{base + "tolerance = \"5 minutes\"\n", "not a duration"},
		{base + "tolerance = \"5m\"\n", "no timestamp travels with a delivery"},
		{base + "colour = \"red\"\n", "unknown field"},
		{base + "prefix = \"t={timestamp},v1=\"\n", "placeholders such as {timestamp} belong in signature.payload"},
		{base + "encodign = \"hex\"\n", "the fields there are: "},
		{base + "encodign = \"hex\"\n", "did you mean encoding?"},
		{"name = \"acme\"\ntitel = \"Acme\"\n[signature]\nheader = \"X\"\n", "did you mean title?"},
		{base + "items = \",\"\n", "signature.item must name"},
		{base + "algorithm = \"md5\"\n", "use hmac-sha256, hmac-sha1, hmac-sha512 or ed25519"},
		{base + "timestamp_unit = \"days\"\n", "signature.timestamp_unit \"days\""},
		{base + "[handshake]\nmatch = \"type=url_verification\"\n", "want \"body:PATH=VALUE\""},
		{base + "[handshake]\nmatch = \"body:type=url_verification\"\nanswer = \"{challenge}\"\n", "{body:challenge}"},
		{"name = \"acme\"\nretries = \"1h\"\n[signature]\nheader = \"X\"\n", `retries is a TOML string here, but it takes a list of durations`},
		{base + "[envelope]\ndedup = \"id\"\n", "envelope.dedup is a TOML string here, but it takes a list of strings"},
		{base + "[[events]]\ndescription = \"x\"\n", "events: entry 1 has no name"},
		{base + "[api]\nbase_url = \"https://api.example.com/v1\"\npath = \"/webhooks\"\n", "api.base_url"},
		{base + "[api]\npath = \"webhooks\"\n", "api.path \"webhooks\": a path from the API's origin"},
		{base + "[api]\npath = \"/v1/webhooks\"\nsecret = \"me\"\n", "api.secret \"me\""},
		{base + "[api]\npath = \"/v1/webhooks\"\nupdate_method = \"POST\"\n", "use PATCH or PUT"},
		{base + "[api]\ntest_path = \"/v1/webhooks/test\"\n", "api.path is missing"},
		{"name = \"acme\"\n[signature\n", "line 2"},
		{base + "[envelope]\nevent_code = \"type\"\n", "envelope.event_code needs envelope.event_codes"},
		{base + "[envelope]\nevent_codes = { 1 = \"PING\" }\n", "envelope.event_codes needs envelope.event_code"},
		{base + "[envelope]\nevent = \"kind\"\nevent_code = \"type\"\nevent_codes = { 1 = \"PING\" }\n", "not both"},
		{base + "[envelope]\nevent_code = \"type\"\nevent_codes = { 1 = \"PING\" }\n", ""},
	}
	for _, tt := range tests {
		_, err := ParseSpec("acme/provider.toml", []byte(tt.toml))
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%q: %v", tt.toml, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "acme/provider.toml")):
			t.Errorf("%q: %v, want %q and the file name", tt.toml, err, tt.want)
		}
	}
}

// Every built-in's events come from its files, in the order provider.toml
// gives, each with its type inside matching its name.
func TestBuiltinEvents(t *testing.T) {
	want := map[string]string{
		"jasni":    "email.received,email.sent,email.delivered,email.bounced,email.spam,email.rejected,email.deleted,domain.verified",
		"generic":  "resource.created,resource.updated,resource.deleted,user.created,user.updated,payment.succeeded,payment.failed",
		"voisnap":  "SessionStarted,SessionEnded,AnalysisCompleted,TransferInitiated,Error",
		"standard": "user.created,invoice.paid,subscription.cancelled",
	}
	for name, events := range want {
		p := builtin(t, name)
		if got := strings.Join(p.EventNames(), ","); got != events {
			t.Errorf("%s: %s, want %s", name, got, events)
		}
		for _, e := range p.Events() {
			if e.Description == "" {
				t.Errorf("%s %s has no description", name, e.Name)
			}
		}
	}
	g := builtin(t, "generic")
	upd, _ := g.Event("resource.updated")
	if !strings.Contains(string(upd.JSON), `"previous_data": {`) {
		t.Error("generic resource.updated lacks previous_data")
	}
}

func TestEventTypeAndDedup(t *testing.T) {
	tests := []struct {
		provider string
		header   http.Header
		body     string
		event    string
		dedup    string
	}{
		{"jasni", http.Header{"X-Webhook-Event": {"email.bounced"}}, `{"event":"email.sent","timestamp":"t1","data":{"id":"m1"}}`, "email.sent", `"email.sent"|"m1"|"t1"`},
		{"jasni", http.Header{"X-Webhook-Event": {"email.sent"}}, `not json`, "email.sent", ""},
		{"generic", nil, `{"id":"evt_1","type":"user.created"}`, "user.created", `"evt_1"`},
		{"voisnap", http.Header{"X-Webhook-Delivery-Id": {"dlv_9"}}, `{"type":"Error","data":{}}`, "Error", "dlv_9"},
		{"standard", http.Header{"Webhook-Id": {"msg_1"}}, `{"type":"invoice.paid"}`, "invoice.paid", "msg_1"},
		// Discord numbers its interaction types; an unknown number is no type.
		{"discord", nil, `{"id":"i1","type":2,"data":{}}`, "APPLICATION_COMMAND", `"i1"`},
		{"discord", nil, `{"type":1,"id":"i2"}`, "PING", `"i2"`},
		{"discord", nil, `{"type":9,"id":"i3"}`, "", `"i3"`},
		{"discord", nil, `{"type":"2","id":"i4"}`, "APPLICATION_COMMAND", `"i4"`},
	}
	for _, tt := range tests {
		p := builtin(t, tt.provider)
		if got := p.EventType(tt.header, []byte(tt.body)); got != tt.event {
			t.Errorf("%s: event %q, want %q", tt.provider, got, tt.event)
		}
		if got := p.DedupKey(tt.header, []byte(tt.body)); got != tt.dedup {
			t.Errorf("%s: dedup %q, want %q", tt.provider, got, tt.dedup)
		}
	}
}

// A provider that is only a folder: loaded by path, with clear errors for
// what is missing or wrong.
func TestProviderFolder(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Load(dir, ""); err == nil || !strings.Contains(err.Error(), "no provider.toml") {
		t.Errorf("empty folder: %v", err)
	}
	write("provider.toml", "name = \"acme\"\n[signature]\nheader = \"X-Acme-Signature\"\nencoding = \"base64\"\n[envelope]\nevent = \"kind\"\n")
	if _, err := Load(dir, ""); err == nil || !strings.Contains(err.Error(), "no event files") {
		t.Errorf("no events: %v", err)
	}
	write("order.paid.json", `{"kind":"order.shipped"}`)
	if _, err := Load(dir, ""); err == nil || !strings.Contains(err.Error(), `the file name says "order.paid"`) {
		t.Errorf("mismatched event: %v", err)
	}
	write("order.paid.json", `{"kind":"order.paid","order":{"id":"o1"}}`)
	p, err := Load(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	k, _ := p.ParseKey("acme-secret")
	body := []byte(`{"kind":"order.paid"}`)
	h := p.Sign([]Key{k}, Message{Body: body, Timestamp: time.Now()})
	if err := p.Verify([]Key{k}, body, h, time.Now()); err != nil || p.EventType(h, body) != "order.paid" {
		t.Errorf("round trip: %v", err)
	}
	// By name, from the config directory's providers folder.
	parent := filepath.Dir(dir)
	if p, err := Load(filepath.Base(dir), parent); err != nil || p.Name != "acme" {
		t.Errorf("by name in a providers folder: %v", err)
	}
}

// A Signer signs exactly as Sign does, delivery after delivery.
func TestSignerMatchesSign(t *testing.T) {
	for _, name := range BuiltinNames() {
		p, err := Builtin(name)
		if err != nil {
			t.Fatal(err)
		}
		secrets := []string{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_dGVzdHNlY3JldGtleQ=="}
		if p.Signature.Algorithm == "ed25519" {
			secrets = []string{ed25519Private, ed25519Private}
		}
		var keys []Key
		for _, s := range secrets {
			k, err := p.ParseKey(s)
			if err != nil {
				t.Fatal(err)
			}
			keys = append(keys, k)
		}
		g := p.NewSigner(keys)
		h := http.Header{"X-Other": {"kept"}}
		for i := range 3 {
			m := Message{Body: []byte(fmt.Sprintf(`{"n":%d}`, i)), Timestamp: time.Unix(1700000000+int64(i), 0), ID: fmt.Sprintf("msg_%d", i)}
			g.SignInto(h, m)
			want := p.Sign(keys, m)
			for k := range want {
				if h.Get(k) != want.Get(k) {
					t.Errorf("%s: %s = %q, want %q", name, k, h.Get(k), want.Get(k))
				}
			}
			if h.Get("X-Other") != "kept" {
				t.Error("another header was touched")
			}
		}
	}
}

// A check fed the body in pieces, as the relay reads it, says what Verify
// says of the whole, for every built-in scheme.
func TestCheckInPieces(t *testing.T) {
	for _, name := range BuiltinNames() {
		p, err := Builtin(name)
		if err != nil {
			t.Fatal(err)
		}
		secret := "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
		if p.Signature.Algorithm == "ed25519" {
			secret = ed25519Private
		}
		k, err := p.ParseKey(secret)
		if err != nil {
			t.Fatal(err)
		}
		now := time.Unix(1700000000, 0)
		body := []byte(`{"event":"email.sent","data":{"id":"msg_1","text":"` + strings.Repeat("x", 300) + `"}}`)
		h := p.Sign([]Key{k}, Message{Body: body, Timestamp: now, ID: "msg_1"})
		for _, tt := range []struct {
			body []byte
			now  time.Time
		}{
			{body, now},
			{append(bytes.Clone(body), '\n'), now},
			{body, now.Add(time.Hour)},
		} {
			c := p.NewCheck([]Key{k}, h, tt.now)
			for rest := tt.body; len(rest) > 0; {
				n := min(len(rest), 7)
				c.Write(rest[:n])
				rest = rest[n:]
			}
			got, want := c.Verify(), p.Verify([]Key{k}, tt.body, h, tt.now)
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("%s: in pieces %v, whole %v", name, got, want)
			}
		}
	}
}

// ed25519Private is RFC 8032's first test key: seed, then public key.
const ed25519Private = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"

// A folder's event files are checked one by one, each mistake named.
func TestFolderFileErrors(t *testing.T) {
	spec := "name = \"acme\"\n[signature]\nheader = \"X\"\n[envelope]\nevent = \"type\"\n"
	tests := []struct {
		name  string
		files fstest.MapFS
		want  string
	}{
		{"not an object", fstest.MapFS{"README.json": {Data: []byte(`[1,2]`)}}, "README.json is not a JSON object"},
		{"no event field", fstest.MapFS{"a.json": {Data: []byte(`{"data":{}}`)}}, `a.json has no "type"`},
		{"a file that is not there", fstest.MapFS{"a.json": {Data: []byte(`{"type":"a"}`)}, "extra.toml": {Data: []byte(``)}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.files["provider.toml"] = &fstest.MapFile{Data: []byte(spec)}
			_, err := FromFS(tt.files, "acme")
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Errorf("error %v, want %q", err, tt.want)
			}
		})
	}
	withFile := spec + "[[events]]\nname = \"orders/create\"\nfile = \"orders-create\"\n"
	_, err := FromFS(fstest.MapFS{"provider.toml": {Data: []byte(withFile)}, "orders.json": {Data: []byte(`{"type":"orders"}`)}}, "acme")
	if err == nil || !strings.Contains(err.Error(), "is in orders-create.json, but there is no such file") {
		t.Errorf("an event's file missing: %v", err)
	}
}

// Jasni's folder describes Jasni's API, and generic's the guide's: the
// secret made by the provider or by the client, a test endpoint or none.
func TestBuiltinAPIs(t *testing.T) {
	j, g := builtin(t, "jasni"), builtin(t, "generic")
	if !j.HasAPI() || j.API.BaseURL != "https://api.jasni.ai" || j.API.Path != "/api/v1/webhooks" || j.API.Secret != "provider" || j.API.KeyPrefix != "jsk_" || j.API.TestPath != "" {
		t.Errorf("jasni's API: %+v", j.API)
	}
	if !g.HasAPI() || g.API.BaseURL != "" || g.API.Path != "/v1/webhooks" || g.API.Secret != "client" || g.API.TestPath != "/v1/webhooks/test" || g.API.UpdateMethod != "PATCH" {
		t.Errorf("generic's API: %+v", g.API)
	}
	if builtin(t, "stripe").HasAPI() {
		t.Error("stripe has no [api] yet")
	}
}
