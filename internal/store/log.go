package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"sync"
)

// The history file is a log: a header, then records appended one after
// another and never changed in place. A record is a new delivery, the
// outcome of one (its answer and listen's forward), one more attempt (a
// resend or replay), or the removal of some (the quotas, prune). Reading
// the file from the start gives the history; the deliveries a removal
// names stay in the file until it is compacted (rewritten with only what
// is live, and renamed over the old one).
//
// Each record is
//
//	metaLen u32 | bodyLen u32 | metaCRC u32 | bodyCRC u32 | kind u8 | headCRC u32 | meta | body
//
// little-endian, with CRC-32C checksums: headCRC covers the 17 bytes before
// it, so a damaged length is told from a record a crash cut short; metaCRC
// covers the meta, so a scan that skips bodies still finds damage; bodyCRC
// is checked when a body is read. Where a record fails a checksum and only
// zeros follow to the end of the file, it is a write a crash cut short
// (zeros hold nothing to keep); anywhere else it is damage.

// logFormat is the format written in the header. A file with a higher
// number was written by a newer jasni.
const logFormat = 3

// logMagic starts every history file of this format.
var logMagic = []byte("JASNIHST")

// The header: magic, format (u16), 6 bytes of zeros, and the file's
// lineage: random bytes chosen when the history is created and kept by
// compaction, which tell a compacted file from a new history at the same
// path.
const (
	fileHead   = 32
	recordHead = 21
)

// maxMeta and maxInline bound what a record may claim, so a damaged length
// cannot make a reader allocate gigabytes. (Variables for the tests.)
var (
	maxMeta   int64 = 64 << 20
	maxInline int64 = 64 << 20
)

// Record kinds.
const (
	recInsert  byte = 1
	recFinish  byte = 2
	recAttempt byte = 3
	recDelete  byte = 4
)

// castagnoli is made on first use: jasni's commands that never touch the
// history should not pay for the table at start-up.
var castagnoli = sync.OnceValue(func() *crc32.Table { return crc32.MakeTable(crc32.Castagnoli) })

func newHeader(lineage []byte) []byte {
	h := make([]byte, fileHead)
	copy(h, logMagic)
	binary.LittleEndian.PutUint16(h[8:], logFormat)
	copy(h[16:], lineage)
	return h
}

// parseHeader checks a file's header and returns its lineage.
func parseHeader(h []byte) ([]byte, error) {
	if len(h) < fileHead || !bytes.Equal(h[:len(logMagic)], logMagic) {
		return nil, errNotHistory
	}
	if v := binary.LittleEndian.Uint16(h[8:]); v > logFormat {
		return nil, &NewerError{Format: int(v)}
	}
	return bytes.Clone(h[16:32]), nil
}

var errNotHistory = errors.New("not a jasni history file")

// NewerError says the history was written by a newer jasni.
type NewerError struct{ Format int }

func (e *NewerError) Error() string {
	return fmt.Sprintf("written by a newer jasni (format %d; this one reads %d): upgrade jasni, or set JASNI_HISTORY to another file", e.Format, logFormat)
}

// errTooLarge refuses a record that a reader would take for damage.
var errTooLarge = errors.New("too large for a history record")

// appendRecord appends one record to buf.
func appendRecord(buf []byte, kind byte, meta, body []byte) ([]byte, error) {
	if int64(len(meta)) > maxMeta || int64(len(body)) > maxInline {
		return buf, fmt.Errorf("%w (%d bytes)", errTooLarge, len(meta)+len(body))
	}
	var h [recordHead]byte
	binary.LittleEndian.PutUint32(h[0:], uint32(len(meta)))
	binary.LittleEndian.PutUint32(h[4:], uint32(len(body)))
	binary.LittleEndian.PutUint32(h[8:], crc32.Checksum(meta, castagnoli()))
	binary.LittleEndian.PutUint32(h[12:], crc32.Checksum(body, castagnoli()))
	h[16] = kind
	binary.LittleEndian.PutUint32(h[17:], crc32.Checksum(h[:17], castagnoli()))
	buf = append(buf, h[:]...)
	buf = append(buf, meta...)
	return append(buf, body...), nil
}

// rec is a record as read: where it is, what it is, and its meta. The
// body is read only when asked for.
type rec struct {
	off      int64
	kind     byte
	meta     []byte
	bodyLen  int64
	bodyCRC  uint32
	bodyData []byte // when read
}

func (r *rec) size() int64 { return recordHead + int64(len(r.meta)) + r.bodyLen }

// errTorn says the file ends inside a record: one being appended now, or
// one a crash left half written.
var errTorn = errors.New("the history ends inside a record")

// logReader reads records from a file through a window of its bytes, so a
// scan of many small records costs few system calls.
type logReader struct {
	f      io.ReaderAt
	size   int64
	win    []byte
	winOff int64
}

const readWindow = 256 << 10

// at returns n bytes at off, valid until the next call.
func (r *logReader) at(off int64, n int) ([]byte, error) {
	if off < 0 || n < 0 || off+int64(n) > r.size {
		return nil, errTorn
	}
	if off >= r.winOff && off+int64(n) <= r.winOff+int64(len(r.win)) {
		return r.win[off-r.winOff : off-r.winOff+int64(n)], nil
	}
	want := int(min(max(int64(n), readWindow), r.size-off))
	if cap(r.win) < want {
		r.win = make([]byte, want)
	}
	r.win = r.win[:want]
	got, err := r.f.ReadAt(r.win, off)
	if err != nil && !errors.Is(err, io.EOF) {
		r.win = r.win[:0]
		return nil, err
	}
	// The file may have shrunk since its size was read (a writer cutting
	// a torn record): what is not there is the end of it.
	r.win, r.winOff = r.win[:got], off
	if got < n {
		r.size = off + int64(got)
		return nil, errTorn
	}
	return r.win[:n], nil
}

// next reads the record at off: its head and meta, and its body when
// withBody. Without the body, the meta is valid until the next read. A
// record cut short at the end of the file is errTorn; one whose checksum
// fails is errBadRecord.
func (r *logReader) next(off int64, withBody bool) (rec, error) {
	h, err := r.at(off, recordHead)
	if err != nil {
		return rec{}, err
	}
	if crc32.Checksum(h[:17], castagnoli()) != binary.LittleEndian.Uint32(h[17:]) {
		if r.zeroAfter(off) {
			return rec{}, errTorn
		}
		return rec{}, fmt.Errorf("%w: the record at %d fails its checksum", errBadRecord, off)
	}
	metaLen := int64(binary.LittleEndian.Uint32(h[0:]))
	bodyLen := int64(binary.LittleEndian.Uint32(h[4:]))
	sum := binary.LittleEndian.Uint32(h[8:])
	out := rec{off: off, kind: h[16], bodyLen: bodyLen, bodyCRC: binary.LittleEndian.Uint32(h[12:])}
	if metaLen > maxMeta || bodyLen > maxInline {
		return rec{}, fmt.Errorf("%w: the record at %d claims %d bytes", errBadRecord, off, metaLen+bodyLen)
	}
	end := off + recordHead + metaLen + bodyLen
	if end > r.size {
		return rec{}, errTorn // its head is whole, the rest was not written
	}
	n := int(metaLen)
	if withBody {
		n += int(bodyLen)
	}
	data, err := r.at(off+recordHead, n)
	if err != nil {
		return rec{}, err
	}
	if crc32.Checksum(data[:metaLen], castagnoli()) != sum {
		if r.zeroAfter(end) {
			return rec{}, errTorn
		}
		return rec{}, fmt.Errorf("%w: the record at %d fails its checksum", errBadRecord, off)
	}
	// The meta of a scan is read in place (valid until the next read):
	// the index copies what it keeps.
	out.meta = data[:metaLen:metaLen]
	if withBody {
		out.meta = bytes.Clone(out.meta)
		body := data[metaLen:]
		if crc32.Checksum(body, castagnoli()) != out.bodyCRC {
			return rec{}, fmt.Errorf("%w: the body at %d fails its checksum", errBadRecord, off)
		}
		out.bodyData = bytes.Clone(body)
	}
	return out, nil
}

// zeroAfter reports whether the file holds only zeros from off to its
// end: what a crash can leave where the last records were being written.
func (r *logReader) zeroAfter(off int64) bool {
	for off < r.size {
		n := int(min(r.size-off, readWindow))
		b, err := r.at(off, n)
		if err != nil {
			return false
		}
		for _, c := range b {
			if c != 0 {
				return false
			}
		}
		off += int64(n)
	}
	return true
}

// readRecord reads the whole record at off in f, an indexed one: it ends
// by end, where the records the index read end (so no Stat is needed).
func readRecord(f *os.File, off, end int64) (rec, error) {
	r := logReader{f: f, size: end}
	out, err := r.next(off, true)
	if errors.Is(err, errTorn) {
		return rec{}, fmt.Errorf("%w: a record at %d runs past the end of the file", errBadRecord, off)
	}
	return out, err
}

// enc writes the fields of a record's meta.
type enc struct{ b []byte }

func (e *enc) uint(v uint64)  { e.b = binary.AppendUvarint(e.b, v) }
func (e *enc) int(v int64)    { e.b = binary.AppendVarint(e.b, v) }
func (e *enc) bytes(v []byte) { e.uint(uint64(len(v))); e.b = append(e.b, v...) }
func (e *enc) str(v string)   { e.uint(uint64(len(v))); e.b = append(e.b, v...) }

// dec reads what enc wrote. The first problem sticks: every later read
// gives a zero value, and err says what was wrong.
type dec struct {
	b   []byte
	err error
}

func (d *dec) fail() {
	if d.err == nil {
		d.err = fmt.Errorf("%w: a record's fields do not parse", errBadRecord)
	}
	d.b = nil
}

func (d *dec) uint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *dec) int() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *dec) bytes() []byte {
	n := d.uint()
	if n > uint64(len(d.b)) {
		d.fail()
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}

func (d *dec) str() string { return string(d.bytes()) }

// common reads a string that most records share (a method, a path, an
// event type, a verdict): one copy of each is kept for all of them.
func (d *dec) common() string {
	b := d.bytes()
	if len(b) > 64 {
		return string(b)
	}
	commonMu.Lock()
	defer commonMu.Unlock()
	if s, ok := commonStrings[string(b)]; ok { // a lookup: no copy
		return s
	}
	s := string(b)
	if commonStrings == nil {
		commonStrings = map[string]string{}
	}
	if len(commonStrings) < 4096 { // bounded: a hostile history cannot grow it
		commonStrings[s] = s
	}
	return s
}

var (
	commonMu      sync.Mutex
	commonStrings map[string]string
)
