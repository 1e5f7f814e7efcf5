package load

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// A wire is one worker's keep-alive HTTP/1.1 connection to a plain http
// URL: a request goes out as one write of its head and body, and the
// answer is read by a small parser that keeps only the status. It does
// what net/http's client does for these requests at a fraction of the
// cost per request (its pooled connections, goroutines and header maps
// made jasni half as fast as wrk); https, a proxy, and a test's own
// transport keep net/http.
type wire struct {
	addr   string // host:port to dial
	target []byte // "POST /path HTTP/1.1\r\nHost: host\r\n"
	conn   net.Conn
	r      *bufio.Reader
	out    []byte
	dialer net.Dialer
	reused bool
	keys   []string
	// stop ends the watch on the run's context for the open connection.
	stop func() bool
	// used is when the connection last carried a request.
	used time.Time
}

// maxAnswer is how much of an answer a wire reads: more, and the
// connection is closed instead of read to the end (net/http's client is
// read to 1 MiB in the same place).
const maxAnswer = 1 << 20

// maxHead bounds an answer's status line and headers.
const maxHead = 64 << 10

// newWire returns a wire for rawURL, or nil when net/http must send: not
// plain http, or a proxy is set for it.
func newWire(rawURL string, client *http.Client) *wire {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "http" || u.Host == "" || u.User != nil {
		return nil
	}
	if client != nil && client.Transport != nil {
		tr, ok := client.Transport.(*http.Transport)
		if !ok {
			return nil // a test's own transport
		}
		if tr.Proxy != nil {
			if p, err := tr.Proxy(&http.Request{URL: u}); err != nil || p != nil {
				return nil
			}
		}
	}
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), "80")
	}
	path := u.RequestURI()
	if strings.ContainsAny(path+u.Host, "\r\n ") {
		return nil
	}
	return &wire{addr: addr, target: fmt.Appendf(nil, "POST %s HTTP/1.1\r\nHost: %s\r\n", path, u.Host)}
}

// errHeader is a header that cannot go on the wire.
var errHeader = errors.New("a header name or value has a line break")

// Do sends one request and returns the answer's status. A connection the
// server closed while idle is dialed again, once, as net/http does.
func (w *wire) Do(ctx context.Context, header http.Header, body []byte, timeout time.Duration) (int, error) {
	if err := w.build(header, body); err != nil {
		return 0, err
	}
	for try := 0; ; try++ {
		status, written, err := w.roundTrip(ctx, timeout)
		if err == nil {
			return status, nil
		}
		w.close()
		// The request could not be written on a connection used before:
		// the server had closed it. A request written in full is never
		// sent again (the handler may have run), as net/http does for a POST.
		if try == 0 && w.reused && !written && ctx.Err() == nil {
			continue
		}
		return 0, err
	}
}

// build writes the request into w.out: the head, with headers in the
// order net/http writes them, and the body.
func (w *wire) build(header http.Header, body []byte) error {
	b := append(w.out[:0], w.target...)
	// As net/http: its own User-Agent when none is set, none when it is
	// set empty.
	if _, set := header["User-Agent"]; !set {
		b = append(b, "User-Agent: Go-http-client/1.1\r\n"...)
	}
	b = append(b, "Content-Length: "...)
	b = strconv.AppendInt(b, int64(len(body)), 10)
	b = append(b, "\r\n"...)
	for _, k := range w.order(header) {
		for _, v := range header[k] {
			if k == "User-Agent" && v == "" {
				continue
			}
			if strings.ContainsAny(k, "\r\n:") || strings.ContainsAny(v, "\r\n") {
				return errHeader
			}
			b = append(b, k...)
			b = append(b, ": "...)
			b = append(b, v...)
			b = append(b, "\r\n"...)
		}
	}
	b = append(b, "\r\n"...)
	w.out = append(b, body...)
	return nil
}

// order is header's names as they go out, sorted, without those the wire
// writes itself. A worker's deliveries carry the same names each time, so
// the order is kept and only checked.
func (w *wire) order(header http.Header) []string {
	n := 0
	for _, k := range w.keys {
		if _, ok := header[k]; !ok {
			n = -1
			break
		}
		n++
	}
	if n >= 0 && n == len(header)-w.skipped(header) {
		return w.keys
	}
	w.keys = w.keys[:0]
	for k := range header {
		if !ownHeader(k) {
			w.keys = append(w.keys, k)
		}
	}
	slices.Sort(w.keys)
	return w.keys
}

// skipped counts the names of header the wire writes itself.
func (w *wire) skipped(header http.Header) int {
	n := 0
	for _, k := range []string{"Host", "Content-Length", "Transfer-Encoding", "Connection"} {
		if _, ok := header[k]; ok {
			n++
		}
	}
	return n
}

func ownHeader(k string) bool {
	return k == "Host" || k == "Content-Length" || k == "Transfer-Encoding" || k == "Connection"
}

// roundTrip writes w.out and reads the answer; written reports that the
// request went out in full.
func (w *wire) roundTrip(ctx context.Context, timeout time.Duration) (status int, written bool, err error) {
	if w.conn == nil {
		dctx := ctx
		if timeout > 0 {
			var cancel context.CancelFunc
			dctx, cancel = context.WithTimeout(ctx, timeout)
			defer cancel()
		}
		conn, err := w.dialer.DialContext(dctx, "tcp", w.addr)
		if err != nil {
			return 0, false, err
		}
		if tc, ok := conn.(*net.TCPConn); ok {
			_ = tc.SetNoDelay(true)
		}
		w.conn, w.reused = conn, false
		if w.r == nil {
			w.r = bufio.NewReaderSize(conn, 16<<10)
		} else {
			w.r.Reset(conn)
		}
	} else {
		w.reused = true
		if time.Since(w.used) > idleCheck && !w.alive() {
			// The server closed it while it sat idle (a paced --rate):
			// a new connection, before anything is written.
			w.close()
			return w.roundTrip(ctx, timeout)
		}
	}
	deadline := time.Time{}
	if timeout > 0 {
		deadline = time.Now().Add(timeout)
	}
	_ = w.conn.SetDeadline(deadline)
	if w.stop == nil {
		// The run's context, the same for every request: watched once
		// per connection, it ends a request in flight when the run ends.
		conn := w.conn
		w.stop = context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	}
	if err := ctx.Err(); err != nil {
		return 0, false, err // ended between the watch and the deadline set just now
	}
	if _, err := w.conn.Write(w.out); err != nil {
		return 0, false, w.ctxErr(ctx, err)
	}
	status, keep, err := readAnswer(w.r)
	w.used = time.Now()
	if err != nil {
		return 0, true, w.ctxErr(ctx, err)
	}
	if !keep {
		w.close()
	}
	return status, true, nil
}

// idleCheck is how long a connection may sit unused before it is checked
// for having been closed by the server: a busy one is not (a read a
// request would cost too much).
const idleCheck = 500 * time.Millisecond

// alive reports whether the server has kept the idle connection open:
// nothing is waiting to be read on it, and no end of stream.
func (w *wire) alive() bool {
	if w.r.Buffered() > 0 {
		return false // bytes no request asked for
	}
	// A deadline already past would return before reading: a millisecond
	// lets the read see an end of stream that is there.
	_ = w.conn.SetReadDeadline(time.Now().Add(time.Millisecond))
	_, err := w.r.Peek(1)
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func (w *wire) ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if errors.Is(err, errNothing) {
		return io.EOF
	}
	return err
}

func (w *wire) close() {
	if w.stop != nil {
		w.stop()
		w.stop = nil
	}
	if w.conn != nil {
		_ = w.conn.Close()
		w.conn = nil
	}
}

// errNothing is an answer of which no byte arrived.
var errNothing = errors.New("the connection closed before an answer")

// errBadAnswer is an answer that is not HTTP/1.x.
type errBadAnswer struct{ why string }

func (e *errBadAnswer) Error() string { return "malformed HTTP answer: " + e.why }

// readAnswer reads one HTTP/1.x answer to a POST from r, its body
// discarded, and says whether the connection can carry the
// next request. Interim 1xx answers are skipped.
func readAnswer(r *bufio.Reader) (status int, keep bool, err error) {
	for first := true; ; first = false {
		status, keep, length, chunked, err := readHead(r, first)
		if err != nil {
			return 0, false, err
		}
		if status >= 100 && status < 200 && status != http.StatusSwitchingProtocols {
			continue
		}
		switch {
		case status == http.StatusNoContent || status == http.StatusNotModified:
		case chunked:
			if err := discardChunked(r); err != nil {
				if errors.Is(err, errTooLong) {
					return status, false, nil // the status is known; the connection goes
				}
				return 0, false, err
			}
		case length >= 0:
			if length > maxAnswer {
				return status, false, nil
			}
			if _, err := io.CopyN(io.Discard, r, length); err != nil {
				return 0, false, err
			}
		default: // the body runs to the end of the connection
			if _, err := io.Copy(io.Discard, io.LimitReader(r, maxAnswer)); err != nil {
				return 0, false, err
			}
			keep = false
		}
		return status, keep, nil
	}
}

var errTooLong = errors.New("too long")

// readHead reads a status line and headers: the status, whether the
// connection stays open, the Content-Length (-1 when none) and whether the
// body is chunked.
func readHead(r *bufio.Reader, first bool) (status int, keep bool, length int64, chunked bool, err error) {
	read := 0
	line, err := readHeadLine(r, &read)
	if err != nil {
		if first && read == 0 && (errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || isReset(err)) {
			return 0, false, 0, false, errNothing
		}
		return 0, false, 0, false, err
	}
	proto, rest, ok := strings.Cut(line, " ")
	if !ok || (proto != "HTTP/1.1" && proto != "HTTP/1.0") || len(rest) < 3 {
		return 0, false, 0, false, &errBadAnswer{"status line " + strconv.Quote(clip(line))}
	}
	status, err = strconv.Atoi(rest[:3])
	if err != nil || status < 100 || status > 999 || (len(rest) > 3 && rest[3] != ' ') {
		return 0, false, 0, false, &errBadAnswer{"status line " + strconv.Quote(clip(line))}
	}
	keep, length = proto == "HTTP/1.1", -1
	for {
		line, err := readHeadLine(r, &read)
		if err != nil {
			return 0, false, 0, false, err
		}
		if line == "" {
			return status, keep, length, chunked, nil
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			return 0, false, 0, false, &errBadAnswer{"header line " + strconv.Quote(clip(line))}
		}
		value = strings.TrimSpace(value)
		switch {
		case strings.EqualFold(name, "Content-Length"):
			n, err := strconv.ParseInt(value, 10, 64)
			if err != nil || n < 0 || (length >= 0 && n != length) {
				return 0, false, 0, false, &errBadAnswer{"Content-Length " + strconv.Quote(clip(value))}
			}
			length = n
		case strings.EqualFold(name, "Transfer-Encoding"):
			chunked = strings.EqualFold(value, "chunked")
			if !chunked {
				keep = false // an encoding this reader does not know: read to the end
			}
		case strings.EqualFold(name, "Connection"):
			for _, opt := range strings.Split(value, ",") {
				switch strings.ToLower(strings.TrimSpace(opt)) {
				case "close":
					keep = false
				case "keep-alive":
					keep = keep || proto == "HTTP/1.0"
				}
			}
		}
	}
}

// readHeadLine reads a line of the head, without its CRLF, counting into
// read and refusing a head longer than maxHead.
func readHeadLine(r *bufio.Reader, read *int) (string, error) {
	var line []byte
	for {
		chunk, err := r.ReadSlice('\n')
		*read += len(chunk)
		if *read > maxHead {
			return "", &errBadAnswer{"the head is longer than 64 KiB"}
		}
		line = append(line, chunk...)
		if err == nil {
			break
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			if *read > 0 && errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return "", err
		}
	}
	return string(bytes.TrimRight(line, "\r\n")), nil
}

// discardChunked reads a chunked body and its trailers; errTooLong past
// maxAnswer.
func discardChunked(r *bufio.Reader) error {
	var total int64
	read := 0
	for {
		line, err := readHeadLine(r, &read)
		if err != nil {
			return err
		}
		size, _, _ := strings.Cut(line, ";")
		n, err := strconv.ParseInt(strings.TrimSpace(size), 16, 64)
		if err != nil || n < 0 {
			return &errBadAnswer{"chunk size " + strconv.Quote(clip(line))}
		}
		if n == 0 {
			for { // trailers, then the empty line
				line, err := readHeadLine(r, &read)
				if err != nil {
					return err
				}
				if line == "" {
					return nil
				}
			}
		}
		if total += n; total > maxAnswer {
			return errTooLong
		}
		if _, err := io.CopyN(io.Discard, r, n); err != nil {
			return err
		}
		if crlf, err := readHeadLine(r, &read); err != nil || crlf != "" {
			return &errBadAnswer{"no CRLF after a chunk"}
		}
		read = 0 // the limit is on each line, not on the body
	}
}

func clip(s string) string {
	if len(s) > 60 {
		return s[:60] + "…"
	}
	return s
}

func isReset(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && strings.Contains(op.Err.Error(), "reset")
}
