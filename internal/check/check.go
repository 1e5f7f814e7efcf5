// Package check runs a provider's deployment checklist against a real
// endpoint: it sends correctly signed deliveries, forgeries and edge cases,
// and judges each answer the way the provider's documents say a receiver
// should behave. A new check is one entry in the list built by checks.
package check

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jasni/jasni-cli/internal/delivery"
	"github.com/jasni/jasni-cli/internal/provider"
	"github.com/jasni/jasni-cli/internal/suggest"
)

// Status is a check's verdict.
type Status string

const (
	Pass Status = "pass"
	Warn Status = "warn"
	Fail Status = "fail"
)

// Evidence is one request a check sent and what came back.
type Evidence struct {
	What      string `json:"what"`
	Status    int    `json:"status,omitempty"`
	LatencyMS int64  `json:"latency_ms"`
	// Answer is the start of the response body, as received.
	Answer string `json:"answer,omitempty"`
	Error  string `json:"error,omitempty"`
}

// Result is one check's outcome.
type Result struct {
	Name     string        `json:"name"`
	Title    string        `json:"title"`
	Status   Status        `json:"status"`
	Reason   string        `json:"reason"`
	Evidence []Evidence    `json:"evidence"`
	Duration time.Duration `json:"-"`
	// Unreachable marks a result that got no answer at all.
	Unreachable bool `json:"-"`
	// Advisory marks a warning about the provider rather than the
	// endpoint (Jasni does not sign its timestamp): --strict ignores it.
	Advisory bool `json:"advisory,omitempty"`
}

// Config is what a run needs.
type Config struct {
	URL      string
	Provider *provider.Provider
	// Keys sign the deliveries (the endpoint's secret).
	Keys   []provider.Key
	Client *http.Client
	Now    func() time.Time
	// Only and Skip select checks by name; a name ending in "/" (or a
	// group such as "event") selects every check under it.
	Only, Skip []string
	// Parallel is how many checks run at once; response-time runs alone.
	Parallel int
	// OnResult reports progress: it is called once per check, in the
	// list's order, as soon as that check and every one before it are done,
	// never from two goroutines at once.
	OnResult func(Result)
	// SlowAfter is the answer time above which response-time warns
	// (default Slow).
	SlowAfter time.Duration
}

// Slow is the answer time above which a check warns: the providers' advice
// is to acknowledge first and process after.
const Slow = time.Second

type check struct {
	name, title string
	// alone runs after the others, by itself, so that their load does not
	// count against it.
	alone bool
	run   func(ctx context.Context, r *runner) Result
}

// Names lists the checks for p, in the order they run.
func Names(p *provider.Provider) []string {
	var out []string
	for _, c := range checks(p) {
		out = append(out, c.name)
	}
	return out
}

// Run runs the selected checks and returns their results in the list's
// order. Its error is for a selection that names no check.
func Run(ctx context.Context, cfg Config) ([]Result, error) {
	all := checks(cfg.Provider)
	chosen, err := selectChecks(all, cfg.Only, cfg.Skip)
	if err != nil {
		return nil, err
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Parallel < 1 {
		cfg.Parallel = 4
	}
	limit := cfg.Provider.ResponseLimit.Duration
	if limit <= 0 {
		limit = 30 * time.Second
	}
	if cfg.SlowAfter <= 0 {
		cfg.SlowAfter = Slow
	}
	r := &runner{cfg: cfg, sender: &delivery.Sender{Client: cfg.Client, Timeout: limit + time.Second}, limit: limit}

	results := make([]Result, len(chosen))
	var (
		mu       sync.Mutex
		done     = make([]bool, len(chosen))
		reported int
	)
	runOne := func(i int) {
		c := chosen[i]
		start := time.Now()
		res := c.run(ctx, r)
		res.Name, res.Title, res.Duration = c.name, c.title, time.Since(start)
		if res.Evidence == nil {
			res.Evidence = []Evidence{}
		}
		mu.Lock()
		defer mu.Unlock()
		results[i], done[i] = res, true
		for reported < len(chosen) && done[reported] {
			if cfg.OnResult != nil && ctx.Err() == nil {
				cfg.OnResult(results[reported])
			}
			reported++
		}
	}
	sem := make(chan struct{}, cfg.Parallel)
	var wg sync.WaitGroup
	for i, c := range chosen {
		if c.alone {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			runOne(i)
		}()
	}
	wg.Wait()
	for i, c := range chosen {
		if c.alone && ctx.Err() == nil {
			runOne(i)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return results, nil
}

func selectChecks(all []check, only, skip []string) ([]check, error) {
	names := make([]string, len(all))
	for i, c := range all {
		names[i] = c.name
	}
	matches := func(pattern, name string) bool {
		return name == pattern || strings.HasPrefix(name, strings.TrimSuffix(pattern, "/")+"/")
	}
	for _, p := range append(slices.Clone(only), skip...) {
		if !slices.ContainsFunc(names, func(n string) bool { return matches(p, n) }) {
			msg := fmt.Sprintf("no check is named %q", p)
			s := suggest.Closest(p, names)
			if i := slices.IndexFunc(names, func(n string) bool { return strings.HasPrefix(n, p) || strings.Contains(n, "/"+p) }); s == "" && i >= 0 {
				s = names[i]
			}
			if s != "" {
				msg += fmt.Sprintf(": did you mean %s?", s)
			}
			return nil, fmt.Errorf("%s (the checks: %s)", msg, strings.Join(names, ", "))
		}
	}
	var out []check
	for _, c := range all {
		in := len(only) == 0 || slices.ContainsFunc(only, func(p string) bool { return matches(p, c.name) })
		skipped := slices.ContainsFunc(skip, func(p string) bool { return matches(p, c.name) })
		if in && !skipped {
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("--only and --skip leave no check to run")
	}
	return out, nil
}

// Validate says whether only and skip select any check of p, before a run.
func Validate(p *provider.Provider, only, skip []string) error {
	_, err := selectChecks(checks(p), only, skip)
	return err
}

// runner builds and sends the deliveries of a run.
type runner struct {
	cfg    Config
	sender *delivery.Sender
	limit  time.Duration
}

// build makes a fresh, correctly signed delivery of event, after sets.
func (r *runner) build(event string, sets ...string) (delivery.Request, error) {
	req, _, err := delivery.Event{Provider: r.cfg.Provider, Name: event, Now: r.cfg.Now(), Sets: sets, Keys: r.cfg.Keys, URL: r.cfg.URL}.Build()
	return req, err
}

// signed is body as the provider would send it, signed at t.
func (r *runner) signed(body []byte, event string, t time.Time) (delivery.Request, error) {
	return delivery.NewRequest(r.cfg.URL, body, event, delivery.Signing{Provider: r.cfg.Provider, Keys: r.cfg.Keys, Timestamp: t}, nil, nil)
}

// send sends req and describes the answer as evidence.
func (r *runner) send(ctx context.Context, what string, req delivery.Request) (delivery.Attempt, Evidence) {
	a, _ := r.sender.Send(ctx, req, nil)
	e := Evidence{What: what, Status: a.Status, LatencyMS: a.Duration.Milliseconds(), Answer: excerpt(a.Body)}
	if a.Err != nil {
		e.Error = a.Err.Error()
	}
	return a, e
}

func excerpt(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if r := []rune(s); len(r) > 120 {
		s = string(r[:120]) + "…"
	}
	return s
}

// firstEvent is the event the checks that need any delivery use.
func firstEvent(p *provider.Provider) string { return p.EventNames()[0] }

// otherKey is a key of the provider's form that is not the endpoint's.
func otherKey(p *provider.Provider) provider.Key {
	secret, _ := p.NewSecret()
	k, _ := p.ParseKey(secret)
	return k
}

// isLoopback reports a URL on this machine.
func isLoopback(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	host := u.Hostname()
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
