package ingestevent_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/logferry/logferry/shared/backfill"
	"github.com/logferry/logferry/shared/config"
	"github.com/logferry/logferry/shared/elblog"
	"github.com/logferry/logferry/shared/ingestevent"
	"github.com/logferry/logferry/shared/logstash"
	"github.com/logferry/logferry/shared/logstash/logstashtest"
	"github.com/logferry/logferry/shared/motoserver"
	"github.com/logferry/logferry/shared/sqspoll"
)

// pipeline is the deployed ingest path on this machine: logs in a moto S3 bucket, the
// ingest queue with its dead-letter queue in moto SQS (redrive as the CDK stack sets it),
// the handler behind a poller that behaves as the event source mapping (function timeout =
// the visibility timeout, 2 s), the Logstash stand-in.
type pipeline struct {
	s3       *s3.Client
	sqs      *sqs.Client
	bucket   string
	queue    string
	dlq      string
	ls       *logstashtest.Server
	handler  *ingestevent.Handler
	expected map[string]bool // document ids of every line of every object written
	// visibility is the queue's visibility timeout in seconds, and so the function's
	// timeout. Default 2; an option may raise it before the queue is made.
	visibility int
}

func newPipeline(t *testing.T, prefix string, maxReceive int, opts ...func(*pipeline, *config.Ingest, *ingestevent.Deps)) *pipeline {
	t.Helper()
	name := motoserver.Name(prefix)
	url := motoserver.ForTest(t)
	cfg := motoserver.Config(url)
	p := &pipeline{
		s3:       s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }),
		sqs:      sqs.NewFromConfig(cfg),
		bucket:   name,
		ls:       logstashtest.New(t, logstashtest.Options{}),
		expected: map[string]bool{},
	}
	ctx := context.Background()
	if _, err := p.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &p.bucket}); err != nil {
		t.Fatal(err)
	}
	ic := config.Ingest{LogstashURL: p.ls.URL, DeadlineMargin: 500 * time.Millisecond, MetricsNamespace: "logferry"}
	deps := ingestevent.Deps{S3: p.s3, SQS: p.sqs, Logger: slog.New(slog.DiscardHandler), Metrics: io.Discard}
	p.visibility = 2
	for _, o := range opts {
		o(p, &ic, &deps)
	}
	dlq, err := p.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name + "-dlq")})
	if err != nil {
		t.Fatal(err)
	}
	q, err := p.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: map[string]string{
		"VisibilityTimeout": fmt.Sprint(p.visibility),
		"RedrivePolicy": fmt.Sprintf(`{"deadLetterTargetArn":"arn:aws:sqs:%s:%s:%s-dlq","maxReceiveCount":"%d"}`,
			motoserver.Region, motoserver.AccountID, name, maxReceive),
	}})
	if err != nil {
		t.Fatal(err)
	}
	p.queue, p.dlq = *q.QueueUrl, *dlq.QueueUrl
	p.handler, err = ingestevent.NewWithDeps(ic, deps)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// write puts an ALB log of n lines under key (gzip when it ends in .gz) and records the ids
// its lines must get.
func (p *pipeline) write(t *testing.T, key string, n int) {
	t.Helper()
	var raw bytes.Buffer
	for i := range n {
		off := int64(raw.Len())
		ts := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Millisecond).Format("2006-01-02T15:04:05.000000Z")
		fmt.Fprintf(&raw, `http %s app/web/50dc6c495c0c9188 192.0.2.%d:%d 10.0.0.1:80 0.000 0.001 0.000 200 200 34 366 "GET http://www.example.com:80/i/%d HTTP/1.1" "curl/8.5.0" - - arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web/73e2d6bc24d8a067 "Root=1-58337262-36d228ad5d99923122bbe354" "-" "-" 0 %s "forward" "-" "-" "10.0.0.1:80" "200" "-" "-" TID_%08x`+"\n",
			ts, i%250+1, 1024+i, i, ts, i)
		p.expected[elblog.DocumentID(p.bucket, key, off)] = true
	}
	body := raw.Bytes()
	if strings.HasSuffix(key, ".gz") {
		var z bytes.Buffer
		w := gzip.NewWriter(&z)
		w.Write(body)
		w.Close()
		body = z.Bytes()
	}
	if _, err := p.s3.PutObject(context.Background(), &s3.PutObjectInput{Bucket: &p.bucket, Key: &key, Body: bytes.NewReader(body)}); err != nil {
		t.Fatal(err)
	}
}

// poll runs the poller until done says the run is over (or a minute passes) and returns its stats.
func (p *pipeline) poll(t *testing.T, done func() bool) sqspoll.Stats {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	res := make(chan sqspoll.Stats, 1)
	go func() {
		// One invocation at a time: moto's ReceiveMessage can hand one message to two
		// concurrent receivers (seen here; a standard SQS queue may also deliver twice, which
		// the deterministic ids absorb), and this test counts deliveries per id exactly.
		st, err := sqspoll.Run(ctx, sqspoll.Config{SQS: p.sqs, QueueURL: p.queue, Concurrency: 1,
			Handler: sqspoll.JSONHandler(p.handler.Handle)})
		if err != nil {
			t.Error(err)
		}
		res <- st
	}()
	deadline := time.Now().Add(time.Minute)
	for !done() {
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("not done after a minute: %d of %d documents, poller %+v", len(p.ls.Docs()), len(p.expected), <-res)
		}
		time.Sleep(50 * time.Millisecond) // polling the condition, with a deadline
	}
	cancel()
	return <-res
}

// exactlyOnce checks that the stand-in holds every expected document, each delivered once,
// and nothing else.
func (p *pipeline) exactlyOnce(t *testing.T) {
	t.Helper()
	docs := p.ls.Docs()
	for id := range p.expected {
		if n := p.ls.Deliveries(id); n != 1 {
			t.Errorf("document %s delivered %d times, want 1", id, n)
		}
	}
	if len(docs) != len(p.expected) {
		t.Errorf("%d documents stored, want %d", len(docs), len(p.expected))
	}
	if r := p.ls.Redelivered(); len(r) > 0 {
		t.Errorf("%d documents delivered more than once, e.g. %s", len(r), r[0])
	}
}

func (p *pipeline) allShipped() bool {
	docs := p.ls.Docs()
	for id := range p.expected {
		if _, ok := docs[id]; !ok {
			return false
		}
	}
	return true
}

func (p *pipeline) depth(t *testing.T, url string) (visible, inflight string) {
	out, err := p.sqs.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{QueueUrl: &url,
		AttributeNames: []sqstypes.QueueAttributeName{"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"}})
	if err != nil {
		t.Fatal(err)
	}
	return out.Attributes["ApproximateNumberOfMessages"], out.Attributes["ApproximateNumberOfMessagesNotVisible"]
}

func elbKey(day string, i int) string {
	return fmt.Sprintf("AWSLogs/123456789012/elasticloadbalancing/eu-west-1/%s/123456789012_elasticloadbalancing_eu-west-1_app.web+blue.50dc6c495c0c9188_%sT12%02dZ_10.0.1.7_x y.log.gz",
		day, strings.ReplaceAll(day, "/", ""), i)
}

// Backfill → queue → poller (as the event source mapping) → the Lambda handler → Logstash:
// every line of every object exactly once by _id; the test file is skipped by the backfill;
// an object that always fails (deleted between listing and shipping) is received
// maxReceiveCount times and then sits in the dead-letter queue, failing nothing else.
func TestBackfillThroughTheFleet(t *testing.T) {
	p := newPipeline(t, "e2e-backfill", 2)
	for i := range 12 {
		p.write(t, elbKey([]string{"2026/11/24", "2026/11/25"}[i%2], i), 150+i)
	}
	doomed := elbKey("2026/11/25", 99)
	p.write(t, doomed, 10)
	for id := range p.expected {
		if strings.HasPrefix(id, elblog.DocumentID(p.bucket, doomed, 0)[:32]) {
			delete(p.expected, id) // its lines can never arrive
		}
	}
	if _, err := p.s3.PutObject(context.Background(), &s3.PutObjectInput{Bucket: &p.bucket,
		Key: aws.String("AWSLogs/123456789012/ELBAccessLogTestFile"), Body: strings.NewReader("Enable AccessLog for ELB: web at 2026-11-24T12:00:00.000Z")}); err != nil {
		t.Fatal(err)
	}
	st, err := backfill.Run(context.Background(), backfill.Config{S3: p.s3, Bucket: p.bucket, Prefix: "AWSLogs/",
		SQS: p.sqs, QueueURL: p.queue, Region: "eu-west-1"})
	if err != nil {
		t.Fatal(err)
	}
	if st.Objects != 13 || st.TestFiles != 1 {
		t.Fatalf("backfill %+v, want 13 objects and the test file skipped", st)
	}
	// Gone before the fleet gets to it (a lifecycle rule, a manual clean-up): every GET fails.
	if _, err := p.s3.DeleteObject(context.Background(), &s3.DeleteObjectInput{Bucket: &p.bucket, Key: &doomed}); err != nil {
		t.Fatal(err)
	}
	var dead []events.S3Event
	ps := p.poll(t, func() bool {
		if len(dead) == 0 {
			out, err := p.sqs.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: &p.dlq, MaxNumberOfMessages: 10})
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range out.Messages {
				var ev events.S3Event
				if err := json.Unmarshal([]byte(*m.Body), &ev); err != nil {
					t.Fatalf("dead-letter message is not the S3 event: %s", *m.Body)
				}
				dead = append(dead, ev)
			}
		}
		return len(dead) > 0 && p.allShipped()
	})
	p.exactlyOnce(t)
	if len(dead) != 1 || dead[0].Records[0].S3.Object.URLDecodedKey != doomed {
		t.Fatalf("dead-letter queue holds %+v, want only %s", dead, doomed)
	}
	if ps.ItemFailures < 2 {
		t.Errorf("poller %+v: the doomed object should have failed maxReceiveCount (2) times", ps)
	}
	if v, f := p.depth(t, p.queue); v != "0" || f != "0" {
		t.Errorf("queue holds %s visible, %s in flight after the run", v, f)
	}
}

// A backfill interrupted after its first batch and resumed with the --start-after it
// printed: the fleet ships every line exactly once, so no object was sent twice or skipped.
func TestInterruptedBackfillResumedShipsEachObjectOnce(t *testing.T) {
	p := newPipeline(t, "e2e-resume", 3)
	for i := range 23 {
		p.write(t, elbKey("2026/11/25", i), 40+i)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cfg := backfill.Config{S3: p.s3, Bucket: p.bucket, SQS: p.sqs, QueueURL: p.queue,
		Progress: func(s backfill.Stats) {
			if s.Batches == 1 {
				cancel()
			}
		}}
	first, err := backfill.Run(ctx, cfg)
	var intr *backfill.Interrupted
	if !errors.As(err, &intr) || first.Objects != 10 {
		t.Fatalf("first run: %+v, %v; want an interruption after 10 objects", first, err)
	}
	cfg.Progress, cfg.StartAfter = nil, intr.StartAfter
	second, err := backfill.Run(context.Background(), cfg)
	if err != nil || second.Objects != 13 {
		t.Fatalf("resumed run: %+v, %v; want the 13 remaining objects", second, err)
	}
	p.poll(t, func() bool {
		v, f := p.depth(t, p.queue)
		return p.allShipped() && v == "0" && f == "0"
	})
	p.exactlyOnce(t)
}

// syncBuffer collects the handler's metric lines from concurrent invocations.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Moving to a new cluster with the new one down for the whole run: the primary gets every
// line, every object succeeds (the queue empties), the mirror's failures are counted in
// MirrorDeadLettered and kept under DEAD_LETTER_URI + mirror/ in S3, and replaying those
// into the mirror once it is up delivers exactly the ids it missed.
func TestMirrorDownThroughTheFleet(t *testing.T) {
	down := logstashtest.New(t, logstashtest.Options{})
	downURL := down.URL
	down.Close()
	var metricLines syncBuffer
	const deadRoot = "dead/"
	p := newPipeline(t, "e2e-mirror", 3, func(p *pipeline, c *config.Ingest, d *ingestevent.Deps) {
		c.Mirror = config.Mirror{URL: downURL, RetryBudget: 300 * time.Millisecond, Wait: 300 * time.Millisecond}
		// What this test shows is that the mirror never fails an object; a 2 s function
		// timeout on a loaded machine could (rightly) fail one for time alone.
		p.visibility = 10
		dl, err := logstash.NewS3DeadLetter(p.s3, p.bucket, deadRoot+logstash.MirrorPrefix)
		if err != nil {
			t.Fatal(err)
		}
		d.Metrics, d.MirrorDeadLetter = &metricLines, dl
	})
	for i := range 4 {
		p.write(t, elbKey("2026/11/25", i), 300+i)
	}
	if _, err := backfill.Run(context.Background(), backfill.Config{S3: p.s3, Bucket: p.bucket, Prefix: "AWSLogs/", SQS: p.sqs, QueueURL: p.queue}); err != nil {
		t.Fatal(err)
	}
	ps := p.poll(t, func() bool {
		v, f := p.depth(t, p.queue)
		return p.allShipped() && v == "0" && f == "0"
	})
	p.exactlyOnce(t)
	if ps.ItemFailures != 0 || ps.BatchErrors != 0 || ps.Deleted != 4 {
		t.Fatalf("poller %+v: with the mirror down every object must still succeed", ps)
	}
	if !strings.Contains(metricLines.String(), `"MirrorDeadLettered"`) {
		t.Fatalf("no MirrorDeadLettered metric in %s", metricLines.String())
	}
	var mirrorDL float64
	for _, line := range strings.Split(strings.TrimSpace(metricLines.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("metric line %q: %v", line, err)
		}
		if v, ok := rec["MirrorDeadLettered"].(float64); ok {
			mirrorDL += v
		}
	}
	if int(mirrorDL) != len(p.expected) {
		t.Fatalf("MirrorDeadLettered sums to %v, want %d (every document)", mirrorDL, len(p.expected))
	}

	up := logstashtest.New(t, logstashtest.Options{})
	src, err := logstash.NewS3Source(p.s3, p.bucket, deadRoot+logstash.MirrorPrefix)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := logstash.Replay(context.Background(), src, logstash.Config{URL: up.URL})
	if err != nil || rs.Kept != 0 {
		t.Fatalf("replay into the mirror: %+v, %v", rs, err)
	}
	got := up.Docs()
	for id := range p.expected {
		if up.Deliveries(id) != 1 {
			t.Fatalf("%s reached the mirror %d times after replay, want 1", id, up.Deliveries(id))
		}
	}
	if len(got) != len(p.expected) {
		t.Fatalf("the mirror holds %d documents after replay, want exactly the %d it missed", len(got), len(p.expected))
	}
}
