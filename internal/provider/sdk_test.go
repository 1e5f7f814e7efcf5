package provider_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/jasni/jasni-cli/internal/delivery"
	"github.com/jasni/jasni-cli/internal/provider"
)

// sdkCase is one request to testdata/sdk/sdk.js, which runs the
// provider's own code.
type sdkCase struct {
	Op        string            `json:"op"`
	Provider  string            `json:"provider"`
	Secret    string            `json:"secret"`
	Body      string            `json:"body"`
	Headers   map[string]string `json:"headers,omitempty"`
	ID        string            `json:"id,omitempty"`
	Timestamp int64             `json:"timestamp,omitempty"`
	// Now is the verifier's clock, in Unix milliseconds.
	Now int64 `json:"now,omitempty"`
	// PublicKey verifies an ed25519 signature (the secret is the private key).
	PublicKey string `json:"public_key,omitempty"`
	// URL is where it was sent, for schemes that sign it.
	URL string `json:"url,omitempty"`
}

type sdkResult struct {
	OK      bool              `json:"ok"`
	Error   string            `json:"error"`
	Headers map[string]string `json:"headers"`
}

// runSDK runs the cases through the providers' npm packages, installed by
// `npm ci` in testdata/sdk (.ci/run does); without node or them the test
// is skipped, unless JASNI_REQUIRE_SDK is set, as in CI.
func runSDK(t *testing.T, cases []sdkCase) []sdkResult {
	t.Helper()
	node, err := exec.LookPath("node")
	_, modErr := os.Stat(filepath.Join("testdata", "sdk", "node_modules"))
	if err != nil || modErr != nil {
		if os.Getenv("JASNI_REQUIRE_SDK") != "" {
			t.Fatalf("the providers' SDKs are not installed: run npm ci --prefix internal/provider/testdata/sdk (node: %v)", err)
		}
		t.Skip("the providers' SDKs are not installed (npm ci --prefix internal/provider/testdata/sdk); JASNI_REQUIRE_SDK=1 makes this a failure")
	}
	in, _ := json.Marshal(cases)
	cmd := exec.Command(node, "sdk.js")
	cmd.Dir = filepath.Join("testdata", "sdk")
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("sdk.js: %v\n%s", err, stderr.String())
	}
	var res []sdkResult
	if err := json.Unmarshal(out, &res); err != nil || len(res) != len(cases) {
		t.Fatalf("sdk.js answered %s (%v)", out, err)
	}
	return res
}

func flat(h http.Header) map[string]string {
	out := map[string]string{}
	for k := range h {
		out[k] = h.Get(k)
	}
	return out
}

// sdkURL is where the SDK test's deliveries are sent (Twilio signs it).
const sdkURL = "https://example.ngrok.app/webhooks/twilio?source=sms"

// The secrets as each provider hands them out.
var sdkSecrets = map[string]string{
	"stripe":   "whsec_5f1c8e2a9b3d4c7e6f0a1b2c3d4e5f60",
	"svix":     "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
	"resend":   "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
	"standard": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
	"github":   "It's a Secret to Everybody",
	"paddle":   "pdl_ntfset_01gkpjp8bkm3tm53kdgkx6sms7_6h3qd3uFSi9YCD3OLYAShQI90XTI5vEI",
	"shopify":  "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",
	"slack":    "8f742231b10e8888abcd99yyyzzz85a5",
	"linear":   "lin_wh_8FZk3Qx2Vn7Rp4Ls9Tb6Yc1Md5Hg0Wj",
	"twilio":   "12345678901234567890123456789012",
	// A private key (seed and public key); its public half is the last 64.
	"discord": "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
}

// TestProviderSDKs: what jasni signs, each provider's own verifier accepts,
// and refuses once tampered with; what the provider's own code signs (where
// it publishes a signer), jasni verifies, and refuses once tampered with.
func TestProviderSDKs(t *testing.T) {
	type sent struct {
		provider string
		body     string
		tampered bool
	}
	var cases []sdkCase
	var what []sent
	now := time.Now()
	for name, secret := range sdkSecrets {
		p, err := provider.Builtin(name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		k, err := p.ParseKey(secret)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, ev := range p.Events() {
			now := now
			if t, ok := p.ClaimedTime(http.Header{}, ev.JSON); ok && p.Signature.Timestamp == "body" {
				now = t // the fixture's own time: the verifier's clock is set to it
			}
			// What jasni trigger sends: the provider's headers, signed.
			req, err := delivery.NewRequest(sdkURL, ev.JSON, ev.Name, delivery.Signing{Provider: p, Keys: []provider.Key{k}, Timestamp: now, ID: "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"}, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			h := req.Header
			for _, tampered := range []bool{false, true} {
				body := string(req.Body)
				if tampered {
					body = body[:len(body)-1] + " " + body[len(body)-1:]
				}
				c := sdkCase{Op: "verify", Provider: name, Secret: secret, Body: body, Headers: flat(h), Now: now.UnixMilli(), URL: sdkURL}
				if len(secret) == 128 {
					c.PublicKey = secret[64:]
				}
				cases = append(cases, c)
				what = append(what, sent{name, ev.Name, tampered})
			}
			cases = append(cases, sdkCase{Op: "sign", Provider: name, Secret: secret, Body: string(req.Body), ID: "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", Timestamp: now.Unix(), URL: sdkURL})
			what = append(what, sent{name, ev.Name, false})
		}
	}
	res := runSDK(t, cases)
	for i, c := range cases {
		w, r := what[i], res[i]
		switch c.Op {
		case "verify":
			if r.OK == w.tampered {
				t.Errorf("%s %s (tampered: %v): the provider's verifier says ok=%v %s", w.provider, w.body, w.tampered, r.OK, r.Error)
			}
		case "sign":
			if r.Headers == nil {
				if r.Error != "no signer for "+w.provider {
					t.Errorf("%s: the provider's signer failed: %s", w.provider, r.Error)
				}
				continue
			}
			p, _ := provider.Builtin(w.provider)
			k, _ := p.ParseKey(c.Secret)
			h := http.Header{}
			for name, v := range r.Headers {
				h.Set(name, v)
			}
			// jasni sign gives the provider's own signature for the same
			// body, time and id.
			var mine string
			if p.Form() { // c.Body is the form already, as sent
				mine = p.Sign([]provider.Key{k}, provider.Message{Body: []byte(c.Body), URL: c.URL}).Get(p.Signature.Header)
			} else {
				req, err := delivery.NewRequest(c.URL, []byte(c.Body), "", delivery.Signing{Provider: p, Keys: []provider.Key{k}, Timestamp: time.Unix(c.Timestamp, 0), ID: c.ID}, nil, nil)
				if err != nil {
					t.Fatal(err)
				}
				mine = req.Header.Get(p.Signature.Header)
			}
			if got, want := mine, h.Get(p.Signature.Header); got != want {
				t.Errorf("%s %s: jasni signs %q, the provider's own code %q", w.provider, w.body, got, want)
			}
			if err := p.VerifyURL([]provider.Key{k}, []byte(c.Body), h, now, c.URL); err != nil {
				t.Errorf("%s %s: jasni refuses what the provider's own code signed (%v): %v", w.provider, w.body, r.Headers, err)
			}
			if err := p.VerifyURL([]provider.Key{k}, []byte(c.Body+"&x=1"), h, now, c.URL); err == nil {
				t.Errorf("%s %s: jasni accepts a tampered copy", w.provider, w.body)
			}
		}
	}
}
