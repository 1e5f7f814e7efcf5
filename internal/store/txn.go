package store

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
)

// txn gathers the records of one change to the history. Each record is
// applied to the index as it is added, and the whole is appended in one
// write; a change that fails is not in the file, and the index is read
// again from the file.
type txn struct {
	s     *Store
	start int64
	buf   []byte
}

// update runs build under the writers' lock, with the index up to date,
// and appends the records it added.
func (s *Store) update(ctx context.Context, build func(*txn) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrWriterClosed
	}
	release, err := s.lockFile()
	if err != nil {
		return err
	}
	defer release()
	if err := s.sync(true); err != nil {
		return err
	}
	tx := &txn{s: s, start: s.idx.end}
	err = build(tx)
	if err == nil && len(tx.buf) > 0 {
		if _, err = s.f.WriteAt(tx.buf, tx.start); err != nil {
			_ = s.f.Truncate(tx.start)
			err = fmt.Errorf("history %s: %w", s.path, err)
		}
	}
	if err != nil {
		if len(tx.buf) > 0 {
			s.rescan() // the index took records that are not in the file
		}
		return err
	}
	s.maybeCompact()
	return nil
}

// add appends a record to the change and applies it to the index.
func (tx *txn) add(kind byte, meta, body []byte) error {
	off := tx.start + int64(len(tx.buf))
	var err error
	if tx.buf, err = appendRecord(tx.buf, kind, meta, body); err != nil {
		return err
	}
	return tx.s.idx.apply(rec{off: off, kind: kind, meta: meta, bodyLen: int64(len(body))})
}

// remove adds a record removing es, and returns the body files to remove
// once it is written.
func (tx *txn) remove(es []*entry) ([]string, error) {
	if len(es) == 0 {
		return nil, nil
	}
	ids := make([]string, len(es))
	var files []string
	for i, e := range es {
		ids[i] = e.id
		if e.external() {
			files = append(files, e.id)
		}
	}
	return files, tx.add(recDelete, encodeDelete(ids), nil)
}

// deleteBefore removes everything received before cutoff (an id).
func (tx *txn) deleteBefore(cutoff string) (files []string, n int, err error) {
	var es []*entry
	for _, rejected := range []bool{false, true} {
		tx.s.idx.oldest(rejected, func(e *entry) bool {
			if e.id < cutoff {
				es = append(es, e)
			}
			return true
		})
	}
	files, err = tx.remove(es)
	return files, len(es), err
}

// trim removes the oldest records of one quota until it is within
// maxCount and maxBytes (0 means no bound), and returns how many went and
// their body files.
func (tx *txn) trim(rejected bool, maxCount int, maxBytes int64) (int, []string, error) {
	t := tx.s.idx.totals[b2i(rejected)]
	over := func() bool {
		return (maxCount > 0 && t.count > maxCount) || (maxBytes > 0 && t.bytes > maxBytes)
	}
	var es []*entry
	tx.s.idx.oldest(rejected, func(e *entry) bool {
		if !over() {
			return false
		}
		es = append(es, e)
		t.count--
		t.bytes -= e.size
		return true
	})
	files, err := tx.remove(es)
	return len(es), files, err
}

// rescan reads the index again from the file.
func (s *Store) rescan() {
	idx := newIndex()
	_, _ = scan(s.f, idx) // damage shows at the next sync, which goes on from where this stopped
	s.idx = idx
}

// compactMin is the waste a log may hold before it is compacted: records
// no longer live, at least this many bytes and as many as are live.
var compactMin int64 = 8 << 20

func (s *Store) maybeCompact() {
	x := s.idx
	if x.waste < max(compactMin, s.compactAfter) || x.waste < x.live() {
		return
	}
	// A compaction that fails leaves the log as it was: it takes more
	// room, and is tried again once the waste has doubled (on Windows a
	// file another process has open cannot be replaced).
	s.compactAfter = 0
	if err := s.compact(); err != nil {
		s.compactAfter = 2 * x.waste
	}
}

// compact writes the live records to a new file and renames it over the
// history. Other processes reading the old file go on reading it until
// their next sync, which opens the new one (the same lineage).
func (s *Store) compact() error {
	if now, err := os.Stat(s.path); err != nil || !os.SameFile(now, s.file) {
		return errors.New("the history was moved") // the next sync says so
	}
	tmp := s.path + ".compact"
	nf, err := openFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	fail := func(err error) error {
		nf.Close()
		os.Remove(tmp)
		return err
	}
	var live []*entry
	for q := range s.idx.order {
		s.idx.oldest(q == 1, func(e *entry) bool { live = append(live, e); return true })
	}
	slices.SortFunc(live, func(a, b *entry) int { return int(a.seq - b.seq) })
	w := bufio.NewWriterSize(nf, 1<<20)
	if _, err := w.Write(newHeader(s.lineage)); err != nil {
		return fail(err)
	}
	for _, e := range live {
		spans := append([]span{e.ins, e.fin}, e.more...)
		for _, sp := range spans {
			if sp.size == 0 {
				continue
			}
			if _, err := io.Copy(w, io.NewSectionReader(s.f, sp.off, sp.size)); err != nil {
				return fail(err)
			}
		}
	}
	if err := w.Flush(); err != nil {
		return fail(err)
	}
	if err := nf.Sync(); err != nil {
		return fail(err)
	}
	// Both files are closed for the rename: Windows replaces no file that
	// is open, ours included. Nothing in this process reads s.f meanwhile
	// (s.mu is held), and reopen opens whichever file the path names after.
	if err := nf.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	s.f.Close()
	renamed := os.Rename(tmp, s.path)
	if renamed != nil {
		os.Remove(tmp)
	}
	s.f = nil
	if err := s.reopen(); err != nil {
		return err
	}
	return renamed
}
