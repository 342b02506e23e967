package backfill

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// SendAPI is the part of *sqs.Client a backfill needs.
type SendAPI interface {
	SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, opts ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error)
}

// BatchSize is the most entries SendMessageBatch takes.
const BatchSize = 10

// sender sends batches of at most ten messages and retries the entries SQS did not take.
type sender struct {
	c        SendAPI
	queueURL string
	attempts int           // tries per entry
	backoff  time.Duration // first wait; doubled per retry, full jitter
	timeout  time.Duration // one SendMessageBatch call
}

// send delivers bodies[i] (one per object, objs[i]) and returns how many leading entries
// are known to be on the queue: len(objs) on success. An error names the first object that
// could not be sent and why.
func (s sender) send(ctx context.Context, objs []Object, bodies []string) (int, error) {
	pending := make([]int, len(objs))
	for i := range pending {
		pending[i] = i
	}
	sent := make([]bool, len(objs))
	var lastErr error
	var failedAt = -1
	for attempt := 1; len(pending) > 0; attempt++ {
		entries := make([]sqstypes.SendMessageBatchRequestEntry, len(pending))
		for j, i := range pending {
			entries[j] = sqstypes.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), MessageBody: aws.String(bodies[i])}
		}
		// A batch in flight is not cut off by an interrupt: its outcome decides where a
		// resumed run starts, so it is waited for (bounded by timeout).
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.timeout)
		out, err := s.c.SendMessageBatch(cctx, &sqs.SendMessageBatchInput{QueueUrl: &s.queueURL, Entries: entries})
		cancel()
		var retry []int
		if err != nil {
			lastErr, retry = err, pending // the whole call failed: nothing known sent
		} else {
			for _, ok := range out.Successful {
				if i, err := strconv.Atoi(aws.ToString(ok.Id)); err == nil && i >= 0 && i < len(objs) {
					sent[i] = true
				}
			}
			for _, f := range out.Failed {
				i, err := strconv.Atoi(aws.ToString(f.Id))
				if err != nil || i < 0 || i >= len(objs) {
					continue
				}
				lastErr = fmt.Errorf("%s: %s", aws.ToString(f.Code), aws.ToString(f.Message))
				if f.SenderFault {
					// The message itself is refused (too large, invalid characters): retrying
					// sends the same message again.
					failedAt = i
					break
				}
				retry = append(retry, i)
			}
			for _, i := range pending {
				if !sent[i] && !contains(retry, i) && i != failedAt {
					retry = append(retry, i) // neither successful nor failed: not known sent
				}
			}
		}
		if failedAt >= 0 {
			break
		}
		pending = retry
		if len(pending) == 0 {
			break
		}
		if attempt >= s.attempts || ctx.Err() != nil {
			failedAt = pending[0]
			break
		}
		wait := time.Duration(rand.Int64N(int64(s.backoff << min(attempt-1, 6))))
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
	}
	n := 0
	for n < len(objs) && sent[n] {
		n++
	}
	if n == len(objs) {
		return n, nil
	}
	if failedAt < 0 {
		failedAt = n
	}
	if ctx.Err() != nil && lastErr == nil {
		lastErr = ctx.Err()
	}
	return n, fmt.Errorf("backfill: s3://%s/%s not sent to %s: %w", objs[failedAt].Bucket, objs[failedAt].Key, s.queueURL, lastErr)
}

func contains(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
