package load

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// readAnswer reads what servers send: each answer's status, and whether
// the connection can carry the next request (the next answer is read
// right after, to prove the first was read to its end).
func TestReadAnswer(t *testing.T) {
	const next = "HTTP/1.1 204 No Content\r\n\r\n"
	tests := []struct {
		name, answer string
		status       int
		keep         bool
		err          string
	}{
		{"content-length", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok" + next, 200, true, ""},
		{"chunked with trailers", "HTTP/1.1 401 Unauthorized\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nbad\r\n2\r\n!!\r\n0\r\nX-T: 1\r\n\r\n" + next, 401, true, ""},
		{"no length: to the end", "HTTP/1.1 500 Internal Server Error\r\n\r\nboom", 500, false, ""},
		{"connection close", "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", 200, false, ""},
		{"HTTP/1.0 keep-alive", "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n" + next, 200, true, ""},
		{"HTTP/1.0", "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", 200, false, ""},
		{"interim 100 and 103 skipped", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: x\r\n\r\nHTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n" + next, 202, true, ""},
		{"204 has no body", "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n" + next, 204, true, ""},
		{"a huge body is not read", "HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n\r\n", 200, false, ""},
		{"bare LF", "HTTP/1.1 200 OK\nContent-Length: 0\n\n" + next, 200, true, ""},
		{"not HTTP", "SSH-2.0-OpenSSH_9.2\r\n", 0, false, "status line"},
		{"HTTP/2 preface", "HTTP/2 200\r\n\r\n", 0, false, "status line"},
		{"two lengths", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 0, false, "Content-Length"},
		{"negative length", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", 0, false, "Content-Length"},
		{"header without colon", "HTTP/1.1 200 OK\r\nbroken\r\n\r\n", 0, false, "header line"},
		{"bad chunk size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 0, false, "chunk size"},
		{"cut off", "HTTP/1.1 200 OK\r\nContent-Len", 0, false, "unexpected EOF"},
		{"nothing", "", 0, false, errNothing.Error()},
		{"an endless head", "HTTP/1.1 200 OK\r\n" + strings.Repeat("X-A: b\r\n", 10000), 0, false, "longer than 64 KiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := bufio.NewReader(strings.NewReader(tt.answer))
			status, keep, err := readAnswer(r)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || status != tt.status || keep != tt.keep {
				t.Fatalf("%d %v %v, want %d %v", status, keep, err, tt.status, tt.keep)
			}
			if keep {
				if status, _, err := readAnswer(r); err != nil || status != 204 {
					t.Errorf("the next answer: %d %v: the first was not read to its end", status, err)
				}
			}
		})
	}
}

// A request goes out as net/http would write it, and a connection the
// server closed while it sat idle is replaced before the next request.
func TestWireRequestAndReconnect(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan *http.Request, 4)
	go func() {
		for i := 0; ; i++ {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func(c net.Conn, i int) {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					req, err := http.ReadRequest(r)
					if err != nil {
						return
					}
					body, _ := io.ReadAll(req.Body)
					req.Body = io.NopCloser(strings.NewReader(string(body)))
					got <- req
					io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
					if i == 0 {
						return // close the first connection after one answer
					}
				}
			}(c, i)
		}
	}()
	w := newWire("http://"+ln.Addr().String()+"/webhooks/jasni?x=1", nil)
	h := http.Header{"X-Webhook-Signature": {"abc"}, "Content-Type": {"application/json"}}
	for i := 0; i < 3; i++ {
		// As if the connection had sat idle: the server's close of the
		// first one is noticed before the next request is written.
		w.used = time.Time{}
		status, err := w.Do(context.Background(), h, []byte(`{"a":1}`), 5*time.Second)
		if err != nil || status != 200 {
			t.Fatalf("request %d: %d %v", i, status, err)
		}
		req := <-got
		body, _ := io.ReadAll(req.Body)
		if req.Method != "POST" || req.URL.RequestURI() != "/webhooks/jasni?x=1" || req.Header.Get("X-Webhook-Signature") != "abc" ||
			string(body) != `{"a":1}` || req.ContentLength != 7 || req.Host != ln.Addr().String() {
			t.Errorf("request %d: %s %s %v %q", i, req.Method, req.URL, req.Header, body)
		}
	}
	w.close()
	if _, err := w.Do(context.Background(), http.Header{"X-Bad": {"a\r\nInjected: 1"}}, nil, time.Second); !errors.Is(err, errHeader) {
		t.Errorf("a header with a line break: %v", err)
	}
}

// FuzzReadAnswer: whatever a server sends, the reader ends without a
// panic, and never reads past maxHead for a head.
func FuzzReadAnswer(f *testing.F) {
	for _, seed := range []string{
		"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
		"HTTP/1.0 100 Continue\r\n\r\nHTTP/1.0 500 x\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\n",
		"HTTP/1.1 999 \r\nConnection: keep-alive, close\r\n\r\n",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, answer string) {
		r := bufio.NewReader(strings.NewReader(answer))
		for i := 0; i < 4; i++ {
			status, keep, err := readAnswer(r)
			if err != nil || !keep {
				return
			}
			if status < 100 || status > 999 {
				t.Fatalf("status %d", status)
			}
		}
	})
}

// A request written in full is never sent again, even when the answer
// never comes (a handler that crashed): the handler may have run.
func TestWireNeverSendsAPostTwice(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var requests atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func(c net.Conn) {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					req, err := http.ReadRequest(r)
					if err != nil {
						return
					}
					io.Copy(io.Discard, req.Body)
					if requests.Add(1) > 1 {
						return // crash: no answer
					}
					io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
				}
			}(c)
		}
	}()
	w := newWire("http://"+ln.Addr().String()+"/", nil)
	if status, err := w.Do(context.Background(), http.Header{}, []byte("1"), 5*time.Second); err != nil || status != 200 {
		t.Fatalf("first: %d %v", status, err)
	}
	if _, err := w.Do(context.Background(), http.Header{}, []byte("2"), 5*time.Second); err == nil {
		t.Error("no answer came, yet no error")
	}
	if n := requests.Load(); n != 2 {
		t.Errorf("the server got %d requests, want 2: the second was sent again", n)
	}
}
