package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/logferry/logferry/shared/backfill"
)

func init() {
	register(&command{
		name:    "backfill",
		usage:   "s3://bucket/prefix/ --queue URL [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--rate N] [--dry-run] [--start-after KEY]",
		summary: "enqueue the log objects under a prefix as S3 event notifications, for the Lambda fleet to ship",
		run:     runBackfill,
	})
}

func runBackfill(ctx context.Context, e *env, args []string) error {
	c := commands["backfill"]
	fs := newFlagSet(e, c)
	queue := fs.String("queue", "", "the ingest queue's URL (required unless --dry-run)")
	from := fs.String("from", "", "first day (UTC, YYYY-MM-DD): list only these days of the ELB key layout, in every account and region under the prefix")
	to := fs.String("to", "", "last day (UTC, YYYY-MM-DD, inclusive; default today)")
	rate := fs.Float64("rate", 0, "most objects enqueued per second (default: as fast as SQS takes them)")
	dryRun := fs.Bool("dry-run", false, "list and count (objects, bytes, days) without sending")
	startAfter := fs.String("start-after", "", "skip every key up to and including KEY (printed by an interrupted run)")
	region := fs.String("region", "", "awsRegion of the messages (default $AWS_REGION or us-east-1)")
	quiet := fs.Bool("quiet", false, "no progress line, even on a terminal")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("want one s3://bucket/prefix/, got %d arguments", len(pos))
	}
	rest, ok := strings.CutPrefix(pos[0], "s3://")
	bucket, prefix, _ := strings.Cut(rest, "/")
	if !ok || bucket == "" {
		return usagef("%s: want s3://bucket/prefix/", pos[0])
	}
	if *queue == "" && !*dryRun {
		return usagef("no --queue URL (or --dry-run)")
	}
	if *rate < 0 {
		return usagef("--rate %v: want a positive number of objects per second", *rate)
	}
	cfg := backfill.Config{Bucket: bucket, Prefix: prefix, StartAfter: *startAfter, QueueURL: *queue,
		Rate: *rate, DryRun: *dryRun, Region: *region}
	if cfg.From, err = day("--from", *from); err != nil {
		return err
	}
	if cfg.To, err = day("--to", *to); err != nil {
		return err
	}
	if !cfg.To.IsZero() && cfg.From.IsZero() {
		return usagef("--to needs --from")
	}
	if cfg.Region == "" {
		cfg.Region = e.Getenv("AWS_REGION")
	}
	s3c, err := newS3Client(ctx, e)
	if err != nil {
		return err
	}
	cfg.S3 = s3c
	if !*dryRun {
		if cfg.SQS, err = newSQSClient(ctx, e); err != nil {
			return err
		}
	}
	show := e.Terminal && !*quiet
	cfg.Progress = func(s backfill.Stats) {
		if show && !s.Done {
			fmt.Fprintf(e.Stderr, "\r\033[K%s", progressLine(s, *dryRun))
		}
	}
	st, err := backfill.Run(ctx, cfg)
	if show {
		fmt.Fprint(e.Stderr, "\r\033[K")
	}
	verb := "enqueued"
	if *dryRun {
		verb = "would enqueue"
	}
	fmt.Fprintf(e.Stderr, "backfill s3://%s/%s: %s %d objects (%s, %d days) in %s; skipped %d ELBAccessLogTestFile and %d non-log keys\n",
		bucket, prefix, verb, st.Objects, bytesIEC(st.Bytes), st.Days, st.Elapsed.Round(time.Millisecond), st.TestFiles, st.NotLogs)
	if !*dryRun && st.Objects > 0 {
		fmt.Fprintln(e.Stderr, "Re-sending an object is harmless: document ids are deterministic, so a second delivery overwrites instead of duplicating.")
	}
	var intr *backfill.Interrupted
	if errors.As(err, &intr) {
		args := fmt.Sprintf("logferry backfill %s --queue %s", pos[0], *queue)
		if *from != "" {
			args += " --from " + *from
		}
		if *to != "" {
			args += " --to " + *to
		}
		if *rate > 0 {
			args += fmt.Sprintf(" --rate %v", *rate)
		}
		resume := intr.StartAfter
		if resume == "" {
			resume = *startAfter
		}
		if resume != "" {
			fmt.Fprintf(e.Stderr, "interrupted; to resume exactly where it stopped:\n  %s --start-after %s\n", args, shellQuote(resume))
		}
		return intr.Err
	}
	return err
}

// progressLine is the terminal's status line: objects, bytes, rate and, with a date range,
// the time left estimated from the days listed.
func progressLine(s backfill.Stats, dry bool) string {
	l := fmt.Sprintf("%d objects, %s, %.0f objects/s", s.Objects, bytesIEC(s.Bytes), s.Rate())
	if dry {
		l = "listing: " + l
	}
	if s.DaysTotal > 0 {
		l += fmt.Sprintf(", day %d/%d", s.DaysListed, s.DaysTotal)
	}
	if eta := s.ETA(); eta >= 0 {
		l += ", ETA " + eta.Round(time.Second).String()
	}
	return l
}

func day(flagName, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.DateOnly, v)
	if err != nil {
		return t, usagef("%s %q: want YYYY-MM-DD", flagName, v)
	}
	return t, nil
}

func bytesIEC(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// shellQuote quotes s for a POSIX shell when it holds anything but safe characters.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=@%+,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
