package store

import (
	"errors"
	"fmt"
	"os"
	"time"
)

// DamagedError says the history file cannot be used, and what to run.
type DamagedError struct {
	Path string
	Err  error
}

func (e *DamagedError) Error() string {
	if errors.Is(e.Err, ErrMoved) {
		return fmt.Sprintf("%s: %v", e.Path, e.Err)
	}
	return fmt.Sprintf("the history %s cannot be read (%v): run \"jasni events reset\" to move it aside and start a new one", e.Path, e.Err)
}

func (e *DamagedError) Unwrap() error { return e.Err }

// damaged classifies err: a record that does not read back as written, or
// a file that is not a history, becomes a *DamagedError; other errors are
// wrapped with the file's name.
func (s *Store) damaged(err error) error {
	if err == nil {
		return nil
	}
	var de *DamagedError
	if errors.As(err, &de) {
		return err
	}
	if IsDamage(err) {
		return &DamagedError{Path: s.path, Err: err}
	}
	return fmt.Errorf("history %s: %w", s.path, err)
}

// errBadRecord marks a record whose values are not what jasni writes.
var errBadRecord = errors.New("a record is damaged")

// IsDamage reports whether err means the file itself is unusable, as opposed
// to a passing condition such as a lock held too long.
func IsDamage(err error) bool {
	var de *DamagedError
	return errors.As(err, &de) || errors.Is(err, errBadRecord) || errors.Is(err, errNotHistory)
}

// Reset moves the history file and its companions (-bodies, and the -wal
// and -shm of a history in SQLite) aside, so the next use starts a new one,
// and returns where the file went ("" when there was none). It takes the
// writers' lock, so it never lands in the middle of a compaction (which
// would put the old history back).
func Reset(path string) (string, error) {
	if _, err := os.Lstat(path); errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if lock, err := os.OpenFile(path+"-lock", os.O_RDWR|os.O_CREATE, 0o600); err == nil {
		defer lock.Close()
		release, err := waitLock(lock, path)
		if err != nil {
			return "", err
		}
		defer release()
	}
	aside := fmt.Sprintf("%s.%s.old", path, time.Now().Format("20060102-150405"))
	for n := 2; exists(aside) || exists(aside+"-bodies"); n++ {
		aside = fmt.Sprintf("%s.%s-%d.old", path, time.Now().Format("20060102-150405"), n)
	}
	if err := os.Rename(path, aside); err != nil {
		return "", fmt.Errorf("move the history aside: %w", err)
	}
	return aside, moveCompanions(path, aside)
}

// moveCompanions moves the files that go with the history at path (its
// -bodies, and the -wal and -shm of one in SQLite) beside the one moved to
// aside; those that are not there are no matter.
func moveCompanions(path, aside string) error {
	for _, suffix := range []string{"-wal", "-shm", "-bodies"} {
		if err := os.Rename(path+suffix, aside+suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("move %s aside: %w", path+suffix, err)
		}
	}
	return nil
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}
