// Command relaybench is the load generator of bench/relay.sh: it sends one
// signed delivery over and over on keep-alive HTTP/1.1 connections and
// reports requests/s and latency percentiles with microsecond resolution.
// It writes requests as raw bytes and reads answers with a minimal parser,
// so it costs little CPU and measures the server rather than itself.
package main

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

type result struct {
	Target      string  `json:"target"`
	Concurrency int     `json:"concurrency"`
	Requests    int     `json:"requests"`
	Errors      int     `json:"errors"`
	Non2xx      int     `json:"non_2xx"`
	Seconds     float64 `json:"seconds"`
	RPS         float64 `json:"rps"`
	P50us       float64 `json:"p50_us"`
	P90us       float64 `json:"p90_us"`
	P99us       float64 `json:"p99_us"`
	MaxUs       float64 `json:"max_us"`
}

func main() {
	var (
		target      = flag.String("url", "", "URL to POST to")
		name        = flag.String("name", "", "label for the result")
		concurrency = flag.Int("c", 1, "connections, each with one request in flight")
		duration    = flag.Duration("d", 0, "run for this long (or -n)")
		count       = flag.Int("n", 0, "send this many requests in all (or -d)")
		warmup      = flag.Duration("warmup", time.Second, "send for this long first, unmeasured")
		bodyFile    = flag.String("body", "", "file with the body")
		secret      = flag.String("secret", "", "sign the body as Jasni does with this secret")
	)
	flag.Parse()
	if *target == "" || *bodyFile == "" || (*duration == 0) == (*count == 0) {
		fmt.Fprintln(os.Stderr, "usage: relaybench -url URL -body FILE (-d DURATION | -n COUNT) [-c N] [-secret S]")
		os.Exit(2)
	}
	body, err := os.ReadFile(*bodyFile)
	if err != nil {
		fail(err)
	}
	u, err := url.Parse(*target)
	if err != nil {
		fail(err)
	}
	req := buildRequest(u, body, *secret)

	if *warmup > 0 {
		run(u.Host, req, *concurrency, *warmup, 0)
	}
	start := time.Now()
	lat, errs, non2xx := run(u.Host, req, *concurrency, *duration, *count)
	elapsed := time.Since(start).Seconds()
	slices.Sort(lat)
	pct := func(p float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))]) / 1e3
	}
	r := result{Target: *name, Concurrency: *concurrency, Requests: len(lat), Errors: errs, Non2xx: non2xx, Seconds: elapsed,
		RPS: float64(len(lat)) / elapsed, P50us: pct(0.50), P90us: pct(0.90), P99us: pct(0.99), MaxUs: pct(1)}
	_ = json.NewEncoder(os.Stdout).Encode(r)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "relaybench:", err)
	os.Exit(1)
}

func buildRequest(u *url.URL, body []byte, secret string) []byte {
	var b bytes.Buffer
	path := u.RequestURI()
	fmt.Fprintf(&b, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n", path, u.Host, len(body))
	b.WriteString("User-Agent: JasniAI-Webhooks/1.0\r\nX-Webhook-Event: email.received\r\n")
	fmt.Fprintf(&b, "X-Webhook-Timestamp: %d\r\n", time.Now().Unix())
	if secret != "" {
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write(body)
		fmt.Fprintf(&b, "X-Webhook-Signature: %s\r\n", hex.EncodeToString(mac.Sum(nil)))
	}
	b.WriteString("\r\n")
	b.Write(body)
	return b.Bytes()
}

// run sends from c connections until d has passed or n requests are done,
// and returns each request's latency in ns.
func run(host string, req []byte, c int, d time.Duration, n int) (lat []int64, errs, non2xx int) {
	var (
		mu       sync.Mutex
		wg       sync.WaitGroup
		deadline = time.Now().Add(d)
		left     = n
	)
	take := func() bool {
		if d > 0 {
			return time.Now().Before(deadline)
		}
		mu.Lock()
		defer mu.Unlock()
		if left == 0 {
			return false
		}
		left--
		return true
	}
	for range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []int64
			var myErrs, myNon2xx int
			var conn net.Conn
			var r *bufio.Reader
			for take() {
				if conn == nil {
					var err error
					if conn, err = net.Dial("tcp", host); err != nil {
						myErrs++
						continue
					}
					r = bufio.NewReaderSize(conn, 16<<10)
				}
				start := time.Now()
				status, keep, err := roundTrip(conn, r, req)
				if err != nil {
					myErrs++
					conn.Close()
					conn = nil
					continue
				}
				mine = append(mine, int64(time.Since(start)))
				if status < 200 || status > 299 {
					myNon2xx++
				}
				if !keep {
					conn.Close()
					conn = nil
				}
			}
			if conn != nil {
				conn.Close()
			}
			mu.Lock()
			lat = append(lat, mine...)
			errs += myErrs
			non2xx += myNon2xx
			mu.Unlock()
		}()
	}
	wg.Wait()
	return lat, errs, non2xx
}

// roundTrip writes req and reads one answer: the status, and whether the
// connection stays open.
func roundTrip(conn net.Conn, r *bufio.Reader, req []byte) (status int, keep bool, err error) {
	if _, err := conn.Write(req); err != nil {
		return 0, false, err
	}
	line, err := r.ReadSlice('\n')
	if err != nil {
		return 0, false, err
	}
	f := strings.Fields(string(line))
	if len(f) < 2 {
		return 0, false, errors.New("bad status line")
	}
	if status, err = strconv.Atoi(f[1]); err != nil {
		return 0, false, err
	}
	length, chunked, keep := -1, false, true
	for {
		h, err := r.ReadSlice('\n')
		if err != nil {
			return 0, false, err
		}
		if len(h) <= 2 {
			break
		}
		k, v, _ := strings.Cut(strings.TrimSpace(string(h)), ":")
		v = strings.TrimSpace(v)
		switch strings.ToLower(k) {
		case "content-length":
			length, _ = strconv.Atoi(v)
		case "transfer-encoding":
			chunked = strings.EqualFold(v, "chunked")
		case "connection":
			keep = !strings.EqualFold(v, "close")
		}
	}
	switch {
	case chunked:
		for {
			szLine, err := r.ReadSlice('\n')
			if err != nil {
				return 0, false, err
			}
			sz, err := strconv.ParseInt(strings.TrimSpace(strings.SplitN(string(szLine), ";", 2)[0]), 16, 64)
			if err != nil {
				return 0, false, err
			}
			if _, err := r.Discard(int(sz) + 2); err != nil {
				return 0, false, err
			}
			if sz == 0 {
				break
			}
		}
	case length > 0:
		if _, err := r.Discard(length); err != nil {
			return 0, false, err
		}
	case length < 0:
		_, err := io.Copy(io.Discard, r)
		return status, false, err
	}
	return status, keep, nil
}
