package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/logferry/logferry/shared/logstash"
	"github.com/logferry/logferry/shared/logstash/logstashtest"
	"github.com/logferry/logferry/shared/s3test"
)

func replayDoc(i int) []byte {
	return fmt.Appendf(nil, `{"@metadata":{"_id":"r-%05d"},"message":"line %d"}`, i, i)
}

// deadLetterSome ships n documents to a stand-in that answers 503 to everything, so that
// every batch ends in dl, as after a Logstash outage.
func deadLetterSome(t *testing.T, dl logstash.DeadLetter, n int) {
	t.Helper()
	down := logstashtest.New(t, logstashtest.Options{})
	down.Script(logstashtest.Fault{Status: 503, Times: 1 << 20})
	ix, err := logstash.NewIndexer(logstash.Config{URL: down.URL, BatchDocs: 25, MaxRetries: 1,
		BackoffBase: time.Millisecond, BackoffMax: time.Millisecond, DeadLetter: dl,
		Source: logstash.Source{Bucket: "elb", Key: "AWSLogs/1/x.log.gz"}})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		if err := ix.Add(context.Background(), replayDoc(i)); err != nil {
			t.Fatal(err)
		}
	}
	var de *logstash.DeliveryError
	if err := ix.Close(context.Background()); !errors.As(err, &de) || de.DeadLettered != n || de.Lost != 0 {
		t.Fatalf("setup: Close = %v; want %d dead-lettered", err, n)
	}
}

func assertReplayed(t *testing.T, srv *logstashtest.Server, n int) {
	t.Helper()
	docs := srv.Docs()
	if len(docs) != n {
		t.Errorf("stand-in holds %d documents, want %d", len(docs), n)
	}
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("r-%05d", i)
		if string(docs[id]) != string(replayDoc(i)) || srv.Deliveries(id) != 1 {
			t.Fatalf("%s: stored %s ×%d", id, docs[id], srv.Deliveries(id))
		}
	}
}

func TestReplayDirectory(t *testing.T) {
	dir := t.TempDir()
	dl, _ := logstash.NewDir(dir)
	deadLetterSome(t, dl, 110)
	srv := logstashtest.New(t, logstashtest.Options{})

	e, out, errb := testEnv(nil)
	if code := run(context.Background(), e, []string{"replay", dir, "--dry-run"}); code != 0 {
		t.Fatalf("dry run: exit %d: %s", code, errb)
	}
	if lines := strings.Count(out.String(), "\n"); lines != 5 || !strings.Contains(out.String(), "25 docs\tstatus 503\tattempts 2") ||
		!strings.Contains(errb.String(), "5 batches, 110 documents, 0 unreadable") {
		t.Errorf("dry run printed:\n%s%s", out, errb)
	}
	if len(srv.Requests()) != 0 {
		t.Fatal("dry run sent something")
	}

	e, _, errb = testEnv(nil)
	if code := run(context.Background(), e, []string{"replay", dir, "--to", srv.URL, "--batch-docs", "50"}); code != 0 {
		t.Fatalf("exit %d: %s", code, errb)
	}
	assertReplayed(t, srv, 110)
	if !strings.Contains(errb.String(), "5 batches found, 5 delivered and deleted, 0 kept; 110 of 110 documents acknowledged") {
		t.Errorf("summary: %s", errb)
	}
	if names, _ := dl.List(context.Background()); len(names) != 0 {
		t.Errorf("left after replay: %v", names)
	}
	// Idempotent: a second run finds nothing to do.
	e, _, errb = testEnv(nil)
	if code := run(context.Background(), e, []string{"replay", "--to", srv.URL, dir}); code != 0 || !strings.Contains(errb.String(), "0 batches found") {
		t.Errorf("second run: exit %d: %s", code, errb)
	}
}

func TestReplayS3(t *testing.T) {
	s3srv := s3test.New(t)
	s3srv.CreateBucket(t, "ops")
	dl, _ := logstash.NewS3DeadLetter(s3srv.Client, "ops", "logferry/dead/")
	deadLetterSome(t, dl, 60)
	if keys := s3srv.List(t, "ops", "logferry/dead/"); len(keys) != 3 {
		t.Fatalf("setup: %d dead letters in S3, want 3", len(keys))
	}
	srv := logstashtest.New(t, logstashtest.Options{Username: "ferry", Password: "s3cret"})
	vars := map[string]string{
		"AWS_ENDPOINT_URL_S3":    s3srv.URL,
		"LOGFERRY_S3_PATH_STYLE": "1",
		"AWS_REGION":             "us-east-1",
		"AWS_ACCESS_KEY_ID":      "test",
		"AWS_SECRET_ACCESS_KEY":  "test",
		"LOGSTASH_URL":           srv.URL,
		"LOGSTASH_USERNAME":      "ferry",
		"LOGSTASH_PASSWORD":      "wrong",
		"LOGSTASH_MAX_RETRIES":   "1",
	}
	// Wrong password: nothing is delivered, everything stays, exit 1 naming the cause.
	e, _, errb := testEnv(vars)
	if code := run(context.Background(), e, []string{"replay", "s3://ops/logferry/dead/"}); code != 1 ||
		!strings.Contains(errb.String(), "3 batches kept") || !strings.Contains(errb.String(), "401") {
		t.Fatalf("wrong password: exit %d: %s", code, errb)
	}
	if keys := s3srv.List(t, "ops", "logferry/dead/"); len(keys) != 3 {
		t.Fatalf("%d dead letters left after a failed replay, want all 3", len(keys))
	}
	if strings.Contains(errb.String(), "wrong") {
		t.Errorf("password printed: %s", errb)
	}

	vars["LOGSTASH_PASSWORD"] = "s3cret"
	e, _, errb = testEnv(vars)
	if code := run(context.Background(), e, []string{"replay", "s3://ops/logferry/dead"}); code != 0 {
		t.Fatalf("exit %d: %s", code, errb)
	}
	assertReplayed(t, srv, 60)
	if keys := s3srv.List(t, "ops", ""); len(keys) != 0 {
		t.Errorf("left in S3 after replay: %v", keys)
	}
}

func TestReplayBadInvocations(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	os.WriteFile(file, nil, 0o644)
	for _, tc := range []struct {
		args []string
		vars map[string]string
		code int
		want string
	}{
		{[]string{"replay"}, nil, 2, "no SOURCE given"},
		{[]string{"replay", dir}, nil, 2, "no Logstash URL"},
		{[]string{"replay", dir, dir, "--to", "http://x"}, nil, 2, "one SOURCE at a time"},
		{[]string{"replay", filepath.Join(dir, "missing"), "--to", "http://x"}, nil, 1, "no such file or directory"},
		{[]string{"replay", file, "--to", "http://x"}, nil, 1, "not a directory"},
		{[]string{"replay", "http://x/y", "--to", "http://x"}, nil, 2, "want a directory or s3://"},
		{[]string{"replay", "s3:///p", "--to", "http://x"}, nil, 2, "no bucket"},
		{[]string{"replay", dir, "--to", "ftp://x"}, nil, 1, "LOGSTASH_URL"},
		{[]string{"replay", dir, "--to", "http://x"}, map[string]string{"LOGSTASH_CODEC": "xml"}, 1, "LOGSTASH_CODEC"},
		{[]string{"replay", dir, "--to", "https://x"}, map[string]string{"LOGSTASH_CREDENTIALS": "arn:x"}, 1, "LOGSTASH_CREDENTIALS is for the Lambda"},
	} {
		e, _, errb := testEnv(tc.vars)
		code := run(context.Background(), e, tc.args)
		if code != tc.code || !strings.Contains(errb.String(), tc.want) {
			t.Errorf("%q: exit %d, stderr %q; want %d and %q", tc.args, code, errb, tc.code, tc.want)
		}
	}
}
