package store

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	seedOnce sync.Once
	seedFile []byte
)

// seedHistory is a small valid history file, the starting point for the
// fuzzer's damage.
func seedHistory(f *testing.F) []byte {
	seedOnce.Do(func() {
		path := filepath.Join(f.TempDir(), "seed.db")
		s, err := Open(path, DefaultLimits)
		if err != nil {
			f.Fatal(err)
		}
		now := time.Now()
		_ = s.Put(context.Background(), delivery(now, "email.sent", `{"event":"email.sent"}`), junk(now.Add(time.Millisecond), "junk"))
		s.Close()
		seedFile, _ = os.ReadFile(path)
	})
	return seedFile
}

// FuzzHistoryFile: a history file damaged in any way opens, lists, reads
// and takes a new delivery, or says it is damaged; it never panics.
func FuzzHistoryFile(f *testing.F) {
	seed := seedHistory(f)
	lockWait = 0 // no other process holds the lock here: a damaged file must not wait for one
	f.Add(seed, 0, byte(0))
	f.Add(seed, 100, byte(0xff))
	f.Add(seed[:len(seed)/2], 0, byte(0))
	f.Add([]byte("SQLite format 3\x00garbage"), 20, byte(1))
	f.Add(append(seed, seed[fileHead:]...), len(seed)+3, byte(0x80))
	f.Fuzz(func(t *testing.T, file []byte, at int, b byte) {
		path := writeDamaged(t, file, at, b)
		s, err := Open(path, DefaultLimits)
		if err != nil {
			return
		}
		defer s.Close()
		ctx := context.Background()
		list, _ := s.List(ctx, Query{})
		for _, d := range list {
			_, _ = s.Get(ctx, d.ID)
		}
		_, _ = s.List(ctx, Query{Rejected: true})
		w := s.NewWriter(WriterOptions{})
		_ = w.Record(delivery(time.Now(), "email.received", "{}"), nil)
		_ = w.Close(ctx)
		_, _ = s.Prune(ctx, time.Hour)
	})
}

// FuzzHeader: stored headers read back as they were written, and anything
// read from a damaged file decodes without a panic.
func FuzzHeader(f *testing.F) {
	f.Add("X-Webhook-Signature", "abc", []byte("Content-Type: application/json\nX: a: b\n"))
	f.Add("", "", []byte("no colon\n: empty\n\n\xff"))
	f.Fuzz(func(t *testing.T, k, v string, raw []byte) {
		_ = decodeHeader(raw)
		if k == "" || strings.ContainsAny(k, ":\n ") || strings.Contains(v, "\n") {
			return
		}
		h := http.Header{k: {v, v + "2"}}
		got := decodeHeader(encodeHeader(nil, h))
		if len(got[k]) != 2 || got[k][0] != v || got[k][1] != v+"2" {
			t.Fatalf("%q: %q -> %q", k, h, got)
		}
	})
}

// writeDamaged writes file, with the byte at at (from either end) XORed
// with b, as a history.db in a new directory, and returns its path.
func writeDamaged(t *testing.T, file []byte, at int, b byte) string {
	file = bytes.Clone(file)
	if len(file) > 0 {
		if at < 0 {
			at = -at
		}
		file[at%len(file)] ^= b
	}
	path := filepath.Join(t.TempDir(), "history.db")
	if err := os.WriteFile(path, file, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
