package signature

import (
	"net/http"
	"strings"
	"testing"
)

// FuzzJasniVerify: any header and body give a verdict without a panic; a
// delivery verifies exactly when its header is the body's MAC in hex (either
// case, spaces around it trimmed), and CheckHeader never refuses what Verify
// would accept.
func FuzzJasniVerify(f *testing.F) {
	f.Add("whsec_x", []byte(`{"event":"email.sent"}`), "")
	f.Add("whsec_x", []byte(`{}`), "sha256=abc")
	f.Add("", []byte{}, strings.Repeat("0", 64))
	f.Add("whsec_x", []byte("x"), Jasni{}.Compute("whsec_x", []byte("x")))
	f.Fuzz(func(t *testing.T, secret string, body []byte, sig string) {
		h := http.Header{}
		if sig != "" {
			h.Set(HeaderJasniSignature, sig)
		}
		err := Jasni{}.Verify(secret, body, h)
		want := strings.EqualFold(strings.TrimSpace(h.Get(HeaderJasniSignature)), Jasni{}.Compute(secret, body))
		if (err == nil) != want {
			t.Fatalf("Verify(%q) = %v, want valid=%v", sig, err, want)
		}
		if err == nil && (Jasni{}).CheckHeader(h) != nil {
			t.Fatalf("CheckHeader refuses a valid signature %q", sig)
		}
		signed := Jasni{}.Sign(secret, Message{Body: body})
		if err := (Jasni{}).Verify(secret, body, signed); err != nil {
			t.Fatalf("a fresh signature does not verify: %v", err)
		}
	})
}
