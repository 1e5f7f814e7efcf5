package relay

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// budget bounds the body bytes held at once: bodies being read, and bodies
// verified and waiting to be forwarded or written to the history. A
// request that finds it spent waits a moment for room, and makes room by
// stopping the slowest body still being read: one that has taken longer
// than a genuine sender takes, so a few connections that trickle large
// bodies (with any signature: it is only checked at the end) cannot hold
// the budget that genuine deliveries need.
type budget struct {
	mu      sync.Mutex
	left    int64
	freed   chan struct{} // closed, and replaced, whenever bytes are given back
	reading map[*reading]struct{}
	// waiting are the claims waiting for room, and how much each wants:
	// room goes to the smallest first, so a trickle of large bodies
	// cannot take what was made for a delivery of ordinary size.
	waiting map[*reading]int64
	// peak is the most held since the last call to takePeak.
	peak, size int64
}

// evictAge is how long a body must have been arriving (since it got its
// room) before it can be stopped to make room: a genuine sender on loopback
// or a fast link is done well before. Even then, a body is stopped only
// when it arrives slower than evictRate and, at that rate, would not be
// whole before the request waiting for room gives up: waiting is better
// than stopping a body that is nearly in.
const (
	evictAge  = 200 * time.Millisecond
	evictRate = 1 << 20 // bytes a second
	// rateWindow is the least time a rate is measured over.
	rateWindow = 100 * time.Millisecond
)

// budgetWait is how long a request waits for room before it is answered
// 503: enough to ride out a burst, short of a sender's timeout.
const budgetWait = 2 * time.Second

func newBudget(n int64) *budget {
	return &budget{left: n, size: n, freed: make(chan struct{}), reading: map[*reading]struct{}{}, waiting: map[*reading]int64{}}
}

// reading is one body's claim on the budget.
type reading struct {
	b     *budget
	start time.Time
	held  int64        // under b.mu
	size  int64        // the body's announced length, or -1
	refs  atomic.Int32 // the request, and a record waiting to be written
	got   atomic.Int64 // bytes read so far
	// stop makes the body's reads fail at once; evicted says it was used.
	stop    func()
	evicted atomic.Bool
	// markAt and markGot are where the rate it arrives at now is measured
	// from; under b.mu.
	markAt  time.Time
	markGot int64
}

// rate is the rate rd's body arrives at lately, in bytes a second. Called
// with b.mu held.
func (rd *reading) rate(now time.Time) float64 {
	got := rd.got.Load()
	since := now.Sub(rd.markAt)
	if since < rateWindow {
		since = now.Sub(rd.start) // too soon to tell: since it began
		return float64(got) / max(since.Seconds(), 1e-3)
	}
	r := float64(got-rd.markGot) / since.Seconds()
	rd.markAt, rd.markGot = now, got
	return r
}

// begin starts a claim for a body of size bytes (-1: not announced) being
// read; stop interrupts its reads.
func (b *budget) begin(size int64, stop func()) *reading {
	rd := &reading{b: b, start: time.Now(), size: size, stop: stop}
	rd.refs.Store(1)
	b.mu.Lock()
	b.reading[rd] = struct{}{}
	b.mu.Unlock()
	return rd
}

// grow takes n more bytes for rd, waiting for room within budgetWait (or
// until ctx ends); it reports whether it got them.
func (rd *reading) grow(ctx context.Context, n int64) bool {
	b := rd.b
	if n > b.size {
		return false // no room will ever be enough
	}
	deadline := time.NewTimer(budgetWait)
	defer deadline.Stop()
	b.mu.Lock()
	defer b.mu.Unlock()
	defer delete(b.waiting, rd)
	for {
		if rd.evicted.Load() {
			return false
		}
		if n <= b.left && !b.smallerWaiting(rd, n) {
			b.left -= n
			if rd.held == 0 {
				// Its time to arrive counts from when it has room.
				rd.start = time.Now()
				rd.markAt, rd.markGot = rd.start, rd.got.Load()
			}
			rd.held += n
			b.peak = max(b.peak, b.size-b.left)
			return true
		}
		b.waiting[rd] = n
		b.evictSlowest(rd)
		freed := b.freed
		b.mu.Unlock()
		// Bodies that are not old enough to stop now may be soon.
		recheck := time.NewTimer(evictAge / 4)
		var gaveUp bool
		select {
		case <-freed:
		case <-recheck.C:
		case <-deadline.C:
			gaveUp = true
		case <-ctx.Done():
			gaveUp = true
		}
		recheck.Stop()
		b.mu.Lock()
		if gaveUp {
			return false
		}
	}
}

// smallerWaiting reports another claim waiting for less than n that the
// room left would take. Called with b.mu held.
func (b *budget) smallerWaiting(rd *reading, n int64) bool {
	for other, want := range b.waiting {
		if other != rd && want < n && want <= b.left {
			return true
		}
	}
	return false
}

// evictSlowest stops the body, other than rd's, that has been arriving the
// slowest, once it has been arriving for evictAge. Called with b.mu held.
func (b *budget) evictSlowest(rd *reading) {
	var (
		victim   *reading
		slowest  = -1.0
		now      = time.Now()
		stopping int64
	)
	for other := range b.reading {
		if other.evicted.Load() {
			stopping += other.held // already on its way out
			continue
		}
		age := now.Sub(other.start)
		if other == rd || other.held == 0 || age < evictAge {
			continue
		}
		rate := other.rate(now)
		switch {
		case rate >= evictRate:
			// Not a trickle: a genuine sender slowed by a busy machine is
			// answered in time if it is waited for.
			continue
		case other.size >= 0 && rate > 0 && float64(other.size-other.got.Load())/rate < budgetWait.Seconds():
			continue // whole soon enough: waiting is better
		}
		if victim == nil || rate < slowest {
			victim, slowest = other, rate
		}
	}
	// Enough is being freed already.
	if victim == nil || stopping > 0 {
		return
	}
	victim.evicted.Store(true)
	victim.stop()
}

// read marks rd's body as read whole: out of the bodies being read, it
// can no longer be stopped.
func (rd *reading) read() {
	rd.b.mu.Lock()
	delete(rd.b.reading, rd)
	rd.b.mu.Unlock()
}

// hold keeps the body held past the request, for a record waiting to be
// written; that record's release gives it back.
func (rd *reading) hold() { rd.refs.Add(1) }

// release gives back everything rd holds once the request and any record
// that holds it are done with it.
func (rd *reading) release() {
	if rd.refs.Add(-1) > 0 {
		return
	}
	b := rd.b
	b.mu.Lock()
	delete(b.reading, rd)
	if rd.held > 0 {
		b.left += rd.held
		rd.held = 0
		close(b.freed)
		b.freed = make(chan struct{})
	}
	b.mu.Unlock()
}

// takePeak returns the most held at once since it was last called.
func (b *budget) takePeak() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	p := b.peak
	b.peak = b.size - b.left
	return p
}

// held is what is held now.
func (b *budget) held() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.size - b.left
}

// BodyMemory reports the body bytes held now and the most held at once
// since it was last called: listen returns memory to the system after a
// burst of large bodies, rather than keep it for the next.
func (r *Relay) BodyMemory() (now, peak int64) {
	peak = r.inflight.takePeak()
	return r.inflight.held(), peak
}
