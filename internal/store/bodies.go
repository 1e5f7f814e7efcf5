package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Large bodies are kept in files of their own beside the database, in
// <history>-bodies/<id>: a body in SQLite is copied several times on its way
// in and written twice (to the WAL, then to the file at the checkpoint),
// which cost a verifying relay more than verifying and forwarding it did. A
// file is written once. Bodies below ExternalMin stay in the database, where
// a row costs less than a file.
const ExternalMin = 64 << 10

// ErrBodyMissing says a delivery's body file is gone (removed by hand).
var ErrBodyMissing = errors.New("the body file of this delivery is missing from the history")

// bodiesDir is where path's large bodies live.
func bodiesDir(path string) string { return path + "-bodies" }

// ValidID reports whether id has the form of a delivery id (dlv_ and hex),
// and so is safe as a file name: a history file may come from anywhere,
// and an id such as ../../x must not name a file.
func ValidID(id string) bool {
	rest, ok := strings.CutPrefix(id, "dlv_")
	if !ok || rest == "" || len(rest) > 64 {
		return false
	}
	for _, c := range rest {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func (s *Store) bodyPath(id string) (string, error) {
	if !ValidID(id) {
		return "", fmt.Errorf("%w: delivery id %q cannot name a body file", errBadRecord, id)
	}
	return filepath.Join(bodiesDir(s.path), id), nil
}

// writeBody writes a delivery's body to its file (mode 0600).
func (s *Store) writeBody(id string, body []byte) error {
	p, err := s.bodyPath(id)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return err
	}
	return os.WriteFile(p, body, 0o600)
}

// readBody reads a delivery's body from its file.
func (s *Store) readBody(id string) ([]byte, error) {
	p, err := s.bodyPath(id)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("delivery %s: %w (%s)", id, ErrBodyMissing, p)
	}
	return b, err
}

// removeBodies removes the body files of ids; what is already gone is no
// matter.
func (s *Store) removeBodies(ids []string) {
	for _, id := range ids {
		if p, err := s.bodyPath(id); err == nil {
			_ = os.Remove(p)
		}
	}
}

// sweepBodies removes body files that no delivery names: left by a crash
// between writing a body and committing its record, or by a commit that
// was given up. Files younger than a minute are left: they may be a
// record's that is about to be committed.
func (s *Store) sweepBodies() {
	entries, err := os.ReadDir(bodiesDir(s.path))
	if err != nil || len(entries) == 0 {
		return
	}
	rows, err := s.db.QueryContext(context.Background(), `SELECT id FROM deliveries WHERE external = 1`)
	if err != nil {
		return
	}
	named := map[string]bool{}
	for rows.Next() {
		var id string
		if rows.Scan(&id) == nil {
			named[id] = true
		}
	}
	rows.Close()
	if rows.Err() != nil {
		return
	}
	cutoff := time.Now().Add(-time.Minute)
	for _, e := range entries {
		if named[e.Name()] || !ValidID(e.Name()) {
			continue
		}
		if info, err := e.Info(); err == nil && info.ModTime().Before(cutoff) {
			_ = os.Remove(filepath.Join(bodiesDir(s.path), e.Name()))
		}
	}
}
