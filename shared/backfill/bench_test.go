package backfill_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/logferry/logferry/shared/backfill"
	"github.com/logferry/logferry/shared/motoserver"
)

// BenchmarkEnqueue measures a backfill end to end against moto: list two days of 200
// objects each by the key layout, build each notification, SendMessageBatch in tens. One
// op is the whole backfill; objects/s is the figure to compare with the Lambda fleet's
// intake. moto is a single Python process, so this bounds the client from below: real SQS
// takes batches in parallel.
func BenchmarkEnqueue(b *testing.B) {
	s3c, sqsc := clients(b)
	bucket := enqueueBucket(b, s3c)
	cfg := backfill.Config{S3: s3c, Bucket: bucket, From: time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC),
		To: time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC), SQS: sqsc}
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		cfg.QueueURL = queue(b, sqsc, motoserver.Name(bucket)) // a queue a run (moto, as SQS, purges once a minute)
		b.StartTimer()
		st, err := backfill.Run(context.Background(), cfg)
		if err != nil || st.Objects != 2*perDay {
			b.Fatalf("%+v, %v", st, err)
		}
	}
	b.ReportMetric(float64(2*perDay*b.N)/b.Elapsed().Seconds(), "objects/s")
}

const perDay = 200

var (
	benchOnce   sync.Once
	benchBucket string
)

// enqueueBucket fills one bucket per test binary: the benchmark function runs once per b.N
// tried, and moto takes its time to store a thousand objects.
func enqueueBucket(b *testing.B, s3c *s3.Client) string {
	benchOnce.Do(func() {
		ctx := context.Background()
		bucket := motoserver.Name("bench-enqueue")
		if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
			b.Fatal(err)
		}
		for _, day := range []string{"2026/11/24", "2026/11/25"} {
			for i := range perDay {
				k := fmt.Sprintf("AWSLogs/123456789012/elasticloadbalancing/eu-west-1/%s/123456789012_elasticloadbalancing_eu-west-1_app.web.50dc6c495c0c9188_T%04dZ_10.0.1.7_x.log.gz", day, i)
				if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: &k}); err != nil {
					b.Fatal(err)
				}
			}
		}
		benchBucket = bucket
	})
	if benchBucket == "" {
		b.Fatal("bucket not filled")
	}
	return benchBucket
}
