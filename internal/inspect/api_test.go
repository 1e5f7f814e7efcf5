package inspect_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// call makes an API request as the page does, and decodes the answer.
func (r *rig) call(t *testing.T, method, path string, in, out any) int {
	t.Helper()
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, r.url+path, body)
	req.Header.Set("X-Jasni-Token", r.token)
	req.Header.Set("Origin", r.url)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, raw)
		}
	}
	return resp.StatusCode
}

type attemptAnswer struct {
	Attempt struct {
		Status int
		By     string
		Sent   *struct {
			Headers map[string][]string
			Body    json.RawMessage
		}
	}
	OK    bool
	Note  string
	Error string
}

func TestReplay(t *testing.T) {
	r := newRig(t)
	original := `{"event":"email.received","timestamp":"2024-01-15T10:30:00.000Z","data":{"id":"1","n":12345678901234567890}}`
	r.send(t, original)
	id := r.kept(t, 1)[0].ID
	edited := `{"event":"email.received","timestamp":"2024-01-15T10:30:00.000Z","data":{"id":"edited"}}`
	tests := []struct {
		name     string
		req      map[string]any
		status   int
		body     string
		verified bool
	}{
		{"as received", map[string]any{"sign": "as-is"}, 200, original, true},
		{"re-signed", map[string]any{"sign": "fresh"}, 200, original, true},
		{"no options", nil, 200, original, true},
		{"edited, signed again", map[string]any{"body": edited}, 200, edited, true},
		{"edited, unsigned on purpose", map[string]any{"body": edited, "sign": "none"}, 200, edited, false},
		{"unsigned on purpose", map[string]any{"sign": "none"}, 200, original, false},
		{"wrongly signed on purpose", map[string]any{"sign": "wrong"}, 200, original, false},
		{"edited headers", map[string]any{"headers": map[string][]string{"Content-Type": {"application/json"}, "X-Extra": {"1"}}}, 200, original, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var a attemptAnswer
			if st := r.call(t, "POST", "/api/deliveries/"+id+"/replay", tt.req, &a); st != tt.status {
				t.Fatalf("status %d: %+v", st, a)
			}
			<-r.arrived
			got := r.last()
			if string(got.body) != tt.body {
				t.Errorf("the app got %s, want %s", got.body, tt.body)
			}
			if got.verified != tt.verified {
				t.Errorf("the app verified it: %v, want %v", got.verified, tt.verified)
			}
			if a.OK != tt.verified || (a.Attempt.Status == 200) != tt.verified || a.Attempt.By != "replay" {
				t.Errorf("answer %+v", a)
			}
		})
	}
	var d struct {
		Attempts []struct {
			By     string
			Status int
		}
	}
	r.call(t, "GET", "/api/deliveries/"+id, nil, &d)
	if len(d.Attempts) != 1+len(tests) || d.Attempts[0].By != "listen" || d.Attempts[1].By != "replay" {
		t.Errorf("attempts %+v: want listen's forward then each replay", d.Attempts)
	}

	bad := []struct {
		name string
		req  any
		want int
	}{
		{"unknown sign", map[string]any{"sign": "maybe"}, 400},
		{"unknown field", map[string]any{"url": "http://evil.example"}, 400},
		{"bad header name", map[string]any{"headers": map[string][]string{"Bad Name": {"x"}}}, 400},
		{"header value with a line break", map[string]any{"headers": map[string][]string{"X-A": {"a\r\nX-B: b"}}}, 400},
		{"header value with a control character", map[string]any{"headers": map[string][]string{"X-A": {"a\u0001b"}}}, 400},
		{"body and body_base64", map[string]any{"body": "a", "body_base64": "YQ=="}, 400},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			var e struct{ Error, Message string }
			if st := r.call(t, "POST", "/api/deliveries/"+id+"/replay", tt.req, &e); st != tt.want || e.Message == "" {
				t.Errorf("status %d %+v, want %d with a message", st, e, tt.want)
			}
		})
	}
}

func TestListFilters(t *testing.T) {
	r := newRig(t)
	for _, ev := range []string{"email.received", "email.sent", "email.received"} {
		r.send(t, `{"event":"`+ev+`","timestamp":"2024-01-15T10:30:00.000Z","data":{}}`)
	}
	ds := r.kept(t, 3)
	type list struct {
		Deliveries []struct{ ID, Event string }
		More       bool
	}
	tests := []struct {
		query string
		want  []string
		more  bool
	}{
		{"", []string{ds[0].ID, ds[1].ID, ds[2].ID}, false},
		{"?event=email.received", []string{ds[0].ID, ds[2].ID}, false},
		{"?limit=1", []string{ds[0].ID}, true},
		{"?limit=1&before=" + ds[0].ID, []string{ds[1].ID}, true},
		{"?after=" + ds[2].ID, []string{ds[0].ID, ds[1].ID}, false},
		{"?verdict=valid&status=2xx", []string{ds[0].ID, ds[1].ID, ds[2].ID}, false},
		{"?verdict=invalid", nil, false},
		{"?status=500", nil, false},
		{"?refused=1", nil, false},
	}
	for _, tt := range tests {
		var l list
		if st := r.call(t, "GET", "/api/deliveries"+tt.query, nil, &l); st != 200 {
			t.Fatalf("%s: status %d", tt.query, st)
		}
		var got []string
		for _, d := range l.Deliveries {
			got = append(got, d.ID)
		}
		if strings.Join(got, ",") != strings.Join(tt.want, ",") || l.More != tt.more {
			t.Errorf("%s: %v more=%v, want %v more=%v", tt.query, got, l.More, tt.want, tt.more)
		}
	}
}

func TestHAR(t *testing.T) {
	r := newRig(t)
	bodies := []string{
		`{"event":"email.received","timestamp":"2024-01-15T10:30:00.000Z","data":{"id":"1"}}`,
		`{"event":"email.sent","timestamp":"2024-01-15T10:30:00.000Z","data":{"html":"<script>alert(1)</script>"}}`,
	}
	for _, b := range bodies {
		r.send(t, b)
	}
	ds := r.kept(t, 2)
	var one attemptAnswer
	r.call(t, "POST", "/api/deliveries/"+ds[0].ID+"/replay", map[string]any{"body": `{"edited":true}`}, &one)
	<-r.arrived

	var h struct {
		Log struct {
			Version string
			Creator struct{ Name string }
			Entries []struct {
				StartedDateTime string
				Request         struct {
					Method, URL string
					Headers     []struct{ Name, Value string }
					PostData    struct{ MimeType, Text string }
				}
				Response struct {
					Status  int
					Content struct{ Text string }
				}
			}
		}
	}
	if st := r.call(t, "GET", "/api/export.har?ids="+ds[1].ID+","+ds[0].ID+","+ds[1].ID, nil, &h); st != 200 {
		t.Fatalf("status %d", st)
	}
	if h.Log.Version != "1.2" || h.Log.Creator.Name != "jasni" || len(h.Log.Entries) != 3 {
		t.Fatalf("log %+v", h.Log)
	}
	e := h.Log.Entries
	if e[0].Request.PostData.Text != bodies[0] || e[1].Request.PostData.Text != bodies[1] || e[2].Request.PostData.Text != `{"edited":true}` {
		t.Errorf("bodies %q %q %q", e[0].Request.PostData.Text, e[1].Request.PostData.Text, e[2].Request.PostData.Text)
	}
	if e[0].Response.Status != 200 || e[0].Response.Content.Text != `{"ok":true}` || !strings.HasSuffix(e[0].Request.URL, "/webhooks/jasni") {
		t.Errorf("first entry %+v", e[0])
	}
	for _, x := range e {
		if _, err := time.Parse(time.RFC3339Nano, x.StartedDateTime); err != nil || x.Request.Method != "POST" {
			t.Errorf("entry %+v", x)
		}
	}
}

func TestStream(t *testing.T) {
	r := newRig(t)
	resp, err := http.Get(r.url + "/api/stream")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	lines := bufio.NewScanner(resp.Body)
	next := func() string {
		for lines.Scan() {
			if l := lines.Text(); strings.HasPrefix(l, "event: ") && l != "event: ping" {
				lines.Scan()
				return l + "\n" + lines.Text()
			}
		}
		t.Fatal("the stream ended")
		return ""
	}
	if ev := next(); !strings.HasPrefix(ev, "event: hello") {
		t.Fatalf("first event %q", ev)
	}
	r.send(t, `{"event":"email.received","timestamp":"2024-01-15T10:30:00.000Z","data":{"id":"<img src=x onerror=alert(1)>"}}`)
	// It shows when kept (in flight) and again when answered.
	ev := next()
	if !strings.Contains(ev, `"answer":200`) {
		ev = next()
	}
	if !strings.HasPrefix(ev, "event: delivery\ndata: {") || !strings.Contains(ev, `"event":"email.received"`) || !strings.Contains(ev, `"answer":200`) {
		t.Fatalf("event %q", ev)
	}
	if strings.Contains(ev, "<img") {
		t.Errorf("markup in the stream unescaped: %q", ev)
	}
}

// A page that stops reading its stream never slows a delivery: the relay
// answers every one while the stream sits unread. Reading again, the page
// gets every delivery or is told it missed some (then it reloads the list).
func TestStalledPageNeverSlowsDeliveries(t *testing.T) {
	r := newRig(t)
	resp, err := http.Get(r.url + "/api/stream")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	// Nothing is read from resp.Body while 600 deliveries go through,
	// more than the stream's buffer of 256 events.
	for i := range 600 {
		r.send(t, `{"event":"email.received","timestamp":"2024-01-15T10:30:00.000Z","data":{"n":`+strconv.Itoa(i)+`}}`)
	}
	last := r.kept(t, 600)[0].ID
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		l := sc.Text()
		if l == "event: missed" || strings.Contains(l, `"id":"`+last+`"`) && strings.Contains(l, `"answer":200`) {
			return
		}
	}
	t.Error("the stream ended without the last delivery or word of what it missed")
}

// A refused delivery carries the provider's explanation, in verify's words.
func TestRefusedSaysWhy(t *testing.T) {
	r := newRig(t)
	req, _ := http.NewRequest(http.MethodPost, r.relayURL, strings.NewReader(`{"event":"email.received","data":{}}`+"\n"))
	req.Header.Set("X-Webhook-Signature", "00")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var l struct {
		Deliveries []struct {
			ID      string
			Verdict string
			Forward struct{ Skipped, Fix string }
		}
	}
	if err := r.writer.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	r.call(t, "GET", "/api/deliveries?refused=1", nil, &l)
	if len(l.Deliveries) != 1 || l.Deliveries[0].Verdict != "invalid" || !strings.Contains(l.Deliveries[0].Forward.Skipped, "signature") {
		t.Fatalf("refused list %+v", l)
	}
}

// Text after the replay object is refused, not ignored.
func TestReplayTrailingText(t *testing.T) {
	r := newRig(t)
	r.send(t, `{"event":"email.received","timestamp":"2024-01-15T10:30:00.000Z","data":{}}`)
	id := r.kept(t, 1)[0].ID
	req, _ := http.NewRequest("POST", r.url+"/api/deliveries/"+id+"/replay", strings.NewReader(`{"sign":"none"} and more`))
	req.Header.Set("X-Jasni-Token", r.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("status %d, want 400", resp.StatusCode)
	}
}

// At most a few pages follow the stream: each costs the relay an encoding
// of every delivery.
func TestStreamsAreCapped(t *testing.T) {
	r := newRig(t)
	var open []*http.Response
	defer func() {
		for _, resp := range open {
			resp.Body.Close()
		}
	}()
	for i := 0; ; i++ {
		resp, err := http.Get(r.url + "/api/stream")
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode == http.StatusServiceUnavailable {
			resp.Body.Close()
			if i < 4 {
				t.Fatalf("only %d pages may follow the stream", i)
			}
			return
		}
		// Wait for the stream's first event, so it is counted.
		if _, err := bufio.NewReader(resp.Body).ReadString('\n'); err != nil {
			t.Fatal(err)
		}
		open = append(open, resp)
		if i > 100 {
			t.Fatal("no cap on the pages that follow the stream")
		}
	}
}
