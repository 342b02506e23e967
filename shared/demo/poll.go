package demo

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// InvokeSQS is what an SQS event source mapping calls: the function, with the batch as
// Lambda builds it, answering the records to leave on the queue (ReportBatchItemFailures).
type InvokeSQS func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error)

// Drain is the seam for the event source mapping: it feeds the queue's messages to invoke
// as Lambda's SQS event source mapping does until the queue is empty, and reports what it
// did. Config.Drain takes the poller of issue 11 (branch `backfill`); until that lands,
// interimDrain below stands in.
type Drain func(ctx context.Context, queueURL string, st Stack, invoke InvokeSQS) (DrainStats, error)

// DrainStats counts one drain.
type DrainStats struct {
	Batches  int64 // invocations
	Messages int64 // messages delivered (a redelivered message counts again)
	Deleted  int64 // messages the function finished (deleted from the queue)
	Failed   int64 // messages left on the queue (function error or batch item failure)
}

// interimDrain — INTERIM, until the event-source-mapping poller of issue 11 lands on main:
// the least of what Lambda's mapping does. Workers (MaxConcurrency) long-poll BatchSize
// messages, invoke the function with the SQSEvent, delete what succeeded (everything but
// batchItemFailures; nothing when the invocation failed), and stop once no message is
// visible and none is in flight but those left to be redelivered.
func interimDrain(sqsc *sqs.Client) Drain {
	// Messages left in flight, by every drain of this mapping: they return only after the
	// visibility timeout, so a later drain must not wait for them.
	var left atomic.Int64
	return func(ctx context.Context, queueURL string, st Stack, invoke InvokeSQS) (DrainStats, error) {
		var stats DrainStats
		leftBefore := left.Load()
		var wg sync.WaitGroup
		workers := max(st.MaxConcurrency, 1)
		errs := make([]error, workers)
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[w] = drainWorker(ctx, sqsc, queueURL, st, invoke, &stats, &left)
			}()
		}
		wg.Wait()
		stats.Failed = left.Load() - leftBefore
		return stats, errors.Join(errs...)
	}
}

func drainWorker(ctx context.Context, sqsc *sqs.Client, queueURL string, st Stack, invoke InvokeSQS, stats *DrainStats, left *atomic.Int64) error {
	for {
		out, err := sqsc.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl: &queueURL, MaxNumberOfMessages: int32(st.BatchSize), WaitTimeSeconds: 1,
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll},
		})
		if err != nil {
			return fmt.Errorf("receive from %s: %w", queueURL, err)
		}
		if len(out.Messages) == 0 {
			visible, inFlight, err := depth(ctx, sqsc, queueURL)
			if err != nil {
				return err
			}
			if visible == 0 && int64(inFlight) <= left.Load() {
				return nil
			}
			continue
		}
		ev := events.SQSEvent{Records: make([]events.SQSMessage, len(out.Messages))}
		for i, m := range out.Messages {
			ev.Records[i] = events.SQSMessage{
				MessageId: aws.ToString(m.MessageId), ReceiptHandle: aws.ToString(m.ReceiptHandle),
				Body: aws.ToString(m.Body), Md5OfBody: aws.ToString(m.MD5OfBody), Attributes: m.Attributes,
				EventSource: "aws:sqs", EventSourceARN: st.QueueARN, AWSRegion: regionOf(st.QueueARN),
			}
		}
		atomic.AddInt64(&stats.Batches, 1)
		atomic.AddInt64(&stats.Messages, int64(len(ev.Records)))
		resp, err := invoke(ctx, ev)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		keep := map[string]bool{}
		if err != nil { // the whole batch returns after the visibility timeout
			for _, r := range ev.Records {
				keep[r.MessageId] = true
			}
		}
		for _, f := range resp.BatchItemFailures {
			keep[f.ItemIdentifier] = true
		}
		var del []sqstypes.DeleteMessageBatchRequestEntry
		for i, r := range ev.Records {
			if !keep[r.MessageId] {
				del = append(del, sqstypes.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: aws.String(r.ReceiptHandle)})
			}
		}
		left.Add(int64(len(ev.Records) - len(del)))
		if len(del) > 0 {
			d, err := sqsc.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: &queueURL, Entries: del})
			if err != nil {
				return fmt.Errorf("delete from %s: %w", queueURL, err)
			}
			if len(d.Failed) > 0 {
				return fmt.Errorf("delete from %s: %d entries failed: %s", queueURL, len(d.Failed), aws.ToString(d.Failed[0].Message))
			}
			atomic.AddInt64(&stats.Deleted, int64(len(del)))
		}
	}
}

func regionOf(arn string) string {
	if p := strings.Split(arn, ":"); len(p) == 6 { // arn:aws:sqs:<region>:<account>:<name>
		return p[3]
	}
	return ""
}
