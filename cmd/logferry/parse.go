package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/logferry/logferry/shared/escape"
	"github.com/logferry/logferry/shared/ingest"
	"github.com/logferry/logferry/shared/lines"
	"github.com/logferry/logferry/shared/logstash"
)

func init() {
	register(&command{
		name:    "parse",
		usage:   "[-bucket B] [-key K | -key-prefix P] [-original] [FILE... | -]",
		summary: "print the ECS JSON document of every line of ELB log files (gzip or not), one per line",
		run:     runParse,
	})
}

func runParse(ctx context.Context, e *env, args []string) error {
	c := commands["parse"]
	fs := newFlagSet(e, c)
	bucket := fs.String("bucket", "", "make ids and aws.s3.* as if the file were in this S3 bucket")
	key := fs.String("key", "", "make ids, cloud.* and aws.s3.* as if the file were this S3 key (default: as `ingest` names the file)")
	keyPrefix := fs.String("key-prefix", "", "files under AWSLogs/: the S3 prefix before AWSLogs/ (as for `ingest`)")
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
	local := newLocalFiles(e.Stdin)
	out := &docWriter{w: e.Stdout, buf: make([]byte, 0, 512<<10)}
	cfg := ingest.Config{
		Getter:          local,
		NewIndexer:      func(ingest.Object) (logstash.Indexer, error) { return out, nil },
		IncludeOriginal: *original,
		Logger:          e.Logger,
		Concurrent:      true, // on two cores decompression overlaps parsing
	}
	var failed []error
	for _, name := range files {
		if err := ctx.Err(); err != nil {
			return err
		}
		obj := ingest.Object{Bucket: *bucket, Key: *key}
		if obj.Key == "" {
			if obj.Key = name; name != "-" {
				if obj.Key, err = keyFor(name, name, *keyPrefix); err != nil {
					return err
				}
			}
		}
		local.add(obj, name)
		// The same loop as `ingest`, with a sink that writes instead of sending.
		res, err := ingest.Run(ctx, obj, cfg)
		fmt.Fprintf(e.Stderr, "%s: %d lines, %d documents, %d parse failures", escape.Text(name), res.Lines, res.Documents, res.ParseFailures)
		if res.LongLines > 0 {
			fmt.Fprintf(e.Stderr, " (%d longer than %d bytes)", res.LongLines, lines.DefaultMaxLineBytes)
		}
		if res.BlankLines > 0 {
			fmt.Fprintf(e.Stderr, ", %d blank lines skipped", res.BlankLines)
		}
		fmt.Fprintln(e.Stderr)
		if err != nil {
			// Keep going: one unreadable file must not cost the others their output.
			failed = append(failed, errors.New(fileError(err, obj, name)))
		}
	}
	if err := out.flush(); err != nil {
		return fmt.Errorf("writing output: %w", err)
	}
	return errors.Join(failed...)
}

// docWriter is parse's sink: documents one per line, collected in one buffer and written
// in large pieces. Run closes it after every file; that only flushes. Documents are
// encoded straight into its buffer (ingest.InPlaceIndexer), so Add's copy is only for
// other callers. Add, Tail and AddTail are called by one goroutine at a time (Run's).
type docWriter struct {
	mu    sync.Mutex // for Stats, which may be called at any time
	w     io.Writer
	buf   []byte
	err   error
	added uint64
}

var _ ingest.InPlaceIndexer = (*docWriter)(nil)

func (d *docWriter) Add(ctx context.Context, doc []byte) error {
	return d.AddTail(ctx, append(d.Tail(), doc...))
}

func (d *docWriter) Tail() []byte { return d.buf }

func (d *docWriter) AddTail(_ context.Context, buf []byte) error {
	d.mu.Lock()
	d.buf = append(buf, '\n')
	d.added++
	if len(d.buf) >= cap(d.buf)-(64<<10) {
		d.flushLocked()
	}
	err := d.err
	d.mu.Unlock()
	if err != nil {
		return fmt.Errorf("writing output: %w", err)
	}
	return nil
}

func (d *docWriter) Close(context.Context) error { return d.flush() }

func (d *docWriter) Stats() logstash.Stats {
	d.mu.Lock()
	defer d.mu.Unlock()
	return logstash.Stats{Added: d.added, Sent: d.added}
}

func (d *docWriter) flush() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.flushLocked()
	return d.err
}

func (d *docWriter) flushLocked() {
	if d.err == nil && len(d.buf) > 0 {
		_, d.err = d.w.Write(d.buf)
	}
	d.buf = d.buf[:0]
}
