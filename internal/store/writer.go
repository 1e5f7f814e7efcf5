package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Errors from Writer.Record: the delivery was not recorded.
var (
	ErrWriterClosed = errors.New("the history is closed")
	ErrBehind       = errors.New("the history is falling behind (too much waiting to be written)")
)

// WriterOptions configures a Writer.
type WriterOptions struct {
	// MaxQueuedBytes bounds the bodies waiting to be written; past it Record
	// refuses. Default 64 MiB.
	MaxQueuedBytes int64
	// OnError is told when records could not be written, for good. OnRetry
	// is told when a group failed and will be tried again. Both are called
	// from the writer's goroutine.
	OnError func(error)
	OnRetry func(error)
	// OnTrim is told how many deliveries (not refused requests) a commit
	// removed to keep the history within its limits.
	OnTrim func(n int)
}

// Writer is the history's single writer inside listen. Record and Finish
// only queue; one goroutine commits what is queued in groups, so a sender's
// answer never waits for the disk. Close flushes the queue.
type Writer struct {
	s       *Store
	opts    WriterOptions
	ops     chan op
	mu      sync.RWMutex // held for reading while queueing, for writing by Close
	closed  bool
	queued  atomic.Int64
	broken  atomic.Pointer[error] // damage: the writer has stopped for good
	failing atomic.Pointer[error] // the last commit failed and is being retried
	dropped atomic.Pointer[error] // a group was given up; Flush and Put report it
	done    chan struct{}
	aged    time.Time
	// headerBuf and metaBuf are reused for encoding records.
	headerBuf, metaBuf []byte
	// Body files written for the group being committed (removed if it is
	// not), and the files of records it removes (removed once it is).
	bodyFiles, dropFiles []string
}

type quota struct {
	count int
	bytes int64
}

type opKind int

const (
	opInsert opKind = iota
	opFinish
	opFlush
)

type op struct {
	kind    opKind
	d       Delivery      // a copy; Body and Header are shared and never changed after
	flushed chan struct{} // opFlush: closed once everything before it is written
	// written, for an insert, is told once the record is committed (nil)
	// or given up (why).
	written func(error)
	// err is why this op alone was not written, though its group was.
	err error
}

// errDuplicateID says a record's id was in the history already: the first
// one stands.
var errDuplicateID = errors.New("a delivery with this id is in the history already")

// maxGroup bounds the records committed in one transaction; linger bounds
// how long a group stays open, and so what a kill -9 can lose; idleGap is
// how long a group whose deliveries all have their outcome waits for the
// next delivery. A commit costs far more than a record (on this kind of
// machine, mostly the write system calls for the pages it touches), so
// while deliveries keep coming they share commits, and once they stop the
// last ones are written within idleGap of their answer.
const (
	maxGroup = 512
	linger   = 20 * time.Millisecond
	idleGap  = 500 * time.Microsecond
)

// NewWriter starts the writer. One process at a time should record
// deliveries, though the file lock keeps two safe.
func (s *Store) NewWriter(opts WriterOptions) *Writer {
	s.mu.Lock()
	s.writing = true // a history moved away is then not followed, but said (ErrMoved)
	s.mu.Unlock()
	return s.newWriter(opts)
}

func (s *Store) newWriter(opts WriterOptions) *Writer {
	if opts.MaxQueuedBytes <= 0 {
		opts.MaxQueuedBytes = 64 << 20
	}
	w := &Writer{s: s, opts: opts, ops: make(chan op, 8192), done: make(chan struct{})}
	go w.run()
	return w
}

// Record queues a new delivery. An error means it will not be recorded;
// otherwise written, when not nil, is called once it is committed (with
// nil) or given up (with why), from the writer's goroutine. It must not
// block.
func (w *Writer) Record(d *Delivery, written func(error)) error {
	cp := *d
	if d.Forward != nil {
		f := *d.Forward
		cp.Forward = &f
	}
	if cp.Rejected {
		// Everything of a refused request is the sender's choice, so all of
		// it is cut to size before it waits in the queue.
		// Copies, not slices: a slice would keep the whole body it came
		// from alive while the record waits.
		cp.Body = bytes.Clone(cp.Body[:min(len(cp.Body), RejectedBodyKeep)])
		cp.Header = trimHeader(cp.Header, RejectedHeaderKeep)
		cp.Method, cp.Path, cp.Event = clip(cp.Method, 32), clip(cp.Path, 1024), clip(cp.Event, 256)
		if cp.Forward != nil {
			cp.Forward.Skipped = clip(cp.Forward.Skipped, 1024)
		}
	}
	return w.enqueue(op{kind: opInsert, d: cp, written: written}, int64(len(cp.Body)+headerSize(cp.Header)+len(cp.Path)))
}

// clip bounds a string kept from a refused request.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func headerSize(h http.Header) int {
	n := 0
	for k, vs := range h {
		for _, v := range vs {
			n += len(k) + len(v) + 4
		}
	}
	return n
}

// Finish queues the outcome of a recorded delivery: its answer, verdict,
// duplicate mark and forward result. It is dropped if the history cannot
// take it; the delivery itself is already queued or written.
func (w *Writer) Finish(d *Delivery) {
	cp := Delivery{ID: d.ID, Answer: d.Answer, Verdict: d.Verdict, Duplicate: d.Duplicate, Event: d.Event, Attempts: d.Attempts}
	if d.Forward != nil {
		f := *d.Forward
		cp.Forward = &f
	}
	_ = w.enqueue(op{kind: opFinish, d: cp}, 0)
}

func (w *Writer) enqueue(o op, size int64) error {
	w.mu.RLock()
	defer w.mu.RUnlock()
	if w.closed {
		return ErrWriterClosed
	}
	if p := w.broken.Load(); p != nil {
		return *p
	}
	if p := w.failing.Load(); p != nil && o.kind == opInsert {
		return fmt.Errorf("the history cannot write at the moment: %w", *p)
	}
	if w.queued.Add(size) > w.opts.MaxQueuedBytes && o.kind == opInsert {
		w.queued.Add(-size)
		return ErrBehind
	}
	select {
	case w.ops <- o:
		return nil
	default:
		w.queued.Add(-size)
		return ErrBehind
	}
}

// Put writes deliveries now, through a writer of their own, and returns
// once they are committed: for imports and tests, not for the request path.
func (s *Store) Put(ctx context.Context, ds ...*Delivery) error {
	w := s.newWriter(WriterOptions{MaxQueuedBytes: 1 << 40})
	for _, d := range ds {
		if err := w.Record(d, nil); err != nil {
			_ = w.Close(ctx)
			return err
		}
	}
	if err := w.Close(ctx); err != nil {
		return err
	}
	return w.Err()
}

// Flush waits until everything queued before it is written (or dropped,
// if the history failed), or ctx ends.
func (w *Writer) Flush(ctx context.Context) error {
	done := make(chan struct{})
	w.mu.RLock()
	if w.closed {
		w.mu.RUnlock()
		return ErrWriterClosed
	}
	select {
	case w.ops <- op{kind: opFlush, flushed: done}:
	case <-ctx.Done():
		w.mu.RUnlock()
		return ctx.Err()
	}
	w.mu.RUnlock()
	select {
	case <-done:
		if p := w.dropped.Swap(nil); p != nil {
			return *p
		}
		return w.Err()
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stops taking records and waits until everything queued is written,
// or ctx ends. Closing again waits the same way.
func (w *Writer) Close(ctx context.Context) error {
	w.mu.Lock()
	if !w.closed {
		w.closed = true
		close(w.ops)
	}
	w.mu.Unlock()
	select {
	case <-w.done:
		if p := w.dropped.Swap(nil); p != nil {
			return *p
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("the history could not write everything before exit: %w", ctx.Err())
	}
}

// Err is the damage that stopped the writer, or nil.
func (w *Writer) Err() error {
	if p := w.broken.Load(); p != nil {
		return *p
	}
	return nil
}

// Retrying a group that could not be committed (the disk full, the file
// locked by another jasni for too long): the wait doubles from retryFirst,
// and after retryAttempts the group is given up.
const (
	retryFirst    = 50 * time.Millisecond
	retryMax      = time.Second
	retryAttempts = 8
)

func (w *Writer) run() {
	defer close(w.done)
	w.s.sweepBodies()
	timer, idleTimer := time.NewTimer(linger), time.NewTimer(idleGap)
	var (
		group    []op
		attempts int
		closing  bool
	)
	for {
		wait := linger
		if attempts > 0 {
			// A failed group waits before it is tried again, and takes in
			// what arrives meanwhile.
			wait = min(retryFirst<<(attempts-1), retryMax)
		} else {
			first, ok := <-w.ops
			if !ok {
				return
			}
			group = append(group[:0], first)
		}
		timer.Reset(wait)
		// A delivery is recorded when it arrives and finished when the app
		// has answered, a moment later: the group waits for the outcomes
		// of the deliveries in it, so each is written once, complete, and
		// then for more deliveries while they keep coming.
		open := unfinished(group)
		if attempts > 0 && !closing && len(group) >= maxGroup {
			<-timer.C // a full group waits before it is tried again all the same
		}
	gather:
		for !closing && len(group) < maxGroup {
			var idle <-chan time.Time
			if attempts == 0 && len(open) == 0 {
				idleTimer.Reset(idleGap)
				idle = idleTimer.C
			}
			select {
			case <-idle:
				break gather
			case o, ok := <-w.ops:
				if !ok {
					closing = true
					break gather
				}
				group = append(group, o)
				switch o.kind {
				case opInsert:
					if o.d.Answer == 0 {
						open[o.d.ID] = true
					}
				case opFinish:
					delete(open, o.d.ID)
				case opFlush:
					if attempts == 0 {
						break gather
					}
				}
			case <-timer.C:
				break gather
			}
		}

		wasBroken := w.broken.Load() != nil
		err := w.commit(group)
		if err != nil && !IsDamage(err) && attempts < retryAttempts {
			attempts++
			w.failing.Store(&err)
			if attempts == 1 && w.opts.OnRetry != nil {
				w.opts.OnRetry(err)
			}
			if !closing {
				continue
			}
			// Closing: one more try right away, then give up.
			if err = w.commit(group); err != nil {
				attempts = retryAttempts
			}
		}
		if err != nil {
			dropped := &DroppedError{Count: inserts(group), Err: err}
			var asErr error = dropped
			w.dropped.Store(&asErr)
			// Once the history is broken, that was said once; what it
			// cannot write since is told to each record's written.
			if w.opts.OnError != nil && !wasBroken {
				w.opts.OnError(dropped)
			}
		}
		attempts = 0
		w.failing.Store(nil)
		var size int64
		for i := range group {
			size += queuedSize(&group[i])
			done(&group[i], err)
			group[i] = op{}
		}
		group = group[:0]
		w.queued.Add(-size)
		if closing {
			// Whatever is still queued behind the close is written too.
			for o := range w.ops {
				group = append(group, o)
			}
			if len(group) > 0 {
				err := w.commit(group)
				for i := range group {
					done(&group[i], err)
				}
			}
			return
		}
	}
}

// done tells an op's waiter how its group ended.
func done(o *op, err error) {
	switch {
	case o.kind == opFlush:
		close(o.flushed)
	case o.kind == opInsert && o.written != nil:
		if err == nil {
			err = o.err
		}
		o.written(err)
	}
}

// DroppedError says how many records a failed commit lost.
type DroppedError struct {
	Count int
	Err   error
}

func (e *DroppedError) Error() string {
	if e.Count == 1 {
		return fmt.Sprintf("1 record was not written to the history: %v", e.Err)
	}
	return fmt.Sprintf("%d records were not written to the history: %v", e.Count, e.Err)
}

func (e *DroppedError) Unwrap() error { return e.Err }

// queuedSize is what an op counted against MaxQueuedBytes.
func queuedSize(o *op) int64 {
	if o.kind != opInsert {
		return 0
	}
	return int64(len(o.d.Body) + headerSize(o.d.Header) + len(o.d.Path))
}

// unfinished lists the deliveries in group still waiting for an outcome.
func unfinished(group []op) map[string]bool {
	open := map[string]bool{}
	for i := range group {
		switch o := &group[i]; o.kind {
		case opInsert:
			if o.d.Answer == 0 {
				open[o.d.ID] = true
			}
		case opFinish:
			delete(open, o.d.ID)
		}
	}
	return open
}

func inserts(group []op) int {
	n := 0
	for i := range group {
		if group[i].kind == opInsert {
			n++
		}
	}
	return n
}

// commit writes a group in one transaction. Damage stops the writer for
// good; other errors are returned for the caller to retry.
func (w *Writer) commit(group []op) error {
	if p := w.broken.Load(); p != nil {
		return *p // already said
	}
	err := w.write(group)
	if err == nil {
		return nil
	}
	err = w.s.damaged(err)
	if IsDamage(err) {
		w.broken.Store(&err)
		if w.opts.OnError != nil {
			w.opts.OnError(err)
		}
	}
	return err
}

func (w *Writer) write(group []op) error {
	w.bodyFiles, w.dropFiles = w.bodyFiles[:0], w.dropFiles[:0]
	err := w.writeGroup(group)
	if err != nil {
		// The records are not there: neither are their bodies.
		w.s.removeBodies(w.bodyFiles)
		return err
	}
	w.s.removeBodies(w.dropFiles)
	return nil
}

func (w *Writer) writeGroup(group []op) error {
	// A delivery whose outcome arrives in the same group is written once,
	// complete.
	inserts := map[string]int{}
	for i := range group {
		switch o := &group[i]; o.kind {
		case opInsert:
			inserts[o.d.ID] = i
		case opFinish:
			if j, ok := inserts[o.d.ID]; ok {
				mergeOutcome(&group[j].d, &o.d)
				o.kind = -1
			}
		}
	}

	return w.s.update(context.Background(), func(tx *txn) error {
		for i := range group {
			d := &group[i].d
			switch group[i].kind {
			case opInsert:
				err := w.insert(tx, d)
				group[i].err = nil
				if errors.Is(err, errDuplicateID) || errors.Is(err, errTooLarge) {
					// This record alone is not written; the group is.
					group[i].err = err
					continue
				}
				if err != nil {
					return err
				}
			case opFinish:
				if tx.s.idx.byID[d.ID] == nil {
					continue // pruned meanwhile, or never written
				}
				fwd, attempts, err := outcomeJSON(d)
				if err != nil {
					return err
				}
				w.metaBuf = encodeFinish(w.metaBuf[:0], d, fwd, attempts)
				if err := tx.add(recFinish, w.metaBuf, nil); err != nil && !errors.Is(err, errTooLarge) {
					return err
				}
			}
		}
		return w.prune(tx)
	})
}

func (w *Writer) insert(tx *txn, d *Delivery) error {
	if tx.s.idx.byID[d.ID] != nil {
		return errDuplicateID // the first one stands, its body file too
	}
	h := d.Header
	if d.Rejected {
		h = trimHeader(h, RejectedHeaderKeep)
	}
	header := encodeHeader(w.headerBuf[:0], h)
	w.headerBuf = header
	fwd, attempts, err := outcomeJSON(d)
	if err != nil {
		return err
	}
	bodySize := max(d.BodySize, int64(len(d.Body)))
	size := int64(len(header) + len(d.Body) + len(attempts))
	external := !d.Rejected && len(d.Body) >= ExternalMin
	var flags uint64
	if d.Rejected {
		flags |= flagRejected
	}
	if d.Duplicate {
		flags |= flagDuplicate
	}
	stored := d.Body
	if external {
		flags |= flagExternal
		stored = nil
		// Listed first: a write that fails part way leaves a file too,
		// and a change that fails removes it.
		w.bodyFiles = append(w.bodyFiles, d.ID)
		if err := w.s.writeBody(d.ID, d.Body); err != nil {
			return err
		}
	}
	cp := *d
	cp.BodySize = bodySize
	w.metaBuf = encodeInsert(w.metaBuf[:0], &cp, flags, size, header, fwd, attempts)
	err = tx.add(recInsert, w.metaBuf, stored)
	if errors.Is(err, errTooLarge) && external {
		w.s.removeBodies([]string{d.ID}) // not recorded: nor is its body
	}
	return err
}

func mergeOutcome(into, from *Delivery) {
	into.Answer, into.Verdict, into.Duplicate, into.Forward, into.Attempts = from.Answer, from.Verdict, from.Duplicate, from.Forward, from.Attempts
	if from.Event != "" {
		into.Event = from.Event
	}
}

// outcomeJSON is what becomes of d as its forward column (brief, for
// lists) and its attempts column (whole, answers included).
func outcomeJSON(d *Delivery) (forward, attempts []byte, err error) {
	if d.Forward != nil {
		if forward, err = json.Marshal(d.Forward.brief()); err != nil {
			return nil, nil, err
		}
	}
	if len(d.Attempts) > 0 {
		if attempts, err = json.Marshal(d.Attempts); err != nil {
			return nil, nil, err
		}
	}
	return forward, attempts, nil
}

// trimHeader keeps whole header lines up to max bytes, in a stable order.
func trimHeader(h http.Header, max int) http.Header {
	if headerSize(h) <= max {
		return h.Clone() // its strings may share the request's buffers
	}
	out := http.Header{}
	used := 0
	for _, k := range sortedKeys(h) {
		for _, v := range h[k] {
			n := len(k) + len(v) + 4
			if used+n > max {
				out["X-Jasni-Truncated"] = []string{"headers beyond the first 8 KiB were not kept"}
				return out
			}
			used += n
			out[k] = append(out[k], v)
		}
	}
	return out
}

// prune keeps each quota within its limits, oldest first, and once a
// minute removes what is older than MaxAge.
func (w *Writer) prune(tx *txn) error {
	l := w.s.limits
	n, files, err := tx.trim(false, l.MaxCount, l.MaxBytes)
	if err != nil {
		return err
	}
	w.dropFiles = append(w.dropFiles, files...)
	if n > 0 && w.opts.OnTrim != nil {
		w.opts.OnTrim(n)
	}
	if _, files, err = tx.trim(true, l.MaxRejected, l.MaxRejectedBytes); err != nil {
		return err
	}
	w.dropFiles = append(w.dropFiles, files...)
	if now := time.Now(); l.MaxAge > 0 && now.Sub(w.aged) > time.Minute {
		files, _, err := tx.deleteBefore(idAt(now.Add(-l.MaxAge)))
		if err != nil {
			return err
		}
		w.dropFiles = append(w.dropFiles, files...)
		w.aged = now
	}
	return nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
