package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/logferry/logferry/shared/elblog"
	"github.com/logferry/logferry/shared/lines"
)

func init() {
	register(&command{
		name:    "parse",
		usage:   "[-bucket B] [-key K] [-original] [FILE... | -]",
		summary: "print the ECS JSON document of every line of ELB log files (gzip or not), one per line",
		run:     runParse,
	})
}

// parseStats is the summary printed to stderr per input.
type parseStats struct {
	lines, documents, failures, long, blank int64
}

func runParse(ctx context.Context, e *env, args []string) error {
	c := commands["parse"]
	fs := newFlagSet(e, c)
	bucket := fs.String("bucket", "", "make ids and aws.s3.* as if the file were in this S3 bucket")
	key := fs.String("key", "", "make ids, cloud.* and aws.s3.* as if the file were this S3 key (default: the file name)")
	original := fs.Bool("original", false, "also set event.original on lines that parse")
	files, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		files = []string{"-"}
	}
	if *key != "" && len(files) > 1 {
		return usagef("-key names one object; give one FILE with it")
	}
	out := &docWriter{w: e.Stdout, buf: make([]byte, 0, 512<<10)}
	var failed []error
	for _, name := range files {
		if err := ctx.Err(); err != nil {
			return err
		}
		k := name
		if *key != "" {
			k = *key
		}
		st, err := parseFile(ctx, e, out, name, elblog.Source{Bucket: *bucket, Key: k, IncludeOriginal: *original})
		fmt.Fprintf(e.Stderr, "%s: %d lines, %d documents, %d parse failures", name, st.lines, st.documents, st.failures)
		if st.long > 0 {
			fmt.Fprintf(e.Stderr, " (%d longer than %d bytes)", st.long, lines.DefaultMaxLineBytes)
		}
		if st.blank > 0 {
			fmt.Fprintf(e.Stderr, ", %d blank lines skipped", st.blank)
		}
		fmt.Fprintln(e.Stderr)
		if err != nil {
			// Keep going: one unreadable file must not cost the others their output.
			failed = append(failed, fmt.Errorf("%s: %w", name, err))
		}
	}
	if err := out.flush(); err != nil {
		return fmt.Errorf("writing output: %w", err)
	}
	return errors.Join(failed...)
}

// docWriter collects documents in one buffer that the encoder appends to directly, so
// each document is copied once (into the write), not twice as through a bufio.Writer.
type docWriter struct {
	w   io.Writer
	buf []byte
	err error
}

func (d *docWriter) flush() error {
	if d.err == nil && len(d.buf) > 0 {
		_, d.err = d.w.Write(d.buf)
	}
	d.buf = d.buf[:0]
	return d.err
}

func parseFile(ctx context.Context, e *env, out *docWriter, name string, src elblog.Source) (parseStats, error) {
	var st parseStats
	var in io.Reader = e.Stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return st, err
		}
		defer f.Close()
		in = f
	}
	switch elblog.Classify(src.Key) {
	case elblog.KindTestFile:
		e.Logger.Info("skipping the test file ELB writes when logging is enabled", "file", name)
		return st, nil
	}
	// Concurrent: on two cores decompression overlaps parsing.
	lr, err := lines.NewReader(in, lines.Options{Concurrent: true})
	if err != nil {
		return st, err
	}
	defer lr.Close()
	enc := elblog.NewEncoder(src)
	unknown := elblog.Classify(src.Key) == elblog.KindUnknown
	for {
		line, off, err := lr.Next()
		var tooLong *lines.LineTooLongError
		switch {
		case err == io.EOF:
			return st, nil
		case errors.As(err, &tooLong):
			st.long++
		case err != nil:
			return st, err
		}
		st.lines++
		if st.lines%(1<<16) == 0 && ctx.Err() != nil {
			return st, ctx.Err() // interrupted: stop within a moment on big files
		}
		if len(line) == 0 {
			st.blank++ // as in ingest: a blank line carries no record
			continue
		}
		var res elblog.Result
		start := len(out.buf)
		if tooLong != nil {
			out.buf, res = enc.AppendFailure(out.buf, line, off, tooLong)
		} else {
			out.buf, res = enc.Append(out.buf, line, off)
		}
		if res.Err != nil {
			if unknown && st.documents == 0 {
				out.buf = out.buf[:start]
				return st, fmt.Errorf("not an ELB log: the name is not a .log/.log.gz key and the first line does not parse (%v)", res.Err)
			}
			st.failures++
		}
		st.documents++
		out.buf = append(out.buf, '\n')
		if len(out.buf) >= cap(out.buf)-(64<<10) {
			if err := out.flush(); err != nil {
				return st, fmt.Errorf("writing output: %w", err)
			}
		}
	}
}
