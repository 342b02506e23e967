package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/logferry/logferry/shared/demo"
)

func init() {
	register(&command{
		name:    "demo",
		usage:   "[--ingest-bootstrap FILE] [--days N] [--lines N] [--dir DIR] [--concurrency N]",
		summary: "run the deployed pipeline end to end on this machine (Elasticsearch, moto, the Lambda binary, the state machine); `make demo`",
		run:     runDemo,
	})
}

func runDemo(ctx context.Context, e *env, args []string) error {
	c := commands["demo"]
	fs := newFlagSet(e, c)
	self, err := os.Executable()
	if err != nil {
		return err
	}
	bootstrap := fs.String("ingest-bootstrap", filepath.Join(filepath.Dir(self), "host", "ingest", "bootstrap"),
		"the ingest function built for this machine (make demo builds it)")
	days := fs.Int("days", 3, "days of logs")
	lines := fs.Int("lines", 1000, "mean lines per object (10 objects a day)")
	dir := fs.String("dir", "", "keep the demo's files here (the function's log, the node's logs); default a temporary directory")
	concurrency := fs.Int("concurrency", 2, "the function's execution environments (the event source mapping's maximum concurrency)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	rep, err := demo.Run(ctx, demo.Config{
		Logferry: self, IngestBootstrap: *bootstrap, Days: *days, LinesPerObject: *lines,
		Dir: *dir, Concurrency: *concurrency, Out: e.Stdout,
	})
	switch {
	case ctx.Err() != nil:
		return errors.New("interrupted; everything the demo started is stopped")
	case err != nil:
		return err
	case !rep.OK():
		return fmt.Errorf("%d checks failed", len(rep.Failed()))
	}
	return nil
}
