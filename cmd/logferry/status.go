package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/logferry/logferry/shared/backlog"
)

func init() {
	register(&command{
		name:    "status",
		usage:   "--queue URL [--watch] [--interval 10s] [--window 5m] [--sample 15s]",
		summary: "show the ingest backlog: messages on the queue and its dead-letter queue, drain rate, time to empty",
		run:     runStatus,
	})
}

func runStatus(ctx context.Context, e *env, args []string) error {
	c := commands["status"]
	fs := newFlagSet(e, c)
	queue := fs.String("queue", "", "the ingest queue's URL (required)")
	watch := fs.Bool("watch", false, "refresh every --interval until interrupted")
	interval := fs.Duration("interval", 10*time.Second, "time between samples")
	window := fs.Duration("window", 5*time.Minute, "the drain rate covers the samples of this last span")
	sample := fs.Duration("sample", 15*time.Second, "without --watch: how long to watch the queue to measure the drain rate (0: depths only)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected arguments: %s", strings.Join(pos, " "))
	}
	if *queue == "" {
		return usagef("no --queue URL")
	}
	if *interval <= 0 || *window <= 0 || *sample < 0 {
		return usagef("--interval and --window must be positive, --sample not negative")
	}
	sqsc, err := newSQSClient(ctx, e)
	if err != nil {
		return err
	}
	w := backlog.Window{Span: *window}
	take := func() error {
		s, err := backlog.Read(ctx, sqsc, *queue, time.Now())
		if err != nil {
			return err
		}
		w.Add(s)
		return nil
	}
	if err := take(); err != nil {
		return err
	}
	if !*watch {
		if *sample > 0 {
			step := min(*interval, *sample)
			for end := time.Now().Add(*sample); time.Now().Before(end); {
				if !sleepCtx(ctx, min(step, time.Until(end))) {
					break
				}
				if err := take(); err != nil {
					return err
				}
			}
		}
		printStatus(e.Stdout, &w)
		return nil
	}
	for {
		if e.Terminal {
			fmt.Fprint(e.Stdout, "\033[H\033[2J") // redraw in place
		}
		printStatus(e.Stdout, &w)
		if !sleepCtx(ctx, *interval) {
			return nil // Ctrl-C ends a watch normally
		}
		if err := take(); err != nil {
			return err
		}
	}
}

// sleepCtx waits d or until ctx ends; false when ctx ended.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

func printStatus(out io.Writer, w *backlog.Window) {
	s, _ := w.Latest()
	fmt.Fprintf(out, "%s  queue %s: %d visible, %d in flight, %d delayed\n", s.Time.UTC().Format(time.RFC3339), s.Queue.Name, s.Queue.Visible, s.Queue.InFlight, s.Queue.Delayed)
	if s.DLQ != nil {
		fmt.Fprintf(out, "  dead-letter queue %s: %d visible, %d in flight", s.DLQ.Name, s.DLQ.Visible, s.DLQ.InFlight)
		if s.DLQ.Backlog() > 0 {
			fmt.Fprint(out, "  (messages that failed maxReceiveCount times: look at them, then redrive)")
		}
		fmt.Fprintln(out)
	} else {
		fmt.Fprintln(out, "  no dead-letter queue (the queue has no redrive policy)")
	}
	rate, over, ok := w.DrainRate()
	switch {
	case !ok:
		fmt.Fprintln(out, "  drain rate: not measured yet (one sample)")
	case rate >= 0:
		fmt.Fprintf(out, "  drain rate: %.1f messages/s over the last %s", rate, over.Round(time.Second))
	default:
		fmt.Fprintf(out, "  backlog growing by %.1f messages/s over the last %s", -rate, over.Round(time.Second))
	}
	if ok {
		if tte, ok := w.TimeToEmpty(); ok && tte == 0 {
			fmt.Fprint(out, "; empty")
		} else if ok {
			fmt.Fprintf(out, "; empty in about %s", tte.Round(time.Second))
		} else {
			fmt.Fprint(out, "; not draining")
		}
		fmt.Fprintln(out)
	}
	fmt.Fprintln(out, "  (lag as the documents see it: the LagSeconds metric)")
}
