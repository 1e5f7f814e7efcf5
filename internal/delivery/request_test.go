package delivery

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jasni/jasni-cli/internal/provider"
)

func TestNewRequest(t *testing.T) {
	voisnap, err := provider.Builtin("voisnap")
	if err != nil {
		t.Fatal(err)
	}
	key, _ := voisnap.ParseKey("vs")
	at := time.Unix(1700000000, 0)
	body := []byte(`{"type":"Error"}`)

	req, err := NewRequest("http://x", body, "Error", Signing{Provider: voisnap, Keys: []provider.Key{key}, Timestamp: at},
		http.Header{"X-Extra": {"1"}}, []string{"User-Agent"})
	if err != nil {
		t.Fatal(err)
	}
	h := req.Header
	if !strings.HasPrefix(h.Get("X-Webhook-Signature"), "sha256=") || h.Get("X-Webhook-Timestamp") != "1700000000" ||
		!strings.HasPrefix(h.Get("X-Webhook-Delivery-Id"), "msg_") || h.Get("X-Extra") != "1" || h.Get("Content-Type") != "application/json" {
		t.Errorf("headers %v", h)
	}
	if err := voisnap.Verify([]provider.Key{key}, body, h, at); err != nil {
		t.Errorf("the request does not verify: %v", err)
	}

	unsigned, _ := NewRequest("http://x", body, "Error", Signing{Provider: voisnap, Timestamp: at, ID: "d1"}, nil, nil)
	if unsigned.Header.Get("X-Webhook-Signature") != "" || unsigned.Header.Get("X-Webhook-Timestamp") == "" || unsigned.Header.Get("X-Webhook-Delivery-Id") != "d1" {
		t.Errorf("unsigned: %v", unsigned.Header)
	}
}
