// Package backlog reads how far behind an SQS-fed consumer is: the messages visible and in
// flight on a queue and on its dead-letter queue (found through the queue's redrive
// policy), and, from samples taken over time, the rate the backlog drains at and when it
// will be empty. SQS keeps no history of its depth, so the rate covers the time samples
// were taken; CloudWatch's NumberOfMessagesDeleted has the longer view.
package backlog

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// API is the part of *sqs.Client this package uses.
type API interface {
	GetQueueAttributes(ctx context.Context, in *sqs.GetQueueAttributesInput, opts ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)
	GetQueueUrl(ctx context.Context, in *sqs.GetQueueUrlInput, opts ...func(*sqs.Options)) (*sqs.GetQueueUrlOutput, error)
}

// Depth is one queue's approximate message counts.
type Depth struct {
	Name     string
	Visible  int64 // waiting to be received
	InFlight int64 // received, not yet deleted or returned
	Delayed  int64
}

// Backlog is what is still to do: visible and in flight.
func (d Depth) Backlog() int64 { return d.Visible + d.InFlight }

// Sample is the queue and its dead-letter queue at one time.
type Sample struct {
	Time  time.Time
	Queue Depth
	DLQ   *Depth // nil when the queue has no redrive policy
}

// Read samples the queue at url and its dead-letter queue.
func Read(ctx context.Context, c API, url string, now time.Time) (Sample, error) {
	q, policy, err := depth(ctx, c, url)
	if err != nil {
		return Sample{}, err
	}
	s := Sample{Time: now, Queue: q}
	if policy == "" {
		return s, nil
	}
	var rp struct {
		Target string `json:"deadLetterTargetArn"`
	}
	if err := json.Unmarshal([]byte(policy), &rp); err != nil || rp.Target == "" {
		return s, fmt.Errorf("backlog: queue %s: RedrivePolicy %q has no deadLetterTargetArn", q.Name, policy)
	}
	parts := strings.Split(rp.Target, ":") // arn:aws:sqs:region:account:name
	if len(parts) != 6 {
		return s, fmt.Errorf("backlog: queue %s: dead-letter target %q is not an SQS queue ARN", q.Name, rp.Target)
	}
	out, err := c.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: &parts[5], QueueOwnerAWSAccountId: &parts[4]})
	if err != nil {
		return s, fmt.Errorf("backlog: URL of the dead-letter queue %s: %w", rp.Target, err)
	}
	d, _, err := depth(ctx, c, *out.QueueUrl)
	if err != nil {
		return s, err
	}
	s.DLQ = &d
	return s, nil
}

func depth(ctx context.Context, c API, url string) (Depth, string, error) {
	name := url[strings.LastIndexByte(url, '/')+1:]
	out, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &url, AttributeNames: []sqstypes.QueueAttributeName{
		sqstypes.QueueAttributeNameApproximateNumberOfMessages, sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
		sqstypes.QueueAttributeNameApproximateNumberOfMessagesDelayed, sqstypes.QueueAttributeNameRedrivePolicy}})
	if err != nil {
		return Depth{Name: name}, "", fmt.Errorf("backlog: attributes of queue %s: %w", url, err)
	}
	d := Depth{Name: name}
	for _, f := range []struct {
		attr sqstypes.QueueAttributeName
		dst  *int64
	}{
		{sqstypes.QueueAttributeNameApproximateNumberOfMessages, &d.Visible},
		{sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible, &d.InFlight},
		{sqstypes.QueueAttributeNameApproximateNumberOfMessagesDelayed, &d.Delayed},
	} {
		v := out.Attributes[string(f.attr)]
		if v == "" {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return d, "", fmt.Errorf("backlog: queue %s answered %s=%q, not a count", name, f.attr, v)
		}
		*f.dst = n
	}
	return d, out.Attributes[string(sqstypes.QueueAttributeNameRedrivePolicy)], nil
}

// Window keeps the samples of the last Span and derives the drain rate from them.
type Window struct {
	Span    time.Duration // default 5 minutes
	samples []Sample
}

// Add records s, dropping samples older than Span before it (keeping at least two).
func (w *Window) Add(s Sample) {
	span := w.Span
	if span <= 0 {
		span = 5 * time.Minute
	}
	w.samples = append(w.samples, s)
	for len(w.samples) > 2 && s.Time.Sub(w.samples[0].Time) > span {
		w.samples = w.samples[1:]
	}
}

// Latest is the newest sample; ok is false before the first.
func (w *Window) Latest() (Sample, bool) {
	if len(w.samples) == 0 {
		return Sample{}, false
	}
	return w.samples[len(w.samples)-1], true
}

// DrainRate is how fast the backlog (visible + in flight) shrank over the window, in
// messages per second; negative when it grew (arrivals outpace the consumer). over is the
// time covered; ok is false with fewer than two samples.
func (w *Window) DrainRate() (rate float64, over time.Duration, ok bool) {
	if len(w.samples) < 2 {
		return 0, 0, false
	}
	first, last := w.samples[0], w.samples[len(w.samples)-1]
	over = last.Time.Sub(first.Time)
	if over <= 0 {
		return 0, 0, false
	}
	return float64(first.Queue.Backlog()-last.Queue.Backlog()) / over.Seconds(), over, true
}

// TimeToEmpty is when the backlog will be gone at the current drain rate: 0 when it is
// empty, ok false when it is not shrinking (or the rate is not known yet).
func (w *Window) TimeToEmpty() (time.Duration, bool) {
	last, ok := w.Latest()
	if !ok {
		return 0, false
	}
	if last.Queue.Backlog() == 0 {
		return 0, true
	}
	rate, _, ok := w.DrainRate()
	if !ok || rate <= 0 {
		return 0, false
	}
	return time.Duration(float64(last.Queue.Backlog()) / rate * float64(time.Second)), true
}
