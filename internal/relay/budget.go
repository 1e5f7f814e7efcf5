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
	// peak is the most held since the last call to takePeak.
	peak, size int64
}

// evictAge is how long a body must have been arriving before it can be
// stopped to make room: a genuine sender on loopback or a fast link is done
// well before.
const evictAge = 200 * time.Millisecond

// budgetWait is how long a request waits for room before it is answered
// 503: enough to ride out a burst, short of a sender's timeout.
const budgetWait = 2 * time.Second

func newBudget(n int64) *budget {
	return &budget{left: n, size: n, freed: make(chan struct{}), reading: map[*reading]struct{}{}}
}

// reading is one body's claim on the budget.
type reading struct {
	b     *budget
	start time.Time
	held  int64        // under b.mu
	refs  atomic.Int32 // the request, and a record waiting to be written
	got   atomic.Int64 // bytes read so far
	// stop makes the body's reads fail at once; evicted says it was used.
	stop    func()
	evicted atomic.Bool
	done    bool // read whole: no longer a candidate to stop; under b.mu
}

// begin starts a claim for a body being read; stop interrupts its reads.
func (b *budget) begin(stop func()) *reading {
	rd := &reading{b: b, start: time.Now(), stop: stop}
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
	var timer *time.Timer
	b.mu.Lock()
	for {
		if rd.evicted.Load() {
			b.mu.Unlock()
			return false
		}
		if n <= b.left {
			b.left -= n
			rd.held += n
			b.peak = max(b.peak, b.size-b.left)
			b.mu.Unlock()
			if timer != nil {
				timer.Stop()
			}
			return true
		}
		b.evictSlowest(rd)
		freed := b.freed
		b.mu.Unlock()
		if timer == nil {
			timer = time.NewTimer(budgetWait)
		}
		// Bodies that are not old enough to stop now may be soon.
		recheck := time.NewTimer(evictAge / 4)
		select {
		case <-freed:
		case <-recheck.C:
		case <-timer.C:
			recheck.Stop()
			return false
		case <-ctx.Done():
			recheck.Stop()
			timer.Stop()
			return false
		}
		recheck.Stop()
		b.mu.Lock()
	}
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
		if other == rd || other.done || other.held == 0 || age < evictAge {
			continue
		}
		rate := float64(other.got.Load()) / age.Seconds()
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

// read marks rd's body as read whole: it can no longer be stopped.
func (rd *reading) read() {
	rd.b.mu.Lock()
	rd.done = true
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
