package backfill_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/logferry/logferry/shared/backfill"
	"github.com/logferry/logferry/shared/motoserver"
)

// BenchmarkEnqueue measures a backfill end to end against moto: list two days of 1,000
// objects each by the key layout, build each notification, SendMessageBatch in tens. One
// op is the whole backfill; objects/s is the figure to compare with the Lambda fleet's
// intake. moto is a single Python process, so this bounds the client from below: real SQS
// takes batches in parallel.
func BenchmarkEnqueue(b *testing.B) {
	s3c, sqsc := clients(b)
	bucket := motoserver.Name("bench-enqueue")
	ctx := context.Background()
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		b.Fatal(err)
	}
	const perDay = 1000
	for _, day := range []string{"2026/11/24", "2026/11/25"} {
		for i := range perDay {
			k := fmt.Sprintf("AWSLogs/123456789012/elasticloadbalancing/eu-west-1/%s/123456789012_elasticloadbalancing_eu-west-1_app.web.50dc6c495c0c9188_T%04dZ_10.0.1.7_x.log.gz", day, i)
			if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: &k, Body: nil}); err != nil {
				b.Fatal(err)
			}
		}
	}
	q := queue(b, sqsc, bucket)
	cfg := backfill.Config{S3: s3c, Bucket: bucket, From: time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC),
		To: time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC), SQS: sqsc, QueueURL: q}
	b.ResetTimer()
	for range b.N {
		st, err := backfill.Run(ctx, cfg)
		if err != nil || st.Objects != 2*perDay {
			b.Fatalf("%+v, %v", st, err)
		}
		b.StopTimer()
		if _, err := sqsc.PurgeQueue(ctx, &sqs.PurgeQueueInput{QueueUrl: aws.String(q)}); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(2*perDay*b.N)/b.Elapsed().Seconds(), "objects/s")
}
