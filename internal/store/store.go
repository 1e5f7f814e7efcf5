// Package store keeps the history of the requests `jasni listen` received, so
// that nothing is lost while the app is down and any delivery can be
// inspected or sent again.
//
// The history is a SQLite database in WAL mode (through modernc.org/sqlite,
// which needs no cgo): listen keeps it open and writes through one Writer
// that commits in groups, off the request path, while `jasni events` in
// other processes read and change it without ever blocking those writes.
// Verified deliveries and rejected requests (unsigned, badly signed, wrong
// path or method, too large) are kept under separate quotas, so no amount of
// junk can push a real delivery out. Bodies are stored once, as raw bytes, in
// a table of their own: listing reads only the small metadata rows.
package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"modernc.org/sqlite"
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
	db     *sql.DB
	notice string
	file   os.FileInfo // the file as opened, to notice it being moved away
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

// schemaVersion is kept in PRAGMA user_version. A file with a higher number
// was written by a newer jasni.
const schemaVersion = 2

const schema = `
CREATE TABLE IF NOT EXISTS deliveries (
	seq         INTEGER PRIMARY KEY,
	id          TEXT    NOT NULL UNIQUE,
	rejected    INTEGER NOT NULL,
	received_at INTEGER NOT NULL,
	method      TEXT    NOT NULL,
	path        TEXT    NOT NULL,
	remote_addr TEXT    NOT NULL,
	header      BLOB    NOT NULL,
	event       TEXT    NOT NULL,
	verdict     TEXT    NOT NULL,
	duplicate   INTEGER NOT NULL,
	answer      INTEGER NOT NULL,
	forward     BLOB,
	resends     BLOB,
	body_size   INTEGER NOT NULL,
	size        INTEGER NOT NULL,
	external    INTEGER NOT NULL DEFAULT 0,
	body        BLOB    NOT NULL,
	attempts    BLOB
);
CREATE INDEX IF NOT EXISTS deliveries_quota ON deliveries (rejected, seq, size);
PRAGMA user_version = 2;
`

// Format 2 added attempts: every time a delivery was sent to an app, with
// the app's answer. Format 1 kept only the status of listen's forward and
// a list of resends, in the forward and resends columns, which are still
// read for the deliveries it wrote. Format 2 also keeps large bodies in
// files (external = 1; see bodies.go).
const migrateFrom1 = `
ALTER TABLE deliveries ADD COLUMN attempts BLOB;
ALTER TABLE deliveries ADD COLUMN external INTEGER NOT NULL DEFAULT 0;
PRAGMA user_version = 2;
`

// The body is the last column: a query that does not ask for it never
// reads it, so listing stays cheap without a table of its own (which cost
// an insert and a delete more per delivery). Ids start with the time they
// were received at, so the id index serves pruning by age too.

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
	if err := checkHeader(path); err != nil {
		return nil, err
	}
	// Created here rather than by SQLite, so the mode is 0600 whatever the
	// umask; SQLite gives the -wal and -shm files the same mode.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, &DamagedError{Path: path, Err: err}
	}
	f.Close()

	db, err := sql.Open("sqlite", dsn(path))
	if err != nil {
		return nil, &DamagedError{Path: path, Err: err}
	}
	// One connection: this process either writes through its Writer or runs
	// one command, and SQLite serialises writers anyway.
	db.SetMaxOpenConns(1)
	s := &Store{path: path, limits: limits, db: db}
	if err := s.init(); err != nil {
		db.Close()
		return nil, err
	}
	if s.file, err = os.Stat(path); err != nil {
		db.Close()
		return nil, &DamagedError{Path: path, Err: err}
	}
	if legacy != "" {
		s.notice = s.importLegacy(legacy)
	}
	return s, nil
}

// ErrMoved says the history file was moved or deleted while it was open.
var ErrMoved = errors.New(`the history file was moved or deleted while jasni had it open (by "jasni events reset"?); deliveries are not recorded until listen is started again`)

// checkSameFile reports ErrMoved when path no longer names the file that
// was opened: writing on would fill a file nobody reads.
func (s *Store) checkSameFile() error {
	now, err := os.Stat(s.path)
	if err != nil || !os.SameFile(now, s.file) {
		return &DamagedError{Path: s.path, Err: ErrMoved}
	}
	return nil
}

func dsn(path string) string {
	p := filepath.ToSlash(path)
	if runtime.GOOS == "windows" && !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	q := url.Values{}
	q.Set("_busy_timeout", busyTimeout)
	q.Set("_journal_mode", "WAL")
	q.Set("_synchronous", "NORMAL")
	q.Set("_txlock", "immediate")
	// The WAL is copied back into the file every 1000 pages (4 MiB, SQLite's
	// default) and cut back to 4 MiB after: large bodies are files of their
	// own (bodies.go), so what the WAL holds is small rows, and a flood of
	// refused requests cannot grow it past a fraction of their own quota.
	q.Add("_pragma", "wal_autocheckpoint(1000)")
	q.Add("_pragma", "journal_size_limit(4194304)")
	return "file:" + (&url.URL{Path: p}).EscapedPath() + "?" + q.Encode()
}

func (s *Store) init() error {
	var version int
	if err := s.db.QueryRow("PRAGMA user_version").Scan(&version); err != nil {
		return s.damaged(err)
	}
	switch {
	case version > schemaVersion:
		return fmt.Errorf("the history at %s was written by a newer jasni (format %d; this one reads %d): upgrade jasni, or set JASNI_HISTORY to another file", s.path, version, schemaVersion)
	case version == 1:
		if err := s.migrate(); err != nil {
			return s.damaged(err)
		}
	case version < schemaVersion:
		if _, err := s.db.Exec(schema); err != nil {
			return s.damaged(err)
		}
	}
	// Reading the metadata table end to end finds most damage now, rather
	// than at the first delivery.
	var n int
	if err := s.db.QueryRow("SELECT count(*) FROM deliveries").Scan(&n); err != nil {
		return s.damaged(err)
	}
	return nil
}

// migrate brings a format 1 history to format 2 in one transaction, which
// a second jasni opening it at the same time waits for and then finds done.
func (s *Store) migrate() error {
	tx, err := s.db.BeginTx(context.Background(), nil) // BEGIN IMMEDIATE (_txlock)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var version int
	if err := tx.QueryRowContext(context.Background(), "PRAGMA user_version").Scan(&version); err != nil {
		return err
	}
	if version != 1 {
		return nil
	}
	if _, err := tx.ExecContext(context.Background(), migrateFrom1); err != nil {
		return err
	}
	return tx.Commit()
}

// Path is the file the history lives in.
func (s *Store) Path() string { return s.path }

// Notice is a message for the user about what Open did, or "".
func (s *Store) Notice() string { return s.notice }

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// NewID returns a time-ordered id, so ids sort by arrival.
func NewID(now time.Time) string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return idAt(now) + hex.EncodeToString(b)
}

// idAt is the smallest id of anything received at t or later.
func idAt(t time.Time) string { return fmt.Sprintf("dlv_%013x", max(t.UnixMilli(), 0)) }

const summaryColumns = `id, rejected, received_at, method, path, remote_addr, event, verdict, duplicate, answer, forward, body_size`

type scanner interface{ Scan(...any) error }

func scanSummary(row scanner, d *Delivery, extra ...any) error {
	var (
		receivedAt int64
		forward    []byte
	)
	dest := append([]any{&d.ID, &d.Rejected, &receivedAt, &d.Method, &d.Path, &d.RemoteAddr, &d.Event, &d.Verdict, &d.Duplicate, &d.Answer, &forward, &d.BodySize}, extra...)
	if err := row.Scan(dest...); err != nil {
		var se *sqlite.Error
		if errors.Is(err, sql.ErrNoRows) || errors.As(err, &se) {
			return err
		}
		return fmt.Errorf("%w: %v", errBadRecord, err) // a value of the wrong kind
	}
	d.ReceivedAt = time.Unix(0, receivedAt)
	if len(forward) > 0 {
		d.Forward = &Attempt{}
		if err := json.Unmarshal(forward, d.Forward); err != nil {
			return fmt.Errorf("%w: delivery %s: forward record: %v", errBadRecord, d.ID, err)
		}
	}
	return nil
}

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
	stmt := `SELECT ` + summaryColumns + ` FROM deliveries WHERE rejected = ?`
	args := []any{q.Rejected}
	if q.Event != "" {
		stmt += ` AND event = ?`
		args = append(args, q.Event)
	}
	if q.Verdict != "" {
		stmt += ` AND verdict = ?`
		args = append(args, string(q.Verdict))
	}
	if q.AnswerMin != 0 || q.AnswerMax != 0 {
		stmt += ` AND answer BETWEEN ? AND ?`
		args = append(args, q.AnswerMin, q.AnswerMax)
	}
	if q.Before != "" {
		stmt += ` AND seq < coalesce((SELECT seq FROM deliveries WHERE id = ?), 0)`
		args = append(args, q.Before)
	}
	if q.After != "" {
		stmt += ` AND seq > coalesce((SELECT seq FROM deliveries WHERE id = ?), 0)`
		args = append(args, q.After)
	}
	stmt += ` ORDER BY seq DESC`
	if q.Limit > 0 {
		stmt += ` LIMIT ?`
		args = append(args, q.Limit)
	}
	rows, err := s.db.QueryContext(ctx, stmt, args...)
	if err != nil {
		return nil, s.damaged(err)
	}
	defer rows.Close()
	var out []Delivery
	for rows.Next() {
		var d Delivery
		if err := scanSummary(rows, &d); err != nil {
			return nil, s.damaged(err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, s.damaged(err)
	}
	return out, nil
}

// Count returns how many deliveries, or rejected requests, are kept.
func (s *Store) Count(ctx context.Context, rejected bool) (int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM deliveries WHERE rejected = ?`, rejected).Scan(&n); err != nil {
		return 0, s.damaged(err)
	}
	return n, nil
}

// Get returns the delivery with id, headers and body included.
func (s *Store) Get(ctx context.Context, id string) (*Delivery, error) {
	var (
		d        Delivery
		header   []byte
		resends  []byte
		body     []byte
		attempts []byte
		external bool
	)
	row := s.db.QueryRowContext(ctx, `SELECT `+summaryColumns+`, header, resends, external, body, attempts FROM deliveries WHERE id = ?`, id)
	if err := scanSummary(row, &d, &header, &resends, &external, &body, &attempts); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNotFound
		}
		return nil, s.damaged(err)
	}
	d.Body = body
	if external {
		var err error
		if d.Body, err = s.readBody(d.ID); err != nil {
			return nil, err
		}
	}
	d.Header = decodeHeader(header)
	var err error
	if d.Attempts, err = decodeAttempts(attempts, d.Forward, resends); err != nil {
		return nil, s.damaged(fmt.Errorf("%w: delivery %s: %v", errBadRecord, id, err))
	}
	return &d, nil
}

// decodeAttempts reads the attempts column, or, for a delivery written in
// format 1, makes the list from its forward and resends.
func decodeAttempts(attempts []byte, forward *Attempt, resends []byte) ([]Attempt, error) {
	var out []Attempt
	if len(attempts) > 0 {
		if err := json.Unmarshal(attempts, &out); err != nil {
			return nil, fmt.Errorf("attempts: %v", err)
		}
		return out, nil
	}
	var later []Attempt
	if len(resends) > 0 {
		if err := json.Unmarshal(resends, &later); err != nil {
			return nil, fmt.Errorf("resends: %v", err)
		}
	}
	return legacyAttempts(forward, later), nil
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
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return s.damaged(err)
	}
	defer tx.Rollback()
	var (
		forward, resends, raw []byte
	)
	if err := tx.QueryRowContext(ctx, `SELECT forward, resends, attempts FROM deliveries WHERE id = ?`, id).Scan(&forward, &resends, &raw); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		return s.damaged(err)
	}
	var first *Attempt
	if len(forward) > 0 && json.Unmarshal(forward, &first) != nil {
		first = nil
	}
	attempts, err := decodeAttempts(raw, first, resends)
	if err != nil {
		attempts = nil // a damaged list starts again
	}
	attempts = append(attempts, a)
	if raw, err = json.Marshal(attempts); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE deliveries SET attempts = ? WHERE id = ?`, raw, id); err != nil {
		return s.damaged(err)
	}
	return s.damaged(tx.Commit())
}

// Prune removes what was received before now-age (everything when age is 0)
// and returns how many records went.
func (s *Store) Prune(ctx context.Context, age time.Duration) (int, error) {
	cutoff := "dlx" // after every id
	if age > 0 {
		cutoff = idAt(time.Now().Add(-age))
	}
	// One transaction: a delivery listen commits meanwhile is either
	// listed and deleted with its file, or neither.
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, s.damaged(err)
	}
	defer tx.Rollback()
	files, err := externalBefore(ctx, tx, cutoff)
	if err != nil {
		return 0, s.damaged(err)
	}
	res, err := tx.ExecContext(ctx, `DELETE FROM deliveries WHERE id < ?`, cutoff)
	if err != nil {
		return 0, s.damaged(err)
	}
	if err := tx.Commit(); err != nil {
		return 0, s.damaged(err)
	}
	s.removeBodies(files)
	n, _ := res.RowsAffected()
	return int(n), nil
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// externalBefore lists the deliveries before cutoff whose bodies are files.
func externalBefore(ctx context.Context, q querier, cutoff string) ([]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT id FROM deliveries WHERE id < ? AND external = 1`, cutoff)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// busyTimeout is how long, in milliseconds, a statement waits for another
// process's lock (events prune while listen writes).
var busyTimeout = "5000"
