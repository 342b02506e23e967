package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/logferry/logferry/shared/escape"
	"github.com/logferry/logferry/shared/ingest"
)

func init() {
	register(&command{
		name:    "ingest",
		usage:   "[flags] SOURCE... --to URL   (SOURCE: FILE, DIR, s3://bucket/key or s3://bucket/prefix/)",
		summary: "ship local files or S3 objects to Logstash with the Lambda's code (backfills, replays after an outage)",
		run:     runIngest,
	})
}

func runIngest(ctx context.Context, e *env, args []string) error {
	c := commands["ingest"]
	fs := newFlagSet(e, c)
	sf := addSinkFlags(fs)
	deadLetter := fs.String("dead-letter", "", "keep batches that fail after retries here: a directory or s3://bucket/prefix/ (default $DEAD_LETTER_URI; none: such failures fail the object)")
	parallel := fs.Int("parallel", 2, "objects shipped at once")
	original := fs.Bool("original", false, "also send event.original for lines that parse")
	quiet := fs.Bool("quiet", false, "no progress line, even on a terminal")
	bucket := fs.String("bucket", "", "local files: the S3 bucket they came from, so that ids and aws.s3.* are the ones the Lambda writes (re-ingesting a download overwrites)")
	keyPrefix := fs.String("key-prefix", "", "local files under AWSLogs/: the S3 prefix before AWSLogs/ (the load balancer's log prefix)")
	toMirror := fs.String("to-mirror", "", "ship to the new cluster's Logstash (URL) only, with LOGSTASH_MIRROR_* credentials and dead letters under DEAD_LETTER_URI + mirror/")
	sources, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(sources) == 0 {
		return usagef("no SOURCE given")
	}
	if *parallel < 1 {
		return usagef("-parallel must be at least 1")
	}
	extra := map[string]string{}
	if *deadLetter != "" {
		extra["DEAD_LETTER_URI"] = *deadLetter
	}
	if *original {
		extra["INCLUDE_ORIGINAL"] = "true"
	}
	cfg, err := sf.load(e, extra)
	if err != nil {
		return err
	}
	if cfg, err = target(cfg, *toMirror); err != nil {
		return err
	}

	var s3c *s3.Client
	needS3 := strings.HasPrefix(cfg.DeadLetter, "s3://")
	for _, s := range sources {
		needS3 = needS3 || strings.HasPrefix(s, "s3://")
	}
	if needS3 {
		if s3c, err = newS3Client(ctx, e); err != nil {
			return err
		}
	}
	local := newLocalFiles(e.Stdin)
	objs, skipped, err := expandSources(ctx, s3c, local, sources, *bucket, *keyPrefix)
	if err != nil {
		return err
	}
	if len(objs) == 0 {
		return fmt.Errorf("no objects found in %s%s", strings.Join(sources, " "), skippedNote(skipped))
	}
	dl, err := ingest.DeadLetterFor(cfg.DeadLetter, s3c)
	if err != nil {
		return err
	}
	prog := newProgress(e, len(objs), e.Terminal && !*quiet)
	defer prog.stop()
	shipper, err := ingest.NewShipper(ingest.ShipperConfig{
		Ingest: cfg, Credentials: credentials(cfg), Getter: sourceGetter{s3c, local}, DeadLetter: dl,
		Parallel: *parallel, Logger: e.Logger, Progress: prog.update,
	})
	if err != nil {
		return err
	}

	var (
		mu       sync.Mutex
		failed   []string
		finished = map[ingest.Object]bool{}
		refused  atomic.Pointer[error]
		work     = make(chan ingest.Object)
		wg       sync.WaitGroup
	)
	name := func(obj ingest.Object) string {
		if p, ok := local.path(obj); ok {
			return escape.Text(p)
		}
		return obj.String() // already escaped
	}
	for range min(*parallel, len(objs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for obj := range work {
				if refused.Load() != nil {
					continue // not started; reported below
				}
				res, err := shipper.Ship(ctx, obj, time.Time{})
				prog.done(res, err)
				mu.Lock()
				if ctx.Err() == nil || err == nil {
					finished[obj] = true
				}
				if err != nil && ctx.Err() == nil {
					msg := err.Error() // Run's errors name the object
					if p, ok := local.path(obj); ok {
						msg = fileError(err, obj, p)
					}
					failed = append(failed, msg)
				}
				mu.Unlock()
				if ingest.IsUnauthorized(err) {
					refused.CompareAndSwap(nil, &err)
				}
			}
		}()
	}
feed:
	for _, o := range objs {
		if refused.Load() != nil {
			break
		}
		select {
		case work <- o:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	prog.stop()
	prog.summary(e.Stderr, skipped)
	var unfinished []string
	for _, o := range objs {
		if !finished[o] {
			unfinished = append(unfinished, name(o))
		}
	}
	if err := ctx.Err(); err != nil {
		msg := fmt.Sprintf("interrupted: %d of %d objects left unfinished:\n  %s", len(unfinished), len(objs), strings.Join(unfinished, "\n  "))
		if n := prog.deadLettered; n > 0 {
			msg += fmt.Sprintf("\n%d documents dead-lettered in %s: send them with `logferry replay %s`", n, cfg.DeadLetter, cfg.DeadLetter)
		}
		return errors.New(msg + "\nrun the same command again to finish: ids are deterministic, nothing is duplicated")
	}
	if r := refused.Load(); r != nil {
		return fmt.Errorf("Logstash refused the credentials; stopped. %d of %d objects not shipped (nothing of theirs was dead-lettered: fix the credentials and run again):\n  %s",
			len(unfinished)+len(failed), len(objs), strings.Join(append(failed, notStarted(unfinished)...), "\n  "))
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d of %d objects failed:\n  %s", len(failed), len(objs), strings.Join(failed, "\n  "))
	}
	return nil
}

func notStarted(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = n + ": not started"
	}
	return out
}

func skippedNote(skipped []string) string {
	if len(skipped) == 0 {
		return ""
	}
	return fmt.Sprintf(" (%d skipped: %s)", len(skipped), strings.Join(escapeAll(skipped), "; "))
}

// sourceGetter reads the local files named on the command line from the disk and every
// other object from S3.
type sourceGetter struct {
	s3    *s3.Client
	local *localFiles
}

func (g sourceGetter) GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	if _, ok := g.local.path(ingest.Object{Bucket: aws.ToString(in.Bucket), Key: aws.ToString(in.Key)}); ok {
		return g.local.GetObject(ctx, in, opts...)
	}
	if g.s3 == nil {
		return nil, fmt.Errorf("s3://%s/%s: no S3 client", aws.ToString(in.Bucket), aws.ToString(in.Key))
	}
	return g.s3.GetObject(ctx, in, opts...)
}

// expandSources turns the command line into objects: files, directories (walked in
// lexical order, links followed), s3://bucket/key and s3://bucket/prefix/ (listed).
// Local files are registered with local under their canonical key (keyFor); skipped
// names what a directory held that is not shipped, and why.
func expandSources(ctx context.Context, s3c *s3.Client, local *localFiles, sources []string, bucket, keyPrefix string) (objs []ingest.Object, skipped []string, err error) {
	seen := map[ingest.Object]string{}
	addLocal := func(src, path string) error {
		key, err := keyFor(src, path, keyPrefix)
		if err != nil {
			return err
		}
		obj := ingest.Object{Bucket: bucket, Key: key}
		if prev, dup := seen[obj]; dup {
			// Two files, one object: shipping both would interleave their documents under
			// one set of ids.
			return fmt.Errorf("%s and %s both stand for %s; ingest them in separate runs", prev, path, obj)
		}
		seen[obj] = path
		local.add(obj, path)
		objs = append(objs, obj)
		return nil
	}
	for _, src := range sources {
		if rest, ok := strings.CutPrefix(src, "s3://"); ok {
			b, key, _ := strings.Cut(rest, "/")
			if b == "" {
				return nil, nil, fmt.Errorf("%s: no bucket", src)
			}
			if key != "" && !strings.HasSuffix(key, "/") {
				objs = append(objs, ingest.Object{Bucket: b, Key: key})
				continue
			}
			p := s3.NewListObjectsV2Paginator(s3c, &s3.ListObjectsV2Input{Bucket: &b, Prefix: &key})
			for p.HasMorePages() {
				page, err := p.NextPage(ctx)
				if err != nil {
					return nil, nil, fmt.Errorf("list %s: %w", src, err)
				}
				for _, o := range page.Contents {
					if k := aws.ToString(o.Key); !strings.HasSuffix(k, "/") {
						objs = append(objs, ingest.Object{Bucket: b, Key: k})
					}
				}
			}
			continue
		}
		fi, err := os.Stat(src)
		if err != nil {
			return nil, nil, err
		}
		if !fi.IsDir() {
			if err := addLocal(src, src); err != nil {
				return nil, nil, err
			}
			continue
		}
		files, skip, err := walk(src)
		if err != nil {
			return nil, nil, err
		}
		skipped = append(skipped, skip...)
		for _, f := range files {
			if err := addLocal(src, f); err != nil {
				return nil, nil, err
			}
		}
	}
	return objs, skipped, nil
}

// progress keeps one status line on a terminal and the totals for the summary.
type progress struct {
	mu                                sync.Mutex
	start                             time.Time
	total, finished, failed           int
	lines, docs, parseFailures, bytes int64
	sent, deadLettered, retries       uint64
	show                              bool
	live                              map[ingest.Object]ingest.Result // objects in progress
	w                                 io.Writer
	tick                              *time.Ticker
	quit                              chan struct{}
	once                              sync.Once
}

func newProgress(e *env, total int, show bool) *progress {
	p := &progress{start: time.Now(), total: total, show: show, w: e.Stderr, quit: make(chan struct{}), live: map[ingest.Object]ingest.Result{}}
	if show {
		p.tick = time.NewTicker(500 * time.Millisecond)
		go func() {
			for {
				select {
				case <-p.tick.C:
					p.mu.Lock()
					p.draw()
					p.mu.Unlock()
				case <-p.quit:
					return
				}
			}
		}()
	}
	return p
}

// update records an object's running result.
func (p *progress) update(res ingest.Result) {
	p.mu.Lock()
	p.live[res.Object] = res
	p.mu.Unlock()
}

func (p *progress) done(res ingest.Result, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.live, res.Object)
	p.finished++
	if err != nil {
		p.failed++
	}
	p.lines += res.Lines
	p.docs += res.Documents
	p.parseFailures += res.ParseFailures
	p.bytes += res.Bytes
	p.sent += res.Sink.Sent
	p.deadLettered += res.Sink.DeadLettered
	p.retries += res.Sink.Retries
	if p.show {
		p.draw()
	}
}

func (p *progress) draw() {
	lines, bytes := p.lines, p.bytes
	for _, r := range p.live {
		lines += r.Lines
		bytes += r.Bytes
	}
	el := time.Since(p.start).Seconds()
	fmt.Fprintf(p.w, "\r\033[K%d/%d objects, %d lines, %.1f MB/s", p.finished, p.total, lines, float64(bytes)/1e6/max(el, 1e-3))
}

func (p *progress) stop() {
	p.once.Do(func() {
		if p.show {
			p.tick.Stop()
			close(p.quit)
			fmt.Fprint(p.w, "\r\033[K")
		}
	})
}

func (p *progress) summary(w io.Writer, skipped []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(w, "objects %d (failed %d), lines %d, documents %d, parse failures %d, sent %d, dead-lettered %d, retries %d, %s\n",
		p.finished, p.failed, p.lines, p.docs, p.parseFailures, p.sent, p.deadLettered, p.retries, time.Since(p.start).Round(time.Millisecond))
	if len(skipped) > 0 {
		fmt.Fprintf(w, "skipped %d (not shipped):\n  %s\n", len(skipped), strings.Join(escapeAll(skipped), "\n  "))
	}
}

// escapeAll escapes each entry: skipped paths come from a directory someone else may have filled.
func escapeAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = escape.Text(s)
	}
	return out
}
