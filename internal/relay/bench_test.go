package relay_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/jasni/jasni-cli/internal/relay"
	"github.com/jasni/jasni-cli/internal/store"
	"github.com/jasni/jasni-cli/internal/tunnel"
)

// BenchmarkRelayOverhead measures what listen adds to a delivery: each
// iteration sends one delivery straight to an app and one through the relay
// (verify, record, forward) on loopback, in the same run, and reports both
// and their ratio, so a noisy machine moves both alike.
//
//	go test -run '^$' -bench RelayOverhead ./internal/relay
func BenchmarkRelayOverhead(b *testing.B) {
	for _, history := range []bool{false, true} {
		name := "no-history"
		if history {
			name = "with-history"
		}
		b.Run(name, func(b *testing.B) {
			app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.Copy(io.Discard, r.Body)
				w.WriteHeader(200)
			}))
			defer app.Close()
			cfg := relay.Config{Secret: secret, Forward: mustURL(app.URL)}
			if history {
				cfg.Recorder = benchWriter(b)
			}
			tun, err := tunnel.Local(0)
			if err != nil {
				b.Fatal(err)
			}
			srv := &http.Server{Handler: relay.New(cfg)}
			go srv.Serve(tun)
			defer srv.Close()

			sig := sign(event)
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
			send := func(url string) time.Duration {
				req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(event))
				req.Header.Set("X-Webhook-Signature", sig)
				start := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					b.Fatalf("status %d", resp.StatusCode)
				}
				return time.Since(start)
			}
			var direct, relayed time.Duration
			b.ResetTimer()
			for range b.N {
				direct += send(app.URL + "/webhooks/jasni")
				relayed += send(tun.URL() + "/webhooks/jasni")
			}
			b.ReportMetric(float64(direct.Nanoseconds())/float64(b.N), "direct-ns/op")
			b.ReportMetric(float64(relayed.Nanoseconds())/float64(b.N), "relayed-ns/op")
			b.ReportMetric(float64(relayed)/float64(direct), "ratio")
		})
	}
}

// BenchmarkRelayThroughput sends deliveries from 8 concurrent senders,
// straight to the app and then through the relay (with its history), in the
// same run, and reports deliveries per second for each and their ratio.
func BenchmarkRelayThroughput(b *testing.B) {
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(200)
	}))
	defer app.Close()
	tun, err := tunnel.Local(0)
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: relay.New(relay.Config{Secret: secret, Forward: mustURL(app.URL), Recorder: benchWriter(b)})}
	go srv.Serve(tun)
	defer srv.Close()

	sig := sign(event)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	const senders = 8
	burst := func(url string, n int) time.Duration {
		start := time.Now()
		jobs := make(chan struct{}, n)
		for range n {
			jobs <- struct{}{}
		}
		close(jobs)
		done := make(chan struct{})
		for range senders {
			go func() {
				defer func() { done <- struct{}{} }()
				for range jobs {
					req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(event))
					req.Header.Set("X-Webhook-Signature", sig)
					resp, err := client.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			}()
		}
		for range senders {
			<-done
		}
		return time.Since(start)
	}
	b.ResetTimer()
	direct := burst(app.URL+"/webhooks/jasni", b.N)
	relayed := burst(tun.URL()+"/webhooks/jasni", b.N)
	b.ReportMetric(float64(b.N)/direct.Seconds(), "direct-deliveries/s")
	b.ReportMetric(float64(b.N)/relayed.Seconds(), "relayed-deliveries/s")
	b.ReportMetric(direct.Seconds()/relayed.Seconds(), "throughput-ratio")
}

func benchWriter(b *testing.B) *store.Writer {
	st, err := store.Open(filepath.Join(b.TempDir(), "h.db"), store.DefaultLimits)
	if err != nil {
		b.Fatal(err)
	}
	w := st.NewWriter(store.WriterOptions{})
	b.Cleanup(func() {
		w.Close(context.Background())
		st.Close()
	})
	return w
}
