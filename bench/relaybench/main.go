// Command relaybench is the load generator of bench/relay.sh: it sends one
// signed delivery over and over on keep-alive HTTP/1.1 connections and
// reports requests/s and latency percentiles with microsecond resolution.
// It writes requests as raw bytes and reads answers with a minimal parser,
// so it costs little CPU and measures the server rather than itself.
//
// The body is a file (-body) or a Jasni envelope of an exact size that it
// makes itself (-size); -vary gives every request a body of its own (its own
// data.id, so its own signature). -pid reads the CPU time of processes
// before and after the measured part, -bursts/-pause send the requests in
// bursts separated by pauses on the same connections, and the answers are
// counted by status.
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
	"math/rand/v2"
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
	Target      string         `json:"target"`
	Phase       string         `json:"phase,omitempty"`
	Round       int            `json:"round,omitempty"`
	BodyBytes   int            `json:"body_bytes"`
	Concurrency int            `json:"concurrency"`
	Requests    int            `json:"requests"`
	Errors      int            `json:"errors"`
	Non2xx      int            `json:"non_2xx"`
	Statuses    map[string]int `json:"statuses"`
	Seconds     float64        `json:"seconds"`
	RPS         float64        `json:"rps"`
	P50us       float64        `json:"p50_us"`
	P90us       float64        `json:"p90_us"`
	P99us       float64        `json:"p99_us"`
	MaxUs       float64        `json:"max_us"`
	// The CPU time (user + system) the -pid processes spent in the measured
	// part, waiting afterwards until they are idle (a history write of the
	// last delivery may still be going on when its answer arrives), in all
	// and per request sent (answered or failed).
	CPUms       *float64 `json:"cpu_ms,omitempty"`
	CPUusPerReq *float64 `json:"cpu_us_per_req,omitempty"`
	Bursts      []burst  `json:"bursts,omitempty"`
}

type burst struct {
	Requests int            `json:"requests"`
	Errors   int            `json:"errors"`
	Statuses map[string]int `json:"statuses"`
}

func main() {
	var (
		target      = flag.String("url", "", "URL to POST to")
		name        = flag.String("name", "", "label for the result")
		phase       = flag.String("phase", "", "label for the result")
		round       = flag.Int("round", 0, "label for the result")
		concurrency = flag.Int("c", 1, "connections, each with one request in flight")
		duration    = flag.Duration("d", 0, "run for this long (or -n)")
		count       = flag.Int("n", 0, "send this many requests in all (or -d); with -bursts, in each burst")
		warmup      = flag.Duration("warmup", time.Second, "send for this long first, unmeasured")
		bodyFile    = flag.String("body", "", "file with the body")
		size        = flag.Int("size", 0, "make the body: a Jasni email.received envelope of exactly this many bytes")
		vary        = flag.Bool("vary", false, "with -size: every request has its own data.id (and so its own signature)")
		secret      = flag.String("secret", "", "sign the body as Jasni does with this secret")
		pids        = flag.String("pid", "", "comma-separated process IDs whose CPU time to measure")
		bursts      = flag.Int("bursts", 1, "send -n requests this many times")
		pause       = flag.Duration("pause", 0, "between bursts, keeping the connections open")
	)
	flag.Parse()
	if *target == "" || (*bodyFile == "") == (*size == 0) || (*duration == 0) == (*count == 0) || (*vary && *size == 0) ||
		(*bursts > 1 && *count == 0) {
		fmt.Fprintln(os.Stderr, "usage: relaybench -url URL (-body FILE | -size BYTES [-vary]) (-d DURATION | -n COUNT [-bursts B -pause D]) [-c N] [-secret S] [-pid PID,...]")
		os.Exit(2)
	}
	u, err := url.Parse(*target)
	if err != nil {
		fail(err)
	}
	var body []byte
	idAt := -1
	if *size > 0 {
		if body, idAt, err = makeBody(*size); err != nil {
			fail(err)
		}
	} else if body, err = os.ReadFile(*bodyFile); err != nil {
		fail(err)
	}
	var procs []int
	for _, p := range strings.FieldsFunc(*pids, func(r rune) bool { return r == ',' }) {
		pid, err := strconv.Atoi(p)
		if err != nil {
			fail(fmt.Errorf("-pid: %w", err))
		}
		procs = append(procs, pid)
	}
	var (
		fixed   = buildRequest(u, body, *secret)
		seqMu   sync.Mutex
		seq     uint64
		request = func() []byte { return fixed }
	)
	if *vary {
		request = func() []byte {
			seqMu.Lock()
			seq++
			n := seq
			seqMu.Unlock()
			b := slices.Clone(body)
			copy(b[idAt:idAt+idWidth], fmt.Sprintf("%0*d", idWidth, n))
			return buildRequest(u, b, *secret)
		}
	}

	conns := make([]*client, *concurrency)
	for i := range conns {
		conns[i] = &client{host: u.Host}
	}
	defer func() {
		for _, c := range conns {
			c.close()
		}
	}()
	if *warmup > 0 {
		run(conns, request, *warmup, 0)
	}
	var cpu0 float64
	if len(procs) > 0 {
		cpu0 = settledCPU(procs)
	}
	var (
		lat      []int64
		tally    = counts{statuses: map[string]int{}}
		perBurst []burst
	)
	start := time.Now()
	var idle time.Duration
	for b := range *bursts {
		if b > 0 && *pause > 0 {
			time.Sleep(*pause)
			idle += *pause
		}
		l, t := run(conns, request, *duration, *count)
		lat = append(lat, l...)
		tally.add(t)
		if *bursts > 1 {
			perBurst = append(perBurst, burst{Requests: len(l), Errors: t.errs, Statuses: t.statuses})
		}
	}
	elapsed := (time.Since(start) - idle).Seconds()
	r := result{Target: *name, Phase: *phase, Round: *round, BodyBytes: len(body), Concurrency: *concurrency,
		Requests: len(lat), Errors: tally.errs, Non2xx: tally.non2xx, Statuses: tally.statuses, Seconds: elapsed,
		RPS: float64(len(lat)) / elapsed, Bursts: perBurst}
	if len(procs) > 0 {
		ms := (settledCPU(procs) - cpu0) * 1e3
		r.CPUms = &ms
		if sent := len(lat) + tally.errs; sent > 0 {
			per := ms * 1e3 / float64(sent)
			r.CPUusPerReq = &per
		}
	}
	slices.Sort(lat)
	pct := func(p float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))]) / 1e3
	}
	r.P50us, r.P90us, r.P99us, r.MaxUs = pct(0.50), pct(0.90), pct(0.99), pct(1)
	_ = json.NewEncoder(os.Stdout).Encode(r)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "relaybench:", err)
	os.Exit(1)
}

const idWidth = 12

// makeBody makes a Jasni email.received envelope of exactly size bytes,
// its text made of words from a fixed seed, and returns where its data.id's
// idWidth digits are.
func makeBody(size int) ([]byte, int, error) {
	head := `{"event":"email.received","timestamp":"2024-01-15T10:30:00.000Z","data":{"id":"`
	mid := `","messageId":"<CAF8x2k9Qm3p7Lr@mail.example.com>","from":"dana.reyes@example.com",` +
		`"to":["agent@example.com"],"cc":["ops@example.com"],"subject":"Project update: Q1 launch plan",` +
		`"account":"agent@example.com","folder":"INBOX","html":"<p>Hi,</p><p>The report is attached.</p>",` +
		`"attachments":[{"filename":"q1-launch-report.pdf","contentType":"application/pdf","size":102400}],"text":"`
	tail := `"}}`
	pad := size - len(head) - idWidth - len(mid) - len(tail)
	if pad < 0 {
		return nil, 0, fmt.Errorf("-size: at least %d bytes", size-pad)
	}
	words := strings.Fields("the launch report attached update quarter plan team review budget customer " +
		"schedule meeting thanks please see notes draft final revenue shipping support, feedback. Hi Dana")
	rng := rand.New(rand.NewPCG(1, 2))
	var b bytes.Buffer
	b.Grow(size)
	b.WriteString(head)
	b.WriteString(strings.Repeat("0", idWidth-1) + "1")
	b.WriteString(mid)
	text := make([]byte, 0, pad+16)
	for len(text) < pad {
		text = append(text, words[rng.IntN(len(words))]...)
		text = append(text, ' ')
	}
	b.Write(text[:pad])
	b.WriteString(tail)
	if !json.Valid(b.Bytes()) || b.Len() != size {
		return nil, 0, errors.New("made a bad body")
	}
	return b.Bytes(), len(head), nil
}

func buildRequest(u *url.URL, body []byte, secret string) []byte {
	var b bytes.Buffer
	b.Grow(len(body) + 512)
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

// cpuSeconds is the user + system CPU time of the processes so far.
func cpuSeconds(pids []int) float64 {
	var ticks int64
	for _, pid := range pids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			fail(err)
		}
		// The command name, in parentheses, may hold spaces: the fields
		// are counted from after its closing parenthesis (state is field 3).
		f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
		utime, _ := strconv.ParseInt(f[11], 10, 64) // field 14
		stime, _ := strconv.ParseInt(f[12], 10, 64) // field 15
		ticks += utime + stime
	}
	return float64(ticks) / 100 // USER_HZ is 100 on Linux
}

// settledCPU waits until the processes stop using CPU (at most 5 s: two
// readings 200 ms apart within one tick) and returns their CPU time.
func settledCPU(pids []int) float64 {
	prev := cpuSeconds(pids)
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		time.Sleep(200 * time.Millisecond)
		now := cpuSeconds(pids)
		if now-prev <= 0.0101 {
			return now
		}
		prev = now
	}
	return prev
}

type counts struct {
	errs, non2xx int
	statuses     map[string]int
}

func (c *counts) add(o counts) {
	c.errs += o.errs
	c.non2xx += o.non2xx
	for k, v := range o.statuses {
		c.statuses[k] += v
	}
}

// client is one connection, kept open from one run to the next.
type client struct {
	host string
	conn net.Conn
	r    *bufio.Reader
}

func (c *client) close() {
	if c.conn != nil {
		c.conn.Close()
		c.conn = nil
	}
}

// run sends from every client until d has passed or n requests are done,
// and returns each request's latency in ns (of those answered) and the
// answers counted by status, "error" standing for a failed exchange.
func run(clients []*client, request func() []byte, d time.Duration, n int) (lat []int64, tally counts) {
	var (
		mu       sync.Mutex
		wg       sync.WaitGroup
		deadline = time.Now().Add(d)
		left     = n
	)
	tally.statuses = map[string]int{}
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
	for _, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []int64
			my := counts{statuses: map[string]int{}}
			for take() {
				if c.conn == nil {
					var err error
					if c.conn, err = net.Dial("tcp", c.host); err != nil {
						my.errs++
						my.statuses["error"]++
						continue
					}
					c.r = bufio.NewReaderSize(c.conn, 16<<10)
				}
				req := request()
				start := time.Now()
				status, keep, err := roundTrip(c.conn, c.r, req)
				if err != nil {
					my.errs++
					my.statuses["error"]++
					c.close()
					continue
				}
				mine = append(mine, int64(time.Since(start)))
				my.statuses[strconv.Itoa(status)]++
				if status < 200 || status > 299 {
					my.non2xx++
				}
				if !keep {
					c.close()
				}
			}
			mu.Lock()
			lat = append(lat, mine...)
			tally.add(my)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return lat, tally
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
