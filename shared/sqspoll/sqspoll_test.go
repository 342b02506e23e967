package sqspoll_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/logferry/logferry/shared/motoserver"
	"github.com/logferry/logferry/shared/sqspoll"
)

var motoURL string

func TestMain(m *testing.M) {
	url, stop := motoserver.ForTests(m)
	motoURL = url
	code := m.Run()
	stop()
	os.Exit(code)
}

// The mapping's contract, against moto's real visibility timeouts and redrive: a message
// the handler lists in batchItemFailures comes back (its receive count rising) until the
// queue moves it to the dead-letter queue after maxReceiveCount; the others are deleted
// after one success; a handler error or an unknown item id fails the whole batch once.
func TestEventSourceMappingContract(t *testing.T) {
	if motoURL == "" {
		t.Skip("no moto server under -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c := sqs.NewFromConfig(motoserver.Config(motoURL))
	name := motoserver.Name("sqspoll")
	dlq, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name + "-dlq")})
	if err != nil {
		t.Fatal(err)
	}
	dlqARN := "arn:aws:sqs:" + motoserver.Region + ":" + motoserver.AccountID + ":" + name + "-dlq"
	q, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: map[string]string{
		"VisibilityTimeout": "1",
		"RedrivePolicy":     fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":"3"}`, dlqARN),
	}})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range []string{"ok-1", "ok-2", "ok-3", "poison", "error-once", "bad-id-once"} {
		if _, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: q.QueueUrl, MessageBody: aws.String(b)}); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	handled := map[string]int{}
	counts := map[string][]string{}
	done := make(chan struct{})
	var once sync.Once
	h := func(ctx context.Context, raw json.RawMessage) (any, error) {
		var ev events.SQSEvent
		if err := json.Unmarshal(raw, &ev); err != nil {
			return nil, err
		}
		if _, ok := ctx.Deadline(); !ok {
			return nil, fmt.Errorf("invocation without a deadline")
		}
		mu.Lock()
		defer mu.Unlock()
		resp := events.SQSEventResponse{}
		for _, r := range ev.Records {
			if r.EventSource != "aws:sqs" || r.EventSourceARN == "" || r.AWSRegion != motoserver.Region || r.ReceiptHandle == "" {
				return nil, fmt.Errorf("record %+v is not what Lambda builds", r)
			}
			handled[r.Body]++
			counts[r.Body] = append(counts[r.Body], r.Attributes["ApproximateReceiveCount"])
			switch {
			case r.Body == "poison":
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: r.MessageId})
			case r.Body == "error-once" && handled[r.Body] == 1:
				return nil, fmt.Errorf("injected handler error")
			case r.Body == "bad-id-once" && handled[r.Body] == 1:
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: "no-such-message"})
			}
		}
		if handled["poison"] == 3 {
			once.Do(func() { close(done) })
		}
		return resp, nil
	}
	pctx, stop := context.WithCancel(ctx)
	res := make(chan sqspoll.Stats, 1)
	go func() {
		st, err := sqspoll.Run(pctx, sqspoll.Config{SQS: c, QueueURL: *q.QueueUrl, Handler: sqspoll.JSONHandler(h), BatchSize: 10, Concurrency: 1})
		if err != nil {
			t.Error(err)
		}
		res <- st
	}()
	// The poison message reaches the dead-letter queue once received maxReceiveCount times.
	var dead []string
	for len(dead) == 0 && ctx.Err() == nil {
		out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: dlq.QueueUrl, WaitTimeSeconds: 1})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range out.Messages {
			dead = append(dead, aws.ToString(m.Body))
		}
	}
	<-done
	stop()
	st := <-res
	mu.Lock()
	defer mu.Unlock()
	if len(dead) != 1 || dead[0] != "poison" {
		t.Fatalf("dead-letter queue holds %q, want [poison]", dead)
	}
	if handled["poison"] != 3 || fmt.Sprint(counts["poison"]) != "[1 2 3]" {
		t.Errorf("poison handled %d times with receive counts %v, want 3: [1 2 3]", handled["poison"], counts["poison"])
	}
	for _, b := range []string{"ok-1", "ok-2", "ok-3"} {
		// A message that shared a batch with a whole-batch failure is handled again.
		if handled[b] < 1 || handled[b] > 3 { // once, plus once per whole-batch failure it shared
			t.Errorf("%s handled %d times", b, handled[b])
		}
	}
	// Each whole-batch failure brings its batch back: both are handled again after it.
	if handled["error-once"] < 2 || handled["bad-id-once"] < 2 {
		t.Errorf("error-once handled %d times, bad-id-once %d; want ≥ 2 each (the failed batch comes back)", handled["error-once"], handled["bad-id-once"])
	}
	if st.BatchErrors < 2 || st.ItemFailures < 1 || st.Deleted != 5 || st.Received < 8 {
		t.Errorf("stats %+v: want 2 whole-batch failures, item failures, 5 deleted", st)
	}
	out, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{"All"}})
	if err != nil {
		t.Fatal(err)
	}
	if out.Attributes["ApproximateNumberOfMessages"] != "0" || out.Attributes["ApproximateNumberOfMessagesNotVisible"] != "0" {
		t.Errorf("queue not empty after the run: %v", out.Attributes)
	}
}
