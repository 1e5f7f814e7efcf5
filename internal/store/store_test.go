package store

import (
	"errors"
	"net/http"
	"path/filepath"
	"testing"
	"time"
)

func TestRoundTrip(t *testing.T) {
	s := Open(filepath.Join(t.TempDir(), "state", "history.db"), DefaultLimits)
	if list, err := s.List("", 0); err != nil || len(list) != 0 {
		t.Fatalf("empty store: %v %v", list, err)
	}
	if _, err := s.Get("dlv_x"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get on an empty store: %v", err)
	}
	now := time.Now()
	ids := []string{}
	for i, ev := range []string{"email.sent", "email.received", "email.sent"} {
		d := &Delivery{ID: NewID(now.Add(time.Duration(i) * time.Millisecond)), ReceivedAt: now, Method: "POST", Path: "/webhooks/jasni",
			Header: http.Header{"X-Webhook-Event": {ev}}, Body: []byte(`{"event":"` + ev + `"}`), Event: ev, Verdict: VerdictValid, Answer: 200}
		if err := s.Save(d); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, d.ID)
	}
	got, err := s.Get(ids[1])
	if err != nil || string(got.Body) != `{"event":"email.received"}` || got.Header.Get("X-Webhook-Event") != "email.received" {
		t.Fatalf("Get = %+v, %v", got, err)
	}
	list, _ := s.List("", 0)
	if len(list) != 3 || list[0].ID != ids[2] {
		t.Errorf("List newest first: %v", list)
	}
	if list, _ := s.List("email.sent", 1); len(list) != 1 || list[0].ID != ids[2] {
		t.Errorf("List filtered and limited: %v", list)
	}
	err = s.Update(ids[0], func(d *Delivery) { d.Forward = &Forward{Status: 502, Error: "down"} })
	if got, _ := s.Get(ids[0]); err != nil || got.Forward == nil || got.Forward.Status != 502 {
		t.Errorf("Update: %v %+v", err, got)
	}
	if n, err := s.Prune(0); err != nil || n != 3 {
		t.Errorf("Prune all: %d %v", n, err)
	}
}

func TestLimits(t *testing.T) {
	s := Open(filepath.Join(t.TempDir(), "h.db"), Limits{MaxCount: 3, MaxAge: time.Hour})
	now := time.Now()
	old := &Delivery{ID: NewID(now.Add(-2 * time.Hour)), Event: "old"}
	if err := s.Save(old); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if err := s.Save(&Delivery{ID: NewID(now.Add(time.Duration(i) * time.Millisecond))}); err != nil {
			t.Fatal(err)
		}
	}
	list, _ := s.List("", 0)
	if len(list) != 3 {
		t.Errorf("kept %d, want the newest 3", len(list))
	}
	if _, err := s.Get(old.ID); !errors.Is(err, ErrNotFound) {
		t.Error("an expired delivery was kept")
	}
}

func TestSecondOpenerIsNotBlockedForLong(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.db")
	a, b := Open(path, DefaultLimits), Open(path, DefaultLimits)
	if err := a.Save(&Delivery{ID: NewID(time.Now())}); err != nil {
		t.Fatal(err)
	}
	// Two handles on one file, as listen and events list would be: each
	// operation opens and closes the file, so neither holds the lock.
	if list, err := b.List("", 0); err != nil || len(list) != 1 {
		t.Errorf("second handle: %v %v", list, err)
	}
	if err := a.Save(&Delivery{ID: NewID(time.Now().Add(time.Millisecond))}); err != nil {
		t.Errorf("first handle after the second: %v", err)
	}
}
