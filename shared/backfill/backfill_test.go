package backfill_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/logferry/logferry/shared/backfill"
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

func clients(t testing.TB) (*s3.Client, *sqs.Client) {
	t.Helper()
	if motoURL == "" {
		t.Skip("no moto server under -short")
	}
	cfg := motoserver.Config(motoURL)
	return s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }), sqs.NewFromConfig(cfg)
}

// countingS3 records the prefixes listed, to show that a date range lists only its days.
type countingS3 struct {
	*s3.Client
	mu       sync.Mutex
	prefixes []string
}

func (c *countingS3) ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, opts ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	c.mu.Lock()
	c.prefixes = append(c.prefixes, aws.ToString(in.Prefix))
	c.mu.Unlock()
	return c.Client.ListObjectsV2(ctx, in, opts...)
}

func put(t testing.TB, c *s3.Client, bucket string, keys ...string) {
	t.Helper()
	ctx := context.Background()
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket}); err != nil && !strings.Contains(err.Error(), "BucketAlready") {
		t.Fatal(err)
	}
	for _, k := range keys {
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String(k), Body: strings.NewReader("x " + k)}); err != nil {
			t.Fatal(err)
		}
	}
}

func queue(t testing.TB, c *sqs.Client, name string) string {
	t.Helper()
	out, err := c.CreateQueue(context.Background(), &sqs.CreateQueueInput{QueueName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.QueueUrl)
}

// drain receives and deletes messages until want have arrived (and one more empty poll
// shows nothing else is there), and returns the raw keys of their records.
func drain(t testing.TB, c *sqs.Client, url string, want int) (rawKeys []string, bodies []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) == 0 && len(rawKeys) >= want {
			return rawKeys, bodies
		}
		var del []sqstypes.DeleteMessageBatchRequestEntry
		for i, m := range out.Messages {
			var ev events.S3Event
			if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &ev); err != nil {
				t.Fatalf("message is not an S3 event: %v: %s", err, aws.ToString(m.Body))
			}
			for _, r := range ev.Records {
				rawKeys = append(rawKeys, r.S3.Object.Key)
			}
			bodies = append(bodies, aws.ToString(m.Body))
			del = append(del, sqstypes.DeleteMessageBatchRequestEntry{Id: aws.String(fmt.Sprint(i)), ReceiptHandle: m.ReceiptHandle})
		}
		if len(del) > 0 {
			if _, err := c.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: &url, Entries: del}); err != nil {
				t.Fatal(err)
			}
		}
	}
	t.Fatalf("queue %s: %d messages after 60 s, want %d", url, len(rawKeys), want)
	return nil, nil
}

func elbKey(account, region, day, name string) string {
	return "elb/AWSLogs/" + account + "/elasticloadbalancing/" + region + "/" + day + "/" + name
}

// Two accounts, two regions, four days; a date range of two days enqueues exactly those
// days' logs (in every account and region), skips and counts the test file and a non-log
// key, lists no other day, and encodes keys as S3 does.
func TestDateRangeAcrossAccountsAndRegions(t *testing.T) {
	s3c, sqsc := clients(t)
	bucket := motoserver.Name("backfill-range")
	var all, want []string
	for _, acct := range []string{"111111111111", "222222222222"} {
		for _, region := range []string{"eu-west-1", "us-east-1"} {
			for _, day := range []string{"2026/11/01", "2026/11/02", "2026/11/03", "2026/11/10"} {
				k := elbKey(acct, region, day, acct+"_elasticloadbalancing_"+region+"_app.x_"+strings.ReplaceAll(day, "/", "")+"T0000Z_10.0.0.1_a.log.gz")
				all = append(all, k)
				if day == "2026/11/02" || day == "2026/11/03" {
					want = append(want, k)
				}
			}
		}
	}
	odd := elbKey("111111111111", "eu-west-1", "2026/11/02", "a b+c=d&é.log")
	want = append(want, odd)
	all = append(all, odd,
		elbKey("111111111111", "eu-west-1", "2026/11/02", "ELBAccessLogTestFile"),
		elbKey("111111111111", "eu-west-1", "2026/11/03", "notes.txt"),
		"elb/AWSLogs/111111111111/ELBAccessLogTestFile")
	put(t, s3c, bucket, all...)
	q := queue(t, sqsc, bucket)
	ls := &countingS3{Client: s3c}

	st, err := backfill.Run(context.Background(), backfill.Config{
		S3: ls, Bucket: bucket, Prefix: "elb/",
		From: time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 11, 3, 15, 0, 0, 0, time.UTC),
		SQS: sqsc, QueueURL: q, Region: "eu-west-1",
	})
	if err != nil {
		t.Fatal(err)
	}
	if st.Objects != int64(len(want)) || st.TestFiles != 1 || st.NotLogs != 1 || st.Days != 2 || st.DaysTotal != 8 || !st.Done {
		t.Fatalf("stats %+v; want %d objects, 1 test file, 1 non-log, 2 days of 8 day listings", st, len(want))
	}
	for _, p := range ls.prefixes {
		if strings.Contains(p, "/2026/11/01/") || strings.Contains(p, "/2026/11/10/") || (strings.Count(p, "/") > 5 && !strings.Contains(p, "/2026/11/0")) {
			t.Errorf("listed %q, outside the range", p)
		}
	}
	raw, bodies := drain(t, sqsc, q, len(want))
	got := map[string]int{}
	for _, k := range raw {
		got[k]++
	}
	for _, k := range want {
		if got[backfill.EncodeKey(k)] != 1 {
			t.Errorf("key %q arrived %d times", k, got[backfill.EncodeKey(k)])
		}
	}
	if len(raw) != len(want) {
		t.Errorf("%d messages, want %d", len(raw), len(want))
	}
	encodedOdd := "elb/AWSLogs/111111111111/elasticloadbalancing/eu-west-1/2026/11/02/a+b%2Bc%3Dd%26%C3%A9.log"
	if got[encodedOdd] != 1 {
		t.Errorf("key %q not sent encoded as S3 does (%q); got %q", odd, encodedOdd, raw)
	}
	// The message is S3's own shape: what the ingest handler and aws-lambda-go decode.
	var ev events.S3Event
	if err := json.Unmarshal([]byte(bodies[0]), &ev); err != nil {
		t.Fatal(err)
	}
	r := ev.Records[0]
	if r.EventVersion != "2.1" || r.EventSource != "aws:s3" || r.EventName != "ObjectCreated:Put" || r.AWSRegion != "eu-west-1" ||
		r.S3.Bucket.Name != bucket || r.S3.Bucket.Arn != "arn:aws:s3:::"+bucket || r.S3.Object.Size == 0 || r.S3.Object.ETag == "" ||
		r.S3.ConfigurationID != backfill.ConfigurationID || r.EventTime.IsZero() {
		t.Errorf("record %+v is not what S3 sends", r)
	}
	if strings.Contains(bodies[0], "urlDecodedKey") {
		t.Errorf("message carries urlDecodedKey, which S3 never sends: %s", bodies[0])
	}
}

// A prefix narrowed to one account and region keeps the range inside it; a dry run sends
// nothing and counts objects, bytes and days.
func TestDryRunAndNarrowPrefix(t *testing.T) {
	s3c, sqsc := clients(t)
	bucket := motoserver.Name("backfill-dry")
	keys := []string{
		elbKey("111111111111", "eu-west-1", "2026/11/02", "a.log.gz"),
		elbKey("111111111111", "eu-west-1", "2026/11/03", "b.log.gz"),
		elbKey("111111111111", "us-east-1", "2026/11/02", "c.log.gz"),
		elbKey("222222222222", "eu-west-1", "2026/11/02", "d.log.gz"),
	}
	put(t, s3c, bucket, keys...)
	q := queue(t, sqsc, bucket)
	st, err := backfill.Run(context.Background(), backfill.Config{
		S3: s3c, Bucket: bucket, Prefix: "elb/AWSLogs/111111111111/elasticloadbalancing/eu-west-1/",
		From: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC),
		SQS: sqsc, QueueURL: q, DryRun: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	var size int64
	for _, k := range keys[:2] {
		size += int64(len("x " + k))
	}
	if st.Objects != 2 || st.Days != 2 || st.Bytes != size || st.DaysTotal != 30 {
		t.Fatalf("dry run stats %+v, want 2 objects of %d bytes over 2 days, 30 day listings", st, size)
	}
	out, err := sqsc.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{QueueUrl: &q, AttributeNames: []sqstypes.QueueAttributeName{"ApproximateNumberOfMessages"}})
	if err != nil || out.Attributes["ApproximateNumberOfMessages"] != "0" {
		t.Fatalf("a dry run put messages on the queue: %v %v", out.Attributes, err)
	}
	// Without the log prefix a date range cannot follow the layout: a clear error.
	_, err = backfill.Run(context.Background(), backfill.Config{S3: s3c, Bucket: bucket, Prefix: "nothing-here/",
		From: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), DryRun: true})
	if err == nil || !strings.Contains(err.Error(), "AWSLogs/<account>/") {
		t.Fatalf("range under a prefix without AWSLogs/: err %v, want one naming the layout", err)
	}
}

// flaky fails some entries of the real SendMessageBatch call, as SQS may (InternalError,
// SenderFault false): those entries are left out of the real call and reported failed.
type flaky struct {
	*sqs.Client
	mu    sync.Mutex
	calls int
	sizes []int
}

func (f *flaky) SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, opts ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error) {
	f.mu.Lock()
	f.calls++
	n := f.calls
	f.sizes = append(f.sizes, len(in.Entries))
	f.mu.Unlock()
	if n%2 == 0 || len(in.Entries) < 2 {
		return f.Client.SendMessageBatch(ctx, in, opts...)
	}
	keep := *in
	keep.Entries = in.Entries[1:] // the first entry "fails"
	out, err := f.Client.SendMessageBatch(ctx, &keep, opts...)
	if err != nil {
		return nil, err
	}
	out.Failed = append(out.Failed, sqstypes.BatchResultErrorEntry{Id: in.Entries[0].Id, Code: aws.String("InternalError"), Message: aws.String("injected"), SenderFault: false})
	return out, nil
}

// Messages go in batches of at most ten; failed entries are retried until sent, and each
// object arrives once. --rate bounds objects/s.
func TestBatchesOfTenRetryFailedEntriesAndRate(t *testing.T) {
	s3c, sqsc := clients(t)
	bucket := motoserver.Name("backfill-retry")
	var keys []string
	for i := range 25 {
		keys = append(keys, elbKey("111111111111", "eu-west-1", "2026/11/02", fmt.Sprintf("obj-%02d.log", i)))
	}
	put(t, s3c, bucket, keys...)
	q := queue(t, sqsc, bucket)
	f := &flaky{Client: sqsc}
	start := time.Now()
	st, err := backfill.Run(context.Background(), backfill.Config{S3: s3c, Bucket: bucket, SQS: f, QueueURL: q,
		Rate: 50, Backoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
	if st.Objects != 25 || st.Batches != 3 {
		t.Fatalf("stats %+v, want 25 objects in 3 batches", st)
	}
	for _, n := range f.sizes {
		if n > 10 {
			t.Fatalf("a batch of %d entries (sizes %v)", n, f.sizes)
		}
	}
	if len(f.sizes) < 5 {
		t.Fatalf("calls %v: the failed entries were not retried", f.sizes)
	}
	// 25 objects at 50/s: the third batch may start only after 20 were sent, at 0.4 s.
	if elapsed < 400*time.Millisecond {
		t.Errorf("25 objects at --rate 50 took %v, want ≥ 400ms", elapsed)
	}
	raw, _ := drain(t, sqsc, q, 25)
	sort.Strings(raw)
	for i, k := range raw {
		if i > 0 && raw[i-1] == k {
			t.Errorf("%q sent twice", k)
		}
	}
	if len(raw) != 25 {
		t.Fatalf("%d messages, want 25", len(raw))
	}
}

// An interrupted run reports the last key on the queue; resuming after it sends each of the
// remaining objects once, and the two runs together send every object once.
func TestInterruptedResumesExactly(t *testing.T) {
	s3c, sqsc := clients(t)
	bucket := motoserver.Name("backfill-resume")
	var keys []string
	for i := range 47 {
		keys = append(keys, elbKey("111111111111", "eu-west-1", fmt.Sprintf("2026/11/%02d", 1+i%3), fmt.Sprintf("obj-%02d.log.gz", i)))
	}
	put(t, s3c, bucket, keys...)
	q := queue(t, sqsc, bucket)
	ctx, cancel := context.WithCancel(context.Background())
	cfg := backfill.Config{S3: s3c, Bucket: bucket, Prefix: "elb/", From: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC),
		To: time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC), SQS: sqsc, QueueURL: q,
		Progress: func(s backfill.Stats) {
			if s.Batches == 2 {
				cancel() // Ctrl-C after the second batch
			}
		}}
	st, err := backfill.Run(ctx, cfg)
	var intr *backfill.Interrupted
	if !errorsAs(err, &intr) || intr.StartAfter == "" || intr.StartAfter != st.LastKey || st.Objects != 20 {
		t.Fatalf("interrupted run: %+v, %v; want an Interrupted after 20 objects naming the last key", st, err)
	}
	cfg.Progress, cfg.StartAfter = nil, intr.StartAfter
	st2, err := backfill.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if st.Objects+st2.Objects != 47 {
		t.Fatalf("first run %d + resumed run %d objects, want 47", st.Objects, st2.Objects)
	}
	raw, _ := drain(t, sqsc, q, 47)
	seen := map[string]int{}
	for _, k := range raw {
		seen[k]++
	}
	for _, k := range keys {
		if seen[backfill.EncodeKey(k)] != 1 {
			t.Errorf("%s arrived %d times", k, seen[backfill.EncodeKey(k)])
		}
	}
}

func TestEncodeKey(t *testing.T) {
	for in, want := range map[string]string{
		"AWSLogs/1/a b.log":  "AWSLogs/1/a+b.log",
		"a+b/c=d?e#f%g.log":  "a%2Bb/c%3Dd%3Fe%23f%25g.log",
		"dir/é~_-.!*'().log": "dir/%C3%A9~_-.%21%2A%27%28%29.log",
	} {
		if got := backfill.EncodeKey(in); got != want {
			t.Errorf("EncodeKey(%q) = %q, want %q", in, got, want)
		}
	}
}

func errorsAs(err error, target **backfill.Interrupted) bool {
	return errors.As(err, target)
}
