package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"
)

// The history of earlier versions was a bbolt file at the same path, one JSON
// record per delivery in the bucket "deliveries".
const bboltMagic = 0xED0CDAED

// isBbolt reports whether the file at path starts with a bbolt meta page.
func isBbolt(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, 20)
	if _, err := io.ReadFull(f, head); err != nil {
		return false
	}
	return binary.LittleEndian.Uint32(head[16:20]) == bboltMagic
}

// moveLegacyAside renames a bbolt history out of the way and returns its new
// path, or "" when path holds no such file.
func moveLegacyAside(path string) (string, error) {
	if !isBbolt(path) {
		return "", nil
	}
	return moveOldAside(path, "v1")
}

// moveOldAside renames a history of an earlier format, and its companions,
// to path.TAG (path.TAG-TIME when that is taken) and returns where it went,
// or "" when another jasni moved it first.
func moveOldAside(path, tag string) (string, error) {
	aside := path + "." + tag
	if _, err := os.Stat(aside); err == nil {
		aside = fmt.Sprintf("%s.%s-%s", path, tag, time.Now().Format("20060102-150405"))
	}
	if err := os.Rename(path, aside); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return "", nil // another jasni moved it first
		}
		return "", fmt.Errorf("move the old history %s aside: %w", path, err)
	}
	return aside, moveCompanions(path, aside)
}

// importLegacy copies the deliveries of an old history into s and says what
// happened. The old file stays where moveLegacyAside put it.
func (s *Store) importLegacy(old string) string {
	records, err := readLegacy(old)
	if err != nil {
		return fmt.Sprintf("The history was in an older format and could not be read (%v); it was moved to %s and a new one started.", err, old)
	}
	ds := make([]*Delivery, len(records))
	for i := range records {
		ds[i] = &records[i]
	}
	if err := s.Put(context.Background(), ds...); err != nil {
		return fmt.Sprintf("The history was in an older format; copying it failed (%v), and the old file is at %s.", err, old)
	}
	imported := len(ds)
	return fmt.Sprintf("The history was in an older format: %d deliveries were copied into the new one, and the old file is at %s (delete it when you like).", imported, old)
}

// readLegacy reads every record of a bbolt history. A damaged bbolt file can
// fault when read through its memory map; the fault becomes an error here
// instead of killing jasni.
func readLegacy(path string) (out []Delivery, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("the file is damaged: %v", r)
		}
	}()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		return nil, err
	}
	defer db.Close()
	err = db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("deliveries"))
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			var rec struct {
				Delivery
				Resends []Attempt `json:"resends"`
			}
			if json.Unmarshal(v, &rec) != nil || rec.ID == "" {
				return nil // skip what cannot be read
			}
			d := rec.Delivery
			d.Attempts = legacyAttempts(d.Forward, rec.Resends)
			d.Body = bytes.Clone(d.Body)
			d.BodySize = int64(len(d.Body))
			d.Rejected = d.Verdict == VerdictInvalid || d.Verdict == VerdictMissing
			out = append(out, d)
			return nil
		})
	})
	return out, err
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
