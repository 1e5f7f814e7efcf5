// Package store keeps the history of deliveries received by `jasni listen`
// in a bbolt file under the user's state directory, so that nothing is lost
// when the app is down and any delivery can be inspected or sent again.
//
// The file is opened for each operation and closed right after: bbolt locks
// it while open, and `jasni events list` must work while `jasni listen` runs.
package store

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

var bucket = []byte("deliveries")

// Limits bound the history; the oldest deliveries go first.
type Limits struct {
	MaxCount int
	MaxAge   time.Duration
}

// DefaultLimits keep a developer's recent history without growing forever.
var DefaultLimits = Limits{MaxCount: 1000, MaxAge: 30 * 24 * time.Hour}

// Verdict is the outcome of the signature check.
type Verdict string

const (
	VerdictValid   Verdict = "valid"
	VerdictInvalid Verdict = "invalid"
	VerdictMissing Verdict = "missing"
	VerdictSkipped Verdict = "not checked" // --skip-verify
)

// Forward is what happened when the delivery was passed to the app.
type Forward struct {
	URL        string `json:"url,omitempty"`
	Status     int    `json:"status,omitempty"`
	DurationMS int64  `json:"duration_ms"`
	Error      string `json:"error,omitempty"`
	// Skipped says why it was not forwarded: "invalid signature", "event filtered", "no --forward".
	Skipped string `json:"skipped,omitempty"`
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
	Event      string      `json:"event,omitempty"`
	Verdict    Verdict     `json:"verdict"`
	Duplicate  bool        `json:"duplicate,omitempty"`
	// Answer is the status jasni answered the sender with.
	Answer  int      `json:"answer"`
	Forward *Forward `json:"forward,omitempty"`
	// Resends lists later re-deliveries with `jasni events resend`.
	Resends []Forward `json:"resends,omitempty"`
}

// Store is a history file.
type Store struct {
	path   string
	limits Limits
	mu     sync.Mutex // serialises this process's opens of the file
}

// DefaultPath is $XDG_STATE_HOME/jasni/history.db, or ~/.local/state/jasni/history.db.
func DefaultPath(getenv func(string) string) (string, error) {
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

// Open returns the store at path; the file is created on first write.
func Open(path string, limits Limits) *Store {
	return &Store{path: path, limits: limits}
}

// Path is the file the history lives in.
func (s *Store) Path() string { return s.path }

// ErrNotFound is returned for an unknown delivery id.
var ErrNotFound = errors.New("no such delivery")

func (s *Store) with(write bool, fn func(*bolt.Tx) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !write {
		if _, err := os.Stat(s.path); errors.Is(err, os.ErrNotExist) {
			return fn(nil)
		}
	}
	if err := os.MkdirAll(filepath.Dir(s.path), 0o700); err != nil {
		return fmt.Errorf("history: %w", err)
	}
	db, err := bolt.Open(s.path, 0o600, &bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		if errors.Is(err, bolt.ErrTimeout) {
			return fmt.Errorf("history %s is locked by another jasni process; try again", s.path)
		}
		return fmt.Errorf("open history %s: %w", s.path, err)
	}
	defer db.Close()
	if write {
		return db.Update(func(tx *bolt.Tx) error {
			if _, err := tx.CreateBucketIfNotExists(bucket); err != nil {
				return err
			}
			return fn(tx)
		})
	}
	return db.View(fn)
}

// NewID returns a time-ordered id, so keys sort by arrival.
func NewID(now time.Time) string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return idAt(now) + hex.EncodeToString(b)
}

// idAt is the smallest id of anything received at t or later.
func idAt(t time.Time) string { return fmt.Sprintf("dlv_%013x", t.UnixMilli()) }

// Save writes d (new or changed) and prunes what is past the limits.
func (s *Store) Save(d *Delivery) error {
	data, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("history: encode: %w", err)
	}
	return s.with(true, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucket)
		if err := b.Put([]byte(d.ID), data); err != nil {
			return fmt.Errorf("history: save: %w", err)
		}
		return prune(b, s.limits, time.Now())
	})
}

// Get returns the delivery with id.
func (s *Store) Get(id string) (*Delivery, error) {
	var d *Delivery
	err := s.with(false, func(tx *bolt.Tx) error {
		if tx == nil || tx.Bucket(bucket) == nil {
			return ErrNotFound
		}
		data := tx.Bucket(bucket).Get([]byte(id))
		if data == nil {
			return ErrNotFound
		}
		d = &Delivery{}
		return json.Unmarshal(data, d)
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// Update loads a delivery, lets fn change it, and saves it, in one transaction.
func (s *Store) Update(id string, fn func(*Delivery)) error {
	return s.with(true, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucket)
		data := b.Get([]byte(id))
		if data == nil {
			return ErrNotFound
		}
		var d Delivery
		if err := json.Unmarshal(data, &d); err != nil {
			return err
		}
		fn(&d)
		out, err := json.Marshal(&d)
		if err != nil {
			return err
		}
		return b.Put([]byte(id), out)
	})
}

// List returns the newest deliveries first; event "" matches all; limit 0 means no limit.
func (s *Store) List(event string, limit int) ([]Delivery, error) {
	var out []Delivery
	err := s.with(false, func(tx *bolt.Tx) error {
		if tx == nil || tx.Bucket(bucket) == nil {
			return nil
		}
		c := tx.Bucket(bucket).Cursor()
		for k, v := c.Last(); k != nil; k, v = c.Prev() {
			var d Delivery
			if err := json.Unmarshal(v, &d); err != nil {
				continue // a record from a newer version: skip rather than fail the list
			}
			if event != "" && d.Event != event {
				continue
			}
			out = append(out, d)
			if limit > 0 && len(out) >= limit {
				break
			}
		}
		return nil
	})
	return out, err
}

// Prune removes deliveries older than age (all of them when age is 0) and
// returns how many went.
func (s *Store) Prune(age time.Duration) (int, error) {
	removed := 0
	err := s.with(true, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucket)
		cutoff := idAt(time.Now().Add(-age))
		var doomed [][]byte
		c := b.Cursor()
		for k, _ := c.First(); k != nil && (age == 0 || bytes.Compare(k, []byte(cutoff)) < 0); k, _ = c.Next() {
			doomed = append(doomed, append([]byte(nil), k...))
		}
		for _, k := range doomed {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		removed = len(doomed)
		return nil
	})
	return removed, err
}

func prune(b *bolt.Bucket, limits Limits, now time.Time) error {
	var doomed [][]byte
	c := b.Cursor()
	if limits.MaxAge > 0 {
		cutoff := []byte(idAt(now.Add(-limits.MaxAge)))
		for k, _ := c.First(); k != nil && bytes.Compare(k, cutoff) < 0; k, _ = c.Next() {
			doomed = append(doomed, append([]byte(nil), k...))
		}
	}
	if limits.MaxCount > 0 {
		count := 0
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			count++
		}
		excess := count - len(doomed) - limits.MaxCount
		k, _ := c.First()
		for skip := 0; skip < len(doomed) && k != nil; skip++ {
			k, _ = c.Next()
		}
		for ; excess > 0 && k != nil; excess-- {
			doomed = append(doomed, append([]byte(nil), k...))
			k, _ = c.Next()
		}
	}
	for _, k := range doomed {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}
