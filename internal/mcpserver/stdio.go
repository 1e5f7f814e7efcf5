package mcpserver

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// MaxLine is the longest JSON-RPC message the server reads: a body to sign
// or verify fits, with room for its escaping.
const MaxLine = 32 << 20

// Lines is the server's transport: newline-delimited JSON-RPC over a
// reader and a writer (stdin and stdout), as the SDK's stdio transport,
// except that a line that is not a JSON-RPC message, or is longer than
// MaxLine, is answered with a JSON-RPC error and the session goes on: one
// bad line from a client must not take every tool away from the agent.
type Lines struct {
	In  io.Reader
	Out io.Writer
	// Max is the longest line read; 0 is MaxLine.
	Max int
}

// Connect implements mcp.Transport.
func (t *Lines) Connect(context.Context) (mcp.Connection, error) {
	max := t.Max
	if max <= 0 {
		max = MaxLine
	}
	c := &lineConn{out: t.Out, lines: make(chan jsonrpc.Message), done: make(chan struct{})}
	go c.readLoop(bufio.NewReaderSize(t.In, 64<<10), max)
	return c, nil
}

type lineConn struct {
	out     io.Writer
	writeMu sync.Mutex
	lines   chan jsonrpc.Message
	readErr error // set before lines is closed
	done    chan struct{}
	close   sync.Once
}

// readLoop reads messages until the input ends or the connection closes.
func (c *lineConn) readLoop(r *bufio.Reader, max int) {
	defer close(c.lines)
	for {
		line, tooLong, err := readLine(r, max)
		if err != nil {
			c.readErr = err
			return
		}
		if tooLong {
			c.reply(jsonrpc.CodeInvalidRequest, fmt.Sprintf("message too large: at most %d MiB a line", max>>20))
			continue
		}
		if len(line) == 0 {
			continue
		}
		if !json.Valid(line) { // also two messages on one line
			c.reply(jsonrpc.CodeParseError, "not JSON: send one JSON-RPC 2.0 message a line")
			continue
		}
		msg, err := jsonrpc.DecodeMessage(line)
		if err != nil {
			c.reply(jsonrpc.CodeInvalidRequest, "not a JSON-RPC 2.0 message (one object a line; batches are not supported): "+err.Error())
			continue
		}
		select {
		case c.lines <- msg:
		case <-c.done:
			c.readErr = io.EOF // before lines closes: a Read then ends, not (nil, nil)
			return
		}
	}
}

// readLine reads one line without its newline, at most max bytes of it:
// the rest of a longer line is read and dropped, and tooLong is set.
func readLine(r *bufio.Reader, max int) (line []byte, tooLong bool, err error) {
	for {
		chunk, err := r.ReadSlice('\n')
		if !tooLong {
			if len(line)+len(chunk) > max+1 {
				tooLong, line = true, nil
			} else {
				line = append(line, chunk...)
			}
		}
		switch {
		case err == nil:
			if tooLong {
				return nil, true, nil
			}
			return trimEOL(line), false, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF) && len(line) > 0:
			return trimEOL(line), false, nil // a last line without a newline
		}
		return nil, false, err
	}
}

func trimEOL(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

// reply answers a line that was not a message. Its id is unknown: null.
func (c *lineConn) reply(code int64, message string) {
	b, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": nil, "error": map[string]any{"code": code, "message": message}})
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	_, _ = c.out.Write(append(b, '\n'))
}

func (c *lineConn) Read(ctx context.Context) (jsonrpc.Message, error) {
	select {
	case msg, ok := <-c.lines:
		if !ok {
			return nil, c.readErr
		}
		return msg, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-c.done:
		return nil, io.EOF
	}
}

func (c *lineConn) Write(_ context.Context, msg jsonrpc.Message) error {
	b, err := jsonrpc.EncodeMessage(msg)
	if err != nil {
		return err
	}
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	_, err = c.out.Write(append(b, '\n'))
	return err
}

func (c *lineConn) Close() error {
	c.close.Do(func() { close(c.done) })
	return nil
}

func (c *lineConn) SessionID() string { return "" }
