package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/logferry/logferry/shared/execution"
	"github.com/logferry/logferry/shared/reindex"
	"github.com/logferry/logferry/shared/reindexstep"
)

func init() {
	register(&command{
		name: "reindex",
		usage: "(--es URL | --state-machine ARN) (--index NAME… | --pattern P) [--mappings FILE] [--template] [--settings FILE]\n" +
			"        [--swap alias|rename-back] [--max-concurrency N] [--requests-per-second N] [--quiet-minutes N]\n" +
			"        [--max-wait-minutes N] [--dry-run] [--json] [--definition FILE] [--poll-seconds N] [-v]",
		summary: "reindex indices after a mapping change with the reindex state machine, locally (--es) or deployed (--state-machine)",
		run:     runReindex,
	})
}

// reindexFlags are the command line; input builds the execution input from them.
type reindexFlags struct {
	es, stateMachine, pattern, mappings, settings, swap, definition string
	indices                                                         []string
	template, dryRun, json, verbose                                 bool
	maxConcurrency, rps, quiet, maxWait, poll                       int
	set                                                             map[string]bool
}

func runReindex(ctx context.Context, e *env, args []string) error {
	c := commands["reindex"]
	fs := newFlagSet(e, c)
	var f reindexFlags
	fs.StringVar(&f.es, "es", "", "run locally against this Elasticsearch URL (default $ES_URL); credentials as the Lambda reads them (ES_USERNAME/ES_PASSWORD, ES_API_KEY, ES_CA_CERT)")
	fs.StringVar(&f.stateMachine, "state-machine", "", "start and follow the deployed state machine with this ARN instead (AWS credentials from the environment)")
	fs.Func("index", "an index (or alias of one index) to reindex; repeat for more", func(s string) error { f.indices = append(f.indices, s); return nil })
	fs.StringVar(&f.pattern, "pattern", "", `the indices to reindex, as a wildcard pattern, e.g. "logs-2026.10.*"`)
	fs.StringVar(&f.mappings, "mappings", "", "a JSON file with the new mappings (default: each source's own)")
	fs.StringVar(&f.settings, "settings", "", "a JSON file with index settings for the copies")
	fs.BoolVar(&f.template, "template", false, "take mappings and settings from the index template matching each copy's name")
	fs.StringVar(&f.swap, "swap", "", `"alias" (default: the copy takes the name as an alias) or "rename-back" (copied back into the same concrete name)`)
	fs.IntVar(&f.maxConcurrency, "max-concurrency", 0, "indices copied at once (default 2)")
	fs.IntVar(&f.rps, "requests-per-second", 0, "throttle each copy (default unthrottled)")
	fs.IntVar(&f.quiet, "quiet-minutes", 0, "skip indices written to (by @timestamp) in the last N minutes (default 10; 0 turns it off)")
	fs.IntVar(&f.maxWait, "max-wait-minutes", 0, "give up (and roll back) a copy running longer than this (default 1440)")
	fs.BoolVar(&f.dryRun, "dry-run", false, "show the plan (indices, documents, sizes, what is skipped and why) and change nothing")
	fs.BoolVar(&f.json, "json", false, "print the report as JSON on stdout instead of a table")
	fs.StringVar(&f.definition, "definition", "infra/statemachine/reindex.asl.json", "the state machine definition a local run executes")
	fs.IntVar(&f.poll, "poll-seconds", 2, "local runs: the shortest wait between checks of a running copy (REINDEX_POLL_SECONDS)")
	fs.BoolVar(&f.verbose, "v", false, "local runs: log every step on stderr")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q: name indices with --index", pos[0])
	}
	f.set = map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { f.set[fl.Name] = true })
	input, err := f.input()
	if err != nil {
		return err
	}
	if f.stateMachine != "" {
		if f.set["es"] {
			return usagef("give --es (a local run) or --state-machine (the deployed one), not both")
		}
		return reindexDeployed(ctx, e, &f, input)
	}
	if f.es == "" {
		f.es = e.Getenv("ES_URL")
	}
	if f.es == "" {
		return usagef("give --es URL (or ES_URL) to run locally, or --state-machine ARN")
	}
	return reindexLocal(ctx, e, &f, input)
}

// input is the execution input: exactly the JSON a user would paste into the console.
// Only flags given on the command line appear, so the plan step applies its defaults.
func (f *reindexFlags) input() ([]byte, error) {
	r := reindex.Request{Indices: f.indices, Pattern: f.pattern, Template: f.template, Swap: reindex.Mode(f.swap), DryRun: f.dryRun}
	for flagName, dst := range map[string]*json.RawMessage{"mappings": &r.Mappings, "settings": &r.Settings} {
		path := map[string]string{"mappings": f.mappings, "settings": f.settings}[flagName]
		if path == "" {
			continue
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("--%s: %w", flagName, err)
		}
		if !json.Valid(b) {
			return nil, fmt.Errorf("--%s %s: not valid JSON", flagName, path)
		}
		*dst = b
	}
	if f.set["max-concurrency"] {
		r.MaxConcurrency = f.maxConcurrency
		if f.maxConcurrency == 0 {
			r.MaxConcurrency = -1 // refused by the check below, with its message
		}
	}
	if f.set["requests-per-second"] {
		r.RequestsPerSecond = f.rps
	}
	if f.set["quiet-minutes"] {
		r.QuietMinutes = &f.quiet
	}
	if f.set["max-wait-minutes"] {
		r.MaxWaitMinutes = f.maxWait
		if f.maxWait == 0 {
			r.MaxWaitMinutes = -1
		}
	}
	b, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	// The plan step checks it again; checking here fails before anything starts.
	if _, err := reindex.ParseRequest(b); err != nil {
		var re *reindex.Error
		if errors.As(err, &re) {
			return nil, usagef("%v", re.Err)
		}
		return nil, err
	}
	return b, nil
}

func reindexLocal(ctx context.Context, e *env, f *reindexFlags, input []byte) error {
	tools, err := execution.FindTools(sfnDir(e))
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if f.verbose {
		log = e.Logger
	}
	getenv := overlay(e.Getenv, map[string]string{
		reindexstep.EnvURL:  f.es,
		reindexstep.EnvPoll: envOr(e.Getenv, reindexstep.EnvPoll, strconv.Itoa(f.poll)),
	})
	// The handler's own context outlives Ctrl-C: rollback must still reach Elasticsearch.
	h, err := reindexstep.NewWithOptions(context.WithoutCancel(ctx), getenv, reindexstep.Options{Logger: log})
	if err != nil {
		return err
	}
	fn := lambda.NewHandler(h.Invoke)
	tr := execution.NewTracker()
	wctx, stopWatch := context.WithCancel(context.WithoutCancel(ctx))
	watched := make(chan struct{})
	go func() { execution.Watch(wctx, tr, e.Stderr, e.Terminal, time.Second); close(watched) }()
	out, err := execution.RunLocal(ctx, execution.LocalConfig{
		Tools: tools, Definition: f.definition, Input: input, Function: fn, Tracker: tr, Stderr: e.Stderr,
	})
	if out.Status == "ABORTED" || (err != nil && ctx.Err() != nil) {
		stopWatch()
		<-watched
		items := tr.Unfinished()
		fmt.Fprintf(e.Stderr, "logferry reindex: interrupted: rolling back %d running %s…\n", len(items), pluralS(len(items), "index", "indices"))
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Minute)
		defer cancel()
		rolled := execution.RollBack(rctx, fn, items, "logferry reindex was interrupted", 2*time.Second)
		rep := interruptedReport(tr, rolled)
		writeReindexReport(e, f, &rep)
		return fmt.Errorf("interrupted: %d %s rolled back", len(rolled), pluralS(len(rolled), "index", "indices"))
	}
	stopWatch()
	<-watched
	if err != nil {
		return err
	}
	return finish(e, f, out, tr)
}

// finish prints the report and turns the execution's outcome into the exit status.
func finish(e *env, f *reindexFlags, out execution.Outcome, tr *execution.Tracker) error {
	var rep *reindex.Report
	if out.Status == "SUCCEEDED" {
		var r reindex.Report
		if err := json.Unmarshal(out.Output, &r); err != nil {
			return fmt.Errorf("execution output is not a report: %w", err)
		}
		rep = &r
	} else {
		rep = tr.Report()
	}
	if rep != nil {
		writeReindexReport(e, f, rep)
	}
	switch {
	case out.Status == "SUCCEEDED" && rep.OK:
		return nil
	case rep != nil && !rep.OK:
		return fmt.Errorf("%s", rep.Cause)
	default:
		return fmt.Errorf("execution %s: %s: %s", out.Status, out.Error, out.Cause)
	}
}

// interruptedReport is the report of an interrupted run: the indices that finished, those
// rolled back now, and those that never started.
func interruptedReport(tr *execution.Tracker, rolled []reindex.IndexReport) reindex.Report {
	in := reindex.SummaryInput{Indices: append(tr.Finished(), rolled...)}
	done := map[string]bool{}
	for _, r := range in.Indices {
		done[r.Source] = true
	}
	if p := tr.Plan(); p != nil {
		in.Run, in.DryRun, in.Skipped = p.Run, p.DryRun, p.Skipped
		for _, ix := range p.Indices {
			if !done[ix.Source] {
				in.Skipped = append(in.Skipped, reindex.IndexReport{Source: ix.Source, Outcome: reindex.OutcomeSkipped, Reason: "interrupted before it started"})
			}
		}
	}
	return reindex.Summarize(in)
}

func writeReindexReport(e *env, f *reindexFlags, rep *reindex.Report) {
	if f.json {
		b, _ := json.MarshalIndent(rep, "", "  ")
		fmt.Fprintf(e.Stdout, "%s\n", b)
		return
	}
	execution.WriteReport(e.Stdout, rep)
}

// sfnDir is where `make sfn-tools` installed node and aws-local-stepfunctions.
func sfnDir(e *env) string {
	return envOr(e.Getenv, "LOGFERRY_SFN_DIR", "tmp/sfn")
}

func envOr(getenv func(string) string, k, def string) string {
	if v := getenv(k); v != "" {
		return v
	}
	return def
}

func pluralS(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func reindexDeployed(ctx context.Context, e *env, f *reindexFlags, input []byte) error {
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return fmt.Errorf("AWS configuration: %w", err)
	}
	what := f.pattern
	if what == "" && len(f.indices) > 0 {
		what = f.indices[0]
		if len(f.indices) > 1 {
			what += fmt.Sprintf("-and-%d-more", len(f.indices)-1)
		}
	}
	tr := execution.NewTracker()
	wctx, stopWatch := context.WithCancel(ctx)
	watched := make(chan struct{})
	go func() { execution.Watch(wctx, tr, e.Stderr, e.Terminal, time.Second); close(watched) }()
	out, err := execution.RunDeployed(ctx, execution.DeployedConfig{
		Client: sfn.NewFromConfig(cfg), StateMachineARN: f.stateMachine, Name: execution.ExecutionName(what, time.Now()),
		Input: input, Tracker: tr, Poll: deployedPoll(f),
		Started: func(arn string) { fmt.Fprintf(e.Stderr, "logferry reindex: started %s\n", arn) },
	})
	stopWatch()
	<-watched
	if err != nil {
		return err
	}
	return finish(e, f, out, tr)
}

// deployedPoll is how often the deployed execution is looked at: every 5 s unless
// --poll-seconds says otherwise.
func deployedPoll(f *reindexFlags) time.Duration {
	if f.set["poll-seconds"] {
		return time.Duration(f.poll) * time.Second
	}
	return 5 * time.Second
}
