package ingestevent

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/logferry/logferry/shared/config"
	"github.com/logferry/logferry/shared/elblog"
	"github.com/logferry/logferry/shared/logstash/logstashtest"
	"github.com/logferry/logferry/shared/motoserver"
	"github.com/logferry/logferry/shared/s3test"
)

const (
	bucket = "elb-logs"
	// A key as ELB writes it, plus a space and a plus sign to exercise URL decoding.
	albKey = "AWSLogs/123456789012/elasticloadbalancing/eu-west-1/2026/11/25/" +
		"123456789012_elasticloadbalancing_eu-west-1_app.web+blue.50dc6c495c0c9188_20261125T1200Z_10.0.1.7_2x8y copy.log.gz"
)

func albLine(i int) string {
	t := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Millisecond)
	return fmt.Sprintf(`http %s app/web/50dc6c495c0c9188 192.0.2.%d:%d 10.0.0.1:80 0.000 0.001 0.000 200 200 34 366 "GET http://www.example.com:80/i/%d HTTP/1.1" "curl/8.5.0" - - arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web/73e2d6bc24d8a067 "Root=1-58337262-36d228ad5d99923122bbe354" "-" "-" 0 %s "forward" "-" "-" "10.0.0.1:80" "200" "-" "-" TID_%08x`,
		t.Format("2006-01-02T15:04:05.000000Z"), i%250+1, 1024+i, i, t.Format("2006-01-02T15:04:05.000000Z"), i)
}

// albObject returns a gzip ALB log of n lines and the offset of each line.
func albObject(t *testing.T, n int) ([]byte, []int64) {
	var raw bytes.Buffer
	offs := make([]int64, n)
	for i := range n {
		offs[i] = int64(raw.Len())
		raw.WriteString(albLine(i) + "\n")
	}
	var z bytes.Buffer
	w := gzip.NewWriter(&z)
	w.Write(raw.Bytes())
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return z.Bytes(), offs
}

// fakeLambda stands in for Lambda's asynchronous Invoke, which no server here can run
// (moto needs Docker for it): it records what the handler sends so the test can deliver
// it back, as Lambda would. SQS is real: moto (see sqs_test.go).
type fakeLambda struct {
	mu      sync.Mutex
	invoked []awslambda.InvokeInput
}

func (f *fakeLambda) Invoke(_ context.Context, in *awslambda.InvokeInput, _ ...func(*awslambda.Options)) (*awslambda.InvokeOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.invoked = append(f.invoked, *in)
	return &awslambda.InvokeOutput{StatusCode: 202}, nil
}

type rig struct {
	s3      *s3test.Server
	ls      *logstashtest.Server
	sqs     *sqs.Client // moto's; nil under -short
	lambda  *fakeLambda
	metrics *bytes.Buffer
	h       *Handler
}

func newRig(t *testing.T, now func() time.Time) *rig {
	r := &rig{s3: s3test.New(t), ls: logstashtest.New(t, logstashtest.Options{}), lambda: &fakeLambda{}, metrics: &bytes.Buffer{}}
	var sqsAPI SQSAPI
	if motoURL != "" {
		r.sqs = sqs.NewFromConfig(motoserver.Config(motoURL))
		sqsAPI = r.sqs
	}
	r.s3.CreateBucket(t, bucket)
	cfg, err := config.LoadIngest(func(k string) string {
		return map[string]string{"LOGSTASH_URL": r.ls.URL, "LOGSTASH_BATCH_DOCS": "100", "DEADLINE_MARGIN": "10s"}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	r.h, err = NewWithDeps(cfg, Deps{
		S3: r.s3.Client, SQS: sqsAPI, Lambda: r.lambda, FunctionName: "logferry-ingest",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Metrics: r.metrics, Now: now,
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// invoke runs the handler the way the Lambda runtime does: raw JSON in, JSON out.
func (r *rig) invoke(t *testing.T, ctx context.Context, event []byte) ([]byte, error) {
	t.Helper()
	return lambda.NewHandler(r.h.Handle).Invoke(ctx, event)
}

func s3Event(key string) []byte {
	return []byte(fmt.Sprintf(`{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"eu-west-1","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":%q,"arn":"arn:aws:s3:::%s"},"object":{"key":%q,"size":1}}}]}`,
		bucket, bucket, url.QueryEscape(key)))
}

func sqsEvent(bodies ...[]byte) []byte {
	return sqsEventFrom("arn:aws:sqs:eu-west-1:123456789012:logferry-ingest", bodies...)
}

func sqsEventFrom(queueARN string, bodies ...[]byte) []byte {
	ev := events.SQSEvent{}
	for i, b := range bodies {
		ev.Records = append(ev.Records, events.SQSMessage{
			MessageId: fmt.Sprintf("msg-%d", i), Body: string(b), EventSource: "aws:sqs",
			EventSourceARN: queueARN,
		})
	}
	b, _ := json.Marshal(ev)
	return b
}

func assertAll(t *testing.T, ls *logstashtest.Server, key string, offs []int64) {
	t.Helper()
	docs := ls.Docs()
	for _, off := range offs {
		if _, ok := docs[elblog.DocumentID(bucket, key, off)]; !ok {
			t.Fatalf("line at offset %d of %s never arrived", off, key)
		}
	}
	if len(docs) != len(offs) {
		t.Fatalf("Logstash holds %d documents, want %d", len(docs), len(offs))
	}
}

func TestS3EventDecodesTheKeyAndShips(t *testing.T) {
	r := newRig(t, nil)
	obj, offs := albObject(t, 300)
	r.s3.Put(t, bucket, albKey, obj)
	out, err := r.invoke(t, context.Background(), s3Event(albKey))
	if err != nil {
		t.Fatal(err)
	}
	var resp Response
	if err := json.Unmarshal(out, &resp); err != nil || len(resp.Objects) != 1 || resp.Objects[0].Key != albKey || resp.Objects[0].Sent != 300 {
		t.Fatalf("response %s (%v)", out, err)
	}
	assertAll(t, r.ls, albKey, offs)

	// One EMF line per object, with the metrics the alarms use.
	var emf map[string]any
	if err := json.Unmarshal(bytes.TrimSpace(r.metrics.Bytes()), &emf); err != nil {
		t.Fatalf("metrics %q: %v", r.metrics, err)
	}
	if emf["Lines"] != 300.0 || emf["Documents"] != 300.0 || emf["FunctionName"] != "logferry-ingest" || emf["key"] != albKey || emf["_aws"] == nil {
		t.Fatalf("EMF record %v", emf)
	}
	if _, ok := emf["LagSeconds"]; !ok {
		t.Fatal("no LagSeconds metric for the newest log timestamp")
	}
}

func TestSQSReportsOnlyTheFailedRecords(t *testing.T) {
	r := newRig(t, nil)
	obj, offs := albObject(t, 200)
	r.s3.Put(t, bucket, albKey, obj)
	r.s3.Put(t, bucket, "uploads/notes.txt", []byte("not a log\n"))
	testEvent := []byte(`{"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2026-11-25T12:00:00.000Z","Bucket":"elb-logs","RequestId":"x","HostId":"y"}`)
	out, err := r.invoke(t, context.Background(), sqsEvent(
		s3Event(albKey),                          // msg-0: ships
		s3Event("AWSLogs/123456789012/gone.log"), // msg-1: missing object: retry
		[]byte("{not json"),                      // msg-2: garbage: to the DLQ via redrive
		testEvent,                                // msg-3: S3's test message: nothing to do
		s3Event("uploads/notes.txt"),             // msg-4: not a log: permanent, not retried
	))
	if err != nil {
		t.Fatal(err)
	}
	var resp events.SQSEventResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatal(err)
	}
	var failed []string
	for _, f := range resp.BatchItemFailures {
		failed = append(failed, f.ItemIdentifier)
	}
	if strings.Join(failed, ",") != "msg-1,msg-2" {
		t.Fatalf("batchItemFailures = %v, want msg-1,msg-2 (%s)", failed, out)
	}
	assertAll(t, r.ls, albKey, offs)
}

func TestEventBridgeObjectCreated(t *testing.T) {
	r := newRig(t, nil)
	obj, offs := albObject(t, 50)
	r.s3.Put(t, bucket, albKey, obj)
	ev := fmt.Sprintf(`{"version":"0","id":"1","detail-type":"Object Created","source":"aws.s3","account":"123456789012","time":"2026-11-25T12:05:00Z","region":"eu-west-1","resources":["arn:aws:s3:::elb-logs"],"detail":{"version":"0","bucket":{"name":"elb-logs"},"object":{"key":%q,"size":1},"reason":"PutObject"}}`, url.QueryEscape(albKey))
	if _, err := r.invoke(t, context.Background(), []byte(ev)); err != nil {
		t.Fatal(err)
	}
	assertAll(t, r.ls, albKey, offs)
	if _, err := r.invoke(t, context.Background(), []byte(`{"detail-type":"Object Deleted","source":"aws.s3","detail":{}}`)); err == nil {
		t.Fatal("an event the function does not handle must be an error")
	}
}

// ticking is a clock that moves one second per read: with a deadline a few hundred seconds
// away the handler must stop mid-object and hand the rest on.
func ticking() func() time.Time {
	start := time.Now()
	var n atomic.Int64
	return func() time.Time { return start.Add(time.Duration(n.Add(1)) * time.Second) }
}

func TestDeadlineContinuesThroughTheQueueWithoutReshipping(t *testing.T) {
	clock := ticking()
	r := newRig(t, clock)
	if r.sqs == nil {
		t.Skip("continuations go through a real queue: no moto server under -short")
	}
	queueURL, queueARN := newQueue(t, r.sqs, "continue", nil)
	obj, offs := albObject(t, 5000)
	r.s3.Put(t, bucket, albKey, obj)

	next := sqsEventFrom(queueARN, s3Event(albKey))
	for i := 0; ; i++ {
		if i > 20 {
			t.Fatal("continuations never finished the object")
		}
		// Each invocation reads the clock 3 times before Run, which then makes 4 deadline checks (~1024 lines) before DEADLINE_MARGIN (10s) is hit.
		ctx, cancel := context.WithDeadline(context.Background(), clock().Add(16*time.Second))
		out, err := r.invoke(t, ctx, next)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(out), `"batchItemFailures":[]`) {
			t.Fatalf("invocation %d: %s", i, out)
		}
		// The continuation is on the queue the record came from (found by its ARN), or
		// the object is done.
		msgs := receive(t, r.sqs, queueURL, 0)
		if len(msgs) == 0 {
			if i < 2 {
				t.Fatalf("finished in %d invocations: the deadline never stopped one", i+1)
			}
			break
		}
		if len(msgs) != 1 {
			t.Fatalf("invocation %d left %d messages, want one continuation", i, len(msgs))
		}
		body := aws.ToString(msgs[0].Body)
		var c Continuation
		if err := json.Unmarshal([]byte(body), &c); err != nil || c.Object.Key != albKey || c.Object.Offset == 0 {
			t.Fatalf("continuation %s (%v)", body, err)
		}
		deleteMessage(t, r.sqs, queueURL, msgs[0])
		next = sqsEventFrom(queueARN, []byte(body))
	}
	assertAll(t, r.ls, albKey, offs)
	if red := r.ls.Redelivered(); len(red) != 0 {
		t.Fatalf("%d lines shipped twice across continuations", len(red))
	}
}

func TestDeadlineReinvokesWhenTriggeredByS3(t *testing.T) {
	clock := ticking()
	r := newRig(t, clock)
	obj, offs := albObject(t, 3000)
	r.s3.Put(t, bucket, albKey, obj)

	next := s3Event(albKey)
	for i := 0; i < 20; i++ {
		ctx, cancel := context.WithDeadline(context.Background(), clock().Add(16*time.Second))
		r.lambda.invoked = nil
		_, err := r.invoke(t, ctx, next)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		if len(r.lambda.invoked) == 0 {
			assertAll(t, r.ls, albKey, offs)
			if i == 0 {
				t.Fatal("the deadline never stopped an invocation")
			}
			return
		}
		in := r.lambda.invoked[0]
		if *in.FunctionName != "logferry-ingest" || in.InvocationType != "Event" {
			t.Fatalf("re-invoked %s with %s", *in.FunctionName, in.InvocationType)
		}
		next = in.Payload
	}
	t.Fatal("continuations never finished the object")
}

func TestEventFilesInRepo(t *testing.T) {
	// Every sample event in events/ must decode to the objects it names.
	files, _ := filepath.Glob("../../events/ingest-*.json")
	if len(files) == 0 {
		t.Fatal("no events/ingest-*.json files")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var shape eventShape
		json.Unmarshal(b, &shape)
		if len(shape.Records) > 0 && shape.Records[0].EventSource == "aws:sqs" {
			var ev events.SQSEvent
			if err := json.Unmarshal(b, &ev); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			for _, m := range ev.Records {
				if _, err := objectsIn([]byte(m.Body)); err != nil {
					t.Errorf("%s: message %s: %v", f, m.MessageId, err)
				}
			}
			continue
		}
		objs, err := objectsIn(b)
		if err != nil || len(objs) == 0 {
			t.Errorf("%s: %v objects, err %v", f, objs, err)
		}
		for _, o := range objs {
			if strings.Contains(o.Key, "%") || strings.Contains(o.Key, "+") {
				t.Errorf("%s: key %q still URL-encoded", f, o.Key)
			}
		}
	}
}
