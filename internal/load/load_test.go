package load

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jasni/jasni-cli/internal/payload"
	"github.com/jasni/jasni-cli/internal/provider"
)

// Percentiles by nearest rank against a known distribution: 1..100 ms,
// shuffled.
func TestSummarise(t *testing.T) {
	var lat []time.Duration
	for i := 100; i >= 1; i-- {
		lat = append(lat, time.Duration(i)*time.Millisecond)
	}
	rand.Shuffle(len(lat), func(i, j int) { lat[i], lat[j] = lat[j], lat[i] })
	p, hist := Summarise(lat)
	want := Percentiles{Min: 1, Mean: 50.5, P50: 50, P90: 90, P99: 99, Max: 100}
	if p != want {
		t.Errorf("got %+v, want %+v", p, want)
	}
	total := 0
	for i, b := range hist {
		total += b.Count
		if i > 0 && b.Le <= hist[i-1].Le {
			t.Errorf("buckets out of order: %+v", hist)
		}
	}
	if total != 100 || hist[len(hist)-1].Le != 100 {
		t.Errorf("histogram %+v", hist)
	}
	// Edge cases: one value, all equal.
	if p, h := Summarise([]time.Duration{3 * time.Millisecond}); p.P50 != 3 || p.P99 != 3 || len(h) != 1 || h[0].Count != 1 {
		t.Errorf("one value: %+v %+v", p, h)
	}
	if r := Rank([]time.Duration{1, 2, 3, 4}, 0.5); r != 2 {
		t.Errorf("Rank 0.5 of 4 = %d, want 2", r)
	}
}

func template(t *testing.T, name, event string) (*provider.Provider, *Template) {
	t.Helper()
	p, err := provider.Builtin(name)
	if err != nil {
		t.Fatal(err)
	}
	if event == "" {
		event = p.EventNames()[0]
	}
	fx, _ := p.Event(event)
	env := p.Envelope
	ev, err := payload.FromFixture(fx.JSON, payload.Options{Now: time.Now(), Envelope: &payload.Envelope{
		Event: env.Event, Timestamp: env.Timestamp, TimestampFormat: env.TimestampFormat, ID: env.ID, IDPrefix: env.IDPrefix}})
	if err != nil {
		t.Fatal(err)
	}
	if ev.Type == "" {
		ev.Type = event
	}
	return p, NewTemplate(ev)
}

// Each copy is valid JSON of the same shape, with new ids and the time of
// sending.
func TestTemplateFill(t *testing.T) {
	_, tmpl := template(t, "jasni", "email.received")
	rng := rand.NewChaCha8([32]byte{1})
	at := time.Date(2030, 1, 2, 3, 4, 5, 6e6, time.UTC)
	seen := map[string]bool{}
	var buf []byte
	for range 1000 {
		buf = tmpl.Fill(buf, at, rng)
		var ev struct {
			Timestamp string `json:"timestamp"`
			Data      struct {
				ID, MessageID string
			} `json:"data"`
		}
		if err := json.Unmarshal(buf, &ev); err != nil {
			t.Fatalf("%v: %s", err, buf)
		}
		if ev.Timestamp != "2030-01-02T03:04:05.006Z" {
			t.Errorf("timestamp %q", ev.Timestamp)
		}
		if seen[ev.Data.ID] || !strings.HasSuffix(ev.Data.MessageID, "@mail.example.com>") || ev.Data.ID[0] == '0' {
			t.Fatalf("id %q repeated or misshapen, message id %q", ev.Data.ID, ev.Data.MessageID)
		}
		seen[ev.Data.ID] = true
	}
	if len(tmpl.spans) < 3 {
		t.Errorf("spans %+v", tmpl.spans)
	}
}

// A run against a receiver that verifies every signature: all accepted,
// each one new by the provider's dedup key.
func TestRunVerified(t *testing.T) {
	for _, name := range []string{"jasni", "voisnap", "standard"} {
		t.Run(name, func(t *testing.T) {
			p, tmpl := template(t, name, "")
			secret := "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
			key, err := p.ParseKey(secret)
			if err != nil {
				t.Fatal(err)
			}
			var mu sync.Mutex
			keys := map[string]bool{}
			bad := 0
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body := make([]byte, r.ContentLength)
				_, _ = r.Body.Read(body)
				mu.Lock()
				defer mu.Unlock()
				if p.Verify([]provider.Key{key}, body, r.Header, time.Now()) != nil {
					bad++
					w.WriteHeader(http.StatusUnauthorized)
					return
				}
				keys[p.DedupKey(r.Header, body)] = true
			}))
			defer srv.Close()
			s, err := Run(context.Background(), Config{URL: srv.URL, Provider: p, Keys: []provider.Key{key}, Templates: []*Template{tmpl},
				Count: 300, Concurrency: 8, Client: srv.Client()}, nil)
			if err != nil || s.Requests != 300 || s.OK != 300 || bad != 0 || len(keys) != 300 || s.Status["200"] != 300 {
				t.Errorf("%+v %v; %d refused, %d distinct", s, err, bad, len(keys))
			}
		})
	}
}

// --rate: no delivery goes out ahead of its time (k deliveries take at
// least (k-1)/rate), and the run is not much slower than asked.
func TestRate(t *testing.T) {
	p, tmpl := template(t, "jasni", "email.sent")
	var mu sync.Mutex
	var arrivals []time.Time
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		arrivals = append(arrivals, time.Now())
		mu.Unlock()
	}))
	defer srv.Close()
	const rate, n = 200.0, 40
	// Measured from before the run: the first delivery may arrive late on
	// a loaded machine, and the ones after it on time, which measured from
	// it would look early. Nothing can arrive before its time from here.
	start := time.Now()
	s, err := Run(context.Background(), Config{URL: srv.URL, Provider: p, Templates: []*Template{tmpl},
		Count: n, Concurrency: 8, Rate: rate, Client: srv.Client()}, nil)
	if err != nil || s.Requests != n {
		t.Fatalf("%+v %v", s, err)
	}
	slices.SortFunc(arrivals, func(a, b time.Time) int { return a.Compare(b) })
	for k := 1; k < n; k++ {
		if got, least := arrivals[k].Sub(start), time.Duration(float64(k-1)/rate*float64(time.Second)); got < least {
			t.Errorf("delivery %d after %s, before its time %s", k+1, got, least)
		}
	}
	// Loose on purpose: a noisy machine may be slow, never fast.
	if want := time.Duration(float64(n-1) / rate * float64(time.Second)); s.Elapsed > want+2*time.Second {
		t.Errorf("took %s for %s of pacing", s.Elapsed, want)
	}
}

// --duration ends the run; deliveries cut short by the end are not failures.
func TestDuration(t *testing.T) {
	p, tmpl := template(t, "jasni", "email.sent")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	s, err := Run(context.Background(), Config{URL: srv.URL, Provider: p, Templates: []*Template{tmpl},
		Duration: 100 * time.Millisecond, Concurrency: 4, Client: srv.Client()}, nil)
	if err != nil || s.Requests == 0 || s.Failed != 0 {
		t.Errorf("%+v %v", s, err)
	}
}
