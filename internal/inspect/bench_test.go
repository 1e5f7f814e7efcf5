package inspect_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/jasni/jasni-cli/internal/inspect"
	"github.com/jasni/jasni-cli/internal/store"
)

// BenchmarkList10k reads the inspector's first page, and a filtered one,
// from a history of 10,000 deliveries: what the page asks on every load.
//
//	go test -run '^$' -bench List10k ./internal/inspect
func BenchmarkList10k(b *testing.B) {
	st, err := store.Open(filepath.Join(b.TempDir(), "h.db"), store.DefaultLimits)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	w := st.NewWriter(store.WriterOptions{})
	events := []string{"email.received", "email.sent", "email.bounced", "domain.verified"}
	now := time.Now()
	var middle string
	for i := range 10000 {
		at := now.Add(time.Duration(i) * time.Millisecond)
		d := &store.Delivery{ID: store.NewID(at), ReceivedAt: at, Method: "POST", Path: "/webhooks/jasni",
			Event: events[i%len(events)], Verdict: store.VerdictValid, Answer: 200 + (i%5)*100,
			Body: []byte(`{"event":"` + events[i%len(events)] + `","data":{"n":` + strconv.Itoa(i) + `}}`)}
		d.BodySize = int64(len(d.Body))
		if i == 5000 {
			middle = d.ID
		}
		if err := w.Record(d, nil); err != nil {
			b.Fatal(err)
		}
		if i%1000 == 999 {
			if err := w.Flush(context.Background()); err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := w.Close(context.Background()); err != nil {
		b.Fatal(err)
	}
	if n, _ := st.Count(context.Background(), false); n != 10000 {
		b.Fatalf("history holds %d", n)
	}
	srv, err := inspect.New(inspect.Options{Store: st})
	if err != nil {
		b.Fatal(err)
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	go srv.Serve(ln)
	defer srv.Close()
	for _, q := range []string{"", "?event=email.bounced", "?status=5xx&verdict=valid", "?before=" + middle} {
		b.Run(q, func(b *testing.B) {
			for range b.N {
				resp, err := http.Get(inspect.URL(ln) + "/api/deliveries" + q)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
}
