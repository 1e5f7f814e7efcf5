package store

import (
	"context"
	"database/sql"
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
	// OnError is told when a group could not be written. It is called from
	// the writer's goroutine.
	OnError func(error)
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
	broken  atomic.Pointer[error]
	done    chan struct{}
	totals  [2]quota // [deliveries, rejected], as this writer last counted them
	counted time.Time
	aged    time.Time
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
}

// maxGroup bounds the records committed in one transaction.
const maxGroup = 512

// NewWriter starts the writer. Only one process should write at a time,
// though SQLite keeps two safe.
func (s *Store) NewWriter(opts WriterOptions) *Writer {
	if opts.MaxQueuedBytes <= 0 {
		opts.MaxQueuedBytes = 64 << 20
	}
	w := &Writer{s: s, opts: opts, ops: make(chan op, 8192), done: make(chan struct{})}
	go w.run()
	return w
}

// Record queues a new delivery. An error means it will not be recorded.
func (w *Writer) Record(d *Delivery) error {
	cp := *d
	if d.Forward != nil {
		f := *d.Forward
		cp.Forward = &f
	}
	if cp.Rejected {
		cp.Body = cp.Body[:min(len(cp.Body), RejectedBodyKeep)]
	}
	return w.enqueue(op{kind: opInsert, d: cp}, int64(len(cp.Body)))
}

// Finish queues the outcome of a recorded delivery: its answer, verdict,
// duplicate mark and forward result. It is dropped if the history cannot
// take it; the delivery itself is already queued or written.
func (w *Writer) Finish(d *Delivery) {
	cp := Delivery{ID: d.ID, Answer: d.Answer, Verdict: d.Verdict, Duplicate: d.Duplicate, Event: d.Event}
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
	if w.queued.Add(size) > w.opts.MaxQueuedBytes && size > 0 {
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
	w := s.NewWriter(WriterOptions{MaxQueuedBytes: 1 << 40})
	for _, d := range ds {
		if err := w.Record(d); err != nil {
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
		return w.Err()
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stops taking records and waits until everything queued is written,
// or ctx ends.
func (w *Writer) Close(ctx context.Context) error {
	w.mu.Lock()
	if !w.closed {
		w.closed = true
		close(w.ops)
	}
	w.mu.Unlock()
	select {
	case <-w.done:
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

func (w *Writer) run() {
	defer close(w.done)
	group := make([]op, 0, maxGroup)
	for first := range w.ops {
		group = append(group[:0], first)
		// Whatever queued up while the last group was written goes in this
		// one: under load the groups grow by themselves.
	gather:
		for len(group) < maxGroup {
			select {
			case o, ok := <-w.ops:
				if !ok {
					break gather
				}
				group = append(group, o)
			default:
				break gather
			}
		}
		if w.broken.Load() == nil {
			w.commit(group)
		}
		var size int64
		for i := range group {
			size += int64(len(group[i].d.Body))
			if group[i].kind == opFlush {
				close(group[i].flushed)
			}
			group[i] = op{}
		}
		w.queued.Add(-size)
	}
}

func (w *Writer) commit(group []op) {
	err := w.write(group)
	if err == nil {
		return
	}
	err = w.s.damaged(err)
	if IsDamage(err) {
		w.broken.Store(&err)
	}
	if w.opts.OnError != nil {
		w.opts.OnError(err)
	}
}

func (w *Writer) write(group []op) error {
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

	ctx := context.Background()
	tx, err := w.s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	insert, err := tx.PrepareContext(ctx, `INSERT OR IGNORE INTO deliveries
		(id, rejected, received_at, method, path, remote_addr, header, event, verdict, duplicate, answer, forward, resends, body_size, size)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	defer insert.Close()
	body, err := tx.PrepareContext(ctx, `INSERT INTO bodies (seq, body) VALUES (?, ?)`)
	if err != nil {
		return err
	}
	defer body.Close()
	finish, err := tx.PrepareContext(ctx, `UPDATE deliveries SET answer = ?, verdict = ?, duplicate = ?, event = ?, forward = ? WHERE id = ?`)
	if err != nil {
		return err
	}
	defer finish.Close()

	for i := range group {
		d := &group[i].d
		switch group[i].kind {
		case opInsert:
			size, err := w.insert(ctx, insert, body, d)
			if err != nil {
				return err
			}
			w.totals[b2i(d.Rejected)].count++
			w.totals[b2i(d.Rejected)].bytes += size
		case opFinish:
			fwd, err := forwardJSON(d.Forward)
			if err != nil {
				return err
			}
			if _, err := finish.ExecContext(ctx, d.Answer, d.Verdict, d.Duplicate, d.Event, fwd, d.ID); err != nil {
				return err
			}
		}
	}
	if err := w.prune(ctx, tx); err != nil {
		return err
	}
	return tx.Commit()
}

func (w *Writer) insert(ctx context.Context, insert, body *sql.Stmt, d *Delivery) (int64, error) {
	h := d.Header
	if d.Rejected {
		h = trimHeader(h, RejectedHeaderKeep)
	}
	header, err := json.Marshal(h)
	if err != nil {
		return 0, err
	}
	fwd, err := forwardJSON(d.Forward)
	if err != nil {
		return 0, err
	}
	var resends []byte
	if len(d.Resends) > 0 {
		if resends, err = json.Marshal(d.Resends); err != nil {
			return 0, err
		}
	}
	bodySize := d.BodySize
	if bodySize < int64(len(d.Body)) {
		bodySize = int64(len(d.Body))
	}
	size := int64(len(header) + len(d.Body))
	res, err := insert.ExecContext(ctx, d.ID, d.Rejected, d.ReceivedAt.UnixNano(), d.Method, d.Path, d.RemoteAddr,
		header, d.Event, d.Verdict, d.Duplicate, d.Answer, fwd, resends, bodySize, size)
	if err != nil {
		return 0, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return 0, nil // the same id twice: the first one stands
	}
	if len(d.Body) > 0 {
		seq, err := res.LastInsertId()
		if err != nil {
			return 0, err
		}
		if _, err := body.ExecContext(ctx, seq, d.Body); err != nil {
			return 0, err
		}
	}
	return size, nil
}

func mergeOutcome(into, from *Delivery) {
	into.Answer, into.Verdict, into.Duplicate, into.Forward = from.Answer, from.Verdict, from.Duplicate, from.Forward
	if from.Event != "" {
		into.Event = from.Event
	}
}

func forwardJSON(f *Forward) ([]byte, error) {
	if f == nil {
		return nil, nil
	}
	return json.Marshal(f)
}

// trimHeader keeps whole header lines up to max bytes, in a stable order.
func trimHeader(h http.Header, max int) http.Header {
	total := 0
	for k, vs := range h {
		for _, v := range vs {
			total += len(k) + len(v) + 4
		}
	}
	if total <= max {
		return h
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

// prune keeps each quota within its limits, oldest first, counting from
// the writer's totals; those are refreshed from the file at most once a
// second, since other processes (events prune) change it too.
func (w *Writer) prune(ctx context.Context, tx *sql.Tx) error {
	now := time.Now()
	if now.Sub(w.counted) > time.Second {
		for i := range w.totals {
			if err := tx.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(size), 0) FROM deliveries WHERE rejected = ?`, i == 1).
				Scan(&w.totals[i].count, &w.totals[i].bytes); err != nil {
				return err
			}
		}
		w.counted = now
	}
	l := w.s.limits
	if err := w.trim(ctx, tx, false, l.MaxCount, l.MaxBytes); err != nil {
		return err
	}
	if err := w.trim(ctx, tx, true, l.MaxRejected, l.MaxRejectedBytes); err != nil {
		return err
	}
	if l.MaxAge > 0 && now.Sub(w.aged) > time.Minute {
		cutoff := now.Add(-l.MaxAge).UnixNano()
		if _, err := tx.ExecContext(ctx, `DELETE FROM bodies WHERE seq IN (SELECT seq FROM deliveries WHERE received_at < ?)`, cutoff); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM deliveries WHERE received_at < ?`, cutoff); err != nil {
			return err
		}
		w.aged = now
		w.counted = time.Time{} // recount next time
	}
	return nil
}

// trim removes the oldest records of one quota until it is within
// maxCount and maxBytes (0 means no bound).
func (w *Writer) trim(ctx context.Context, tx *sql.Tx, rejected bool, maxCount int, maxBytes int64) error {
	t := &w.totals[b2i(rejected)]
	over := func() bool {
		return (maxCount > 0 && t.count > maxCount) || (maxBytes > 0 && t.bytes > maxBytes)
	}
	for over() {
		batch := 64
		if maxCount > 0 && t.count-maxCount > batch {
			batch = t.count - maxCount
		}
		rows, err := tx.QueryContext(ctx, `SELECT seq, size FROM deliveries WHERE rejected = ? ORDER BY seq LIMIT ?`, rejected, batch)
		if err != nil {
			return err
		}
		var last int64 = -1
		for rows.Next() && over() {
			var seq, size int64
			if err := rows.Scan(&seq, &size); err != nil {
				rows.Close()
				return err
			}
			last = seq
			t.count--
			t.bytes -= size
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if last < 0 {
			*t = quota{} // the counts were stale: nothing is left
			return nil
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM bodies WHERE seq IN (SELECT seq FROM deliveries WHERE rejected = ? AND seq <= ?)`, rejected, last); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM deliveries WHERE rejected = ? AND seq <= ?`, rejected, last); err != nil {
			return err
		}
	}
	return nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
