package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/logferry/logferry/shared/motoserver"
)

// Stack mirrors what the CDK stack (infra/stack/ingest.go, with infra/settings' defaults)
// creates for ingestion: the log bucket's ObjectCreated notifications, one per suffix, for
// the log prefix, to a queue whose redrive policy moves a message to a dead-letter queue
// after MaxReceiveCount receives; a visibility timeout of six times the function's
// timeout; the event source mapping's batch size and concurrency.
type Stack struct {
	LogBucket, DeadLetterBucket string
	DeadLetterPrefix            string   // in DeadLetterBucket (DEAD_LETTER_URI)
	LogPrefix                   string   // settings logPrefix
	LogSuffixes                 []string // settings logSuffixes
	QueueName, DLQName          string
	MaxReceiveCount             int // settings maxReceiveCount
	FunctionTimeoutSec          int // settings ingestTimeoutSeconds
	BatchSize                   int // settings ingestBatchSize
	MaxConcurrency              int // settings ingestMaxConcurrency

	QueueURL, QueueARN, DLQURL string // set by create
}

// DefaultStack is the stack's configuration with the settings' defaults, except the
// concurrency, which follows the machine.
func DefaultStack(concurrency int) Stack {
	return Stack{
		LogBucket: "demo-elb-logs", DeadLetterBucket: "demo-logferry-dead-letters",
		DeadLetterPrefix: "logferry/dead-letters/",
		LogPrefix:        "AWSLogs/", LogSuffixes: []string{".log", ".log.gz"},
		QueueName: "logferry-ingest", DLQName: "logferry-ingest-dlq",
		MaxReceiveCount: 5, FunctionTimeoutSec: 300, BatchSize: 10, MaxConcurrency: concurrency,
	}
}

func (st *Stack) create(ctx context.Context, cfg aws.Config) error {
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	sqsc := sqs.NewFromConfig(cfg)
	dlq, err := sqsc.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: &st.DLQName,
		Attributes: map[string]string{"MessageRetentionPeriod": strconv.Itoa(14 * 86400)}})
	if err != nil {
		return fmt.Errorf("create queue %s: %w", st.DLQName, err)
	}
	st.DLQURL = *dlq.QueueUrl
	dlqARN := arn(st.DLQName)
	redrive, _ := json.Marshal(map[string]any{"deadLetterTargetArn": dlqARN, "maxReceiveCount": st.MaxReceiveCount})
	st.QueueARN = arn(st.QueueName)
	// What the CDK's SqsDestination adds: S3 may send to the queue, for this bucket only.
	policy, _ := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": []any{map[string]any{
		"Effect": "Allow", "Principal": map[string]string{"Service": "s3.amazonaws.com"},
		"Action":    []string{"sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"},
		"Resource":  st.QueueARN,
		"Condition": map[string]any{"ArnLike": map[string]string{"aws:SourceArn": "arn:aws:s3:::" + st.LogBucket}},
	}}})
	q, err := sqsc.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: &st.QueueName, Attributes: map[string]string{
		"VisibilityTimeout":      strconv.Itoa(6 * st.FunctionTimeoutSec),
		"MessageRetentionPeriod": strconv.Itoa(14 * 86400),
		"RedrivePolicy":          string(redrive),
		"Policy":                 string(policy),
	}})
	if err != nil {
		return fmt.Errorf("create queue %s: %w", st.QueueName, err)
	}
	st.QueueURL = *q.QueueUrl
	for _, b := range []string{st.LogBucket, st.DeadLetterBucket} {
		if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
			return fmt.Errorf("create bucket %s: %w", b, err)
		}
	}
	var qcs []s3types.QueueConfiguration
	for _, sfx := range st.LogSuffixes {
		qcs = append(qcs, s3types.QueueConfiguration{
			QueueArn: aws.String(st.QueueARN),
			Events:   []s3types.Event{s3types.EventS3ObjectCreated},
			Filter: &s3types.NotificationConfigurationFilter{Key: &s3types.S3KeyFilter{FilterRules: []s3types.FilterRule{
				{Name: s3types.FilterRuleNamePrefix, Value: aws.String(st.LogPrefix)},
				{Name: s3types.FilterRuleNameSuffix, Value: aws.String(sfx)},
			}}},
		})
	}
	if _, err := s3c.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{
		Bucket: &st.LogBucket, NotificationConfiguration: &s3types.NotificationConfiguration{QueueConfigurations: qcs},
	}); err != nil {
		return fmt.Errorf("bucket notification: %w", err)
	}
	return nil
}

func arn(queue string) string {
	return "arn:aws:sqs:" + motoserver.Region + ":" + motoserver.AccountID + ":" + queue
}

// put writes one object as the load balancer does (one PutObject).
func put(ctx context.Context, s3c *s3.Client, bucket, key string, body []byte) error {
	in := &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: bytes.NewReader(body)}
	if _, err := s3c.PutObject(ctx, in); err != nil {
		return fmt.Errorf("put s3://%s/%s: %w", bucket, key, err)
	}
	return nil
}

// depth is the queue's visible and in-flight message counts.
func depth(ctx context.Context, sqsc *sqs.Client, url string) (visible, inFlight int, err error) {
	out, err := sqsc.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &url, AttributeNames: []sqstypes.QueueAttributeName{
		sqstypes.QueueAttributeNameApproximateNumberOfMessages, sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible}})
	if err != nil {
		return 0, 0, fmt.Errorf("queue attributes of %s: %w", url, err)
	}
	visible, _ = strconv.Atoi(out.Attributes[string(sqstypes.QueueAttributeNameApproximateNumberOfMessages)])
	inFlight, _ = strconv.Atoi(out.Attributes[string(sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible)])
	return visible, inFlight, nil
}
