package delivery

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func send(t *testing.T, s *Sender, url string) (Attempt, []Attempt) {
	t.Helper()
	var seen []Attempt
	final, err := s.Send(context.Background(), Request{URL: url, Body: []byte(`{"a":1}`), Header: http.Header{"X-Test": {"1"}}}, func(a Attempt) {
		seen = append(seen, a)
	})
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	return final, seen
}

func TestSendAnswers(t *testing.T) {
	tests := []struct {
		name      string
		handler   http.HandlerFunc
		wantOK    bool
		wantCode  int
		wantBody  string
		truncated bool
		location  string
	}{
		{name: "200", handler: func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "OK") }, wantOK: true, wantCode: 200, wantBody: "OK"},
		{name: "204", handler: func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) }, wantOK: true, wantCode: 204},
		{name: "401", handler: func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "Invalid signature", http.StatusUnauthorized)
		}, wantCode: 401, wantBody: "Invalid signature\n"},
		{name: "500", handler: func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) }, wantCode: 500},
		{name: "redirect not followed", handler: func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/elsewhere" {
				io.WriteString(w, "followed")
				return
			}
			http.Redirect(w, r, "/elsewhere", http.StatusMovedPermanently)
		}, wantCode: 301, location: "/elsewhere"},
		{name: "huge answer is cut", handler: func(w http.ResponseWriter, r *http.Request) {
			chunk := strings.Repeat("x", 32<<10)
			for range 200 { // 6.4 MiB
				if _, err := io.WriteString(w, chunk); err != nil {
					return
				}
			}
		}, wantOK: true, wantCode: 200, truncated: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.handler)
			defer srv.Close()
			a, seen := send(t, &Sender{Client: srv.Client(), Timeout: 10 * time.Second}, srv.URL+"/hook")
			if a.OK() != tt.wantOK || a.Status != tt.wantCode {
				t.Errorf("got OK=%v status=%d err=%v, want OK=%v status=%d", a.OK(), a.Status, a.Err, tt.wantOK, tt.wantCode)
			}
			if tt.wantBody != "" && string(a.Body) != tt.wantBody {
				t.Errorf("body = %q, want %q", a.Body, tt.wantBody)
			}
			if a.Truncated != tt.truncated || len(a.Body) > MaxResponseBody {
				t.Errorf("truncated = %v (%d bytes kept), want %v", a.Truncated, len(a.Body), tt.truncated)
			}
			if a.Location != tt.location {
				t.Errorf("location = %q, want %q", a.Location, tt.location)
			}
			if len(seen) != 1 || a.Number != 1 || a.Of != 1 {
				t.Errorf("attempts seen = %d, number %d/%d; want exactly one", len(seen), a.Number, a.Of)
			}
		})
	}
}

func TestSendSendsBodyAndHeadersAsGiven(t *testing.T) {
	var gotBody string
	var gotHeader http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		gotBody, gotHeader = string(b), r.Header
	}))
	defer srv.Close()
	send(t, &Sender{Client: srv.Client()}, srv.URL)
	if gotBody != `{"a":1}` || gotHeader.Get("X-Test") != "1" {
		t.Errorf("server got body %q header %v", gotBody, gotHeader)
	}
}

func TestSendTransportErrors(t *testing.T) {
	// A port with nothing listening: bind, note the address, close.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedURL := "http://" + ln.Addr().String()
	ln.Close()

	release := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer hang.Close()
	defer close(release)

	hangup := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, _, _ := w.(http.Hijacker).Hijack()
		conn.Close()
	}))
	defer hangup.Close()

	tests := []struct {
		name, url string
		kind      Kind
		message   string
	}{
		{"refused", closedURL, KindRefused, "nothing is listening on " + strings.TrimPrefix(closedURL, "http://")},
		{"timeout", hang.URL, KindTimeout, "did not answer within 200ms"},
		{"hang-up", hangup.URL, KindReset, "closed the connection"},
		{"unknown host", "http://no-such-host.invalid/hook", KindDNS, "cannot resolve host no-such-host.invalid"},
		// An app that serves plain HTTP, sent to with https://.
		{"https to http", "https://" + strings.TrimPrefix(hangup.URL, "http://"), KindTLS, "answered in plain HTTP, not HTTPS: use http:// in the URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, _ := send(t, &Sender{Client: &http.Client{}, Timeout: 200 * time.Millisecond}, tt.url)
			var te *TransportError
			if !errors.As(a.Err, &te) {
				t.Fatalf("err = %v, want a *TransportError", a.Err)
			}
			if te.Kind != tt.kind || !strings.Contains(te.Error(), tt.message) {
				t.Errorf("kind %q, message %q; want %q containing %q", te.Kind, te.Error(), tt.kind, tt.message)
			}
			if a.OK() || a.Status != 0 {
				t.Errorf("OK=%v status=%d for a transport error", a.OK(), a.Status)
			}
		})
	}
}

func TestSendRetriesOnSchedule(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) < 3 {
			w.WriteHeader(503)
		}
	}))
	defer srv.Close()

	var waited []time.Duration
	s := &Sender{Client: srv.Client(), Schedule: JasniSchedule, Wait: func(_ context.Context, d time.Duration) error {
		waited = append(waited, d)
		return nil
	}}
	final, seen := send(t, s, srv.URL)
	if !final.OK() || final.Number != 3 || final.Of != 4 {
		t.Fatalf("final attempt %d/%d OK=%v, want 3/4 OK", final.Number, final.Of, final.OK())
	}
	if len(seen) != 3 || seen[0].Status != 503 || seen[1].Status != 503 {
		t.Errorf("attempts %+v, want 503, 503, 200", seen)
	}
	want := []time.Duration{10 * time.Second, 60 * time.Second}
	if len(waited) != len(want) || waited[0] != want[0] || waited[1] != want[1] {
		t.Errorf("waited %v, want %v (the first attempt is immediate)", waited, want)
	}
}

func TestSendGivesUpAfterSchedule(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) }))
	defer srv.Close()
	s := &Sender{Client: srv.Client(), Schedule: []time.Duration{0, 0, 0}}
	final, seen := send(t, s, srv.URL)
	if final.OK() || len(seen) != 3 || final.Number != 3 {
		t.Errorf("final %d/%d OK=%v after %d attempts; want 3 failed attempts", final.Number, final.Of, final.OK(), len(seen))
	}
}

func TestSendStopsWhenCanceled(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) }))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	s := &Sender{Client: srv.Client(), Schedule: []time.Duration{0, time.Hour}, Wait: func(ctx context.Context, d time.Duration) error {
		cancel()
		<-ctx.Done()
		return ctx.Err()
	}}
	_, err := s.Send(ctx, Request{URL: srv.URL}, nil)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}
