// Package backfill enqueues S3 log objects onto the ingest queue as the S3 event
// notifications S3 itself would have sent, so that the deployed Lambda fleet ships them at
// the event source mapping's concurrency. Listing follows the ELB key layout, so a date
// range lists only its days; messages go in batches of ten in key order, which makes the
// last key sent a resume point (StartAfter). Re-sending an object is harmless: document ids
// are deterministic, so a second delivery overwrites.
package backfill

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/logferry/logferry/shared/elblog"
)

// Config configures Run. S3, Bucket and (unless DryRun) SQS and QueueURL are required.
type Config struct {
	S3     ListAPI
	Bucket string
	// Prefix is listed; with From/To it is the load balancer's log prefix or lies under
	// AWSLogs/. Default "": the whole bucket.
	Prefix string
	// From and To (days, UTC, inclusive) narrow the listing by the ELB key layout to those
	// days, in every account and region under Prefix. Default: no narrowing. To defaults to
	// today when From is set.
	From, To time.Time
	// StartAfter skips every key up to and including it (a previous run's resume point).
	StartAfter string

	SQS      SendAPI
	QueueURL string
	// Region goes into the messages' awsRegion. Default "us-east-1".
	Region string
	// Rate is the most objects enqueued per second. Default 0: as fast as SQS takes them.
	Rate float64
	// DryRun lists and counts without sending anything.
	DryRun bool
	// Attempts is how often one message is tried. Default 8.
	Attempts int
	// Backoff is the first wait before a retry (doubling, full jitter). Default 200ms.
	Backoff time.Duration
	// Progress, when set, is called after each batch and once at the end.
	Progress func(Stats)
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// Stats is what a backfill did so far.
type Stats struct {
	Objects    int64 // log objects enqueued (or, in a dry run, that would be)
	Bytes      int64 // their size
	Days       int   // distinct days of the ELB layout among them
	TestFiles  int64 // ELBAccessLogTestFile objects skipped
	NotLogs    int64 // other keys skipped (not *.log or *.log.gz)
	Batches    int64 // SendMessageBatch calls that completed
	LastKey    string
	Elapsed    time.Duration
	DaysListed int // day prefixes listed so far (with From/To)
	DaysTotal  int // day prefixes to list (with From/To); 0 without dates
	Done       bool
	days       map[string]struct{}
}

// Rate is objects per second so far.
func (s Stats) Rate() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.Objects) / s.Elapsed.Seconds()
}

// ETA is the time left estimated from the days listed, or -1 when unknown.
func (s Stats) ETA() time.Duration {
	if s.DaysTotal == 0 || s.DaysListed == 0 {
		return -1
	}
	return time.Duration(float64(s.Elapsed) * float64(s.DaysTotal-s.DaysListed) / float64(s.DaysListed))
}

// Interrupted is the error of a run that stopped before the end; StartAfter resumes it
// exactly: every key up to it is on the queue, no key after it is.
type Interrupted struct {
	StartAfter string // "" when nothing was sent yet
	Err        error
}

func (e *Interrupted) Error() string {
	if e.StartAfter == "" {
		return fmt.Sprintf("backfill stopped before sending anything: %v", e.Err)
	}
	return fmt.Sprintf("backfill stopped: %v; resume with --start-after %q", e.Err, e.StartAfter)
}

func (e *Interrupted) Unwrap() error { return e.Err }

// Run lists the objects and enqueues one notification per log object.
func Run(ctx context.Context, cfg Config) (Stats, error) {
	if cfg.S3 == nil || cfg.Bucket == "" {
		return Stats{}, errors.New("backfill: Config.S3 and Config.Bucket are required")
	}
	if !cfg.DryRun && (cfg.SQS == nil || cfg.QueueURL == "") {
		return Stats{}, errors.New("backfill: Config.SQS and Config.QueueURL are required (or DryRun)")
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.Attempts <= 0 {
		cfg.Attempts = 8
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = 200 * time.Millisecond
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if !cfg.From.IsZero() {
		cfg.From = cfg.From.UTC().Truncate(24 * time.Hour)
		if cfg.To.IsZero() {
			cfg.To = cfg.Now()
		}
		cfg.To = cfg.To.UTC().Truncate(24 * time.Hour)
	}
	start := cfg.Now()
	st := Stats{days: map[string]struct{}{}}
	report := func() {
		st.Elapsed = cfg.Now().Sub(start)
		if cfg.Progress != nil {
			cfg.Progress(st)
		}
	}
	ps, err := prefixes(ctx, cfg.S3, cfg.Bucket, cfg.Prefix, cfg.From, cfg.To)
	if err != nil {
		return st, err
	}
	if !cfg.From.IsZero() {
		st.DaysTotal = len(ps)
	}
	snd := sender{c: cfg.SQS, queueURL: cfg.QueueURL, attempts: cfg.Attempts, backoff: cfg.Backoff, timeout: 30 * time.Second}
	pace := pacer{rate: cfg.Rate, start: start, now: cfg.Now}
	var objs []Object
	var bodies []string
	resume := cfg.StartAfter
	flush := func() error {
		if len(objs) == 0 {
			return nil
		}
		if err := pace.wait(ctx, st.Objects); err != nil {
			return &Interrupted{StartAfter: resume, Err: err}
		}
		n, err := snd.send(ctx, objs, bodies)
		for _, o := range objs[:n] {
			st.count(o)
		}
		if n > 0 {
			resume = objs[n-1].Key
			st.LastKey = resume
		}
		st.Batches++
		objs, bodies = objs[:0], bodies[:0]
		report()
		if err != nil {
			return &Interrupted{StartAfter: resume, Err: err}
		}
		return nil
	}
	for i, p := range ps {
		err := list(ctx, cfg.S3, cfg.Bucket, p, cfg.StartAfter, func(o Object) error {
			switch elblog.Classify(o.Key) {
			case elblog.KindTestFile:
				st.TestFiles++
				return nil
			case elblog.KindUnknown:
				st.NotLogs++
				return nil
			}
			if ctx.Err() != nil {
				return &Interrupted{StartAfter: resume, Err: ctx.Err()}
			}
			if cfg.DryRun {
				st.count(o)
				st.LastKey = o.Key
				return nil
			}
			body, err := Message(o, cfg.Region)
			if err != nil {
				return err
			}
			objs, bodies = append(objs, o), append(bodies, body)
			if len(objs) == BatchSize {
				return flush()
			}
			return nil
		})
		if err == nil && !cfg.DryRun && i == len(ps)-1 {
			err = flush()
		}
		if err != nil {
			var intr *Interrupted
			if !errors.As(err, &intr) && !cfg.DryRun {
				// A listing failure: what was listed is not sent yet, resume before it.
				err = &Interrupted{StartAfter: resume, Err: err}
			}
			report()
			return st, err
		}
		st.DaysListed = i + 1
		if cfg.DryRun && cfg.Progress != nil {
			report()
		}
	}
	st.Done = true
	report()
	return st, nil
}

func (s *Stats) count(o Object) {
	s.Objects++
	s.Bytes += o.Size
	if d := DayOf(o.Key); d != "" {
		if _, ok := s.days[d]; !ok {
			s.days[d] = struct{}{}
			s.Days++
		}
	}
}

// pacer keeps the average rate at or below rate objects/s since start.
type pacer struct {
	rate  float64
	start time.Time
	now   func() time.Time
}

// wait blocks until the rate allows more objects after the n sent so far.
func (p pacer) wait(ctx context.Context, n int64) error {
	if p.rate <= 0 {
		return nil
	}
	due := p.start.Add(time.Duration(float64(n) / p.rate * float64(time.Second)))
	d := due.Sub(p.now())
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
