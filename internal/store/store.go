// Package store keeps the history of the requests `jasni listen` received, so
// that nothing is lost while the app is down and any delivery can be
// inspected or sent again.
//
// The history is one file, a log of records appended in order (log.go):
// listen keeps it open and writes through one Writer that commits in
// groups, off the request path, while `jasni events` in other processes
// read it without any lock and change it under a short file lock. Each
// process keeps an index of the deliveries in memory (what a list shows,
// and where the rest is in the file), brought up to date from the file's
// end before each use. Verified deliveries and rejected requests
// (unsigned, badly signed, wrong path or method, too large) are kept under
// separate quotas, so no amount of junk can push a real delivery out.
// Bodies of 64 KiB or more are files of their own (bodies.go).
//
// It was a SQLite database, whose pure-Go build took most of a first
// build's minute and a third of the binary for what an append-only file
// does here; an earlier history in SQLite is read once and copied in
// (sqlite.go).
package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Limits bound the history. Deliveries and rejected requests have their own
// quotas; within each, the oldest go first.
type Limits struct {
	MaxCount int
	MaxBytes int64
	MaxAge   time.Duration
	// MaxRejected and MaxRejectedBytes bound the records of rejected requests.
	MaxRejected      int
	MaxRejectedBytes int64
}

// DefaultLimits keep a developer's recent history without growing forever.
var DefaultLimits = Limits{
	MaxCount:         10000,
	MaxBytes:         1 << 30,
	MaxAge:           30 * 24 * time.Hour,
	MaxRejected:      500,
	MaxRejectedBytes: 4 << 20,
}

// What a rejected request's record keeps at most: its start is enough to
// see what was sent, and an attacker cannot fill the disk with it.
const (
	RejectedBodyKeep   = 4 << 10
	RejectedHeaderKeep = 8 << 10
)

// Verdict is the outcome of the signature check.
type Verdict string

const (
	VerdictValid   Verdict = "valid"
	VerdictInvalid Verdict = "invalid"
	VerdictMissing Verdict = "missing"
	VerdictSkipped Verdict = "not checked" // --skip-verify, or refused before the check
)

// Attempt is one time a delivery was passed to an app (listen's forward, a
// resend, a replay), or, as a delivery's Forward, why listen did not pass it
// on.
type Attempt struct {
	// At is when it was sent; By is what sent it: "listen", "resend" or "replay".
	At         time.Time `json:"at,omitzero"`
	By         string    `json:"by,omitempty"`
	URL        string    `json:"url,omitempty"`
	Status     int       `json:"status,omitempty"`
	DurationMS int64     `json:"duration_ms"`
	Error      string    `json:"error,omitempty"`
	// Skipped says why it was not forwarded: "signature invalid: …", "event
	// not in --events", "no --forward"; Fix, what to change, when known.
	Skipped string `json:"skipped,omitempty"`
	Fix     string `json:"fix,omitempty"`
	// Sent is what was sent, where it differed from the delivery as received.
	Sent *Sent `json:"sent,omitempty"`
	// The app's answer: its headers and the first AnswerKeep bytes of its
	// body, of BodySize in all. Summary is, for one-line views, the gist of
	// an answer that was not 2xx (its first line, or a JSON error's
	// message), or of Error in a few words.
	Header   http.Header `json:"header,omitempty"`
	Body     []byte      `json:"body,omitempty"`
	BodySize int64       `json:"body_size,omitempty"`
	Summary  string      `json:"summary,omitempty"`
}

// Sent is how an attempt differed from the delivery as received: the
// headers it changed (a fresh signature and timestamp) and, when it was
// edited, the body.
type Sent struct {
	Header http.Header `json:"header,omitempty"`
	Body   []byte      `json:"body,omitempty"`
}

// AnswerKeep is how much of an app's answer body is kept: enough for any
// error message, and bounded, since the app may answer with anything.
const AnswerKeep = 64 << 10

// Truncated reports whether only the start of the answer's body was kept.
func (a *Attempt) Truncated() bool { return int64(len(a.Body)) < a.BodySize }

// brief is a without the answer's headers and body and what was sent: what
// a list needs, kept where a list reads it.
func (a *Attempt) brief() *Attempt {
	if a == nil {
		return nil
	}
	b := *a
	b.Header, b.Body, b.Sent = nil, nil, nil
	return &b
}

// Delivery is one request received, as stored.
type Delivery struct {
	ID         string      `json:"id"`
	ReceivedAt time.Time   `json:"received_at"`
	Method     string      `json:"method"`
	Path       string      `json:"path"`
	RemoteAddr string      `json:"remote_addr,omitempty"`
	Header     http.Header `json:"header"`
	Body       []byte      `json:"body"`
	// BodySize is the size of the body as received; for a rejected request
	// only its first RejectedBodyKeep bytes are kept in Body.
	BodySize int64   `json:"body_size"`
	Event    string  `json:"event,omitempty"`
	Verdict  Verdict `json:"verdict"`
	// Rejected marks a request that was not a verified delivery: it was not
	// forwarded and counts against the rejected quota.
	Rejected  bool `json:"rejected,omitempty"`
	Duplicate bool `json:"duplicate,omitempty"`
	// Answer is the status jasni answered the sender with; 0 while the
	// delivery is still being forwarded.
	Answer int `json:"answer"`
	// Forward is what listen did with it: forwarded (and the app's
	// answer), or why not. Attempts are every time it was sent to an app, in
	// order: listen's forward, then each resend or replay.
	Forward  *Attempt  `json:"forward,omitempty"`
	Attempts []Attempt `json:"attempts,omitempty"`
}

// Truncated reports whether only the start of the body was kept.
func (d *Delivery) Truncated() bool { return int64(len(d.Body)) < d.BodySize }

// Store is an open history.
type Store struct {
	path   string
	limits Limits
	notice string

	mu      sync.Mutex // guards everything below
	f       *os.File
	file    os.FileInfo // the file as opened, to notice it being moved away or compacted
	lineage []byte
	idx     *index
	lock    *os.File // the lock file writers take
	closed  bool
	writing bool // a Writer records into this history (listen)
	// compactAfter is the waste a compaction waits for after one failed.
	compactAfter int64
}

// ErrNotFound is returned for an unknown delivery id.
var ErrNotFound = errors.New("no such delivery")

// DefaultPath is where the history lives: JASNI_HISTORY when set, else
// $XDG_STATE_HOME/jasni/history.db, or ~/.local/state/jasni/history.db.
func DefaultPath(getenv func(string) string) (string, error) {
	if path := getenv("JASNI_HISTORY"); path != "" {
		return path, nil
	}
	if dir := getenv("XDG_STATE_HOME"); dir != "" {
		return filepath.Join(dir, "jasni", "history.db"), nil
	}
	home := getenv("HOME")
	if home == "" {
		var err error
		if home, err = os.UserHomeDir(); err != nil {
			return "", fmt.Errorf("find the history directory: set XDG_STATE_HOME or HOME: %w", err)
		}
	}
	return filepath.Join(home, ".local", "state", "jasni", "history.db"), nil
}

// Open opens the history at path, creating it (file 0600, directory 0700)
// when it does not exist. A history in the format of earlier versions is
// moved aside and its deliveries copied in; Notice says so. An unreadable or
// damaged file gives a *DamagedError.
func Open(path string, limits Limits) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create the history directory: %w", err)
	}
	legacy, err := moveLegacyAside(path)
	if err != nil {
		return nil, err
	}
	sqlite, err := moveSQLiteAside(path)
	if err != nil {
		return nil, err
	}
	s := &Store{path: path, limits: limits}
	if s.lock, err = os.OpenFile(path+"-lock", os.O_RDWR|os.O_CREATE, 0o600); err != nil {
		return nil, fmt.Errorf("open the history's lock file: %w", err)
	}
	if err := s.create(); err != nil {
		s.lock.Close()
		return nil, err
	}
	if err := s.reopen(); err != nil {
		s.lock.Close()
		return nil, err
	}
	switch {
	case legacy != "":
		s.notice = s.importLegacy(legacy)
	case sqlite != "":
		s.notice = s.importSQLite(sqlite)
	}
	return s, nil
}

// create writes the header of a history that does not exist yet (or is an
// empty file), under the lock, so two jasni starting at once make one.
func (s *Store) create() error {
	if info, err := os.Stat(s.path); err == nil && info.Size() > 0 {
		return nil
	}
	release, err := s.lockFile()
	if err != nil {
		return err
	}
	defer release()
	f, err := openFile(s.path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return &DamagedError{Path: s.path, Err: err}
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil || info.Size() > 0 {
		return err
	}
	lineage := make([]byte, 16)
	_, _ = rand.Read(lineage)
	if _, err := f.WriteAt(newHeader(lineage), 0); err != nil {
		return fmt.Errorf("create the history %s: %w", s.path, err)
	}
	return nil
}

// reopen opens the file at s.path and reads it whole. The file in use
// until then, if any, is closed once the new one reads well.
func (s *Store) reopen() error {
	f, err := openFile(s.path, os.O_RDWR, 0)
	if errors.Is(err, fs.ErrPermission) {
		f, err = openFile(s.path, os.O_RDONLY, 0) // a history one may read but not write
	}
	if err != nil {
		return &DamagedError{Path: s.path, Err: err}
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return &DamagedError{Path: s.path, Err: err}
	}
	head := make([]byte, fileHead)
	if _, err := f.ReadAt(head, 0); err != nil {
		f.Close()
		return &DamagedError{Path: s.path, Err: errNotHistory}
	}
	lineage, err := parseHeader(head)
	if err != nil {
		f.Close()
		var newer *NewerError
		if errors.As(err, &newer) {
			return fmt.Errorf("the history at %s was %w", s.path, err)
		}
		return &DamagedError{Path: s.path, Err: err}
	}
	idx := newIndex()
	if _, err := scan(f, idx); err != nil {
		f.Close()
		return s.damaged(err)
	}
	if s.f != nil {
		s.f.Close()
	}
	s.f, s.file, s.lineage, s.idx = f, info, lineage, idx
	return nil
}

// scan reads the records of f from idx.end into idx, and reports whether
// the file ends inside a record (torn).
func scan(f *os.File, idx *index) (torn bool, err error) {
	info, err := f.Stat()
	if err != nil {
		return false, err
	}
	r := logReader{f: f, size: info.Size()}
	for off := idx.end; off < r.size; {
		rc, err := r.next(off, false)
		if errors.Is(err, errTorn) {
			return true, nil
		}
		if err != nil {
			return false, err
		}
		if err := idx.apply(rc); err != nil {
			return false, err
		}
		off = idx.end
	}
	return false, nil
}

// sync brings the index up to date with what other processes wrote. A
// file compacted by another jasni is opened again. A history moved away
// (events reset) is still read; forWrite, it is ErrMoved instead: writing
// on would fill a file nobody reads. forWrite also cuts a record a crash
// left half written (the caller holds the lock, so nobody is writing it).
func (s *Store) sync(forWrite bool) error {
	if s.closed {
		return errors.New("the history is closed")
	}
	now, err := os.Stat(s.path)
	if err != nil || !os.SameFile(now, s.file) {
		switch {
		case err == nil && (s.sameLineage() || !s.writing):
			// Compacted by another jasni; or, for a process that only
			// reads and resends (inspect, mcp), the history that is now at
			// the path (after events reset).
			if err := s.reopen(); err != nil {
				return err
			}
		case forWrite && s.writing:
			return &DamagedError{Path: s.path, Err: ErrMoved}
		}
	}
	info, err := s.f.Stat()
	if err != nil {
		return s.damaged(err)
	}
	if info.Size() < s.idx.end {
		// Cut back by a writer whose append failed: what this index read
		// of it is not there.
		if err := s.reopen(); err != nil {
			return err
		}
	}
	// What was appended since (after a reopen, nothing, or a torn tail).
	torn, err := scan(s.f, s.idx)
	if err != nil {
		// Read from the start before calling it damage: a record read
		// half way through an append that failed and was cut back has
		// put this index off the records now in the file.
		if rerr := s.reopen(); rerr != nil {
			return rerr
		}
		torn, err = scan(s.f, s.idx)
	}
	if err != nil {
		return s.damaged(err)
	}
	if torn && forWrite {
		if err := s.f.Truncate(s.idx.end); err != nil {
			return fmt.Errorf("history %s: cut a half-written record: %w", s.path, err)
		}
	}
	return nil
}

// sameLineage reports whether the file now at s.path is this history,
// compacted, rather than another one.
func (s *Store) sameLineage() bool {
	f, err := openFile(s.path, os.O_RDONLY, 0)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, fileHead)
	if _, err := io.ReadFull(f, head); err != nil {
		return false
	}
	lineage, err := parseHeader(head)
	return err == nil && bytes.Equal(lineage, s.lineage)
}

// lockWait is how long a writer waits for another process's lock (events
// prune while listen writes) before the write fails for now.
var lockWait = 5 * time.Second

// errLocked says another process held the history's lock too long.
var errLocked = errors.New("another jasni held the history's lock for too long")

// lockFile takes the writers' lock, waiting up to lockWait.
func (s *Store) lockFile() (release func(), err error) { return waitLock(s.lock, s.path) }

// waitLock takes the lock on f (the lock file of the history at path),
// waiting up to lockWait.
func waitLock(f *os.File, path string) (release func(), err error) {
	deadline := time.Now().Add(lockWait)
	for pause := time.Millisecond; ; pause = min(2*pause, 50*time.Millisecond) {
		busy, err := tryLock(f)
		if err != nil {
			return nil, fmt.Errorf("lock the history: %w", err)
		}
		if !busy {
			return func() { _ = unlock(f) }, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("history %s: %w", path, errLocked)
		}
		time.Sleep(pause)
	}
}

// ErrMoved says the history file was moved or deleted while it was open.
var ErrMoved = errors.New(`the history file was moved or deleted while jasni had it open (by "jasni events reset"?); deliveries are not recorded until listen is started again`)

// Path is the file the history lives in.
func (s *Store) Path() string { return s.path }

// Notice is a message for the user about what Open did, or "".
func (s *Store) Notice() string { return s.notice }

// Close closes the history.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	s.lock.Close()
	return s.f.Close()
}

// NewID returns a time-ordered id, so ids sort by arrival.
func NewID(now time.Time) string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return idAt(now) + hex.EncodeToString(b)
}

// idAt is the smallest id of anything received at t or later.
func idAt(t time.Time) string { return fmt.Sprintf("dlv_%013x", max(t.UnixMilli(), 0)) }

// Query selects deliveries for List.
type Query struct {
	// Event, when not empty, keeps only that event type.
	Event string
	// Rejected lists the rejected requests instead of the deliveries.
	Rejected bool
	// Verdict, when not empty, keeps only that verdict.
	Verdict Verdict
	// AnswerMin and AnswerMax, when not 0, keep the deliveries answered
	// with a status in [AnswerMin, AnswerMax].
	AnswerMin, AnswerMax int
	// Before and After, when not empty, keep what arrived before or after
	// the delivery with that id: pages of a long list, and what is new.
	Before, After string
	// Limit caps the count; 0 means no limit.
	Limit int
}

// List returns deliveries newest first, without headers or bodies.
func (s *Store) List(ctx context.Context, q Query) ([]Delivery, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.sync(false); err != nil {
		return nil, err
	}
	x := s.idx
	var before, after int64 = 1 << 62, 0
	if q.Before != "" {
		before = 0
		if e := x.byID[q.Before]; e != nil {
			before = e.seq
		}
	}
	if q.After != "" {
		if e := x.byID[q.After]; e != nil {
			after = e.seq
		}
	}
	var (
		out []Delivery
		err error
	)
	x.newest(q.Rejected, func(e *entry) bool {
		if e.seq <= after {
			return false
		}
		if e.seq >= before || (q.Event != "" && e.event != q.Event) || (q.Verdict != "" && e.verdict != q.Verdict) ||
			((q.AnswerMin != 0 || q.AnswerMax != 0) && (e.answer < q.AnswerMin || e.answer > q.AnswerMax)) {
			return true
		}
		var d Delivery
		if d, err = e.summary(); err != nil {
			return false
		}
		out = append(out, d)
		return q.Limit <= 0 || len(out) < q.Limit
	})
	if err != nil {
		return nil, s.damaged(err)
	}
	return out, ctx.Err()
}

// Count returns how many deliveries, or rejected requests, are kept.
func (s *Store) Count(ctx context.Context, rejected bool) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.sync(false); err != nil {
		return 0, err
	}
	return s.idx.totals[b2i(rejected)].count, ctx.Err()
}

// Get returns the delivery with id, headers and body included.
func (s *Store) Get(ctx context.Context, id string) (*Delivery, error) {
	d, external, err := s.get(id)
	if err != nil {
		return nil, err
	}
	if external {
		if d.Body, err = s.readBody(d.ID); err != nil {
			return nil, err
		}
	}
	return d, ctx.Err()
}

func (s *Store) get(id string) (*Delivery, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.sync(false); err != nil {
		return nil, false, err
	}
	e := s.idx.byID[id]
	if e == nil {
		return nil, false, ErrNotFound
	}
	d, err := e.summary()
	if err != nil {
		return nil, false, s.damaged(err)
	}
	r, err := readRecord(s.f, e.ins.off, s.idx.end)
	if err != nil {
		return nil, false, s.damaged(err)
	}
	_, header, attempts, err := decodeInsert(r.meta)
	if err != nil {
		return nil, false, s.damaged(err)
	}
	d.Header = decodeHeader(header)
	d.Body = r.bodyData
	if d.Body == nil {
		d.Body = []byte{}
	}
	if e.fin.size > 0 {
		r, err := readRecord(s.f, e.fin.off, s.idx.end)
		if err == nil {
			attempts, err = finishAttempts(r.meta)
		}
		if err != nil {
			return nil, false, s.damaged(err)
		}
	}
	if len(attempts) > 0 {
		if err := json.Unmarshal(attempts, &d.Attempts); err != nil {
			return nil, false, s.damaged(fmt.Errorf("%w: delivery %s: attempts: %v", errBadRecord, id, err))
		}
	} else {
		// Recorded with a forward but no attempts (as earlier versions
		// did): the forward was the first.
		d.Attempts = legacyAttempts(d.Forward, nil)
	}
	for _, m := range e.more {
		r, err := readRecord(s.f, m.off, s.idx.end)
		var raw []byte
		if err == nil {
			raw, err = attemptOf(r.meta)
		}
		var a Attempt
		if err == nil {
			if jerr := json.Unmarshal(raw, &a); jerr != nil {
				err = fmt.Errorf("%w: delivery %s: attempt: %v", errBadRecord, id, jerr)
			}
		}
		if err != nil {
			return nil, false, s.damaged(err)
		}
		d.Attempts = append(d.Attempts, a)
	}
	return &d, e.external(), nil
}

// legacyAttempts makes the attempts of a delivery that earlier versions
// kept as listen's forward and a list of resends.
func legacyAttempts(forward *Attempt, resends []Attempt) []Attempt {
	var out []Attempt
	if forward != nil && forward.URL != "" {
		first := *forward
		first.By = AttemptByListen
		out = append(out, first)
	}
	for _, r := range resends {
		r.By = AttemptByResend
		out = append(out, r)
	}
	return out
}

// What sent an attempt.
const (
	AttemptByListen = "listen"
	AttemptByResend = "resend"
	AttemptByReplay = "replay"
)

// AddAttempt records that a delivery was sent again, with the app's answer.
func (s *Store) AddAttempt(ctx context.Context, id string, a Attempt) error {
	raw, err := json.Marshal(a)
	if err != nil {
		return err
	}
	return s.update(ctx, func(tx *txn) error {
		if tx.s.idx.byID[id] == nil {
			return ErrNotFound
		}
		return tx.add(recAttempt, encodeAttempt(id, raw), nil)
	})
}

// Prune removes what was received before now-age (everything when age is 0)
// and returns how many records went.
func (s *Store) Prune(ctx context.Context, age time.Duration) (int, error) {
	cutoff := "dlx" // after every id
	if age > 0 {
		cutoff = idAt(time.Now().Add(-age))
	}
	var files []string
	n := 0
	err := s.update(ctx, func(tx *txn) error {
		var err error
		files, n, err = tx.deleteBefore(cutoff)
		return err
	})
	if err != nil {
		return 0, err
	}
	s.removeBodies(files)
	return n, nil
}
