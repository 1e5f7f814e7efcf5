package load

import (
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jasni/jasni-cli/internal/ui"
)

// Summary is what a run did, for people and for CI gates.
type Summary struct {
	Requests  int           `json:"requests"`
	OK        int           `json:"ok"`
	Failed    int           `json:"failed"`
	Elapsed   time.Duration `json:"-"`
	ElapsedMS int64         `json:"elapsed_ms"`
	PerSecond float64       `json:"requests_per_second"`
	ErrorRate float64       `json:"error_rate"`
	Latency   Percentiles   `json:"latency_ms"`
	// Status counts answers by HTTP status; Errors counts deliveries that
	// got none, by kind.
	Status    map[string]int `json:"status"`
	Errors    map[string]int `json:"errors"`
	Histogram []Bucket       `json:"histogram"`
}

// Percentiles of the latencies, in milliseconds.
type Percentiles struct {
	Min  float64 `json:"min"`
	Mean float64 `json:"mean"`
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	Max  float64 `json:"max"`
}

// Bucket counts latencies up to Le (ms), above the previous bucket's.
type Bucket struct {
	Le    float64 `json:"le_ms"`
	Count int     `json:"count"`
}

func newSummary(elapsed time.Duration, workers []*worker) *Summary {
	s := &Summary{Elapsed: elapsed, ElapsedMS: elapsed.Milliseconds(), Status: map[string]int{}, Errors: map[string]int{}}
	var all []time.Duration
	for _, w := range workers {
		all = append(all, w.latencies...)
		s.OK += w.ok
		for k, v := range w.status {
			s.Status[strconv.Itoa(k)] += v
		}
		for k, v := range w.errors {
			s.Errors[k] += v
		}
	}
	s.Requests = len(all)
	s.Failed = s.Requests - s.OK
	if elapsed > 0 {
		s.PerSecond = float64(s.Requests) / elapsed.Seconds()
	}
	if s.Requests > 0 {
		s.ErrorRate = float64(s.Failed) / float64(s.Requests)
	}
	s.Latency, s.Histogram = Summarise(all)
	return s
}

// Summarise computes the percentiles (nearest rank) and a histogram of
// latencies; it sorts them.
func Summarise(latencies []time.Duration) (Percentiles, []Bucket) {
	if len(latencies) == 0 {
		return Percentiles{}, nil
	}
	slices.Sort(latencies)
	var sum time.Duration
	for _, d := range latencies {
		sum += d
	}
	p := Percentiles{
		Min: ms(latencies[0]), Max: ms(latencies[len(latencies)-1]),
		Mean: ms(sum / time.Duration(len(latencies))),
		P50:  ms(Rank(latencies, 0.50)), P90: ms(Rank(latencies, 0.90)), P99: ms(Rank(latencies, 0.99)),
	}
	return p, histogram(latencies)
}

// Rank is the nearest-rank percentile q (0 < q <= 1) of sorted values: the
// smallest value with at least q of them at or below it.
func Rank(sorted []time.Duration, q float64) time.Duration {
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func ms(d time.Duration) float64 { return math.Round(float64(d)/float64(time.Microsecond)) / 1000 }

// histogram is up to 10 buckets, on a log scale between the smallest and
// the largest latency, so a long tail and a tight body both show.
func histogram(sorted []time.Duration) []Bucket {
	lo, hi := float64(max(sorted[0], time.Microsecond)), float64(sorted[len(sorted)-1])
	const n = 10
	var out []Bucket
	if hi <= lo {
		return []Bucket{{Le: ms(sorted[len(sorted)-1]), Count: len(sorted)}}
	}
	step := math.Pow(hi/lo, 1.0/n)
	j := 0
	for i := 1; i <= n; i++ {
		le := time.Duration(lo * math.Pow(step, float64(i)))
		if i == n {
			le = sorted[len(sorted)-1]
		}
		k := sort.Search(len(sorted), func(x int) bool { return sorted[x] > le })
		out = append(out, Bucket{Le: ms(le), Count: k - j})
		j = k
	}
	return out
}

// Render writes the summary for people: rate, percentiles, answers,
// errors, and the histogram as bars.
func (s *Summary) Render(w io.Writer, st *ui.Styles) {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %d deliveries in %s: %s/s, %d failed (%.2f%%)\n", st.Bold("Summary"),
		s.Requests, s.Elapsed.Round(time.Millisecond), strconv.FormatFloat(s.PerSecond, 'f', 1, 64), s.Failed, 100*s.ErrorRate)
	l := s.Latency
	fmt.Fprintf(&b, "  latency  p50 %s  p90 %s  p99 %s  max %s  (min %s, mean %s)\n",
		fmtMS(l.P50), fmtMS(l.P90), fmtMS(l.P99), fmtMS(l.Max), fmtMS(l.Min), fmtMS(l.Mean))
	if len(s.Status) > 0 {
		keys := make([]string, 0, len(s.Status))
		for k := range s.Status {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var parts []string
		for _, k := range keys {
			text := fmt.Sprintf("%s × %d", k, s.Status[k])
			if k[0] == '2' {
				text = st.Success(text)
			} else {
				text = st.Failure(text)
			}
			parts = append(parts, text)
		}
		fmt.Fprintf(&b, "  answers  %s\n", strings.Join(parts, ", "))
	}
	if len(s.Errors) > 0 {
		keys := make([]string, 0, len(s.Errors))
		for k := range s.Errors {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var parts []string
		for _, k := range keys {
			parts = append(parts, fmt.Sprintf("%s × %d", k, s.Errors[k]))
		}
		fmt.Fprintf(&b, "  %s   %s\n", st.Failure("errors"), strings.Join(parts, ", "))
	}
	if len(s.Histogram) > 0 {
		fmt.Fprintln(&b, "  latency histogram")
		most := 0
		for _, h := range s.Histogram {
			most = max(most, h.Count)
		}
		for _, h := range s.Histogram {
			bar := strings.Repeat("█", int(math.Ceil(float64(h.Count)/float64(max(most, 1))*40)))
			fmt.Fprintf(&b, "  %10s │%s %d\n", "≤ "+fmtMS(h.Le), st.Accent(bar), h.Count)
		}
	}
	_, _ = io.WriteString(w, b.String())
}

func fmtMS(v float64) string {
	switch {
	case v < 10:
		return strconv.FormatFloat(v, 'f', 2, 64) + "ms"
	case v < 1000:
		return strconv.FormatFloat(v, 'f', 1, 64) + "ms"
	}
	return strconv.FormatFloat(v/1000, 'f', 2, 64) + "s"
}

// Live draws a progress bar on a terminal while a run goes on: done,
// rate, elapsed time and failures so far.
type Live struct {
	W      io.Writer
	Styles *ui.Styles
	Total  int           // 0 when the run is bounded by time
	Bound  time.Duration // the run's --duration, for the bar when Total is 0

	done, failed atomic.Int64
	begin        time.Time
	stopC        chan struct{}
	wg           sync.WaitGroup
}

func (l *Live) add(failed bool) {
	l.done.Add(1)
	if failed {
		l.failed.Add(1)
	}
}

func (l *Live) start(t time.Time) {
	l.begin, l.stopC = t, make(chan struct{})
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-l.stopC:
				fmt.Fprint(l.W, "\r\x1b[K")
				return
			case <-tick.C:
				fmt.Fprint(l.W, "\r"+l.line(time.Now())+"\x1b[K")
			}
		}
	}()
}

func (l *Live) stop() {
	close(l.stopC)
	l.wg.Wait()
}

// line is the progress bar: [=====>    ] 1234/5000  2345/s  3.2s  0 errors
func (l *Live) line(now time.Time) string {
	done, failed := l.done.Load(), l.failed.Load()
	elapsed := now.Sub(l.begin)
	frac := 0.0
	switch {
	case l.Total > 0:
		frac = float64(done) / float64(l.Total)
	case l.Bound > 0:
		frac = float64(elapsed) / float64(l.Bound)
	}
	frac = min(max(frac, 0), 1)
	const width = 24
	filled := int(frac * width)
	bar := strings.Repeat("=", filled)
	if filled < width {
		bar += ">" + strings.Repeat(" ", width-filled-1)
	}
	count := strconv.FormatInt(done, 10)
	if l.Total > 0 {
		count += "/" + strconv.Itoa(l.Total)
	}
	rate := 0.0
	if elapsed > 0 {
		rate = float64(done) / elapsed.Seconds()
	}
	errs := fmt.Sprintf("%d failed", failed)
	if failed > 0 {
		errs = l.Styles.Failure(errs)
	}
	return fmt.Sprintf("[%s] %s  %.0f/s  %s  %s", bar, count, rate, elapsed.Round(100*time.Millisecond), errs)
}
