package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"testing/iotest"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/logferry/logferry/shared/elblog"
	"github.com/logferry/logferry/shared/logstash"
	"github.com/logferry/logferry/shared/logstash/logstashtest"
	"github.com/logferry/logferry/shared/s3test"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

type rig struct {
	s3 *s3test.Server
	ls *logstashtest.Server
}

func newRig(t *testing.T) *rig {
	s := s3test.New(t)
	s.CreateBucket(t, bucket)
	return &rig{s3: s, ls: logstashtest.New(t, logstashtest.Options{})}
}

func (r *rig) config(mod ...func(*logstash.Config)) Config {
	return Config{
		Getter: r.s3.Client,
		NewIndexer: func(o Object) (logstash.Indexer, error) {
			c := logstash.Config{
				URL: r.ls.URL, BatchDocs: 200, Workers: 3, Source: logstash.Source{Bucket: o.Bucket, Key: o.Key},
				BackoffBase: time.Millisecond, BackoffMax: 20 * time.Millisecond, Logger: quiet,
			}
			for _, m := range mod {
				m(&c)
			}
			return logstash.NewIndexer(c)
		},
		Logger: quiet,
	}
}

// assertExactlyOnce checks, on the receiving side, that the line at each offset arrived
// under its deterministic id, and nothing else did.
func assertExactlyOnce(t *testing.T, ls *logstashtest.Server, key string, offs []int64) {
	t.Helper()
	docs := ls.Docs()
	if len(docs) != len(offs) {
		t.Fatalf("Logstash holds %d documents, want %d", len(docs), len(offs))
	}
	for _, off := range offs {
		id := elblog.DocumentID(bucket, key, off)
		doc, ok := docs[id]
		if !ok {
			t.Fatalf("line at offset %d (id %s) never arrived", off, id)
		}
		var d struct {
			Log struct {
				Offset int64 `json:"offset"`
			} `json:"log"`
		}
		if err := json.Unmarshal(doc, &d); err != nil || d.Log.Offset != off {
			t.Fatalf("document %s: log.offset %d, want %d (%v)", id, d.Log.Offset, off, err)
		}
	}
	if nid := ls.NoID(); len(nid) > 0 {
		t.Fatalf("%d documents arrived without @metadata._id", len(nid))
	}
}

func TestShipsEveryLineOnceThroughFaults(t *testing.T) {
	r := newRig(t)
	body, offs := object(gen(5000, albLine))
	r.s3.Put(t, bucket, albKey, gz(t, body))
	// What a struggling Logstash does: a 429 storm closing connections, 500s after some
	// events were pushed, resets mid-request, slow answers.
	r.ls.Script(logstashtest.Storm429(4), logstashtest.Fail500(2, 50), logstashtest.Reset(2), logstashtest.Slow(2, 50*time.Millisecond))

	res, err := Run(context.Background(), Object{Bucket: bucket, Key: albKey}, r.config())
	if err != nil {
		t.Fatal(err)
	}
	assertExactlyOnce(t, r.ls, albKey, offs)
	if res.Lines != 5000 || res.Documents != 5000 || res.ParseFailures != 0 || res.Sink.Sent != 5000 || res.Sink.Retries == 0 {
		t.Fatalf("result %+v", res)
	}
	if res.Bytes != int64(len(body)) || res.ObjectBytes >= int64(len(body)) || res.ReadBytes != res.ObjectBytes {
		t.Fatalf("bytes: decompressed %d (want %d), object %d, read %d", res.Bytes, len(body), res.ObjectBytes, res.ReadBytes)
	}
	if want := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC).Add(4999 * 1731 * time.Microsecond); !res.Newest.Equal(want) {
		t.Fatalf("Newest = %s, want %s", res.Newest, want)
	}
	// Retried 500s may deliver twice; the store still holds each id once (asserted above).
	if red := r.ls.Redelivered(); len(red) > 100 {
		t.Fatalf("%d redelivered ids: more than the 500s pushed", len(red))
	}
}

// stepClock advances by step on every read, so a run crosses StopAt after a known number
// of deadline checks.
func stepClock(start time.Time, step time.Duration) func() time.Time {
	var n atomic.Int64
	return func() time.Time { return start.Add(time.Duration(n.Add(1)) * step) }
}

func TestResumeAtContinuationShipsTheRestOnly(t *testing.T) {
	for _, tc := range []struct {
		name, key string
		compress  bool
	}{
		{"plain classic (ranged GET)", classicKey, false},
		{"gzip ALB (skip to offset)", albKey, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t)
			line := albLine
			if !tc.compress {
				line = classicLine
			}
			body, offs := object(gen(3000, line))
			stored := body
			if tc.compress {
				stored = gz(t, body)
			}
			r.s3.Put(t, bucket, tc.key, stored)

			obj := Object{Bucket: bucket, Key: tc.key}
			var runs int
			for {
				runs++
				if runs > 10 {
					t.Fatal("no progress")
				}
				cfg := r.config()
				start := time.Now()
				// Each run gets three deadline checks (~768 lines) before it must stop.
				cfg.StopAt, cfg.Clock = start.Add(3*time.Second), stepClock(start, time.Second)
				res, err := Run(context.Background(), obj, cfg)
				if err != nil {
					t.Fatal(err)
				}
				if res.Continue == nil {
					break
				}
				if res.Continue.Offset <= obj.Offset {
					t.Fatalf("run %d did not advance: %d → %d", runs, obj.Offset, res.Continue.Offset)
				}
				if !tc.compress && res.ReadBytes >= int64(len(body))-obj.Offset+1 {
					t.Fatalf("plain resume read %d bytes: more than the rest of the object", res.ReadBytes)
				}
				obj = *res.Continue
			}
			if runs < 3 {
				t.Fatalf("only %d runs: the deadline never stopped one", runs)
			}
			assertExactlyOnce(t, r.ls, tc.key, offs)
			if red := r.ls.Redelivered(); len(red) != 0 {
				t.Fatalf("%d lines were shipped twice across continuations (e.g. %s)", len(red), red[0])
			}
		})
	}
}

func TestBadLinesAreShippedWithTheirNeighbours(t *testing.T) {
	r := newRig(t)
	lines := gen(10, albLine)
	lines[3] = "this is not an access log line"
	lines[6] = albLine(6) + ` "a-field-aws-added-later" 42` // trailing unknown fields parse
	lines[8] = "https " + strings.Repeat("x", 3<<20)        // overlong
	body, offs := object(lines)
	r.s3.Put(t, bucket, albKey, gz(t, body))

	res, err := Run(context.Background(), Object{Bucket: bucket, Key: albKey}, r.config())
	if err != nil {
		t.Fatal(err)
	}
	assertExactlyOnce(t, r.ls, albKey, offs)
	if res.ParseFailures != 2 || res.LongLines != 1 || res.Documents != 10 {
		t.Fatalf("result %+v", res)
	}
	for _, i := range []int{3, 8} {
		var d struct {
			Tags  []string `json:"tags"`
			Error struct {
				Message string `json:"message"`
			} `json:"error"`
			Event struct {
				Original string `json:"original"`
			} `json:"event"`
		}
		json.Unmarshal(r.ls.Docs()[elblog.DocumentID(bucket, albKey, offs[i])], &d)
		if len(d.Tags) == 0 || d.Tags[0] != "_elb_parse_failure" || d.Error.Message == "" || d.Event.Original == "" {
			t.Fatalf("line %d: %+v", i, d)
		}
	}
}

func TestObjectsThatAreNotLogs(t *testing.T) {
	r := newRig(t)
	good, _ := object(gen(50, albLine))
	truncated := gz(t, good)
	truncated = truncated[:len(truncated)*2/3]
	r.s3.Put(t, bucket, "notes/readme.txt", []byte("Hello, this bucket holds ELB logs.\nAsk ops.\n"))
	r.s3.Put(t, bucket, albKey, truncated)
	r.s3.Put(t, bucket, classicKey, nil)
	r.s3.Put(t, bucket, "AWSLogs/123456789012/ELBAccessLogTestFile", []byte("Enable AccessLog for ELB: web at 2026-11-25T12:00:00.000Z"))

	_, err := Run(context.Background(), Object{Bucket: bucket, Key: "notes/readme.txt"}, r.config())
	if !IsPermanent(err) || !errors.Is(err, ErrNotLog) || !strings.Contains(err.Error(), "notes/readme.txt") {
		t.Fatalf("non-log object: err = %v", err)
	}
	if n := len(r.ls.Docs()); n != 0 {
		t.Fatalf("a non-log object shipped %d documents", n)
	}

	res, err := Run(context.Background(), Object{Bucket: bucket, Key: albKey}, r.config())
	if !IsPermanent(err) || !strings.Contains(err.Error(), albKey) {
		t.Fatalf("truncated gzip: err = %v", err)
	}
	if res.Documents == 0 || int(res.Documents) != len(r.ls.Docs()) {
		t.Fatalf("truncated gzip: the %d lines before the damage must be delivered (Logstash has %d)", res.Documents, len(r.ls.Docs()))
	}

	res, err = Run(context.Background(), Object{Bucket: bucket, Key: classicKey}, r.config())
	if err != nil || res.Lines != 0 || res.Documents != 0 {
		t.Fatalf("empty object: %+v, %v", res, err)
	}
	res, err = Run(context.Background(), Object{Bucket: bucket, Key: "AWSLogs/123456789012/ELBAccessLogTestFile"}, r.config())
	if err != nil || !res.Skipped {
		t.Fatalf("test file: %+v, %v", res, err)
	}
	if _, err := Run(context.Background(), Object{Bucket: bucket, Key: "AWSLogs/missing.log"}, r.config()); err == nil || IsPermanent(err) {
		t.Fatalf("a missing object is an error a retry may fix: %v", err)
	}
}

func TestUndeliverableBatchesAreDeadLetteredThenReplayed(t *testing.T) {
	r := newRig(t)
	r.s3.CreateBucket(t, "dead-letters")
	body, offs := object(gen(1200, albLine))
	r.s3.Put(t, bucket, albKey, gz(t, body))
	r.ls.Script(logstashtest.Fault{Status: 503, Times: 1 << 30}) // down for good

	dl, err := logstash.NewS3DeadLetter(r.s3.Client, "dead-letters", "logferry/")
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), Object{Bucket: bucket, Key: albKey}, r.config(func(c *logstash.Config) {
		c.DeadLetter, c.MaxRetries = dl, 2
	}))
	var de *logstash.DeliveryError
	if !errors.As(err, &de) || de.DeadLettered != 1200 || de.Lost != 0 || IsPermanent(err) {
		t.Fatalf("err = %v: want a retryable DeliveryError with all 1200 dead-lettered", err)
	}
	if res.Sink.DeadLettered != 1200 || len(r.s3.List(t, "dead-letters", "logferry/")) == 0 {
		t.Fatalf("stats %+v; stored %q", res.Sink, r.s3.List(t, "dead-letters", "logferry/"))
	}

	r.ls.ClearScript()
	src, err := logstash.NewS3Source(r.s3.Client, "dead-letters", "logferry/")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := logstash.Replay(context.Background(), src, logstash.Config{URL: r.ls.URL, Logger: quiet}); err != nil {
		t.Fatal(err)
	}
	assertExactlyOnce(t, r.ls, albKey, offs)
	if left := r.s3.List(t, "dead-letters", "logferry/"); len(left) != 0 {
		t.Fatalf("replayed batches still stored: %q", left)
	}
}

// TestStuckLogstashBeforeTheDeadline: when Logstash hangs, the flush must not outlive the
// invocation. Once ctx ends, what is in flight is dead-lettered (not lost) and Run
// returns, so the object is reported failed and redelivered.
func TestStuckLogstashBeforeTheDeadline(t *testing.T) {
	r := newRig(t)
	body, _ := object(gen(600, albLine))
	r.s3.Put(t, bucket, albKey, gz(t, body))
	r.ls.Script(logstashtest.Slow(1000, time.Minute))
	dl, err := logstash.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	start := time.Now()
	res, err := Run(ctx, Object{Bucket: bucket, Key: albKey}, r.config(func(c *logstash.Config) { c.DeadLetter = dl }))
	if took := time.Since(start); took > 10*time.Second {
		t.Fatalf("Run took %s with a 2s deadline", took)
	}
	var de *logstash.DeliveryError
	if !errors.As(err, &de) || de.Lost != 0 || IsPermanent(err) {
		t.Fatalf("err = %v: want a retryable DeliveryError with nothing lost", err)
	}
	if res.Sink.DeadLettered+res.Sink.Sent < uint64(res.Documents) || res.Documents == 0 {
		t.Fatalf("documents %d, sent %d, dead-lettered %d: some went missing", res.Documents, res.Sink.Sent, res.Sink.DeadLettered)
	}
}

// cutGetter passes GetObject to the real S3 client but cuts the body after n bytes with
// io.ErrUnexpectedEOF, as a dropped connection does: the one failure gofakes3 cannot
// produce on its own.
type cutGetter struct {
	Getter
	n int64
}

func (g cutGetter) GetObject(ctx context.Context, in *s3.GetObjectInput, opt ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	out, err := g.Getter.GetObject(ctx, in, opt...)
	if err == nil {
		out.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(io.LimitReader(out.Body, g.n), iotest.ErrReader(io.ErrUnexpectedEOF)), out.Body}
	}
	return out, err
}

func TestTransferCutShortIsRetriedNotRejected(t *testing.T) {
	r := newRig(t)
	body, offs := object(gen(3000, albLine))
	stored := gz(t, body)
	r.s3.Put(t, bucket, albKey, stored)
	cfg := r.config()
	cfg.Getter = cutGetter{r.s3.Client, int64(len(stored) / 2)}
	_, err := Run(context.Background(), Object{Bucket: bucket, Key: albKey}, cfg)
	if err == nil || IsPermanent(err) {
		t.Fatalf("a cut transfer must be a retryable error, got %v", err)
	}
	// The redelivery reads it whole; lines shipped by the first attempt are overwritten.
	if _, err := Run(context.Background(), Object{Bucket: bucket, Key: albKey}, r.config()); err != nil {
		t.Fatal(err)
	}
	assertExactlyOnce(t, r.ls, albKey, offs)
}
