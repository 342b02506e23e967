package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/logferry/logferry/shared/config"
	"github.com/logferry/logferry/shared/escape"
	"github.com/logferry/logferry/shared/ingest"
	"github.com/logferry/logferry/shared/logstash"
)

func init() {
	register(&command{
		name:    "replay",
		usage:   "[flags] SOURCE --to URL   (SOURCE: a dead-letter directory or s3://bucket/prefix/)",
		summary: "send dead-lettered batches to Logstash again, deleting each one once delivered",
		run:     runReplay,
	})
}

func runReplay(ctx context.Context, e *env, args []string) error {
	c := commands["replay"]
	fs := newFlagSet(e, c)
	sf := addSinkFlags(fs)
	dryRun := fs.Bool("dry-run", false, "list the stored batches and send nothing")
	mirror := fs.Bool("mirror", false, "replay the mirror's batches (SOURCE + mirror/) to the mirror (--to, else $LOGSTASH_MIRROR_URL)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) == 0:
		return usagef("no SOURCE given")
	case len(pos) > 1:
		return usagef("one SOURCE at a time, got %d: %s", len(pos), strings.Join(pos, " "))
	}
	source := pos[0]
	if *mirror {
		source = config.MirrorDeadLetter(source)
	}

	src, err := replaySource(ctx, e, source)
	if err != nil {
		return err
	}
	if *dryRun {
		return listDeadLetters(ctx, e, src)
	}

	extra, toMirror := map[string]string{}, ""
	if *mirror {
		// --to names the mirror here; the primary's LOGSTASH_URL plays no part.
		if toMirror = *sf.to; toMirror == "" {
			toMirror = e.Getenv("LOGSTASH_MIRROR_URL")
		}
		if toMirror == "" {
			return usagef("--mirror: no mirror URL: give --to URL or set LOGSTASH_MIRROR_URL")
		}
		extra["LOGSTASH_URL"], extra["LOGSTASH_MIRROR_URL"] = toMirror, toMirror
	}
	cfg, err := sf.load(e, extra)
	if err != nil {
		return err
	}
	if cfg, err = target(cfg, toMirror); err != nil {
		return err
	}
	sink, err := ingest.SinkConfig(cfg, credentials(cfg))
	if err != nil {
		return err
	}
	sink.Logger = e.Logger
	if err := sink.Validate(); err != nil {
		return err
	}

	st, err := logstash.Replay(ctx, src, sink)
	fmt.Fprintf(e.Stderr, "replay %s: %d batches found, %d delivered and deleted, %d kept; %d of %d documents acknowledged\n",
		escape.Text(fmt.Sprint(src)), st.Batches, st.Replayed, st.Kept, st.Sent, st.Docs)
	if st.MirrorSkipped > 0 {
		fmt.Fprintf(e.Stderr, "%d batches under %s are the mirror's, left in place: replay them with --mirror\n", st.MirrorSkipped, logstash.MirrorPrefix)
	}
	if err != nil {
		if st.Kept > 0 {
			return fmt.Errorf("%d batches kept in %s (run replay again once the cause is fixed):\n  %s",
				st.Kept, escape.Text(fmt.Sprint(src)), strings.ReplaceAll(err.Error(), "\n", "\n  "))
		}
		return err
	}
	return nil
}

// replaySource opens SOURCE: s3://bucket/prefix/ or an existing directory.
func replaySource(ctx context.Context, e *env, source string) (interface {
	logstash.DeadLetterSource
	fmt.Stringer
}, error) {
	if rest, ok := strings.CutPrefix(source, "s3://"); ok {
		bucket, prefix, _ := strings.Cut(rest, "/")
		if bucket == "" {
			return nil, usagef("%s: no bucket", source)
		}
		s3c, err := newS3Client(ctx, e)
		if err != nil {
			return nil, err
		}
		return logstash.NewS3Source(s3c, bucket, prefix)
	}
	if strings.Contains(source, "://") {
		return nil, usagef("%s: want a directory or s3://bucket/prefix/", source)
	}
	// NewDir would create a missing directory; a typo must not look like "nothing to replay".
	fi, err := os.Stat(source)
	if err != nil {
		return nil, fmt.Errorf("dead-letter directory: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("dead-letter directory %s: not a directory", source)
	}
	return logstash.NewDir(source)
}

func listDeadLetters(ctx context.Context, e *env, src logstash.DeadLetterSource) error {
	names, err := src.List(ctx)
	if err != nil {
		return err
	}
	docs, bad := 0, 0
	for _, n := range names {
		b, err := src.Get(ctx, n)
		if err != nil {
			bad++
			var be *logstash.BatchError
			if errors.As(err, &be) { // the line names the batch already
				err = be.Err
			}
			fmt.Fprintf(e.Stdout, "%s\tunreadable: %s\n", escape.Text(n), escape.Text(err.Error()))
			continue
		}
		docs += len(b.Docs)
		// Names and the recorded error come from the store and from Logstash: escaped.
		fmt.Fprintf(e.Stdout, "%s\t%d docs\tstatus %d\tattempts %d\t%s\n", escape.Text(n), len(b.Docs), b.Status, b.Attempts, escape.Text(b.Err))
	}
	fmt.Fprintf(e.Stderr, "%d batches, %d documents, %d unreadable\n", len(names), docs, bad)
	return nil
}
