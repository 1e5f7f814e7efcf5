package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

var ctx = context.Background()

func open(t *testing.T, path string, limits Limits) *Store {
	t.Helper()
	s, err := Open(path, limits)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func delivery(at time.Time, event string, body string) *Delivery {
	return &Delivery{ID: NewID(at), ReceivedAt: at, Method: "POST", Path: "/webhooks/jasni", RemoteAddr: "127.0.0.1:5000",
		Header: http.Header{"X-Webhook-Event": {event}}, Body: []byte(body), BodySize: int64(len(body)),
		Event: event, Verdict: VerdictValid}
}

func junk(at time.Time, body string) *Delivery {
	return &Delivery{ID: NewID(at), ReceivedAt: at, Method: "POST", Path: "/webhooks/jasni", RemoteAddr: "198.51.100.1:1",
		Header: http.Header{"X-Junk": {"1"}}, Body: []byte(body), BodySize: int64(len(body)),
		Verdict: VerdictMissing, Rejected: true, Answer: 401, Forward: &Attempt{Skipped: "signature missing"}}
}

// write records ds through a writer and waits until they are committed.
func write(t *testing.T, s *Store, ds ...*Delivery) {
	t.Helper()
	w := s.NewWriter(WriterOptions{})
	for _, d := range ds {
		if err := w.Record(d, nil); err != nil {
			t.Fatal(err)
		}
		if !d.Rejected {
			w.Finish(d)
		}
	}
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := w.Err(); err != nil {
		t.Fatal(err)
	}
}

func TestRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state", "history.db")
	s := open(t, path, DefaultLimits)
	if list, err := s.List(ctx, Query{}); err != nil || len(list) != 0 {
		t.Fatalf("empty store: %v %v", list, err)
	}
	if _, err := s.Get(ctx, "dlv_x"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get on an empty store: %v", err)
	}
	now := time.Now()
	var ds []*Delivery
	for i, ev := range []string{"email.sent", "email.received", "email.sent"} {
		d := delivery(now.Add(time.Duration(i)*time.Millisecond), ev, `{"event":"`+ev+`"}`)
		d.Answer = 200
		d.Forward = &Attempt{URL: "http://localhost:3000", Status: 200, DurationMS: 3}
		ds = append(ds, d)
	}
	write(t, s, ds...)

	got, err := s.Get(ctx, ds[1].ID)
	if err != nil || string(got.Body) != `{"event":"email.received"}` || got.Header.Get("X-Webhook-Event") != "email.received" ||
		got.Answer != 200 || got.Forward == nil || got.Forward.Status != 200 || !got.ReceivedAt.Equal(ds[1].ReceivedAt) {
		t.Fatalf("Get = %+v, %v", got, err)
	}
	list, _ := s.List(ctx, Query{})
	if len(list) != 3 || list[0].ID != ds[2].ID || list[0].Body != nil || list[0].Header != nil {
		t.Errorf("List newest first, without bodies: %+v", list)
	}
	if list, _ := s.List(ctx, Query{Event: "email.sent", Limit: 1}); len(list) != 1 || list[0].ID != ds[2].ID {
		t.Errorf("List filtered and limited: %+v", list)
	}
	if err := s.AddAttempt(ctx, ds[0].ID, Attempt{By: AttemptByResend, Status: 502, Error: "down"}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Get(ctx, ds[0].ID); len(got.Attempts) != 2 || got.Attempts[1].Error != "down" || got.Attempts[0].By != AttemptByListen {
		t.Errorf("resend not recorded: %+v", got)
	}
	if err := s.AddAttempt(ctx, "dlv_nope", Attempt{}); !errors.Is(err, ErrNotFound) {
		t.Errorf("AddAttempt of an unknown id: %v", err)
	}

	for _, f := range []string{path, path + "-lock"} {
		if fi, err := os.Stat(f); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v %v, want mode 0600", f, fi.Mode(), err)
		}
	}
	if fi, _ := os.Stat(filepath.Dir(path)); fi.Mode().Perm() != 0o700 {
		t.Errorf("directory mode %v", fi.Mode())
	}

	n, err := s.Prune(ctx, 0)
	if err != nil || n != 3 {
		t.Errorf("Prune all = %d, %v", n, err)
	}
}

// An outcome that arrives after its delivery was written updates it.
func TestFinishLater(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "h.db"), DefaultLimits)
	w := s.NewWriter(WriterOptions{})
	d := delivery(time.Now(), "email.sent", `{}`)
	if err := w.Record(d, nil); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Get(ctx, d.ID); got.Answer != 0 || got.Forward != nil {
		t.Fatalf("recorded before its outcome: %+v", got)
	}
	w = s.NewWriter(WriterOptions{})
	d.Answer, d.Duplicate, d.Forward = 502, true, &Attempt{Error: "app down"}
	w.Finish(d)
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Get(ctx, d.ID); got.Answer != 502 || !got.Duplicate || got.Forward == nil || got.Forward.Error != "app down" {
		t.Fatalf("outcome not written: %+v", got)
	}
}

func TestQuotas(t *testing.T) {
	limits := Limits{MaxCount: 5, MaxBytes: 1 << 20, MaxRejected: 20, MaxRejectedBytes: 1 << 20}
	s := open(t, filepath.Join(t.TempDir(), "h.db"), limits)
	now := time.Now()
	var real []*Delivery
	for i := range 5 {
		real = append(real, delivery(now.Add(time.Duration(i)*time.Millisecond), "email.sent", `{"n":1}`))
	}
	write(t, s, real...)

	// Junk, far more than its quota and with large bodies and headers, never
	// pushes a delivery out and stays within its own bounds.
	var flood []*Delivery
	big := bytes.Repeat([]byte("A"), 1<<20) // one body, shared: the store copies what it keeps
	for i := range 1500 {
		j := junk(now.Add(time.Second+time.Duration(i)*time.Microsecond), "")
		j.Body, j.BodySize = big, int64(len(big))
		j.Header.Set("X-Big", strings.Repeat("h", 20<<10))
		flood = append(flood, j)
	}
	write(t, s, flood...)
	list, err := s.List(ctx, Query{})
	if err != nil || len(list) != 5 {
		t.Fatalf("deliveries after the flood: %d, %v", len(list), err)
	}
	if n, _ := s.Count(ctx, true); n != 20 {
		t.Errorf("rejected records = %d, want the quota of 20", n)
	}
	rej, _ := s.List(ctx, Query{Rejected: true, Limit: 1})
	got, _ := s.Get(ctx, rej[0].ID)
	if len(got.Body) != RejectedBodyKeep || got.BodySize != 1<<20 || !got.Truncated() {
		t.Errorf("rejected body kept %d of %d bytes", len(got.Body), got.BodySize)
	}
	if hb, _ := json.Marshal(got.Header); len(hb) > RejectedHeaderKeep+200 {
		t.Errorf("rejected headers kept %d bytes", len(hb))
	}
	// The file holds what is live, and no more waste than compaction
	// allows plus one group's records.
	info, _ := os.Stat(s.Path())
	if most := compactMin + maxGroup*(RejectedBodyKeep+RejectedHeaderKeep+1024) + 1<<20; info.Size() > most {
		t.Errorf("the file is %d bytes after the flood, want at most %d", info.Size(), most)
	}

	// New deliveries push out the oldest ones, by count and by bytes.
	write(t, s, delivery(now.Add(2*time.Second), "email.received", `{}`))
	list, _ = s.List(ctx, Query{})
	if len(list) != 5 || list[4].ID != real[1].ID {
		t.Errorf("count bound: %d kept, oldest %s", len(list), list[len(list)-1].ID)
	}
	write(t, s, delivery(now.Add(3*time.Second), "email.received", strings.Repeat("x", 700<<10)),
		delivery(now.Add(4*time.Second), "email.received", strings.Repeat("y", 700<<10)))
	list, _ = s.List(ctx, Query{})
	if len(list) != 1 {
		t.Errorf("byte bound of 1 MiB kept %d deliveries of 700 KiB", len(list))
	}
}

// Record refuses once the queue holds MaxQueuedBytes, and Close still
// writes everything it accepted.
func TestWriterBackpressure(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.db")
	s := open(t, path, DefaultLimits)
	// Another process holds the write lock, so the writer's first group waits.
	release := holdLock(t, path)
	w := s.NewWriter(WriterOptions{MaxQueuedBytes: 10 << 10})
	now := time.Now()
	accepted := 0
	var refused error
	for i := 0; i < 100 && refused == nil; i++ {
		refused = w.Record(delivery(now.Add(time.Duration(i)), "email.sent", strings.Repeat("z", 1<<10)), nil)
		if refused == nil {
			accepted++
		}
	}
	if !errors.Is(refused, ErrBehind) {
		t.Fatalf("Record never refused: %v", refused)
	}
	release()
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.Count(ctx, false); n != accepted {
		t.Errorf("written %d, accepted %d", n, accepted)
	}
	if err := w.Record(delivery(now, "email.sent", ""), nil); !errors.Is(err, ErrWriterClosed) {
		t.Errorf("Record after Close: %v", err)
	}
}

// events runs in another process while listen writes: it reads without
// waiting for the writer.
func TestReadWhileWriting(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.db")
	s := open(t, path, DefaultLimits)
	w := s.NewWriter(WriterOptions{})
	reader := open(t, path, DefaultLimits)
	now := time.Now()
	for i := range 200 {
		if err := w.Record(delivery(now.Add(time.Duration(i)), "email.sent", `{}`), nil); err != nil {
			t.Fatal(err)
		}
		if i%20 == 0 {
			if _, err := reader.List(ctx, Query{Limit: 5}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if n, _ := reader.Count(ctx, false); n != 200 {
		t.Errorf("reader sees %d", n)
	}
}

func TestDamaged(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.db")
	s := open(t, good, DefaultLimits)
	var ds []*Delivery
	for i := range 300 {
		ds = append(ds, delivery(time.Now().Add(time.Duration(i)), "email.sent", strings.Repeat("b", 3000)))
	}
	write(t, s, ds...)
	s.Close()
	data, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) < 16<<10 {
		// Everything may still be in the WAL: checkpoint by opening again.
		t.Logf("file is %d bytes", len(data))
	}

	cases := map[string][]byte{
		"garbage":   bytes.Repeat([]byte{0xff}, 8192),
		"text":      []byte("hello\n"),
		"truncated": data[:min(len(data), 4096+100)],
		// Zeros in the middle, records after them: damage. (Zeros to the
		// end are a write a crash cut short, as "truncated" is: they hold
		// nothing to keep, TestTornTail.)
		"zeroed": append(append(append([]byte{}, data[:100]...), make([]byte, len(data)-200)...), data[len(data)-100:]...),
	}
	for name, content := range cases {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "history.db")
			if err := os.WriteFile(path, content, 0o600); err != nil {
				t.Fatal(err)
			}
			s, err := Open(path, DefaultLimits)
			if err == nil {
				// Damage that the first reads do not reach shows on use.
				_, err = s.List(ctx, Query{})
				if err == nil {
					w := s.NewWriter(WriterOptions{})
					_ = w.Record(delivery(time.Now(), "email.sent", "x"), nil)
					_ = w.Close(ctx)
					err = w.Err()
				}
				s.Close()
			}
			var de *DamagedError
			if name != "truncated" && !errors.As(err, &de) {
				t.Fatalf("err = %v, want a DamagedError", err)
			}
			if err != nil && !strings.Contains(err.Error(), "jasni events reset") {
				t.Errorf("message does not say what to run: %v", err)
			}
			aside, err := Reset(path)
			if err != nil || aside == "" {
				t.Fatalf("Reset = %q, %v", aside, err)
			}
			if _, err := os.Stat(aside); err != nil {
				t.Errorf("moved file: %v", err)
			}
			s = open(t, path, DefaultLimits)
			write(t, s, delivery(time.Now(), "email.sent", "{}"))
		})
	}
}

func TestNewerFormat(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.db")
	s := open(t, path, DefaultLimits)
	s.Close()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt([]byte{99, 0}, 8) // the format number
	f.Close()
	if _, err := Open(path, DefaultLimits); err == nil || !strings.Contains(err.Error(), "newer jasni") {
		t.Errorf("err = %v", err)
	}
}

func writeLegacy(t *testing.T, path string, ds ...Delivery) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists([]byte("deliveries"))
		if err != nil {
			return err
		}
		for _, d := range ds {
			// As earlier versions wrote it: resends beside the forward.
			rec := struct {
				Delivery
				Resends []Attempt `json:"resends,omitempty"`
			}{Delivery: d, Resends: d.Attempts}
			rec.Attempts = nil
			v, _ := json.Marshal(rec)
			if err := b.Put([]byte(d.ID), v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestLegacyHistory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.db")
	now := time.Now()
	old := []Delivery{*delivery(now, "email.sent", `{"a":1}`), *junk(now.Add(time.Millisecond), "x")}
	old[0].Answer, old[0].Forward = 200, &Attempt{URL: "http://localhost:3000/", Status: 200}
	old[0].Attempts = []Attempt{{Status: 500}} // written as the resends of old
	writeLegacy(t, path, old...)

	s := open(t, path, DefaultLimits)
	if !strings.Contains(s.Notice(), "2 deliveries were copied") || !strings.Contains(s.Notice(), path+".v1") {
		t.Errorf("notice: %q", s.Notice())
	}
	got, err := s.Get(ctx, old[0].ID)
	if err != nil || string(got.Body) != `{"a":1}` || got.Forward.Status != 200 || len(got.Attempts) != 2 ||
		got.Attempts[0].By != AttemptByListen || got.Attempts[1].Status != 500 || got.Attempts[1].By != AttemptByResend {
		t.Fatalf("migrated delivery: %+v %v", got, err)
	}
	if n, _ := s.Count(ctx, true); n != 1 {
		t.Errorf("the unsigned one should be a rejected record")
	}
}

func TestLegacyDamaged(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.db")
	var ds []Delivery
	for i := range 500 {
		ds = append(ds, *delivery(time.Now().Add(time.Duration(i)), "email.sent", strings.Repeat("q", 2000)))
	}
	writeLegacy(t, path, ds...)
	data, _ := os.ReadFile(path)
	if err := os.WriteFile(path, data[:len(data)/3], 0o600); err != nil {
		t.Fatal(err)
	}
	s := open(t, path, DefaultLimits)
	if !strings.Contains(s.Notice(), "moved to") && !strings.Contains(s.Notice(), "copied") {
		t.Errorf("notice: %q", s.Notice())
	}
	write(t, s, delivery(time.Now(), "email.sent", "{}"))
}

// A commit that fails for a passing reason (here: another process holds the
// write lock past the busy timeout) is retried, and while it fails Record
// says so instead of accepting what it cannot keep.
func TestWriterRetries(t *testing.T) {
	defer func(wait time.Duration) { lockWait = wait }(lockWait)
	lockWait = 100 * time.Millisecond
	path := filepath.Join(t.TempDir(), "h.db")
	s := open(t, path, DefaultLimits)
	release := holdLock(t, path)
	retrying := make(chan error, 1)
	w := s.NewWriter(WriterOptions{OnRetry: func(err error) { retrying <- err }})
	first := delivery(time.Now(), "email.sent", "{}")
	if err := w.Record(first, nil); err != nil {
		t.Fatal(err)
	}
	<-retrying
	err := w.Record(delivery(time.Now(), "email.sent", "{}"), nil)
	if err == nil || !strings.Contains(err.Error(), "cannot write at the moment") {
		t.Fatalf("Record while commits fail: %v", err)
	}
	release()
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, first.ID); err != nil {
		t.Errorf("the delivery queued before the failure was not written on retry: %v", err)
	}
	if err := w.Record(delivery(time.Now(), "email.sent", "{}"), nil); err != nil {
		t.Errorf("Record after recovery: %v", err)
	}
	w.Close(ctx)
}

// Another process pruning the history does not make the writer trim by
// stale totals: the delivery recorded right after stays.
func TestExternalPrune(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.db")
	limits := Limits{MaxCount: 5}
	s := open(t, path, limits)
	w := s.NewWriter(WriterOptions{})
	now := time.Now()
	for i := range 5 {
		if err := w.Record(delivery(now.Add(time.Duration(i)*time.Millisecond), "email.sent", "{}"), nil); err != nil {
			t.Fatal(err)
		}
	}
	w.Flush(ctx)
	other := open(t, path, limits)
	if n, err := other.Prune(ctx, 0); err != nil || n != 5 {
		t.Fatalf("prune: %d %v", n, err)
	}
	fresh := delivery(now.Add(time.Second), "email.received", "{}")
	w.Record(fresh, nil)
	w.Flush(ctx)
	if _, err := s.Get(ctx, fresh.ID); err != nil {
		t.Errorf("the delivery recorded after an external prune is gone: %v", err)
	}
	w.Close(ctx)
}

// The history moved aside while listen writes (jasni events reset): the
// writer stops and says so, instead of filling a file nobody reads.
func TestMovedAside(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.db")
	s := open(t, path, DefaultLimits)
	w := s.NewWriter(WriterOptions{})
	before := delivery(time.Now(), "email.sent", "{}")
	w.Record(before, nil)
	w.Flush(ctx)
	aside, err := Reset(path)
	if err != nil {
		t.Fatal(err)
	}
	w.Record(delivery(time.Now(), "email.sent", "{}"), nil)
	if err := w.Flush(ctx); !errors.Is(err, ErrMoved) {
		t.Fatalf("Flush after the file moved: %v", err)
	}
	if err := w.Record(delivery(time.Now(), "email.sent", "{}"), nil); !errors.Is(err, ErrMoved) {
		t.Errorf("Record after the file moved: %v", err)
	}
	w.Close(ctx)
	old := open(t, aside, DefaultLimits)
	if n, _ := old.Count(ctx, false); n != 1 {
		t.Errorf("the moved file has %d deliveries, want the 1 written before", n)
	}
}

// TestLargeBodiesAreFiles: a body of ExternalMin or more is a file of its
// own beside the database (0600), read back whole, and removed with its
// record, by the quota, by prune, or when its commit is given up.
func TestLargeBodiesAreFiles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.db")
	s := open(t, path, Limits{MaxCount: 2, MaxBytes: 1 << 30, MaxRejected: 10, MaxRejectedBytes: 1 << 20})
	now := time.Now()
	big := func(i int) *Delivery {
		return delivery(now.Add(time.Duration(i)*time.Millisecond), "email.sent", fmt.Sprintf(`{"n":%d,"pad":"%s"}`, i, strings.Repeat("x", ExternalMin)))
	}
	ds := []*Delivery{big(0), big(1)}
	if err := s.Put(ctx, ds...); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(path+"-bodies", ds[0].ID)
	info, err := os.Stat(file)
	if err != nil {
		t.Fatalf("no body file: %v", err)
	}
	if runtime.GOOS != "windows" && info.Mode().Perm() != 0o600 {
		t.Errorf("body file mode %v, want 0600", info.Mode().Perm())
	}
	got, err := s.Get(ctx, ds[0].ID)
	if err != nil || !bytes.Equal(got.Body, ds[0].Body) {
		t.Fatalf("Get: %d bytes, %v", len(got.Body), err)
	}
	// A third makes the quota drop the first, and its file.
	if err := s.Put(ctx, big(2)); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(file); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the body file of a delivery the quota removed is still there: %v", err)
	}
	// A file removed by hand is said so, not taken for a damaged history.
	os.Remove(filepath.Join(path+"-bodies", ds[1].ID))
	if _, err := s.Get(ctx, ds[1].ID); !errors.Is(err, ErrBodyMissing) || IsDamage(err) {
		t.Errorf("Get without its file: %v", err)
	}
	if n, err := s.Prune(ctx, 0); err != nil || n != 2 {
		t.Errorf("prune: %d %v", n, err)
	}
	if entries, _ := os.ReadDir(path + "-bodies"); len(entries) != 0 {
		t.Errorf("files left after prune --all: %d", len(entries))
	}
}

// A history file may come from anywhere: an id that is not one of jasni's
// never names a file.
func TestBodyFileIDs(t *testing.T) {
	for id, want := range map[string]bool{
		"dlv_0193a4c2b1f0a1b2c3": true,
		"dlv_":                   false,
		"dlv_../../etc/passwd":   false,
		"../x":                   false,
		"dlv_ABC":                false,
		"dlv_0a/b":               false,
	} {
		if got := ValidID(id); got != want {
			t.Errorf("ValidID(%q) = %v", id, got)
		}
	}
}

// A request with no headers at all is kept like any other (it was taken
// for a second delivery with the same id, and dropped).
func TestNoHeaders(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "h.db"), DefaultLimits)
	d := delivery(time.Now(), "email.received", `{}`)
	d.Header = nil
	write(t, s, d)
	if got, err := s.Get(ctx, d.ID); err != nil || len(got.Header) != 0 {
		t.Fatalf("Get: %v, %v", got, err)
	}
}

// holdLock holds the writers' lock of the history at path, as another
// process would, until release is called.
func holdLock(t *testing.T, path string) (release func()) {
	t.Helper()
	f, err := os.OpenFile(path+"-lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if busy, err := tryLock(f); busy || err != nil {
		t.Fatalf("lock: busy %v, %v", busy, err)
	}
	var once sync.Once
	release = func() { once.Do(func() { unlock(f); f.Close() }) }
	t.Cleanup(release)
	return release
}
