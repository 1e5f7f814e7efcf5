package payload

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jasni/jasni-cli/fixtures"
)

var now = time.Date(2026, 11, 22, 9, 15, 30, 123456789, time.UTC)

func build(t *testing.T, event string, opts Options) map[string]any {
	t.Helper()
	fx, ok := fixtures.Get(event)
	if !ok {
		t.Fatalf("no fixture %s", event)
	}
	if opts.Now.IsZero() {
		opts.Now = now
	}
	ev, err := FromFixture(fx.JSON, opts)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(ev.Body, &m); err != nil {
		t.Fatalf("body is not JSON: %v", err)
	}
	return m
}

func TestFromFixtureFreshness(t *testing.T) {
	m := build(t, "email.delivered", Options{})
	if m["timestamp"] != "2026-11-22T09:15:30.123Z" {
		t.Errorf("timestamp = %v, want now in ms precision", m["timestamp"])
	}
	data := m["data"].(map[string]any)
	// The fixture delivers 5 s after its event; that gap is kept.
	if data["deliveredAt"] != "2026-11-22T09:15:35.123Z" {
		t.Errorf("deliveredAt = %v, want 5 s after the new timestamp", data["deliveredAt"])
	}
	if data["id"] == "<a1b2c3d4e5f6@mail.example.com>" || data["id"] != data["messageId"] {
		t.Errorf("id %v / messageId %v: want fresh and equal", data["id"], data["messageId"])
	}

	kept := build(t, "email.delivered", Options{KeepIDs: true})["data"].(map[string]any)
	if kept["id"] != "<a1b2c3d4e5f6@mail.example.com>" {
		t.Errorf("--keep-ids changed id to %v", kept["id"])
	}

	uid := build(t, "email.received", Options{})["data"].(map[string]any)
	if id := uid["id"].(string); id == "48213" || strings.Trim(id, "0123456789") != "" {
		t.Errorf("a numeric UID should stay numeric and change: %q", id)
	}
	if uid["messageId"] == "<CAF8x2k9Qm3p7Lr@mail.example.com>" {
		t.Error("messageId not refreshed")
	}

	domain := build(t, "domain.verified", Options{})["data"].(map[string]any)
	if domain["verifiedAt"] != "2026-11-22T09:15:30.123Z" || domain["domain"] != "example.com" {
		t.Errorf("domain.verified data = %v", domain)
	}
}

func TestBodyKeepsFixtureOrderAndCharacters(t *testing.T) {
	fx, _ := fixtures.Get("email.received")
	ev, err := FromFixture(fx.JSON, Options{Now: now, KeepIDs: true})
	if err != nil {
		t.Fatal(err)
	}
	body := string(ev.Body)
	order := []string{`"event"`, `"timestamp"`, `"data"`, `"id"`, `"messageId"`, `"from"`, `"to"`, `"cc"`, `"subject"`, `"account"`, `"folder"`, `"text"`, `"html"`, `"attachments"`}
	last := -1
	for _, key := range order {
		i := strings.Index(body, key)
		if i <= last {
			t.Fatalf("%s out of order in %s", key, body)
		}
		last = i
	}
	if !strings.Contains(body, `"<CAF8x2k9Qm3p7Lr@mail.example.com>"`) || !strings.Contains(body, `"<p>Hi,</p>`) {
		t.Errorf("HTML characters escaped: %s", body)
	}
	if strings.Contains(body, "\n  ") || strings.Contains(body, `": `) {
		t.Errorf("body is not compact: %s", body)
	}
	if ev.Type != "email.received" || !ev.Timestamp.Equal(now.Truncate(time.Millisecond)) {
		t.Errorf("Type %q Timestamp %v", ev.Type, ev.Timestamp)
	}
}

func TestApplySet(t *testing.T) {
	tests := []struct {
		set     string
		check   func(m map[string]any) bool
		wantErr string
	}{
		{set: "data.subject=Quarterly report", check: func(m map[string]any) bool { return data(m)["subject"] == "Quarterly report" }},
		{set: `data.subject="123"`, check: func(m map[string]any) bool { return data(m)["subject"] == "123" }},
		{set: "data.subject=123", check: func(m map[string]any) bool { return data(m)["subject"] == 123.0 }},
		{set: "data.subject=", check: func(m map[string]any) bool { return data(m)["subject"] == "" }},
		{set: "data.subject=a=b", check: func(m map[string]any) bool { return data(m)["subject"] == "a=b" }},
		{set: "data.cc=null", check: func(m map[string]any) bool { v, ok := data(m)["cc"]; return ok && v == nil }},
		{set: "data.to[0]=x@example.com", check: func(m map[string]any) bool { return data(m)["to"].([]any)[0] == "x@example.com" }},
		{set: "data.to[1]=y@example.com", check: func(m map[string]any) bool { return len(data(m)["to"].([]any)) == 2 }},
		{set: `data.to=["a@example.com","b@example.com"]`, check: func(m map[string]any) bool { return len(data(m)["to"].([]any)) == 2 }},
		{set: "data.attachments[0].size=1", check: func(m map[string]any) bool {
			return data(m)["attachments"].([]any)[0].(map[string]any)["size"] == 1.0
		}},
		{set: "data.newField=true", check: func(m map[string]any) bool { return data(m)["newField"] == true }},
		{set: "event=email.custom", check: func(m map[string]any) bool { return m["event"] == "email.custom" }},
		{set: "data..x=1", wantErr: `bad path "data..x": empty name at position 6`},
		{set: "data.to[x]=1", wantErr: `index "x" is not a number`},
		{set: "data.to[0=1", wantErr: `missing "]"`},
		{set: "data.to[5]=1", wantErr: "data.to has 1 element; index 5 is out of range (use [1] to append)"},
		{set: "data.nope.x=1", wantErr: "data.nope does not exist (data has fields id, messageId"},
		{set: "data.subject.x=1", wantErr: "data.subject is a string, not an object"},
		{set: "data.subject[0]=1", wantErr: "data.subject is a string, not an array"},
		{set: "subject=x", wantErr: `"subject" is not one of them (did you mean data.subject?)`},
		{set: "nothing=x", wantErr: "paths start at the event, whose fields are event, timestamp, data"},
		{set: "data.subject", wantErr: "missing =VALUE"},
		{set: "=x", wantErr: "bad path"},
	}
	for _, tt := range tests {
		t.Run(tt.set, func(t *testing.T) {
			fx, _ := fixtures.Get("email.received")
			ev, err := FromFixture(fx.JSON, Options{Now: now, Sets: []string{tt.set}})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var m map[string]any
			json.Unmarshal(ev.Body, &m)
			if !tt.check(m) {
				t.Errorf("body after --set %s: %s", tt.set, ev.Body)
			}
		})
	}
}

func data(m map[string]any) map[string]any { return m["data"].(map[string]any) }

func TestFromFile(t *testing.T) {
	tests := []struct {
		name, content, event string
		keep                 bool
		wantBody, wantErr    string
	}{
		{name: "data object", content: `{"b":1,"a":2}`, event: "email.deleted",
			wantBody: `{"event":"email.deleted","timestamp":"2026-11-22T09:15:30.123Z","data":{"b":1,"a":2}}`},
		{name: "whole event, made fresh", content: `{"event":"email.sent","timestamp":"2020-01-01T00:00:00.000Z","data":{"sentAt":"2020-01-01T00:00:01.000Z"}}`,
			wantBody: `{"event":"email.sent","timestamp":"2026-11-22T09:15:30.123Z","data":{"sentAt":"2026-11-22T09:15:31.123Z"}}`},
		{name: "whole event as written, with --keep-ids", content: `{"event":"email.sent","timestamp":"2020-01-01T00:00:00.000Z","data":{"id":"7"}}`, keep: true,
			wantBody: `{"event":"email.sent","timestamp":"2020-01-01T00:00:00.000Z","data":{"id":"7"}}`},
		{name: "whole event without timestamp", content: `{"event":"email.sent","data":{"x":1}}`,
			wantBody: `{"event":"email.sent","timestamp":"2026-11-22T09:15:30.123Z","data":{"x":1}}`},
		{name: "exact numbers", content: `{"n":12345678901234567890,"f":1.50}`, event: "email.sent",
			wantBody: `{"event":"email.sent","timestamp":"2026-11-22T09:15:30.123Z","data":{"n":12345678901234567890,"f":1.50}}`},
		{name: "not JSON", content: `{"a":}`, event: "email.sent", wantErr: "not JSON: line 1, column"},
		{name: "truncated", content: "{\n\"a\":", event: "email.sent", wantErr: "line 2"},
		{name: "array", content: `[1]`, event: "email.sent", wantErr: "want a JSON object"},
		{name: "event not a string", content: `{"event":1,"data":{}}`, wantErr: `"event" must be a non-empty string`},
		{name: "data without a type", content: `{"id":"1"}`, wantErr: "name the event type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := FromFile([]byte(tt.content), tt.event, Options{Now: now, KeepIDs: tt.keep})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(ev.Body) != tt.wantBody {
				t.Errorf("body = %s\nwant   %s", ev.Body, tt.wantBody)
			}
		})
	}
}

// A fresh id keeps the old one's shape: apps check ids' forms.
func TestFreshIDKeepsShape(t *testing.T) {
	// shape is each character's class: digit, lower, upper, or itself.
	shape := func(s string) string {
		return strings.Map(func(r rune) rune {
			switch {
			case r >= '0' && r <= '9':
				return '9'
			case r >= 'a' && r <= 'z':
				return 'a'
			case r >= 'A' && r <= 'Z':
				return 'A'
			}
			return r
		}, s)
	}
	for _, old := range []string{"invoice_WF7WtCLFFtd8ubcTgboSFNql", "evt_3QJZbUFp9sTlXg7y1aB2cD3e", "820982911946154508", "cus_R8m2Xk4nWqYz1A"} {
		got, err := freshLike(old)
		if err != nil || got == old || shape(got) != shape(old) {
			t.Errorf("freshLike(%q) = %q, %v: want a new id of the shape %s", old, got, err, shape(old))
		}
	}
	tests := []struct {
		old  string
		want *regexp.Regexp
	}{
		{"txn_01hv8wptq8987qeep44cyrewp9", regexp.MustCompile(`^txn_[0-9a-z]{26}$`)},
		{"6761188f-7520-42d8-8898-ff6fc54ce618", regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)},
		{"42", regexp.MustCompile(`^[1-9][0-9]{5}$`)},
		{"<abc@mail.example.com>", regexp.MustCompile(`^<[0-9a-f]{24}@mail\.example\.com>$`)},
	}
	for _, tt := range tests {
		got, err := freshLike(tt.old)
		if err != nil || !tt.want.MatchString(got) || got == tt.old {
			t.Errorf("freshLike(%q) = %q, %v; want %s", tt.old, got, err, tt.want)
		}
	}
}
