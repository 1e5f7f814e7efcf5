package trigger

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jasni/jasni-cli/internal/cmdutil"
	"github.com/jasni/jasni-cli/internal/iostreams"
	"github.com/jasni/jasni-cli/internal/load"
	"github.com/jasni/jasni-cli/internal/termsafe"
	"github.com/jasni/jasni-cli/internal/ui"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// LoadOptions are the load mode's flags; nil Options.Load is the normal
// mode, one delivery per event.
type LoadOptions struct {
	Count       int
	Concurrency int
	Rate        float64
	Duration    time.Duration
	Same        bool
	PrintEach   bool
	// Gates: 0 means not given.
	MaxP99       time.Duration
	MaxErrorRate float64
	errorGate    bool // --max-error-rate given (0 is a valid gate)
}

// loadFlags registers the load mode's flags.
type loadFlags struct {
	count, concurrency int
	rate, maxErrorRate string
	duration, maxP99   time.Duration
	same, printEach    bool
}

func (l *loadFlags) register(fl *pflag.FlagSet) {
	fl.IntVar(&l.count, "count", 0, "Load mode: send `N` deliveries in all, the events in turn")
	fl.IntVarP(&l.concurrency, "concurrency", "c", 0, "Load mode: `N` deliveries in flight at once (default 1 with --count)")
	fl.StringVar(&l.rate, "rate", "", "Load mode: at most `R` deliveries a second, e.g. 200 or 200/s (default: as fast as answered)")
	fl.DurationVar(&l.duration, "duration", 0, "Load mode: send for this long, e.g. 30s")
	fl.BoolVar(&l.same, "same", false, "Load mode: send one identical delivery every time (a retry storm) instead of fresh ones")
	fl.BoolVar(&l.printEach, "print-each", false, "Load mode: print each delivery's outcome, not only the summary")
	fl.DurationVar(&l.maxP99, "max-p99", 0, "Load mode: fail (exit 3) when the 99th percentile latency is above this, e.g. 250ms")
	fl.StringVar(&l.maxErrorRate, "max-error-rate", "", "Load mode: fail when more than this share of deliveries fail, e.g. 1% or 0.01 (default: any failure fails)")
}

// resolve makes the flags into LoadOptions, or nil when none was given.
func (l *loadFlags) resolve(cmd *cobra.Command, o *Options) (*LoadOptions, error) {
	names := []string{"count", "concurrency", "rate", "duration", "same", "print-each", "max-p99", "max-error-rate"}
	used := false
	for _, n := range names {
		used = used || cmd.Flags().Changed(n)
	}
	if !used {
		return nil, nil
	}
	lo := &LoadOptions{Count: l.count, Concurrency: l.concurrency, Duration: l.duration, Same: l.same, PrintEach: l.printEach, MaxP99: l.maxP99}
	// Each value given is checked before what is missing: --rate -1 alone
	// is a bad rate first.
	if l.rate != "" {
		r, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(l.rate), "/s"), 64)
		if err != nil || r <= 0 {
			return nil, cmdutil.FlagErrorf("--rate %q: give deliveries a second, like 200 or 200/s", l.rate)
		}
		lo.Rate = r
	}
	if l.maxErrorRate != "" {
		v := strings.TrimSpace(l.maxErrorRate)
		scale := 1.0
		if strings.HasSuffix(v, "%") {
			v, scale = strings.TrimSuffix(v, "%"), 0.01
		}
		r, err := strconv.ParseFloat(v, 64)
		if err != nil || r < 0 || r*scale > 1 {
			return nil, cmdutil.FlagErrorf("--max-error-rate %q: give a share from 0 to 1, or a percentage like 1%%", l.maxErrorRate)
		}
		lo.MaxErrorRate, lo.errorGate = r*scale, true
	}
	switch {
	case cmd.Flags().Changed("count") && l.count < 1:
		return nil, cmdutil.FlagErrorf("--count must be at least 1")
	case cmd.Flags().Changed("duration") && l.duration <= 0:
		return nil, cmdutil.FlagErrorf("--duration must be positive, like 30s")
	case cmd.Flags().Changed("concurrency") && (l.concurrency < 1 || l.concurrency > 10000):
		return nil, cmdutil.FlagErrorf("--concurrency must be from 1 to 10000")
	case cmd.Flags().Changed("repeat"):
		return nil, cmdutil.FlagErrorf("--repeat sends a few copies one by one; in load mode use --count with --same")
	case len(o.Schedule) > 1:
		return nil, cmdutil.FlagErrorf("--retry does not apply in load mode: each delivery is sent once and counted")
	case o.PrintBody:
		return nil, cmdutil.FlagErrorf("--print-body shows single deliveries; in load mode use --print-each")
	case l.maxP99 < 0:
		return nil, cmdutil.FlagErrorf("--max-p99 must be positive, like 250ms")
	case l.count == 0 && l.duration == 0:
		return nil, cmdutil.FlagErrorf("load mode needs --count N or --duration D (or both: whichever ends first)")
	}
	if lo.Concurrency == 0 {
		lo.Concurrency = 1
	}
	return lo, nil
}

// loadRun sends the load and reports it; the exit status gates on the
// failures, --max-p99 and --max-error-rate.
func loadRun(ctx context.Context, o *Options) error {
	lo := o.Load
	var templates []*load.Template
	for _, name := range o.Events {
		_, ev, err := o.build(name)
		if err != nil {
			return err
		}
		templates = append(templates, load.NewTemplate(ev))
	}
	client, err := o.HttpClient()
	if err != nil {
		return err
	}
	ios := o.IO
	cfg := load.Config{
		URL: o.URL, Provider: o.Provider, Templates: templates, Same: lo.Same,
		Header: o.Headers, Removed: o.Removed,
		Count: lo.Count, Concurrency: lo.Concurrency, Rate: lo.Rate, Duration: lo.Duration, Timeout: o.Timeout,
		Client: load.NewClient(client, lo.Concurrency), Now: o.Now,
	}
	if !o.Unsigned {
		cfg.Keys = o.Keys
	}
	if lo.PrintEach {
		var mu sync.Mutex
		out := ui.New(ios.Out, ios.ColorEnabled())
		cfg.OnDelivery = func(d load.Outcome) {
			mu.Lock()
			defer mu.Unlock()
			printOutcome(ios, out, d)
		}
	}
	var live *load.Live
	if ios.IsStderrTTY() && !ios.JSON() && !lo.PrintEach {
		live = &load.Live{W: ios.ErrOut, Styles: ui.New(ios.ErrOut, ios.ErrColorEnabled()), Total: lo.Count, Bound: lo.Duration}
	}
	if !ios.JSON() {
		fmt.Fprintf(ios.ErrOut, "Sending %s to %s, %d at once%s...\n", loadSize(lo), termsafe.Line(o.URL), lo.Concurrency, rateText(lo.Rate))
	}
	s, err := load.Run(ctx, cfg, live)
	if err != nil {
		if ctx.Err() != nil {
			return cmdutil.ErrCancel
		}
		return err
	}
	failures := gates(s, lo)
	if ios.JSON() {
		if err := ios.WriteJSON(map[string]any{"summary": s, "passed": len(failures) == 0, "failures": failures}); err != nil {
			return err
		}
	} else {
		s.Render(ios.Out, ui.New(ios.Out, ios.ColorEnabled()))
		st := ui.New(ios.ErrOut, ios.ErrColorEnabled())
		for _, f := range failures {
			fmt.Fprintf(ios.ErrOut, "%s %s\n", st.FailureIcon(), f)
		}
	}
	switch {
	case len(failures) == 0:
		return nil
	case s.OK == 0 && len(s.Errors) > 0 && len(s.Status) == 0:
		return &cmdutil.SilentError{Code: cmdutil.ExitUnreachable}
	}
	return &cmdutil.SilentError{Code: cmdutil.ExitRejected}
}

// gates says what failed the run: any failed delivery (or more than
// --max-error-rate of them), and a p99 above --max-p99.
func gates(s *load.Summary, lo *LoadOptions) []string {
	out := []string{} // [] in JSON when all passed, not null
	switch {
	case s.Requests == 0:
		out = append(out, "no delivery was sent")
	case lo.errorGate && s.ErrorRate > lo.MaxErrorRate:
		out = append(out, fmt.Sprintf("%.2f%% of deliveries failed, above --max-error-rate %.2f%%", 100*s.ErrorRate, 100*lo.MaxErrorRate))
	case !lo.errorGate && s.Failed > 0:
		out = append(out, fmt.Sprintf("%d of %d deliveries failed (--max-error-rate tolerates some)", s.Failed, s.Requests))
	}
	if lo.MaxP99 > 0 && s.Latency.P99 > float64(lo.MaxP99)/float64(time.Millisecond) {
		out = append(out, fmt.Sprintf("p99 latency %.1fms is above --max-p99 %s", s.Latency.P99, lo.MaxP99))
	}
	return out
}

func printOutcome(ios *iostreams.IOStreams, s *ui.Styles, d load.Outcome) {
	if ios.JSON() {
		b, err := iostreams.JSONLine(struct {
			load.Outcome
			LatencyMS float64 `json:"latency_ms"`
			OK        bool    `json:"ok"`
		}{d, float64(d.Latency.Microseconds()) / 1000, d.OK()})
		if err == nil {
			_, _ = ios.Out.Write(b)
		}
		return
	}
	what := fmt.Sprintf("%d", d.Status)
	icon := s.SuccessIcon()
	if !d.OK() {
		icon = s.FailureIcon()
		if d.Error != "" {
			what = d.Error
		}
	}
	fmt.Fprintf(ios.Out, "%s %6d %-16s %s  %.2fms\n", icon, d.N+1, termsafe.Line(d.Event), what, float64(d.Latency.Microseconds())/1000)
}

func loadSize(lo *LoadOptions) string {
	switch {
	case lo.Count > 0 && lo.Duration > 0:
		return fmt.Sprintf("%d deliveries (or for %s)", lo.Count, lo.Duration)
	case lo.Count > 0:
		return fmt.Sprintf("%d deliveries", lo.Count)
	}
	return "deliveries for " + lo.Duration.String()
}

func rateText(r float64) string {
	if r == 0 {
		return ""
	}
	return fmt.Sprintf(", at most %s a second", strconv.FormatFloat(r, 'f', -1, 64))
}
