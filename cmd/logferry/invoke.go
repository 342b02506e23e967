package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/logferry/logferry/shared/escape"
	"github.com/logferry/logferry/shared/ingestevent"
	"github.com/logferry/logferry/shared/lambdaapi"
	"github.com/logferry/logferry/shared/reindexstep"
	"github.com/logferry/logferry/shared/s3test"
)

func init() {
	register(&command{
		name:    "invoke",
		usage:   "[-timeout D] [-s3-dir DIR] FUNCTION [EVENT.json|-]",
		summary: "run a Lambda handler (ingest, reindex) in-process on an event file and print its response",
		run:     runInvoke,
	})
}

// invokers build each function's handler the way its main does, from the environment.
var invokers = map[string]func(ctx context.Context, getenv func(string) string) (lambda.Handler, error){
	"ingest": func(ctx context.Context, getenv func(string) string) (lambda.Handler, error) {
		h, err := ingestevent.New(ctx, getenv)
		if err != nil {
			return nil, err
		}
		return lambda.NewHandler(h.Handle), nil
	},
	"reindex": func(ctx context.Context, getenv func(string) string) (lambda.Handler, error) {
		h, err := reindexstep.New(ctx, getenv)
		if err != nil {
			return nil, err
		}
		return lambda.NewHandler(h.Invoke), nil
	},
}

func runInvoke(ctx context.Context, e *env, args []string) error {
	c := commands["invoke"]
	fs := newFlagSet(e, c)
	timeout := fs.Duration("timeout", 15*time.Minute, "the invocation's deadline, as Lambda's function timeout (the handler sees ctx.Deadline)")
	s3dir := fs.String("s3-dir", "", "serve this directory as S3 (top-level folders are buckets) on an in-process S3 server, so S3 events work without AWS")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) < 1 || len(pos) > 2 {
		return usagef("want a function name and at most one event file")
	}
	build, ok := invokers[pos[0]]
	if !ok {
		return usagef("unknown function %q (want ingest or reindex)", pos[0])
	}
	payload, err := readEvent(e, pos[1:])
	if err != nil {
		return err
	}
	if !json.Valid(payload) {
		return fmt.Errorf("event is not valid JSON")
	}

	getenv := e.Getenv
	if *s3dir != "" {
		srv := s3test.Start()
		defer srv.Close()
		if err := srv.LoadDir(ctx, *s3dir); err != nil {
			return fmt.Errorf("-s3-dir %s: %w", *s3dir, err)
		}
		getenv = overlay(getenv, map[string]string{
			"AWS_ENDPOINT_URL_S3":    srv.URL,
			"LOGFERRY_S3_PATH_STYLE": "1",
			"AWS_REGION":             s3test.Region,
			"AWS_ACCESS_KEY_ID":      "local",
			"AWS_SECRET_ACCESS_KEY":  "local",
			// The in-process server predates the SDK's default request checksums.
			"AWS_REQUEST_CHECKSUM_CALCULATION": "when_required",
			"AWS_RESPONSE_CHECKSUM_VALIDATION": "when_required",
		})
		restore := setenv(getenv, "AWS_ENDPOINT_URL_S3", "AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
			"LOGFERRY_S3_PATH_STYLE", "AWS_REQUEST_CHECKSUM_CALCULATION", "AWS_RESPONSE_CHECKSUM_VALIDATION")
		defer restore()
	}

	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	h, err := build(ctx, getenv)
	if err != nil {
		return fmt.Errorf("%s: %w", pos[0], err)
	}
	resp, err := h.Invoke(ctx, payload)
	if err != nil {
		// The same shape Lambda reports: errorType names what Step Functions or a retry
		// policy would match on.
		out, _ := json.Marshal(lambdaapi.FunctionError(err))
		fmt.Fprintf(e.Stdout, "%s\n", out)
		return fmt.Errorf("%s returned an error", pos[0])
	}
	_, err = fmt.Fprintf(e.Stdout, "%s\n", resp)
	return err
}

// maxEventBytes is Lambda's own limit on a synchronous invocation's payload: no real
// event is larger, and reading one must not take all memory.
const maxEventBytes = 6 << 20

// readEvent reads the event file, or stdin for "-" or none, up to maxEventBytes.
func readEvent(e *env, names []string) ([]byte, error) {
	from, r := "stdin", e.Stdin
	if len(names) > 0 && names[0] != "-" {
		f, err := os.Open(names[0])
		if err != nil {
			return nil, err
		}
		defer f.Close()
		from, r = escape.Text(names[0]), f
	}
	b, err := io.ReadAll(io.LimitReader(r, maxEventBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read event from %s: %w", from, err)
	}
	if len(b) > maxEventBytes {
		return nil, fmt.Errorf("event from %s is larger than %d MiB, Lambda's limit for an invocation's payload", from, maxEventBytes>>20)
	}
	return b, nil
}

// overlay returns getenv with some variables replaced.
func overlay(getenv func(string) string, vars map[string]string) func(string) string {
	return func(k string) string {
		if v, ok := vars[k]; ok {
			return v
		}
		return getenv(k)
	}
}

// setenv copies names from getenv into the process environment, where the AWS SDK's
// default configuration reads them, and returns a function that puts the old values back.
func setenv(getenv func(string) string, names ...string) (restore func()) {
	type old struct {
		v  string
		ok bool
	}
	saved := map[string]old{}
	for _, n := range names {
		v, ok := os.LookupEnv(n)
		saved[n] = old{v, ok}
		os.Setenv(n, getenv(n))
	}
	return func() {
		for n, o := range saved {
			if o.ok {
				os.Setenv(n, o.v)
			} else {
				os.Unsetenv(n)
			}
		}
	}
}
