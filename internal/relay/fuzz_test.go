package relay_test

import (
	"bufio"
	"bytes"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/jasni/jasni-cli/internal/relay"
	"github.com/jasni/jasni-cli/internal/store"
)

type countingRecorder struct{ records, finishes atomic.Int64 }

func (c *countingRecorder) Record(d *store.Delivery, written func(error)) error {
	if d.Rejected && len(d.Body) > store.RejectedBodyKeep {
		panic("a rejected record keeps more than its quota")
	}
	c.records.Add(1)
	if written != nil {
		written(nil)
	}
	return nil
}
func (c *countingRecorder) Finish(*store.Delivery) { c.finishes.Add(1) }

// FuzzServeHTTP: any request a stranger can send is answered without a
// panic, and nothing without a valid signature reaches the app.
func FuzzServeHTTP(f *testing.F) {
	signed := "POST /webhooks/jasni HTTP/1.1\r\nHost: x\r\nContent-Length: " + itoa(len(event)) + "\r\nX-Webhook-Signature: " + sign(event) + "\r\n\r\n" + string(event)
	for _, seed := range []string{
		signed,
		"POST /webhooks/jasni HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}",
		"POST /webhooks/jasni HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nX-Webhook-Signature: " + sign([]byte("{}")) + "\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
		"GET /webhooks/jasni HTTP/1.1\r\nHost: x\r\n\r\n",
		"DELETE /admin/users/1 HTTP/1.1\r\nHost: x\r\nX-Webhook-Signature: " + sign(event) + "\r\n\r\n",
		"POST /webhooks/jasni?x=%zz HTTP/1.1\r\nHost: x\r\nX-Webhook-Event: \xc2\x9b\r\nContent-Length: 5\r\n\r\n\x1b[2J",
	} {
		f.Add([]byte(seed))
	}
	var forwarded atomic.Int64
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { forwarded.Add(1) }))
	f.Cleanup(app.Close)
	rec := &countingRecorder{}
	rl := relay.New(relay.Config{Secret: secret, Forward: mustURL(app.URL), Recorder: rec, MaxBody: 1 << 16})
	f.Fuzz(func(t *testing.T, raw []byte) {
		req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
		if err != nil {
			return
		}
		req.RemoteAddr = "203.0.113.9:1234"
		before := forwarded.Load()
		w := httptest.NewRecorder()
		rl.ServeHTTP(w, req)
		if forwarded.Load() != before && w.Code != http.StatusOK {
			t.Fatalf("forwarded, but answered %d", w.Code)
		}
		if forwarded.Load() != before {
			// Only a valid signature over the exact body gets through.
			if req.Method != http.MethodPost || req.URL.Path != relay.DefaultPath {
				t.Fatalf("%s %s was forwarded", req.Method, req.URL.Path)
			}
		}
	})
}

func itoa(n int) string {
	var b []byte
	for n > 0 || len(b) == 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
}
