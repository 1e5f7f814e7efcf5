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
	"path/filepath"
	"strings"
	"time"
)

// Histories written before this format were SQLite databases (WAL mode).
// Rather than keep a SQLite engine to read them once, this file reads the
// one table they hold straight from the file format
// (https://www.sqlite.org/fileformat2.html): the pages of the database,
// overlaid with the committed frames of its write-ahead log, the table's
// b-tree, and its records. It only ever reads.

var sqliteMagic = []byte("SQLite format 3\x00")

// isSQLite reports whether the file at path is a SQLite database.
func isSQLite(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, len(sqliteMagic))
	_, err = io.ReadFull(f, head)
	return err == nil && bytes.Equal(head, sqliteMagic)
}

// moveSQLiteAside renames a SQLite history and its companions out of the
// way and returns its new path, or "" when path holds no such file.
func moveSQLiteAside(path string) (string, error) {
	if !isSQLite(path) {
		return "", nil
	}
	return moveOldAside(path, "sqlite")
}

// importSQLite copies the deliveries of a SQLite history into s and says
// what happened. The old files stay where moveSQLiteAside put them.
func (s *Store) importSQLite(old string) string {
	ds, err := readSQLite(old)
	if err != nil {
		return fmt.Sprintf("The history was in an older format and could not be read (%v); it was moved to %s and a new one started.", err, old)
	}
	if err := s.Put(context.Background(), ds...); err != nil {
		return fmt.Sprintf("The history was in an older format; copying it failed (%v), and the old file is at %s.", err, old)
	}
	return fmt.Sprintf("The history was in an older format: %d deliveries were copied into the new one, and the old file is at %s (delete it when you like).", len(ds), old)
}

// readSQLite reads every delivery of a SQLite history, in the order they
// were received.
func readSQLite(path string) ([]*Delivery, error) {
	db, err := openSQLite(path)
	if err != nil {
		return nil, err
	}
	defer db.f.Close()
	var (
		root    int64
		columns []string
	)
	err = db.table(1, func(row []any) error {
		if len(row) >= 5 && row[0] == "table" && row[1] == "deliveries" {
			root, _ = row[3].(int64)
			sql, _ := row[4].(string)
			columns = columnNames(sql)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if root == 0 {
		return nil, nil // no deliveries table: an empty history
	}
	col := map[string]int{}
	for i, c := range columns {
		col[c] = i
	}
	for _, c := range []string{"id", "received_at", "body"} {
		if _, ok := col[c]; !ok {
			return nil, fmt.Errorf("the deliveries table has no %s column", c)
		}
	}
	var out []*Delivery
	err = db.table(root, func(row []any) error {
		get := func(name string) any {
			if i, ok := col[name]; ok && i < len(row) {
				return row[i]
			}
			return nil
		}
		d, err := sqliteDelivery(get, path)
		if err != nil {
			return err
		}
		if d != nil {
			out = append(out, d)
		}
		return nil
	})
	return out, err
}

// sqliteDelivery makes a delivery of one row; a row without a usable id is
// skipped.
func sqliteDelivery(get func(string) any, path string) (*Delivery, error) {
	str := func(name string) string {
		switch v := get(name).(type) {
		case string:
			return v
		case []byte:
			return string(v)
		}
		return ""
	}
	blob := func(name string) []byte {
		switch v := get(name).(type) {
		case []byte:
			return v
		case string:
			return []byte(v)
		}
		return nil
	}
	num := func(name string) int64 { n, _ := get(name).(int64); return n }
	d := &Delivery{ID: str("id"), ReceivedAt: time.Unix(0, num("received_at")), Method: str("method"), Path: str("path"),
		RemoteAddr: str("remote_addr"), Header: decodeHeader(blob("header")), Event: str("event"), Verdict: Verdict(str("verdict")),
		Rejected: num("rejected") != 0, Duplicate: num("duplicate") != 0, Answer: int(num("answer")), BodySize: num("body_size")}
	if !ValidID(d.ID) {
		return nil, nil
	}
	if fwd := blob("forward"); len(fwd) > 0 {
		d.Forward = &Attempt{}
		if json.Unmarshal(fwd, d.Forward) != nil {
			d.Forward = nil
		}
	}
	if attempts := blob("attempts"); len(attempts) > 0 {
		_ = json.Unmarshal(attempts, &d.Attempts)
	} else {
		var resends []Attempt
		if r := blob("resends"); len(r) > 0 {
			_ = json.Unmarshal(r, &resends)
		}
		d.Attempts = legacyAttempts(d.Forward, resends)
	}
	d.Body = bytes.Clone(blob("body"))
	if num("external") != 0 {
		body, err := os.ReadFile(filepath.Join(bodiesDir(path), d.ID))
		if err != nil {
			return nil, fmt.Errorf("delivery %s: its body file: %w", d.ID, err)
		}
		d.Body = body
	}
	if d.Body == nil {
		d.Body = []byte{}
	}
	return d, nil
}

// columnNames reads the column names of a CREATE TABLE statement.
func columnNames(sql string) []string {
	open, end := strings.IndexByte(sql, '('), strings.LastIndexByte(sql, ')')
	if open < 0 || end < open {
		return nil
	}
	var names []string
	depth, start := 0, open+1
	for i := open + 1; i <= end; i++ {
		switch c := sql[i]; {
		case c == '(':
			depth++
		case c == ')' && depth > 0:
			depth--
		case (c == ',' && depth == 0) || i == end:
			if f := strings.Fields(sql[start:i]); len(f) > 0 {
				names = append(names, strings.Trim(f[0], "\"`[]"))
			}
			start = i + 1
		}
	}
	return names
}

// sqliteFile is a database file, read through its write-ahead log.
type sqliteFile struct {
	f        *os.File
	pageSize int64
	usable   int64
	pages    int64
	wal      map[uint32][]byte // committed pages newer than the file's
}

func openSQLite(path string) (*sqliteFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	head := make([]byte, 100)
	if _, err := io.ReadFull(f, head); err != nil || !bytes.Equal(head[:16], sqliteMagic) {
		f.Close()
		return nil, errors.New("not a SQLite database")
	}
	db := &sqliteFile{f: f, pageSize: int64(binary.BigEndian.Uint16(head[16:]))}
	if db.pageSize == 1 {
		db.pageSize = 65536
	}
	if db.pageSize < 512 || db.pageSize&(db.pageSize-1) != 0 || binary.BigEndian.Uint32(head[56:]) > 1 {
		f.Close()
		return nil, errors.New("a SQLite database this reader does not know (page size or text encoding)")
	}
	db.usable = db.pageSize - int64(head[20])
	if db.usable < 480 {
		f.Close()
		return nil, errors.New("a SQLite database with too little room in a page")
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	db.pages = info.Size() / db.pageSize
	db.readWAL(path + "-wal")
	return db, nil
}

// readWAL takes the frames of the write-ahead log up to its last commit
// whose checksums hold; a log that does not read is left out, as SQLite
// would.
func (db *sqliteFile) readWAL(path string) {
	data, err := os.ReadFile(path)
	if err != nil || len(data) < 32 {
		return
	}
	magic := binary.BigEndian.Uint32(data)
	if magic&^1 != 0x377f0682 || int64(binary.BigEndian.Uint32(data[8:])) != db.pageSize {
		return
	}
	var order binary.ByteOrder = binary.LittleEndian
	if magic&1 == 1 {
		order = binary.BigEndian
	}
	sum := func(s0, s1 uint32, b []byte) (uint32, uint32) {
		for i := 0; i+8 <= len(b); i += 8 {
			s0 += order.Uint32(b[i:]) + s1
			s1 += order.Uint32(b[i+4:]) + s0
		}
		return s0, s1
	}
	s0, s1 := sum(0, 0, data[:24])
	if s0 != binary.BigEndian.Uint32(data[24:]) || s1 != binary.BigEndian.Uint32(data[28:]) {
		return
	}
	salt := data[16:24]
	pending := map[uint32][]byte{}
	frame := 24 + int(db.pageSize)
	for off := 32; off+frame <= len(data); off += frame {
		h, page := data[off:off+24], data[off+24:off+frame]
		if !bytes.Equal(h[8:16], salt) {
			return
		}
		s0, s1 = sum(s0, s1, h[:8])
		s0, s1 = sum(s0, s1, page)
		if s0 != binary.BigEndian.Uint32(h[16:]) || s1 != binary.BigEndian.Uint32(h[20:]) {
			return
		}
		pending[binary.BigEndian.Uint32(h)] = page
		if commit := binary.BigEndian.Uint32(h[4:]); commit != 0 {
			if db.wal == nil {
				db.wal = map[uint32][]byte{}
			}
			for n, p := range pending {
				db.wal[n] = p
			}
			clear(pending)
			db.pages = int64(commit)
		}
	}
}

// page reads page n (from 1).
func (db *sqliteFile) page(n uint32) ([]byte, error) {
	if n == 0 || int64(n) > db.pages {
		return nil, fmt.Errorf("a reference to page %d, past the end of the database", n)
	}
	if p, ok := db.wal[n]; ok {
		return p, nil
	}
	p := make([]byte, db.pageSize)
	if _, err := db.f.ReadAt(p, (int64(n)-1)*db.pageSize); err != nil {
		return nil, fmt.Errorf("page %d: %w", n, err)
	}
	return p, nil
}

// table calls fn with the values of each row of the table whose b-tree
// starts at root, in rowid order.
func (db *sqliteFile) table(root int64, fn func([]any) error) error {
	if root <= 0 || root > 1<<31 {
		return fmt.Errorf("a table at page %d", root)
	}
	seen := map[uint32]bool{}
	var walk func(n uint32, depth int) error
	walk = func(n uint32, depth int) error {
		if depth > 40 || seen[n] {
			return errors.New("the table's pages refer to each other in a loop")
		}
		seen[n] = true
		p, err := db.page(n)
		if err != nil {
			return err
		}
		h := 0
		if n == 1 {
			h = 100
		}
		if len(p) < h+12 {
			return fmt.Errorf("page %d is too short", n)
		}
		kind, cells := p[h], int(binary.BigEndian.Uint16(p[h+3:]))
		ptrs := h + 8
		if kind == 0x05 {
			ptrs = h + 12
		} else if kind != 0x0d {
			return fmt.Errorf("page %d is not part of a table (kind %d)", n, kind)
		}
		if ptrs+2*cells > len(p) {
			return fmt.Errorf("page %d claims %d cells", n, cells)
		}
		for i := range cells {
			at := int(binary.BigEndian.Uint16(p[ptrs+2*i:]))
			if at >= len(p) || at < ptrs {
				return fmt.Errorf("page %d: a cell outside the page", n)
			}
			if kind == 0x05 {
				if at+4 > len(p) {
					return fmt.Errorf("page %d: a cell outside the page", n)
				}
				if err := walk(binary.BigEndian.Uint32(p[at:]), depth+1); err != nil {
					return err
				}
				continue
			}
			payload, err := db.payload(p, at)
			if err != nil {
				return fmt.Errorf("page %d: %w", n, err)
			}
			row, err := sqliteRecord(payload)
			if err != nil {
				return fmt.Errorf("page %d: %w", n, err)
			}
			if err := fn(row); err != nil {
				return err
			}
		}
		if kind == 0x05 {
			return walk(binary.BigEndian.Uint32(p[h+8:]), depth+1)
		}
		return nil
	}
	return walk(uint32(root), 0)
}

// payload reads the record of the leaf cell at p[at:], following its
// overflow pages.
func (db *sqliteFile) payload(p []byte, at int) ([]byte, error) {
	size, n := sqliteVarint(p[at:])
	// No record is larger than the pages that could hold it.
	if n == 0 || size < 0 || size > db.pages*(db.usable-4) {
		return nil, errors.New("a cell's size does not read")
	}
	at += n
	if _, n = sqliteVarint(p[at:]); n == 0 { // the rowid
		return nil, errors.New("a cell's rowid does not read")
	}
	at += n
	u := db.usable
	local, x := size, u-35
	if size > x {
		m := ((u-12)*32/255 - 23)
		local = m + (size-m)%(u-4)
		if local > x {
			local = m
		}
	}
	if int64(at)+local > int64(len(p)) {
		return nil, errors.New("a cell runs past its page")
	}
	out := append([]byte(nil), p[at:int64(at)+local]...) // grown as pages arrive: size is only a claim
	if local == size {
		return out, nil
	}
	if int64(at)+local+4 > int64(len(p)) {
		return nil, errors.New("a cell runs past its page")
	}
	next := binary.BigEndian.Uint32(p[int64(at)+local:])
	seen := map[uint32]bool{}
	for int64(len(out)) < size {
		if next == 0 || seen[next] {
			return nil, errors.New("a cell's overflow pages end early, or loop")
		}
		seen[next] = true
		op, err := db.page(next)
		if err != nil {
			return nil, err
		}
		take := min(size-int64(len(out)), u-4)
		out = append(out, op[4:4+take]...)
		next = binary.BigEndian.Uint32(op)
	}
	return out, nil
}

// sqliteRecord reads the values of a record: int64, float64 (as its bits,
// unused here), string, []byte or nil.
func sqliteRecord(b []byte) ([]any, error) {
	hsize, n := sqliteVarint(b)
	if n == 0 || hsize < int64(n) || hsize > int64(len(b)) {
		return nil, errors.New("a record's header does not read")
	}
	types, data := b[n:hsize], b[hsize:]
	var row []any
	for len(types) > 0 {
		t, n := sqliteVarint(types)
		if n == 0 {
			return nil, errors.New("a record's header does not read")
		}
		types = types[n:]
		var size int64
		switch {
		case t >= 12:
			size = (t - 12) / 2
		case t >= 1 && t <= 4:
			size = t
		case t == 5:
			size = 6
		case t == 6 || t == 7:
			size = 8
		}
		if size > int64(len(data)) {
			return nil, errors.New("a record's values run past its end")
		}
		v := data[:size]
		data = data[size:]
		switch {
		case t == 0:
			row = append(row, nil)
		case t >= 1 && t <= 6:
			var x int64
			if v[0]&0x80 != 0 {
				x = -1
			}
			for _, c := range v {
				x = x<<8 | int64(c)
			}
			row = append(row, x)
		case t == 8, t == 9:
			row = append(row, t-8)
		case t >= 12 && t%2 == 0:
			row = append(row, v)
		case t >= 13:
			row = append(row, string(v))
		default:
			row = append(row, nil) // a float, or a reserved type
		}
	}
	return row, nil
}

// sqliteVarint reads SQLite's big-endian varint; n is 0 when b is too
// short.
func sqliteVarint(b []byte) (v int64, n int) {
	var x uint64
	for i := 0; i < 9; i++ {
		if i >= len(b) {
			return 0, 0
		}
		if i == 8 {
			return int64(x<<8 | uint64(b[i])), 9
		}
		x = x<<7 | uint64(b[i]&0x7f)
		if b[i]&0x80 == 0 {
			return int64(x), i + 1
		}
	}
	return 0, 0
}
