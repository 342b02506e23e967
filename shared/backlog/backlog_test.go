package backlog_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/logferry/logferry/shared/backlog"
	"github.com/logferry/logferry/shared/motoserver"
)

var motoURL string

func TestMain(m *testing.M) {
	url, stop := motoserver.ForTests(m)
	motoURL = url
	code := m.Run()
	stop()
	os.Exit(code)
}

// Read finds the dead-letter queue through the redrive policy and reports visible and
// in-flight messages of both, as SQS counts them.
func TestReadQueueAndDeadLetterQueue(t *testing.T) {
	if motoURL == "" {
		t.Skip("no moto server under -short")
	}
	ctx := context.Background()
	c := sqs.NewFromConfig(motoserver.Config(motoURL))
	name := motoserver.Name("backlog")
	dlq, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name + "-dlq")})
	if err != nil {
		t.Fatal(err)
	}
	q, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: map[string]string{
		"VisibilityTimeout": "60",
		"RedrivePolicy":     fmt.Sprintf(`{"deadLetterTargetArn":"arn:aws:sqs:%s:%s:%s-dlq","maxReceiveCount":"3"}`, motoserver.Region, motoserver.AccountID, name),
	}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 12 {
		if _, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: q.QueueUrl, MessageBody: aws.String(fmt.Sprint(i))}); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 {
		c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: dlq.QueueUrl, MessageBody: aws.String("dead")})
	}
	if _, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, MaxNumberOfMessages: 5}); err != nil {
		t.Fatal(err)
	}
	s, err := backlog.Read(ctx, c, *q.QueueUrl, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if s.Queue.Name != name || s.Queue.Visible != 7 || s.Queue.InFlight != 5 || s.Queue.Backlog() != 12 {
		t.Errorf("queue %+v, want 7 visible and 5 in flight", s.Queue)
	}
	if s.DLQ == nil || s.DLQ.Name != name+"-dlq" || s.DLQ.Visible != 2 {
		t.Errorf("dead-letter queue %+v, want backlog-dlq with 2 visible", s.DLQ)
	}
	noDLQ, err := backlog.Read(ctx, c, *dlq.QueueUrl, time.Now())
	if err != nil || noDLQ.DLQ != nil {
		t.Errorf("a queue without a redrive policy: %+v, %v", noDLQ, err)
	}
	if _, err := backlog.Read(ctx, c, "http://"+motoURL[len("http://"):]+"/"+motoserver.AccountID+"/no-such-queue", time.Now()); err == nil {
		t.Error("a missing queue read without error")
	}
}

func TestWindowDrainRateAndTimeToEmpty(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	at := func(sec int, visible, inflight int64) backlog.Sample {
		return backlog.Sample{Time: t0.Add(time.Duration(sec) * time.Second), Queue: backlog.Depth{Visible: visible, InFlight: inflight}}
	}
	w := backlog.Window{Span: 2 * time.Minute}
	w.Add(at(0, 1000, 100))
	if _, _, ok := w.DrainRate(); ok {
		t.Fatal("a rate from one sample")
	}
	w.Add(at(60, 700, 100))  // -300 in 60 s
	w.Add(at(120, 400, 100)) // -600 in 120 s
	rate, over, ok := w.DrainRate()
	if !ok || rate != 5 || over != 2*time.Minute {
		t.Fatalf("rate %v over %v (%v), want 5/s over 2m", rate, over, ok)
	}
	if tte, ok := w.TimeToEmpty(); !ok || tte != 100*time.Second {
		t.Fatalf("time to empty %v (%v), want 100s (500 at 5/s)", tte, ok)
	}
	w.Add(at(180, 400, 100)) // the first sample falls out of the 2-minute window
	if rate, over, _ := w.DrainRate(); rate != 2.5 || over != 2*time.Minute {
		t.Fatalf("rate %v over %v, want 2.5/s over the last 2m", rate, over)
	}
	w.Add(at(240, 900, 100)) // growing: no time to empty
	if _, ok := w.TimeToEmpty(); ok {
		t.Fatal("a time to empty while the backlog grows")
	}
	w.Add(at(300, 0, 0))
	if tte, ok := w.TimeToEmpty(); !ok || tte != 0 {
		t.Fatalf("empty backlog: %v %v", tte, ok)
	}
}
