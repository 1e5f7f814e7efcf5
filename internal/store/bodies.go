package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Large bodies are kept in files of their own beside the history, in
// <history>-bodies/<id>: in the log, a large body would be read past by
// every scan and copied by every compaction, and a flood of them would make
// the file churn. A file is written once. Bodies below ExternalMin stay in
// the log, where a record costs less than a file.
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
	named := map[string]bool{}
	s.mu.Lock()
	for _, e := range s.idx.byID {
		if e.external() {
			named[e.id] = true
		}
	}
	s.mu.Unlock()
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
