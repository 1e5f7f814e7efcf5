package provider

import (
	"net/http"
	"testing"
	"time"
)

// FuzzVerify: any signature header, timestamp and body give a verdict
// without a panic, for every built-in scheme; what Sign makes, Verify takes.
func FuzzVerify(f *testing.F) {
	f.Add("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE= v1,x", "1614265330", "msg_1", []byte(`{"test": 2432232314}`))
	f.Add("sha256=abc", "-1", "", []byte{})
	f.Add("", "99999999999999999999", "\x00", []byte("x"))
	now := time.Unix(1614265330, 0)
	f.Fuzz(func(t *testing.T, sig, ts, id string, body []byte) {
		for _, name := range BuiltinNames() {
			s, err := Builtin(name)
			if err != nil {
				t.Fatal(err)
			}
			secret := "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
			if s.Signature.Algorithm == "ed25519" {
				secret = ed25519Private
			}
			k, err := s.ParseKey(secret)
			if err != nil {
				t.Fatal(err)
			}
			h := http.Header{}
			h.Set(s.Signature.Header, sig)
			if s.Headers.Timestamp != "" {
				h.Set(s.Headers.Timestamp, ts)
			}
			if s.Headers.ID != "" {
				h.Set(s.Headers.ID, id)
			}
			_ = s.Verify([]Key{k}, body, h, now)
			_ = s.CheckHeader(h)
			_ = s.EventType(h, body) // Discord's from a number in the body
			_ = s.DedupKey(h, body)
			if s.Signature.Timestamp == "body" {
				continue // the time is the body's own, which a fuzzed body lacks
			}
			if id == "" {
				id = "msg_1"
			}
			signed := s.Sign([]Key{k}, Message{Body: body, Timestamp: now, ID: id})
			if err := s.Verify([]Key{k}, body, signed, now); err != nil && (s.Headers.ID == "" || validHeaderValue(id)) {
				t.Fatalf("%s: a fresh signature does not verify: %v", name, err)
			}
		}
	})
}

// validHeaderValue: an id that http.Header keeps as given.
func validHeaderValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f || s[i] == ' ' {
			return false
		}
	}
	return true
}
