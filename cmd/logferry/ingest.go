package main

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/logferry/logferry/functions/ingest/handler"
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
	prog := newProgress(e, len(sources), e.Terminal && !*quiet)
	defer prog.stop()
	deps := handler.Deps{
		Progress:    prog.update,
		Credentials: credentials(cfg),
		Logger:      e.Logger,
		Metrics:     io.Discard,
	}
	if s3c != nil {
		deps.S3 = s3c
	}
	if deps.DeadLetter, err = handler.DeadLetterFor(cfg.DeadLetter, s3c); err != nil {
		return err
	}
	h, err := handler.NewWithDeps(cfg, deps)
	if err != nil {
		return err
	}

	objs, err := expandSources(ctx, s3c, sources)
	if err != nil {
		return err
	}
	if len(objs) == 0 {
		return fmt.Errorf("no objects found in %s", strings.Join(sources, " "))
	}
	prog.setTotal(len(objs))

	var (
		mu     sync.Mutex
		failed []string
		work   = make(chan ingest.Object)
		wg     sync.WaitGroup
	)
	for range min(*parallel, len(objs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for obj := range work {
				res, err := h.Object(ctx, obj)
				prog.done(res, err)
				if err != nil {
					mu.Lock()
					failed = append(failed, fmt.Sprintf("%s: %v", obj, err))
					mu.Unlock()
				}
			}
		}()
	}
feed:
	for _, o := range objs {
		select {
		case work <- o:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	prog.stop()
	prog.summary(e.Stderr)
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("interrupted: %w", err)
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d of %d objects failed:\n  %s", len(failed), len(objs), strings.Join(failed, "\n  "))
	}
	return nil
}

// expandSources turns the command line into objects: files, directories (walked, in
// lexical order), s3://bucket/key and s3://bucket/prefix/ (listed).
func expandSources(ctx context.Context, s3c *s3.Client, sources []string) ([]ingest.Object, error) {
	var objs []ingest.Object
	for _, src := range sources {
		if rest, ok := strings.CutPrefix(src, "s3://"); ok {
			bucket, key, _ := strings.Cut(rest, "/")
			if bucket == "" {
				return nil, fmt.Errorf("%s: no bucket", src)
			}
			if key != "" && !strings.HasSuffix(key, "/") {
				objs = append(objs, ingest.Object{Bucket: bucket, Key: key})
				continue
			}
			p := s3.NewListObjectsV2Paginator(s3c, &s3.ListObjectsV2Input{Bucket: &bucket, Prefix: &key})
			for p.HasMorePages() {
				page, err := p.NextPage(ctx)
				if err != nil {
					return nil, fmt.Errorf("list %s: %w", src, err)
				}
				for _, o := range page.Contents {
					if k := aws.ToString(o.Key); !strings.HasSuffix(k, "/") {
						objs = append(objs, ingest.Object{Bucket: bucket, Key: k})
					}
				}
			}
			continue
		}
		fi, err := os.Stat(src)
		if err != nil {
			return nil, err
		}
		if !fi.IsDir() {
			objs = append(objs, ingest.Object{Key: src})
			continue
		}
		err = filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() {
				objs = append(objs, ingest.Object{Key: path})
			}
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	return objs, nil
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

func (p *progress) setTotal(n int) {
	p.mu.Lock()
	p.total = n
	p.mu.Unlock()
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

func (p *progress) summary(w io.Writer) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(w, "objects %d (failed %d), lines %d, documents %d, parse failures %d, sent %d, dead-lettered %d, retries %d, %s\n",
		p.finished, p.failed, p.lines, p.docs, p.parseFailures, p.sent, p.deadLettered, p.retries, time.Since(p.start).Round(time.Millisecond))
}
