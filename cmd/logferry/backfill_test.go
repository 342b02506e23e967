package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/logferry/logferry/shared/motoserver"
)

func motoEnv(url string) map[string]string {
	return map[string]string{
		"AWS_ENDPOINT_URL_S3": url, "AWS_ENDPOINT_URL_SQS": url, "LOGFERRY_S3_PATH_STYLE": "1",
		"AWS_REGION": motoserver.Region, "AWS_ACCESS_KEY_ID": motoserver.AccessKey, "AWS_SECRET_ACCESS_KEY": motoserver.SecretKey,
	}
}

func TestBackfillAndStatusCommands(t *testing.T) {
	url := motoserver.ForTest(t)
	ctx := context.Background()
	cfg := motoserver.Config(url)
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	sqsc := sqs.NewFromConfig(cfg)
	bucket := motoserver.Name("cli-backfill")
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		t.Fatal(err)
	}
	base := "AWSLogs/111111111111/elasticloadbalancing/eu-west-1/"
	for _, k := range []string{base + "2026/11/01/a.log.gz", base + "2026/11/02/b.log.gz", base + "2026/11/02/c d.log", base + "2026/11/03/e.log.gz", "AWSLogs/111111111111/ELBAccessLogTestFile"} {
		if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String(k), Body: strings.NewReader("12345")}); err != nil {
			t.Fatal(err)
		}
	}
	q, err := sqsc.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(bucket)})
	if err != nil {
		t.Fatal(err)
	}

	e, _, errb := testEnv(motoEnv(url))
	if code := run(ctx, e, []string{"backfill", "s3://" + bucket + "/", "--dry-run", "--from", "2026-11-02", "--to", "2026-11-03"}); code != 0 {
		t.Fatalf("dry run: exit %d: %s", code, errb)
	}
	if !strings.Contains(errb.String(), "would enqueue 3 objects (15 B, 2 days)") {
		t.Errorf("dry run says %q, want 3 objects, 15 B, 2 days", errb)
	}

	e, _, errb = testEnv(motoEnv(url))
	if code := run(ctx, e, []string{"backfill", "s3://" + bucket + "/", "--queue", *q.QueueUrl}); code != 0 {
		t.Fatalf("backfill: exit %d: %s", code, errb)
	}
	for _, want := range []string{"enqueued 4 objects (20 B, 3 days)", "skipped 1 ELBAccessLogTestFile and 0 non-log keys", "Re-sending an object is harmless"} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("backfill says %q, want %q in it", errb, want)
		}
	}

	e, out, errb := testEnv(motoEnv(url))
	if code := run(ctx, e, []string{"status", "--queue", *q.QueueUrl, "--sample", "0"}); code != 0 {
		t.Fatalf("status: exit %d: %s", code, errb)
	}
	if !strings.Contains(out.String(), "queue "+bucket+": 4 visible, 0 in flight") || !strings.Contains(out.String(), "no dead-letter queue") {
		t.Errorf("status says %q", out)
	}

	// --watch refreshes until interrupted, and from the second sample on shows a rate.
	wctx, stop := context.WithTimeout(ctx, 2*time.Second)
	defer stop()
	e, out, errb = testEnv(motoEnv(url))
	if code := run(wctx, e, []string{"status", "--queue", *q.QueueUrl, "--watch", "--interval", "300ms"}); code != 0 {
		t.Fatalf("status --watch: exit %d: %s", code, errb)
	}
	if n := strings.Count(out.String(), "queue "+bucket+": 4 visible"); n < 2 || !strings.Contains(out.String(), "drain rate: 0.0 messages/s") {
		t.Errorf("status --watch printed %d samples: %q", n, out)
	}

	e, _, errb = testEnv(motoEnv(url))
	if code := run(ctx, e, []string{"backfill", "s3://" + bucket + "/", "--queue", *q.QueueUrl, "--to", "2026-11-02"}); code != 2 || !strings.Contains(errb.String(), "--to needs --from") {
		t.Errorf("--to alone: exit %d, %q", code, errb)
	}
	e, _, errb = testEnv(motoEnv(url))
	if code := run(ctx, e, []string{"backfill", "s3://" + bucket + "/", "--queue", *q.QueueUrl, "--from", "2026-13-01"}); code != 2 || !strings.Contains(errb.String(), "want YYYY-MM-DD") {
		t.Errorf("bad --from: exit %d, %q", code, errb)
	}
}
