package delivery

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jasni/jasni-cli/internal/provider"
)

func TestResign(t *testing.T) {
	body := []byte(`{"event":"email.sent","data":{"id":"1"}}`)
	at := time.Unix(1700000000, 0)
	now := at.Add(time.Hour)
	signedWith := func(p *provider.Provider, secret string) http.Header {
		k, _ := p.ParseKey(secret)
		h := http.Header{}
		if err := Sign(h, body, Signing{Provider: p, Keys: []provider.Key{k}, Timestamp: at, ID: "msg_1"}); err != nil {
			t.Fatal(err)
		}
		return h
	}
	sec := func(v ...string) []Secret {
		var out []Secret
		for _, s := range v {
			out = append(out, Secret{Value: s, Source: "src-" + s})
		}
		return out
	}
	jasni, _ := provider.Builtin("jasni")
	voisnap, _ := provider.Builtin("voisnap")
	tests := []struct {
		name                 string
		p                    *provider.Provider
		stored               string
		explicit, configured []Secret
		wantSecret           string // "" for the original signature kept
		wantNote, wantErr    string
	}{
		{name: "the configured secret that verifies", p: jasni, stored: "s2", configured: sec("s1", "s2"), wantSecret: "s2"},
		{name: "none verifies, body-only scheme: original kept", p: jasni, stored: "s0", configured: sec("s1"), wantNote: "original signature is sent as it was"},
		{name: "none verifies, timestamped scheme: refused", p: voisnap, stored: "s0", configured: sec("s1"), wantErr: "none of the secrets configured (src-s1) verifies it"},
		{name: "explicit, verifying", p: voisnap, stored: "s1", explicit: sec("s1"), configured: sec("s2"), wantSecret: "s1"},
		{name: "explicit, wrong: used with a note", p: jasni, stored: "s1", explicit: sec("bad"), wantSecret: "bad", wantNote: "does not verify"},
		{name: "two explicit, one signature: the one that verifies", p: voisnap, stored: "good", explicit: sec("bad", "good"), wantSecret: "good"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := signedWith(tt.p, tt.stored)
			original := h.Get(tt.p.Signature.Header)
			r, err := Resign(h, body, tt.p, tt.explicit, tt.configured, at, now)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !strings.Contains(r.Note, tt.wantNote) {
				t.Fatalf("%+v %v", r, err)
			}
			got := h.Get(tt.p.Signature.Header)
			if tt.wantSecret == "" {
				if got != original {
					t.Errorf("signature changed: %s", got)
				}
				return
			}
			k, _ := tt.p.ParseKey(tt.wantSecret)
			if err := tt.p.Verify([]provider.Key{k}, body, h, now); err != nil {
				t.Errorf("not signed with %s for now: %v", tt.wantSecret, err)
			}
			if tt.p.Headers.ID != "" && h.Get(tt.p.Headers.ID) != "msg_1" {
				t.Errorf("delivery id changed: %q", h.Get(tt.p.Headers.ID))
			}
		})
	}
}
