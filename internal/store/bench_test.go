package store

// Benchmarks of the history: recording (the writer, as listen uses it),
// listing a page, and opening 10,000 deliveries (what each `jasni events`
// pays). Measured 2026-12-04 against the SQLite store on this machine:
// 29 against 40 µs a delivery recorded, 31 against 216 µs a page of 50,
// 10.4 against 1.3 ms an open (the log is read whole; SQLite reads pages).

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func BenchmarkWriter1KiB(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), "h.db"), DefaultLimits)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	w := s.NewWriter(WriterOptions{})
	body := strings.Repeat("x", 1024)
	now := time.Now()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d := delivery(now.Add(time.Duration(i)), "email.sent", body)
		d.Answer = 200
		d.Forward = &Attempt{URL: "http://localhost:3000", Status: 200}
		d.Attempts = []Attempt{*d.Forward}
		for w.Record(d, nil) != nil {
			w.Flush(context.Background())
		}
	}
	w.Close(context.Background())
}

func BenchmarkList50(b *testing.B) {
	s, _ := Open(filepath.Join(b.TempDir(), "h.db"), DefaultLimits)
	defer s.Close()
	var ds []*Delivery
	now := time.Now()
	for i := 0; i < 10000; i++ {
		ds = append(ds, delivery(now.Add(time.Duration(i)), "email.sent", `{"a":1}`))
	}
	s.Put(context.Background(), ds...)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if l, _ := s.List(context.Background(), Query{Limit: 50}); len(l) != 50 {
			b.Fatal(len(l))
		}
	}
}

func BenchmarkOpen10k(b *testing.B) {
	p := filepath.Join(b.TempDir(), "h.db")
	s, _ := Open(p, DefaultLimits)
	var ds []*Delivery
	now := time.Now()
	for i := 0; i < 10000; i++ {
		ds = append(ds, delivery(now.Add(time.Duration(i)), "email.sent", strings.Repeat("y", 2000)))
	}
	s.Put(context.Background(), ds...)
	s.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s, err := Open(p, DefaultLimits)
		if err != nil {
			b.Fatal(err)
		}
		s.Count(context.Background(), false)
		s.Close()
	}
}
