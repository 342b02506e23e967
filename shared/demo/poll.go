package demo

import (
	"context"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/logferry/logferry/shared/sqspoll"
)

// InvokeSQS is what an SQS event source mapping calls: the function, with the batch as
// Lambda builds it, answering the records to leave on the queue (ReportBatchItemFailures).
type InvokeSQS func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error)

// Drain feeds the queue's messages to invoke as Lambda's SQS event source mapping does
// until the queue is empty, and reports what it did. The default is sqspoll's.
type Drain func(ctx context.Context, queueURL string, st Stack, invoke InvokeSQS) (DrainStats, error)

// DrainStats counts one drain.
type DrainStats struct {
	Batches  int64 // invocations
	Messages int64 // messages delivered (a redelivered message counts again)
	Deleted  int64 // messages the function finished (deleted from the queue)
	Failed   int64 // messages left on the queue (function error or batch item failure)
}

// sqspollDrain runs the stack's mapping (batch size, maximum concurrency, the function's
// timeout) with shared/sqspoll until no message is visible. A message the function failed
// stays in flight for the visibility timeout (6 × the function's): it is counted, not
// waited for — the demo reports it as a failure.
func sqspollDrain(sqsc *sqs.Client) Drain {
	return func(ctx context.Context, queueURL string, st Stack, invoke InvokeSQS) (DrainStats, error) {
		var total DrainStats
		for {
			s, err := sqspoll.Run(ctx, sqspoll.Config{
				SQS: sqsc, QueueURL: queueURL, Handler: sqspoll.Handler(invoke),
				BatchSize: st.BatchSize, Concurrency: st.MaxConcurrency,
				FunctionTimeout: time.Duration(st.FunctionTimeoutSec) * time.Second,
				// Ends a run once the queue has had nothing to give for a moment; the loop
				// below starts another while messages are still visible (a worker that
				// finishes a long batch also stops on it).
				IdleStop: 2 * time.Second,
			})
			total.Batches += s.Invocations
			total.Messages += s.Received
			total.Deleted += s.Deleted
			if err != nil {
				return total, err
			}
			if err := ctx.Err(); err != nil {
				return total, err
			}
			visible, _, err := depth(ctx, sqsc, queueURL)
			if err != nil {
				return total, err
			}
			if visible == 0 {
				total.Failed = total.Messages - total.Deleted
				return total, nil
			}
		}
	}
}
