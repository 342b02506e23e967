package ingestevent

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/logferry/logferry/shared/config"
	"github.com/logferry/logferry/shared/elblog"
	"github.com/logferry/logferry/shared/logstash/logstashtest"
	"github.com/logferry/logferry/shared/motoserver"
)

// motoURL is a real SQS (and S3) protocol server: moto in server mode, shared by the
// packages of `make test` through MOTO_URL; "" under -short.
var motoURL string

func TestMain(m *testing.M) {
	u, stop := motoserver.ForTests(m)
	motoURL = u
	code := m.Run()
	stop()
	os.Exit(code)
}

// unique names a resource of this test run on a server other tests share.
func unique(prefix string) string {
	b := make([]byte, 4)
	rand.Read(b)
	return "logferry-" + prefix + "-" + hex.EncodeToString(b)
}

// newQueue creates a queue of its own; attrs are its attributes (visibility, redrive).
func newQueue(t *testing.T, c *sqs.Client, prefix string, attrs map[string]string) (url, arn string) {
	t.Helper()
	name := unique(prefix)
	out, err := c.CreateQueue(context.Background(), &sqs.CreateQueueInput{QueueName: &name, Attributes: attrs})
	if err != nil {
		t.Fatalf("create queue %s: %v", name, err)
	}
	return aws.ToString(out.QueueUrl), "arn:aws:sqs:" + motoserver.Region + ":" + motoserver.AccountID + ":" + name
}

// receive takes up to ten visible messages, waiting up to wait seconds for the first.
func receive(t *testing.T, c *sqs.Client, url string, wait int32) []sqstypes.Message {
	t.Helper()
	out, err := c.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: 10, WaitTimeSeconds: wait})
	if err != nil {
		t.Fatalf("receive from %s: %v", url, err)
	}
	return out.Messages
}

func deleteMessage(t *testing.T, c *sqs.Client, url string, m sqstypes.Message) {
	t.Helper()
	if _, err := c.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: &url, ReceiptHandle: m.ReceiptHandle}); err != nil {
		t.Fatal(err)
	}
}

// TestSQSEndToEndRedeliveryAndRedrive runs the whole SQS path on real protocol servers:
// S3 notifications into a queue, the event source mapping's part played as Lambda does it
// (receive, invoke with the messages, delete those not in batchItemFailures), and the
// queue's own redelivery after the visibility timeout and redrive to a dead-letter queue
// after maxReceiveCount. The good object's lines arrive once each; the message that can
// never work (not an event) and the one whose object does not exist end in the DLQ.
func TestSQSEndToEndRedeliveryAndRedrive(t *testing.T) {
	if motoURL == "" {
		t.Skip("no moto server under -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	awsCfg := motoserver.Config(motoURL)
	sqsc := sqs.NewFromConfig(awsCfg)
	s3c := s3.NewFromConfig(awsCfg, func(o *s3.Options) { o.UsePathStyle = true })

	dlqURL, dlqARN := newQueue(t, sqsc, "dlq", nil)
	redrive, _ := json.Marshal(map[string]any{"deadLetterTargetArn": dlqARN, "maxReceiveCount": 2})
	qURL, qARN := newQueue(t, sqsc, "ingest", map[string]string{"VisibilityTimeout": "1", "RedrivePolicy": string(redrive)})

	b := unique("logs")
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &b}); err != nil {
		t.Fatal(err)
	}
	if _, err := s3c.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{
		Bucket: &b,
		NotificationConfiguration: &s3types.NotificationConfiguration{QueueConfigurations: []s3types.QueueConfiguration{{
			QueueArn: &qARN, Events: []s3types.Event{"s3:ObjectCreated:*"},
		}}},
	}); err != nil {
		t.Fatal(err)
	}
	obj, offs := albObject(t, 400)
	if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: &b, Key: aws.String(albKey), Body: strings.NewReader(string(obj))}); err != nil {
		t.Fatal(err)
	}
	missing := fmt.Sprintf(`{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":%q},"object":{"key":"AWSLogs/123456789012/gone.log"}}}]}`, b)
	for _, body := range []string{"{not json", missing} {
		if _, err := sqsc.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &qURL, MessageBody: aws.String(body)}); err != nil {
			t.Fatal(err)
		}
	}

	ls := logstashtest.New(t, logstashtest.Options{})
	cfg, _ := config.LoadIngest(func(k string) string { return map[string]string{"LOGSTASH_URL": ls.URL}[k] })
	h, err := NewWithDeps(cfg, Deps{S3: s3c, SQS: sqsc, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Metrics: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	invocations := 0
	for {
		dlq := receiveVisibleCount(t, sqsc, dlqURL)
		if dlq == 2 && len(ls.Docs()) == len(offs) && queueEmpty(t, sqsc, qURL) {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("after %d invocations: %d in the DLQ, %d documents; want 2 and %d", invocations, dlq, len(ls.Docs()), len(offs))
		}
		msgs := receive(t, sqsc, qURL, 1)
		if len(msgs) == 0 {
			continue
		}
		ev := events.SQSEvent{}
		for _, m := range msgs {
			ev.Records = append(ev.Records, events.SQSMessage{
				MessageId: aws.ToString(m.MessageId), ReceiptHandle: aws.ToString(m.ReceiptHandle),
				Body: aws.ToString(m.Body), EventSource: "aws:sqs", EventSourceARN: qARN,
			})
		}
		raw, _ := json.Marshal(ev)
		out, err := h.Handle(ctx, raw)
		if err != nil {
			t.Fatal(err)
		}
		invocations++
		failed := out.(events.SQSEventResponse).BatchItemFailures
		for _, m := range msgs {
			if !slices.ContainsFunc(failed, func(f events.SQSBatchItemFailure) bool { return f.ItemIdentifier == aws.ToString(m.MessageId) }) {
				deleteMessage(t, sqsc, qURL, m)
			}
		}
	}
	for _, off := range offs {
		if n := ls.Deliveries(elblog.DocumentID(b, albKey, off)); n != 1 {
			t.Fatalf("line at %d delivered %d times", off, n)
		}
	}
	var bodies []string
	for _, m := range receive(t, sqsc, dlqURL, 0) {
		bodies = append(bodies, aws.ToString(m.Body))
	}
	slices.Sort(bodies)
	if len(bodies) != 2 || bodies[0] != missing || bodies[1] != "{not json" {
		t.Fatalf("DLQ holds %q; want the garbage and the missing object's messages", bodies)
	}
}

func receiveVisibleCount(t *testing.T, c *sqs.Client, url string) int {
	t.Helper()
	out, err := c.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{QueueUrl: &url, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages}})
	if err != nil {
		t.Fatal(err)
	}
	var n int
	fmt.Sscan(out.Attributes[string(sqstypes.QueueAttributeNameApproximateNumberOfMessages)], &n)
	return n
}

// queueEmpty: nothing visible and nothing in flight.
func queueEmpty(t *testing.T, c *sqs.Client, url string) bool {
	t.Helper()
	out, err := c.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{QueueUrl: &url, AttributeNames: []sqstypes.QueueAttributeName{
		sqstypes.QueueAttributeNameApproximateNumberOfMessages, sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
	}})
	if err != nil {
		t.Fatal(err)
	}
	return out.Attributes[string(sqstypes.QueueAttributeNameApproximateNumberOfMessages)] == "0" &&
		out.Attributes[string(sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible)] == "0"
}

// A continuation that cannot be sent is logged with its cause, and the message is handed
// back (SQS redelivers it; ids make the re-shipped lines overwrite themselves).
func TestUnsentContinuationIsLoggedWithItsCause(t *testing.T) {
	clock := ticking()
	r := newRig(t, clock)
	if r.sqs == nil {
		t.Skip("no moto server under -short")
	}
	var logs strings.Builder
	r.h.deps.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
	obj, _ := albObject(t, 3000)
	r.s3.Put(t, bucket, albKey, obj)
	gone := "arn:aws:sqs:" + motoserver.Region + ":" + motoserver.AccountID + ":" + unique("deleted")
	ctx, cancel := context.WithDeadline(context.Background(), clock().Add(16*time.Second))
	defer cancel()
	out, err := r.invoke(t, ctx, sqsEventFrom(gone, s3Event(albKey)))
	if err != nil {
		t.Fatal(err)
	}
	var resp events.SQSEventResponse
	json.Unmarshal(out, &resp)
	if len(resp.BatchItemFailures) != 1 {
		t.Fatalf("response %s; want the message handed back", out)
	}
	l := logs.String()
	if !strings.Contains(l, "continuation not sent") || !strings.Contains(l, "NonExistentQueue") {
		t.Fatalf("the log does not say the continuation failed and why:\n%s", l)
	}
}
