// Package sqspoll runs a handler the way Lambda's SQS event source mapping does, for tests
// and the local demo: receive up to BatchSize messages, invoke the handler with the
// events.SQSEvent Lambda would build (as JSON, through JSONHandler, when the handler is a
// Lambda handler), delete the messages that succeeded, and leave the rest to reappear after
// the queue's visibility timeout, so the queue's redrive policy moves a message that keeps
// failing to its dead-letter queue after maxReceiveCount receives. With
// ReportBatchItemFailures, as the CDK stack configures it: a handler error fails the whole
// batch, a batchItemFailures entry only its message, and an entry that names no message of
// the batch fails the whole batch (Lambda's rule).
package sqspoll

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// API is the part of *sqs.Client the poller uses.
type API interface {
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, opts ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessageBatch(ctx context.Context, in *sqs.DeleteMessageBatchInput, opts ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error)
	GetQueueAttributes(ctx context.Context, in *sqs.GetQueueAttributesInput, opts ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)
}

// Handler is an SQS-triggered function with ReportBatchItemFailures.
type Handler func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error)

// JSONHandler adapts a handler that takes the raw event, as Lambda's runtime calls it
// (lambda.NewHandler), to a Handler: the event is marshalled and the answer unmarshalled
// as JSON, so the handler sees the bytes Lambda would send.
func JSONHandler(h func(ctx context.Context, raw json.RawMessage) (any, error)) Handler {
	return func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		raw, err := json.Marshal(ev)
		if err != nil {
			return events.SQSEventResponse{}, err
		}
		out, err := h(ctx, raw)
		if err != nil {
			return events.SQSEventResponse{}, err
		}
		var resp events.SQSEventResponse
		b, err := json.Marshal(out)
		if err != nil {
			return resp, fmt.Errorf("handler answer is not JSON: %w", err)
		}
		if string(b) != "null" {
			if err := json.Unmarshal(b, &resp); err != nil {
				return resp, fmt.Errorf("handler answer is not an SQSEventResponse: %w", err)
			}
		}
		return resp, nil
	}
}

// Config configures Run. SQS, QueueURL and Handler are required.
type Config struct {
	SQS      API
	QueueURL string
	Handler  Handler
	// BatchSize is the most messages per invocation, 1 to 10. Default 10 (the mapping's).
	BatchSize int
	// Concurrency is the number of invocations running at once (the mapping's maximum
	// concurrency). Default 2.
	Concurrency int
	// FunctionTimeout is each invocation's deadline, as the function's timeout. Default:
	// the queue's visibility timeout; a longer one is refused, as Lambda refuses such a
	// mapping (a message would reappear while its invocation still runs).
	FunctionTimeout time.Duration
	// WaitTime is the long-poll wait of one receive. Default 1s (Lambda waits 20 s; short
	// here so that Run ends promptly).
	WaitTime time.Duration
	// IdleStop ends Run once no message has been received for this long (keep it above
	// the queue's visibility timeout, or failed messages are not waited for). Default 0:
	// Run ends only with its context.
	IdleStop time.Duration
	// Logger receives invocation failures. Default: discard.
	Logger *slog.Logger
}

// Stats counts what Run did.
type Stats struct {
	Received     int64 // messages received (a redelivered message counts again)
	Invocations  int64
	Deleted      int64 // messages that succeeded and were deleted
	ItemFailures int64 // messages the handler reported failed
	BatchErrors  int64 // invocations that failed as a whole (error, or an invalid item id)
}

// Run polls until ctx ends (or IdleStop) and returns what it did; the error is nil on a
// normal end, otherwise the receive or delete failure that stopped it.
func Run(ctx context.Context, cfg Config) (Stats, error) {
	if cfg.SQS == nil || cfg.QueueURL == "" || cfg.Handler == nil {
		return Stats{}, errors.New("sqspoll: Config.SQS, QueueURL and Handler are required")
	}
	if cfg.BatchSize <= 0 || cfg.BatchSize > 10 {
		cfg.BatchSize = 10
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 2
	}
	if cfg.WaitTime <= 0 {
		cfg.WaitTime = time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	attrs, err := cfg.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &cfg.QueueURL,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn, sqstypes.QueueAttributeNameVisibilityTimeout}})
	if err != nil {
		return Stats{}, fmt.Errorf("sqspoll: queue %s: %w", cfg.QueueURL, err)
	}
	vis, err := strconv.Atoi(attrs.Attributes[string(sqstypes.QueueAttributeNameVisibilityTimeout)])
	if err != nil || vis <= 0 {
		return Stats{}, fmt.Errorf("sqspoll: queue %s: VisibilityTimeout %q is not a positive number of seconds", cfg.QueueURL, attrs.Attributes[string(sqstypes.QueueAttributeNameVisibilityTimeout)])
	}
	visibility := time.Duration(vis) * time.Second
	if cfg.FunctionTimeout <= 0 {
		cfg.FunctionTimeout = visibility
	}
	if cfg.FunctionTimeout > visibility {
		return Stats{}, fmt.Errorf("sqspoll: the queue's visibility timeout (%s) is shorter than the function timeout (%s); Lambda refuses such a mapping", visibility, cfg.FunctionTimeout)
	}
	p := &poller{cfg: cfg, arn: attrs.Attributes[string(sqstypes.QueueAttributeNameQueueArn)]}
	if parts := strings.Split(p.arn, ":"); len(parts) == 6 {
		p.region = parts[3]
	}
	p.lastReceive.Store(time.Now().UnixNano())
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, cfg.Concurrency)
	for range cfg.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := p.loop(ctx); err != nil {
				errs <- err
				cancel()
			}
		}()
	}
	wg.Wait()
	close(errs)
	return p.stats(), <-errs
}

type poller struct {
	cfg         Config
	arn, region string
	lastReceive atomic.Int64

	received, invocations, deleted, itemFailures, batchErrors atomic.Int64
}

func (p *poller) stats() Stats {
	return Stats{Received: p.received.Load(), Invocations: p.invocations.Load(), Deleted: p.deleted.Load(),
		ItemFailures: p.itemFailures.Load(), BatchErrors: p.batchErrors.Load()}
}

func (p *poller) loop(ctx context.Context) error {
	for ctx.Err() == nil {
		if p.cfg.IdleStop > 0 && time.Since(time.Unix(0, p.lastReceive.Load())) > p.cfg.IdleStop {
			return nil
		}
		out, err := p.cfg.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl:                    &p.cfg.QueueURL,
			MaxNumberOfMessages:         int32(p.cfg.BatchSize),
			WaitTimeSeconds:             int32(max(1, p.cfg.WaitTime/time.Second)),
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll},
			MessageAttributeNames:       []string{"All"},
		})
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return fmt.Errorf("sqspoll: receive from %s: %w", p.cfg.QueueURL, err)
		}
		if len(out.Messages) == 0 {
			continue
		}
		p.lastReceive.Store(time.Now().UnixNano())
		p.received.Add(int64(len(out.Messages)))
		if err := p.invoke(ctx, out.Messages); err != nil {
			return err
		}
	}
	return nil
}

// invoke runs the handler on one batch and deletes what succeeded.
func (p *poller) invoke(ctx context.Context, msgs []sqstypes.Message) error {
	ev := events.SQSEvent{Records: make([]events.SQSMessage, len(msgs))}
	for i, m := range msgs {
		ev.Records[i] = p.record(m)
	}
	p.invocations.Add(1)
	ictx, cancel := context.WithTimeout(ctx, p.cfg.FunctionTimeout)
	resp, err := p.cfg.Handler(ictx, ev)
	cancel()
	if err != nil {
		p.batchErrors.Add(1)
		p.cfg.Logger.Warn("invocation failed; the whole batch returns after the visibility timeout", "messages", len(msgs), "error", err)
		return nil
	}
	failed := map[string]bool{}
	for _, f := range resp.BatchItemFailures {
		if !containsID(msgs, f.ItemIdentifier) {
			p.batchErrors.Add(1)
			p.cfg.Logger.Warn("batchItemFailures names no message of the batch; the whole batch fails", "item", f.ItemIdentifier)
			return nil
		}
		failed[f.ItemIdentifier] = true
	}
	p.itemFailures.Add(int64(len(failed)))
	var del []sqstypes.DeleteMessageBatchRequestEntry
	for i, m := range msgs {
		if !failed[aws.ToString(m.MessageId)] {
			del = append(del, sqstypes.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: m.ReceiptHandle})
		}
	}
	if len(del) == 0 {
		return nil
	}
	// The handler's work is done: the delete must go out even if Run is being stopped,
	// or a finished message would be delivered again.
	dctx, dcancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer dcancel()
	out, err := p.cfg.SQS.DeleteMessageBatch(dctx, &sqs.DeleteMessageBatchInput{QueueUrl: &p.cfg.QueueURL, Entries: del})
	if err != nil {
		return fmt.Errorf("sqspoll: delete from %s: %w", p.cfg.QueueURL, err)
	}
	p.deleted.Add(int64(len(out.Successful)))
	for _, f := range out.Failed {
		p.cfg.Logger.Warn("delete failed; the message will be delivered again", "id", aws.ToString(f.Id), "code", aws.ToString(f.Code), "error", aws.ToString(f.Message))
	}
	return nil
}

func containsID(msgs []sqstypes.Message, id string) bool {
	for _, m := range msgs {
		if id != "" && aws.ToString(m.MessageId) == id {
			return true
		}
	}
	return false
}

// record is the SQSMessage Lambda builds from a received message.
func (p *poller) record(m sqstypes.Message) events.SQSMessage {
	r := events.SQSMessage{
		MessageId: aws.ToString(m.MessageId), ReceiptHandle: aws.ToString(m.ReceiptHandle),
		Body: aws.ToString(m.Body), Md5OfBody: aws.ToString(m.MD5OfBody),
		Md5OfMessageAttributes: aws.ToString(m.MD5OfMessageAttributes),
		Attributes:             map[string]string{}, MessageAttributes: map[string]events.SQSMessageAttribute{},
		EventSourceARN: p.arn, EventSource: "aws:sqs", AWSRegion: p.region,
	}
	for k, v := range m.Attributes {
		r.Attributes[k] = v
	}
	for k, v := range m.MessageAttributes {
		r.MessageAttributes[k] = events.SQSMessageAttribute{StringValue: v.StringValue, BinaryValue: v.BinaryValue,
			StringListValues: v.StringListValues, BinaryListValues: v.BinaryListValues, DataType: aws.ToString(v.DataType)}
	}
	return r
}
