package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/logferry/logferry/shared/demo"
)

func init() {
	register(&command{
		name:    "demo",
		usage:   "[--ingest-bootstrap FILE] [--days N] [--objects-per-day N] [--lines N] [--dir DIR] [--concurrency N]",
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
	perDay := fs.Int("objects-per-day", 10, "objects a day (40% ALB, 20% each Classic, NLB, connection logs)")
	lines := fs.Int("lines", 700, "mean lines per object (±30%)")
	dir := fs.String("dir", "", "keep the demo's files here (the function's log, the node's logs); default a temporary directory")
	concurrency := fs.Int("concurrency", 2, "the function's execution environments (the event source mapping's maximum concurrency)")
	esURL := fs.String("es", "", "use this Elasticsearch instead of starting a node (e.g. make es-up's)")
	motoURL := fs.String("moto", "", "use this moto server instead of starting one (e.g. make moto-up's)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	rep, err := demo.Run(ctx, demo.Config{
		Logferry: self, IngestBootstrap: *bootstrap, Days: *days, ObjectsPerDay: *perDay, LinesPerObject: *lines,
		Dir: *dir, Concurrency: *concurrency, ESURL: *esURL, MotoURL: *motoURL, Out: e.Stdout,
		NameSuffix: suffixFor(*esURL, *motoURL),
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

// suffixFor gives the demo names of its own on servers it did not start, which may hold an
// earlier run's buckets and indices.
func suffixFor(esURL, motoURL string) string {
	if esURL == "" && motoURL == "" {
		return ""
	}
	return fmt.Sprintf("-d%d", time.Now().Unix()%100000)
}
