package motoserver_test

import (
	"context"
	"encoding/json"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

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

// The property the ingest tests and the demo rely on: a bucket notification configured for a
// prefix and suffix delivers S3's own event JSON to the queue, with the key URL-encoded (moto
// also encodes "/" as %2F, which AWS leaves as it is: decoders must accept both).
func TestBucketNotificationReachesQueue(t *testing.T) {
	if motoURL == "" {
		t.Skip("no moto server under -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cfg := motoserver.Config(motoURL)
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	sqsc := sqs.NewFromConfig(cfg)

	name := motoserver.Name("motoserver-test-notify") // a server shared through MOTO_URL keeps earlier runs' queues
	q, err := sqsc.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	arn := "arn:aws:sqs:" + motoserver.Region + ":" + motoserver.AccountID + ":" + name
	bucket := name
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		t.Fatal(err)
	}
	_, err = s3c.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{
		Bucket: &bucket,
		NotificationConfiguration: &s3types.NotificationConfiguration{QueueConfigurations: []s3types.QueueConfiguration{{
			QueueArn: &arn,
			Events:   []s3types.Event{"s3:ObjectCreated:*"},
			Filter: &s3types.NotificationConfigurationFilter{Key: &s3types.S3KeyFilter{FilterRules: []s3types.FilterRule{
				{Name: s3types.FilterRuleNamePrefix, Value: aws.String("AWSLogs/")},
				{Name: s3types.FilterRuleNameSuffix, Value: aws.String(".log.gz")},
			}}},
		}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"other/x.log.gz", "AWSLogs/a b.log.gz"} {
		if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String(key), Body: strings.NewReader("x")}); err != nil {
			t.Fatal(err)
		}
	}
	var keys []string
	for len(keys) < 1 && ctx.Err() == nil {
		out, err := sqsc.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, WaitTimeSeconds: 1, MaxNumberOfMessages: 10})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range out.Messages {
			var ev events.S3Event
			if err := json.Unmarshal([]byte(*m.Body), &ev); err != nil {
				t.Fatalf("body is not an S3 event: %v: %s", err, *m.Body)
			}
			for _, r := range ev.Records {
				keys = append(keys, r.S3.Object.Key)
			}
		}
	}
	if len(keys) != 1 || !strings.Contains(keys[0], "a+b.log.gz") {
		t.Fatalf("notified keys = %q, want only the filtered one, URL-encoded (…a+b.log.gz)", keys)
	}
	if k, err := url.QueryUnescape(keys[0]); err != nil || k != "AWSLogs/a b.log.gz" {
		t.Fatalf("notified key %q decodes to %q, %v; want AWSLogs/a b.log.gz", keys[0], k, err)
	}
}
