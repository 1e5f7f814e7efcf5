package store

import (
	"encoding/json"
	"fmt"
	"time"
)

// The index is what a scan of the log knows: every live delivery's
// summary (what a list shows) and where its records are. Headers, bodies
// and attempts stay in the file until Get reads them.

// span is where a record is in the file.
type span struct{ off, size int64 }

// Flags of an insert record.
const (
	flagRejected  = 1 << 0
	flagDuplicate = 1 << 1
	flagExternal  = 1 << 2
)

type entry struct {
	seq        int64
	id         string
	flags      uint64
	receivedAt int64
	method     string
	path       string
	remote     string
	event      string
	verdict    Verdict
	answer     int
	bodySize   int64
	size       int64  // what it counts against its quota
	forward    []byte // the brief forward record, JSON
	ins, fin   span   // the insert record, and the latest outcome (size 0: none)
	more       []span // attempts added later
	dead       bool
}

func (e *entry) rejected() bool { return e.flags&flagRejected != 0 }
func (e *entry) external() bool { return e.flags&flagExternal != 0 }

// recordBytes is what e's records take in the file.
func (e *entry) recordBytes() int64 {
	n := e.ins.size + e.fin.size
	for _, m := range e.more {
		n += m.size
	}
	return n
}

// summary is e as a list shows it: no headers, body or attempts.
func (e *entry) summary() (Delivery, error) {
	d := Delivery{ID: e.id, ReceivedAt: time.Unix(0, e.receivedAt), Method: e.method, Path: e.path, RemoteAddr: e.remote,
		BodySize: e.bodySize, Event: e.event, Verdict: e.verdict, Rejected: e.rejected(),
		Duplicate: e.flags&flagDuplicate != 0, Answer: e.answer}
	if len(e.forward) > 0 {
		d.Forward = &Attempt{}
		if err := json.Unmarshal(e.forward, d.Forward); err != nil {
			return d, fmt.Errorf("%w: delivery %s: forward record: %v", errBadRecord, e.id, err)
		}
	}
	return d, nil
}

type index struct {
	byID   map[string]*entry
	order  [2][]*entry // [deliveries, rejected], oldest first; dead ones are skipped
	dead   [2]int      // dead entries in order
	totals [2]quota
	seq    int64
	end    int64 // where the next record goes: after the last whole one
	waste  int64 // bytes of records that are no longer live
}

func newIndex() *index { return &index{byID: map[string]*entry{}, end: fileHead} }

// live is how many bytes of the file compaction would keep.
func (x *index) live() int64 { return x.end - fileHead - x.waste }

// apply adds what the record at r says to the index.
func (x *index) apply(r rec) error {
	at := span{r.off, r.size()}
	x.end = r.off + at.size
	switch r.kind {
	case recInsert:
		e, err := decodeEntry(r.meta)
		if err != nil {
			return err
		}
		if _, taken := x.byID[e.id]; taken || !ValidID(e.id) {
			x.waste += at.size
			return nil
		}
		x.seq++
		e.seq, e.ins = x.seq, at
		e.forward = decodeOutcome(e.forward)
		x.byID[e.id] = e
		q := b2i(e.rejected())
		x.order[q] = append(x.order[q], e)
		x.totals[q].count++
		x.totals[q].bytes += e.size
	case recFinish:
		d := dec{b: r.meta}
		id := d.str()
		flags, answer, verdict, event, forward := d.uint(), d.uint(), d.str(), d.str(), d.bytes()
		if d.err != nil {
			return d.err
		}
		e := x.byID[id]
		if e == nil {
			x.waste += at.size
			return nil
		}
		x.waste += e.fin.size
		e.fin = at
		e.flags = e.flags&^flagDuplicate | flags&flagDuplicate
		e.answer, e.verdict = int(min(answer, 999)), Verdict(verdict)
		if event != "" {
			e.event = event
		}
		e.forward = decodeOutcome(forward)
	case recAttempt:
		d := dec{b: r.meta}
		id := d.str()
		if d.err != nil {
			return d.err
		}
		if e := x.byID[id]; e != nil {
			e.more = append(e.more, at)
		} else {
			x.waste += at.size
		}
	case recDelete:
		d := dec{b: r.meta}
		for n := d.uint(); n > 0 && d.err == nil; n-- {
			if e := x.byID[d.str()]; e != nil {
				x.remove(e)
			}
		}
		if d.err != nil {
			return d.err
		}
		x.waste += at.size
	default:
		// A kind this jasni does not know (the format number would say
		// if a newer one wrote it): damage.
		return fmt.Errorf("%w: a record of unknown kind %d", errBadRecord, r.kind)
	}
	return nil
}

// decodeOutcome keeps forward bytes as an independent copy, or nil.
func decodeOutcome(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return append([]byte(nil), b...)
}

func (x *index) remove(e *entry) {
	q := b2i(e.rejected())
	delete(x.byID, e.id)
	e.dead = true
	x.waste += e.recordBytes()
	x.totals[q].count--
	x.totals[q].bytes -= e.size
	x.dead[q]++
	// The dead are dropped from the order once they are half of it.
	if x.dead[q] > 64 && x.dead[q] > len(x.order[q])/2 {
		live := x.order[q][:0]
		for _, e := range x.order[q] {
			if !e.dead {
				live = append(live, e)
			}
		}
		clear(x.order[q][len(live):])
		x.order[q], x.dead[q] = live, 0
	}
}

// oldest calls fn for the live entries of one quota, oldest first, until
// it returns false.
func (x *index) oldest(rejected bool, fn func(*entry) bool) {
	for _, e := range x.order[b2i(rejected)] {
		if !e.dead && !fn(e) {
			return
		}
	}
}

// newest calls fn for the live entries of one quota, newest first, until
// it returns false.
func (x *index) newest(rejected bool, fn func(*entry) bool) {
	o := x.order[b2i(rejected)]
	for i := len(o) - 1; i >= 0; i-- {
		if !o[i].dead && !fn(o[i]) {
			return
		}
	}
}

// encodeInsert is the meta of d's insert record.
func encodeInsert(buf []byte, d *Delivery, flags uint64, size int64, header, forward, attempts []byte) []byte {
	e := enc{b: buf}
	e.uint(flags)
	e.str(d.ID)
	e.int(d.ReceivedAt.UnixNano())
	e.str(d.Method)
	e.str(d.Path)
	e.str(d.RemoteAddr)
	e.str(d.Event)
	e.str(string(d.Verdict))
	e.uint(uint64(max(d.Answer, 0)))
	e.int(d.BodySize)
	e.int(size)
	e.bytes(header)
	e.bytes(forward)
	e.bytes(attempts)
	return e.b
}

// decodeEntry reads an insert record's meta into an entry; the header and
// attempts are skipped (Get reads them).
func decodeEntry(meta []byte) (*entry, error) {
	e, _, _, err := decodeInsert(meta)
	return e, err
}

func decodeInsert(meta []byte) (e *entry, header, attempts []byte, err error) {
	d := dec{b: meta}
	e = &entry{flags: d.uint(), id: d.str(), receivedAt: d.int(), method: d.common(), path: d.common(), remote: d.str(),
		event: d.common()}
	e.verdict = Verdict(d.common())
	e.answer = int(min(d.uint(), 999))
	e.bodySize, e.size = d.int(), d.int()
	header, e.forward, attempts = d.bytes(), d.bytes(), d.bytes()
	if d.err != nil {
		return nil, nil, nil, d.err
	}
	return e, header, attempts, nil
}

// encodeFinish is the meta of an outcome record.
func encodeFinish(buf []byte, d *Delivery, forward, attempts []byte) []byte {
	e := enc{b: buf}
	e.str(d.ID)
	var flags uint64
	if d.Duplicate {
		flags |= flagDuplicate
	}
	e.uint(flags)
	e.uint(uint64(max(d.Answer, 0)))
	e.str(string(d.Verdict))
	e.str(d.Event)
	e.bytes(forward)
	e.bytes(attempts)
	return e.b
}

// finishAttempts reads the attempts of an outcome record.
func finishAttempts(meta []byte) ([]byte, error) {
	d := dec{b: meta}
	d.str()
	d.uint()
	d.uint()
	d.str()
	d.str()
	d.bytes()
	attempts := d.bytes()
	return attempts, d.err
}

func encodeAttempt(id string, a []byte) []byte {
	e := enc{}
	e.str(id)
	e.bytes(a)
	return e.b
}

func attemptOf(meta []byte) ([]byte, error) {
	d := dec{b: meta}
	d.str()
	a := d.bytes()
	return a, d.err
}

func encodeDelete(ids []string) []byte {
	e := enc{}
	e.uint(uint64(len(ids)))
	for _, id := range ids {
		e.str(id)
	}
	return e.b
}
