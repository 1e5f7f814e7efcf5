package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// copyFile copies src to dst (0600), or does nothing when src is absent.
func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if errors.Is(err, os.ErrNotExist) {
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// A history written by the SQLite versions of jasni (format 1, format 2,
// and format 2 with deliveries still in its write-ahead log, as a kill -9
// leaves it) opens with every delivery copied in, read back as those
// versions read it (testdata/*.json were written by them).
func TestSQLiteHistory(t *testing.T) {
	for _, c := range []struct{ name, db, wal, bodies, want string }{
		{"format 2", "testdata/sqlite2/history.db", "", "testdata/sqlite2/history.db-bodies", "testdata/sqlite2/expect.json"},
		{"format 2 with a WAL", "testdata/sqlite2/open-history.db", "testdata/sqlite2/open-history.db-wal", "testdata/sqlite2/history.db-bodies", "testdata/sqlite2/expect-open.json"},
		{"format 1", "testdata/sqlite1.db", "", "", "testdata/sqlite1.expect.json"},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "history.db")
			copyFile(t, c.db, path)
			if c.wal != "" {
				copyFile(t, c.wal, path+"-wal")
			}
			if c.bodies != "" {
				os.Mkdir(path+"-bodies", 0o700)
				entries, _ := os.ReadDir(c.bodies)
				for _, e := range entries {
					copyFile(t, filepath.Join(c.bodies, e.Name()), filepath.Join(path+"-bodies", e.Name()))
				}
			}
			var want []*Delivery
			raw, err := os.ReadFile(c.want)
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(raw, &want); err != nil {
				t.Fatal(err)
			}

			s := open(t, path, DefaultLimits)
			if !strings.Contains(s.Notice(), "deliveries were copied") || !strings.Contains(s.Notice(), path+".sqlite") {
				t.Errorf("notice: %q", s.Notice())
			}
			if _, err := os.Stat(path + ".sqlite"); err != nil {
				t.Errorf("the old file was not kept: %v", err)
			}
			for _, w := range want {
				got, err := s.Get(ctx, w.ID)
				if err != nil {
					t.Fatalf("%s: %v", w.ID, err)
				}
				g, _ := json.Marshal(got)
				e, _ := json.Marshal(w)
				if !bytes.Equal(g, e) {
					t.Errorf("%s:\n got %s\nwant %s", w.ID, g, e)
				}
			}
			for _, rejected := range []bool{false, true} {
				n, _ := s.Count(ctx, rejected)
				m := 0
				for _, w := range want {
					if w.Rejected == rejected {
						m++
					}
				}
				if n != m {
					t.Errorf("rejected=%v: %d records, want %d", rejected, n, m)
				}
			}
			// The list keeps the order they arrived in.
			list, _ := s.List(ctx, Query{})
			for i := 1; i < len(list); i++ {
				if list[i].ReceivedAt.After(list[i-1].ReceivedAt) {
					t.Errorf("list out of order at %d", i)
				}
			}
			if err := s.Put(ctx, delivery(time.Now(), "email.sent", `{}`)); err != nil {
				t.Errorf("a new delivery into the copied history: %v", err)
			}
		})
	}
}

// A damaged SQLite file is moved aside with a notice, and a new history
// starts; the reader never panics on it.
func TestSQLiteDamaged(t *testing.T) {
	data, err := os.ReadFile("testdata/sqlite2/history.db")
	if err != nil {
		t.Fatal(err)
	}
	for _, cut := range []int{100, 4096, 5000, len(data) - 100} {
		path := filepath.Join(t.TempDir(), "history.db")
		if err := os.WriteFile(path, data[:cut], 0o600); err != nil {
			t.Fatal(err)
		}
		s := open(t, path, DefaultLimits)
		if !strings.Contains(s.Notice(), path+".sqlite") {
			t.Errorf("cut at %d: notice %q", cut, s.Notice())
		}
		write(t, s, delivery(time.Now(), "email.sent", "{}"))
	}
}

// The log is compacted once most of it is records no longer live; another
// process reading it follows, and the writer goes on.
func TestCompaction(t *testing.T) {
	defer func(n int64) { compactMin = n }(compactMin)
	compactMin = 64 << 10
	path := filepath.Join(t.TempDir(), "history.db")
	s := open(t, path, Limits{MaxCount: 10, MaxBytes: 1 << 30})
	reader := open(t, path, DefaultLimits)
	now := time.Now()
	var last *Delivery
	for round := range 20 {
		var ds []*Delivery
		for i := range 10 {
			last = delivery(now.Add(time.Duration(round*10+i)*time.Millisecond), "email.sent", strings.Repeat("c", 2000))
			ds = append(ds, last)
		}
		write(t, s, ds...)
		if n, err := reader.Count(ctx, false); err != nil || n != 10 {
			t.Fatalf("round %d: the reader sees %d, %v", round, n, err)
		}
	}
	info, _ := os.Stat(path)
	if info.Size() > 2*compactMin+10*4096 {
		t.Errorf("the file is %d bytes for 10 deliveries of 2 KB", info.Size())
	}
	if err := reader.AddAttempt(ctx, last.ID, Attempt{By: AttemptByResend, Status: 204}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, last.ID)
	if err != nil || len(got.Attempts) != 1 || got.Attempts[0].Status != 204 || len(got.Body) != 2000 {
		t.Fatalf("after compaction: %+v, %v", got, err)
	}
}

// A record a crash left half written is not damage: it is left out, and
// the next write replaces it.
func TestTornTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.db")
	s := open(t, path, DefaultLimits)
	first := delivery(time.Now(), "email.sent", `{"n":1}`)
	write(t, s, first)
	s.Close()
	data, _ := os.ReadFile(path)
	half, _ := appendRecord(nil, recInsert, []byte("a record cut short by a crash"), []byte("body"))
	flipped := bytes.Clone(half)
	flipped[recordHead+2] ^= 1
	// Cut short, cut inside the body, a checksum that fails on the last
	// record, and the zeros a power cut can leave where a write was.
	for _, tail := range [][]byte{half[:10], half[:len(half)-2], flipped, make([]byte, 300), append(bytes.Clone(flipped), make([]byte, 40)...)} {
		if err := os.WriteFile(path, append(bytes.Clone(data), tail...), 0o600); err != nil {
			t.Fatal(err)
		}
		s := open(t, path, DefaultLimits)
		if n, err := s.Count(ctx, false); err != nil || n != 1 {
			t.Fatalf("with a torn tail: %d, %v", n, err)
		}
		second := delivery(time.Now(), "email.received", `{"n":2}`)
		write(t, s, second)
		if got, err := s.Get(ctx, second.ID); err != nil || string(got.Body) != `{"n":2}` {
			t.Fatalf("written after the torn tail: %v", err)
		}
		s.Close()
		if s := open(t, path, DefaultLimits); true {
			if n, err := s.Count(ctx, false); err != nil || n != 2 {
				t.Errorf("reopened: %d, %v", n, err)
			}
		}
	}
}

// A record damaged in the middle of the file is damage, said at Open.
func TestDamagedRecord(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.db")
	s := open(t, path, DefaultLimits)
	write(t, s, delivery(time.Now(), "email.sent", `{"n":1}`), delivery(time.Now().Add(time.Millisecond), "email.sent", `{"n":2}`))
	s.Close()
	data, _ := os.ReadFile(path)
	data[fileHead+recordHead+3] ^= 0x40
	os.WriteFile(path, data, 0o600)
	_, err := Open(path, DefaultLimits)
	var de *DamagedError
	if !errors.As(err, &de) || !strings.Contains(err.Error(), "jasni events reset") {
		t.Fatalf("Open = %v", err)
	}
}

// A new history at the path (events reset, then another listen) is not
// taken for this one compacted: the writer stops with ErrMoved.
func TestOtherHistoryAtPath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.db")
	s := open(t, path, DefaultLimits)
	reader := open(t, path, DefaultLimits)
	w := s.NewWriter(WriterOptions{})
	defer w.Close(ctx)
	w.Record(delivery(time.Now(), "email.sent", "{}"), nil)
	w.Record(delivery(time.Now().Add(time.Millisecond), "email.sent", "{}"), nil)
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := Reset(path); err != nil {
		t.Fatal(err)
	}
	other := open(t, path, DefaultLimits)
	write(t, other, delivery(time.Now(), "email.received", "{}"))
	// A process that only reads (inspect, mcp) follows the path to the
	// new history; the writer's process does not.
	if n, err := reader.Count(ctx, false); err != nil || n != 1 {
		t.Errorf("a reader after the reset sees %d, %v; want the new history's 1", n, err)
	}
	w.Record(delivery(time.Now(), "email.sent", "{}"), nil)
	if err := w.Flush(ctx); !errors.Is(err, ErrMoved) {
		t.Fatalf("Flush = %v, want ErrMoved", err)
	}
	if n, _ := other.Count(ctx, false); n != 1 {
		t.Errorf("the new history has %d deliveries, want its own 1", n)
	}
}

// FuzzSQLite: whatever the file holds, reading it as an old history ends
// with deliveries or an error, never a panic or a hang.
func FuzzSQLite(f *testing.F) {
	for _, p := range []string{"testdata/sqlite2/history.db", "testdata/sqlite1.db"} {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, 0, byte(0))
		f.Add(data, 4096+8, byte(0xff))
		f.Add(data, 100+3, byte(0x7f))
	}
	wal, _ := os.ReadFile("testdata/sqlite2/open-history.db-wal")
	f.Fuzz(func(t *testing.T, file []byte, at int, b byte) {
		path := writeDamaged(t, file, at, b)
		if at%2 != 0 { // odd, either sign
			_ = os.WriteFile(path+"-wal", wal, 0o600)
		}
		_, _ = readSQLite(path)
	})
}

// A compaction that cannot be done (here the temporary file's name is
// taken by a directory; on Windows, another process holding the file)
// leaves the history working, and is tried again once the waste doubled.
func TestCompactionFails(t *testing.T) {
	defer func(n int64) { compactMin = n }(compactMin)
	compactMin = 32 << 10
	path := filepath.Join(t.TempDir(), "history.db")
	if err := os.Mkdir(path+".compact", 0o700); err != nil {
		t.Fatal(err)
	}
	s := open(t, path, Limits{MaxCount: 5})
	now := time.Now()
	put := func(from, n int) {
		var ds []*Delivery
		for i := from; i < from+n; i++ {
			ds = append(ds, delivery(now.Add(time.Duration(i)*time.Millisecond), "email.sent", strings.Repeat("f", 1000)))
		}
		write(t, s, ds...)
	}
	put(0, 60)
	if s.compactAfter == 0 {
		t.Fatal("no compaction was tried")
	}
	if n, err := s.Count(ctx, false); err != nil || n != 5 {
		t.Fatalf("after a failed compaction: %d, %v", n, err)
	}
	os.Remove(path + ".compact")
	grown, _ := os.Stat(path)
	put(60, 200)
	after, _ := os.Stat(path)
	if after.Size() >= grown.Size() {
		t.Errorf("not compacted once it could be: %d bytes, then %d", grown.Size(), after.Size())
	}
	if n, _ := s.Count(ctx, false); n != 5 {
		t.Errorf("%d deliveries after the compaction", n)
	}
}

// A length damaged in a record in the middle is damage, not a torn tail:
// the records after it are not cut away by the next write (found by a
// review: a flipped bit had emptied the history without a word).
func TestDamagedLength(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.db")
	s := open(t, path, DefaultLimits)
	now := time.Now()
	var ds []*Delivery
	for i := range 5 {
		ds = append(ds, delivery(now.Add(time.Duration(i)*time.Millisecond), "email.sent", `{"n":1}`))
	}
	write(t, s, ds...)
	s.Close()
	data, _ := os.ReadFile(path)
	for _, at := range []int{fileHead + 2, fileHead + 5, fileHead + 16} { // metaLen, bodyLen, kind
		damaged := bytes.Clone(data)
		damaged[at] ^= 0x01
		os.WriteFile(path, damaged, 0o600)
		_, err := Open(path, DefaultLimits)
		var de *DamagedError
		if !errors.As(err, &de) {
			t.Errorf("byte %d flipped: Open = %v, want a DamagedError", at, err)
		}
		if got, _ := os.ReadFile(path); !bytes.Equal(got, damaged) {
			t.Errorf("byte %d flipped: the file was changed", at)
		}
	}
}

// events reset takes the writers' lock, so it cannot land inside a
// compaction, which would rename the old history back over the path; and
// a compaction that finds the path moved does not rename.
func TestResetAndCompaction(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.db")
	s := open(t, path, DefaultLimits)
	write(t, s, delivery(time.Now(), "email.sent", "{}"))
	release := holdLock(t, path)
	defer func(wait time.Duration) { lockWait = wait }(lockWait)
	lockWait = 50 * time.Millisecond
	if _, err := Reset(path); !errors.Is(err, errLocked) {
		t.Fatalf("Reset while a writer holds the lock = %v, want it to wait and give up", err)
	}
	release()
	if _, err := Reset(path); err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	err := s.compact()
	s.mu.Unlock()
	if err == nil {
		t.Fatal("a compaction after the reset renamed its copy over the path")
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the path holds a file again after the reset: %v", err)
	}
}

// A record the reader would refuse is never written: it is refused, and the
// history stays readable.
func TestOversizeRecord(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.db")
	s := open(t, path, DefaultLimits)
	d := delivery(time.Now(), "email.sent", "{}")
	write(t, s, d)
	defer func(n int64) { maxMeta = n }(maxMeta)
	maxMeta = 1 << 20
	big := make([]byte, 1<<20)
	if err := s.AddAttempt(ctx, d.ID, Attempt{By: AttemptByReplay, Status: 200, Sent: &Sent{Body: big}}); !errors.Is(err, errTooLarge) {
		t.Errorf("AddAttempt of a record over the bound = %v", err)
	}
	// Through the writer, the delivery too large is refused alone: the
	// others of its group are written.
	huge := delivery(time.Now().Add(time.Second), "email.sent", "{}")
	huge.Header.Set("X-Huge", strings.Repeat("h", 1<<20))
	fine := delivery(time.Now().Add(2*time.Second), "email.sent", "{}")
	w := s.NewWriter(WriterOptions{})
	written := make(chan error, 1)
	w.Record(huge, func(err error) { written <- err })
	w.Record(fine, nil)
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-written; !errors.Is(err, errTooLarge) {
		t.Errorf("the huge delivery's written = %v", err)
	}
	if _, err := s.Get(ctx, fine.ID); err != nil {
		t.Errorf("the delivery beside it: %v", err)
	}
	s.Close()
	if _, err := Open(path, DefaultLimits); err != nil {
		t.Errorf("Open after the refusal: %v", err)
	}
}

// A damaged SQLite file whose cell claims a gigabyte and whose overflow
// page points to itself is refused without allocating it (found by a
// review: 2 GiB and 16 s for a 1 KiB file).
func TestSQLiteOverflowLoop(t *testing.T) {
	const ps = 512
	db := make([]byte, 2*ps)
	copy(db, sqliteMagic)
	binary.BigEndian.PutUint16(db[16:], ps)
	binary.BigEndian.PutUint32(db[56:], 1)
	p := db[100:ps]
	p[0] = 0x0d
	binary.BigEndian.PutUint16(p[3:], 1) // one cell
	const cell = 200
	binary.BigEndian.PutUint16(p[8:], uint16(100+cell))
	for _, tc := range []struct {
		size int64
		head []byte // the cell's payload size and rowid, as varints
	}{
		{1<<30 - 1, []byte{0x83, 0xff, 0xff, 0xff, 0x7f, 0x01}}, // more than the file's pages can hold
		{1000, []byte{0x87, 0x68, 0x01}},                        // plausible, with an overflow page that loops
	} {
		db := bytes.Clone(db)
		c := db[100+cell:]
		copy(c, tc.head)
		u := int64(ps)
		m := (u-12)*32/255 - 23
		local := m + (tc.size-m)%(u-4)
		if local > u-35 {
			local = m
		}
		binary.BigEndian.PutUint32(c[int64(len(tc.head))+local:], 2) // overflow -> page 2
		binary.BigEndian.PutUint32(db[ps:], 2)                       // page 2 -> page 2
		path := filepath.Join(t.TempDir(), "old.db")
		os.WriteFile(path, db, 0o600)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		if _, err := readSQLite(path); err == nil {
			t.Errorf("size %d: read without an error", tc.size)
		}
		runtime.ReadMemStats(&after)
		if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
			t.Errorf("size %d: allocated %d bytes for a 1 KiB file", tc.size, n)
		}
	}
}
