// Package demo runs logferry's deployed pipeline end to end on one machine, without AWS:
// a real Elasticsearch node, moto for S3 and SQS, a stand-in for Logstash that indexes
// into Elasticsearch, the bucket notification and queues of the CDK stack, realistic ELB
// logs under AWS's key layout, the ingest Lambda's own binary behind an SQS event source
// mapping, then re-delivery, backfill, and the reindex state machine over the daily
// indices. Each stage is printed as it runs; Run ends with a summary table, and every
// check it makes is in the Report. `logferry demo` is its command; its test runs it on a
// small data set.
package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Config configures Run. Only the two executables are required.
type Config struct {
	// Logferry is the logferry executable whose commands the demo runs as a user would
	// (template, backfill, reindex). Required.
	Logferry string
	// IngestBootstrap is the ingest function's executable built for this machine
	// (`go build -tags lambda.norpc ./functions/ingest`). Required.
	IngestBootstrap string
	// Days of logs. Default 3.
	Days int
	// ObjectsPerDay is about how many objects a day has: 40% ALB access logs, 20% each
	// Classic, NLB and connection logs, at least one of each. Default 10.
	ObjectsPerDay int
	// LinesPerObject is the mean number of lines per object (±30%). Default 700: about
	// 21,000 lines over three days.
	LinesPerObject int
	// First is the first day of logs. Default: Days days before today (UTC).
	First time.Time
	// ESURL and MotoURL point at running servers instead of starting them (the test uses
	// `make test`'s). Default: Run starts both and stops them.
	ESURL, MotoURL string
	// Dir keeps the demo's files: the function's log (CloudWatch's view), the Elasticsearch
	// node's home, the commands' output. Default: a temporary directory, removed at the end.
	Dir string
	// Concurrency is the number of the function's execution environments, and the event
	// source mapping's maximum concurrency. Default 2 (this machine has two cores).
	Concurrency int
	// Env is added to the environment of the logferry commands (e.g. LOGFERRY_SFN_DIR).
	Env []string
	// WorkDir is where the logferry commands run: the repository, whose
	// infra/statemachine/reindex.asl.json and tmp/sfn (make sfn-tools) `logferry reindex`
	// uses. Default: the current directory.
	WorkDir string
	// Out receives the stages as they run and the summary. Default os.Stdout.
	Out io.Writer
	// Drain is the SQS event source mapping. Default: shared/sqspoll's, as the stack sets it.
	Drain Drain
	// NameSuffix is added to every name the demo creates (buckets, queues, the indices'
	// prefix), so that a test can share servers with others. Default none.
	NameSuffix string
}

// Check is one thing the demo verified.
type Check struct {
	Name   string
	OK     bool
	Detail string
}

// StageTime is how long a stage took.
type StageTime struct {
	Name    string
	Elapsed time.Duration
}

// IndexResult is one daily index through the reindex.
type IndexResult struct {
	Index         string
	Before, After int64
	Outcome       string // swapped, rolled_back, …, as the reindex report says
}

// Report is what Run did and found.
type Report struct {
	Objects     int   // log objects written (the test file not counted)
	Lines       int64 // log lines in them
	Documents   int64 // documents in Elasticsearch after the last ingest
	Duplicates  int64 // documents beyond one per line (must be 0)
	Missing     int64 // lines without their document (must be 0)
	Failures    int64 // objects the function failed, documents dead-lettered or rejected
	Redelivered int64 // documents delivered again by the re-delivery and the backfill
	Reindexed   []IndexResult
	Stages      []StageTime
	Checks      []Check
	Skipped     []string // stages whose command is not in this build (seams), said why
}

// OK reports whether every check passed.
func (r *Report) OK() bool {
	for _, c := range r.Checks {
		if !c.OK {
			return false
		}
	}
	return len(r.Checks) > 0
}

// Failed lists the checks that failed.
func (r *Report) Failed() []string {
	var out []string
	for _, c := range r.Checks {
		if !c.OK {
			out = append(out, c.Name+": "+c.Detail)
		}
	}
	return out
}

// Run runs the demo. It returns an error when a stage could not run at all; a check that
// fails is recorded in the Report (Report.OK) and the demo carries on where it can. What it
// started is stopped before it returns, also when ctx is cancelled (Ctrl-C).
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if cfg.Logferry == "" || cfg.IngestBootstrap == "" {
		return nil, errors.New("demo: Config.Logferry and Config.IngestBootstrap are required")
	}
	if cfg.Days <= 0 {
		cfg.Days = 3
	}
	if cfg.ObjectsPerDay <= 0 {
		cfg.ObjectsPerDay = 10
	}
	if cfg.LinesPerObject <= 0 {
		cfg.LinesPerObject = 700
	}
	if cfg.First.IsZero() {
		cfg.First = time.Now().UTC().AddDate(0, 0, -cfg.Days)
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 2
	}
	if cfg.Out == nil {
		cfg.Out = os.Stdout
	}
	for _, p := range []*string{&cfg.Logferry, &cfg.IngestBootstrap} {
		abs, err := filepath.Abs(*p)
		if err != nil {
			return nil, err
		}
		*p = abs
	}
	if cfg.Dir == "" {
		dir, err := os.MkdirTemp("", "logferry-demo-")
		if err != nil {
			return nil, fmt.Errorf("demo: %w", err)
		}
		defer os.RemoveAll(dir)
		cfg.Dir = dir
	} else if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	r := &run{cfg: cfg, rep: &Report{}, out: cfg.Out}
	defer r.stopAll()
	err := r.stages(ctx)
	r.stopAll() // before the summary, so it can say everything was stopped
	r.summary(err)
	return r.rep, err
}

// run is one demo's state while it runs.
type run struct {
	cfg   Config
	rep   *Report
	out   io.Writer
	stage int
	stops []func() // what to stop, in reverse order
	quiet bool     // a command's output is data: do not print it
	es    *es      // once Elasticsearch is up

	commands map[string]bool // this build's logferry commands
}

// onStop registers what to stop when the demo ends, however it ends.
func (r *run) onStop(name string, stop func()) {
	r.stops = append(r.stops, func() {
		stop()
		fmt.Fprintf(r.out, "    stopped %s\n", name)
	})
}

func (r *run) stopAll() {
	if len(r.stops) == 0 {
		return
	}
	fmt.Fprintf(r.out, "\n==> stopping what the demo started\n")
	for i := len(r.stops) - 1; i >= 0; i-- {
		r.stops[i]()
	}
	r.stops = nil
}

// step runs one stage: prints its title, runs it, records its time.
func (r *run) step(ctx context.Context, title string, f func(ctx context.Context) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r.stage++
	fmt.Fprintf(r.out, "\n==> %d. %s\n", r.stage, title)
	begin := time.Now()
	err := f(ctx)
	el := time.Since(begin)
	r.rep.Stages = append(r.rep.Stages, StageTime{Name: title, Elapsed: el})
	if err != nil {
		fmt.Fprintf(r.out, "    FAILED after %s: %v\n", round(el), err)
		return fmt.Errorf("%s: %w", title, err)
	}
	fmt.Fprintf(r.out, "    done in %s\n", round(el))
	return nil
}

// say prints a detail line of the current stage.
func (r *run) say(format string, a ...any) {
	fmt.Fprintf(r.out, "    "+format+"\n", a...)
}

// check records a verified fact and prints it.
func (r *run) check(name string, ok bool, format string, a ...any) {
	detail := fmt.Sprintf(format, a...)
	r.rep.Checks = append(r.rep.Checks, Check{Name: name, OK: ok, Detail: detail})
	mark := "ok  "
	if !ok {
		mark = "FAIL"
	}
	fmt.Fprintf(r.out, "    [%s] %s: %s\n", mark, name, detail)
}

func round(d time.Duration) time.Duration {
	if d > time.Second {
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Millisecond)
}

// summary prints the table the demo ends with.
func (r *run) summary(err error) {
	rep := r.rep
	w := r.out
	fmt.Fprintf(w, "\n==> summary\n")
	row := func(k string, v any) { fmt.Fprintf(w, "    %-34s %v\n", k, v) }
	row("log objects (and the test file)", rep.Objects)
	row("log lines", rep.Lines)
	row("documents in Elasticsearch", rep.Documents)
	row("duplicates", rep.Duplicates)
	row("lines without a document", rep.Missing)
	row("failures", rep.Failures)
	row("documents delivered again", rep.Redelivered)
	if len(rep.Reindexed) > 0 {
		fmt.Fprintf(w, "    %-34s %-12s %10s %10s\n", "reindexed index", "outcome", "before", "after")
		for _, ix := range rep.Reindexed {
			fmt.Fprintf(w, "    %-34s %-12s %10d %10d\n", ix.Index, ix.Outcome, ix.Before, ix.After)
		}
	}
	var total time.Duration
	fmt.Fprintf(w, "    %-34s %s\n", "stage", "time")
	for _, s := range rep.Stages {
		total += s.Elapsed
		fmt.Fprintf(w, "    %-34s %s\n", truncate(s.Name, 34), round(s.Elapsed))
	}
	fmt.Fprintf(w, "    %-34s %s\n", "total", round(total))
	passed := 0
	for _, c := range rep.Checks {
		if c.OK {
			passed++
		}
	}
	fmt.Fprintf(w, "    checks: %d of %d passed\n", passed, len(rep.Checks))
	for _, f := range rep.Failed() {
		fmt.Fprintf(w, "    FAILED: %s\n", f)
	}
	for _, s := range rep.Skipped {
		fmt.Fprintf(w, "    SKIPPED: %s\n", s)
	}
	switch {
	case err != nil:
		fmt.Fprintf(w, "\ndemo FAILED: %v\n", err)
	case !rep.OK():
		fmt.Fprintf(w, "\ndemo FAILED: %d checks failed\n", len(rep.Checks)-passed)
	default:
		fmt.Fprintf(w, "\ndemo passed: every line became exactly one document, and everything it started is stopped\n")
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.TrimSpace(s[:n-1]) + "…"
}
