package har_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/jasni/jasni-cli/internal/har"
	"github.com/jasni/jasni-cli/internal/store"
)

// FuzzBuild: whatever a sender and an app sent, the archive is valid JSON
// and carries the bodies byte for byte (as text, or base64 when they are
// not UTF-8).
func FuzzBuild(f *testing.F) {
	f.Add([]byte(`{"event":"email.received"}`), "X-A", "v", []byte(`{"ok":true}`), 200)
	f.Add([]byte{0xff, 0xfe, 0}, "Content-Type", "\x00<script>", []byte{0xc3}, 0)
	f.Fuzz(func(t *testing.T, body []byte, name, value string, answer []byte, status int) {
		d := &store.Delivery{ID: "dlv_1", ReceivedAt: time.Unix(1, 0), Method: "POST", Path: "/x?" + name,
			Header: http.Header{name: {value}}, Body: body, BodySize: int64(len(body)), Answer: status,
			Attempts: []store.Attempt{
				{By: store.AttemptByListen, Status: status, Header: http.Header{name: {value}}, Body: answer, BodySize: int64(len(answer))},
				{By: store.AttemptByReplay, URL: "http://app/" + value, Sent: &store.Sent{Body: answer, Header: http.Header{name: nil}}},
			}}
		out, err := json.Marshal(har.Build([]*store.Delivery{d}, "http://localhost", "test"))
		if err != nil {
			t.Fatal(err)
		}
		var back struct {
			Log struct {
				Entries []struct {
					Request struct {
						PostData struct {
							Text     string
							Encoding string `json:"_encoding"`
						}
					}
				}
			}
		}
		if err := json.Unmarshal(out, &back); err != nil || len(back.Log.Entries) != 2 {
			t.Fatalf("archive does not read back: %v", err)
		}
		got := []byte(back.Log.Entries[0].Request.PostData.Text)
		if back.Log.Entries[0].Request.PostData.Encoding == "base64" {
			got, _ = base64.StdEncoding.DecodeString(string(got))
		}
		if string(got) != string(body) {
			t.Errorf("body %q came back as %q", body, got)
		}
	})
}
