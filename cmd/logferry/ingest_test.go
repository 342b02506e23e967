package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/logferry/logferry/shared/elblog"
	"github.com/logferry/logferry/shared/logstash/logstashtest"
	"github.com/logferry/logferry/shared/s3test"
)

func classicLines(n int) ([]byte, []int64) {
	var b bytes.Buffer
	offs := make([]int64, n)
	for i := range n {
		offs[i] = int64(b.Len())
		t := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Millisecond)
		fmt.Fprintf(&b, "%s web 192.0.2.%d:%d 10.0.0.1:80 0.000073 0.001048 0.000057 200 200 0 29 \"GET http://www.example.com:80/p/%d HTTP/1.1\" \"curl/8.5.0\" - -\n",
			t.Format("2006-01-02T15:04:05.000000Z"), i%250+1, 2000+i, i)
	}
	return b.Bytes(), offs
}

func gzipped(t *testing.T, b []byte) []byte {
	var z bytes.Buffer
	w := gzip.NewWriter(&z)
	w.Write(b)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return z.Bytes()
}

func TestIngestLocalFilesAndDirectories(t *testing.T) {
	ls := logstashtest.New(t, logstashtest.Options{})
	dir := t.TempDir()
	a, offsA := classicLines(700)
	b, offsB := classicLines(300)
	pa, pb := filepath.Join(dir, "a.log"), filepath.Join(dir, "sub", "b.log.gz")
	os.MkdirAll(filepath.Dir(pb), 0o755)
	os.WriteFile(pa, a, 0o644)
	os.WriteFile(pb, gzipped(t, b), 0o644)

	e, _, errb := testEnv(nil)
	if code := run(context.Background(), e, []string{"ingest", dir, "--to", ls.URL}); code != 0 {
		t.Fatalf("exit %d: %s", code, errb)
	}
	docs := ls.Docs()
	// Keys are relative to the source argument, so the ids do not depend on where it is.
	for key, offs := range map[string][]int64{"a.log": offsA, "sub/b.log.gz": offsB} {
		for _, off := range offs {
			if _, ok := docs[elblog.DocumentID("", key, off)]; !ok {
				t.Fatalf("%s line at %d missing", key, off)
			}
		}
	}
	if len(docs) != 1000 || !strings.Contains(errb.String(), "objects 2 (failed 0), lines 1000, documents 1000") {
		t.Fatalf("%d documents; summary %q", len(docs), errb)
	}
}

func TestIngestS3PrefixWithDeadLetterAndReplay(t *testing.T) {
	s3 := s3test.New(t)
	s3.CreateBucket(t, "elb-logs")
	s3.CreateBucket(t, "dead-letters")
	var want int
	for i, k := range []string{"AWSLogs/1/elasticloadbalancing/eu-west-1/2026/11/25/x_1.log", "AWSLogs/1/elasticloadbalancing/eu-west-1/2026/11/25/x 2.log"} {
		body, offs := classicLines(100 * (i + 1))
		s3.Put(t, "elb-logs", k, body)
		want += len(offs)
	}
	s3.Put(t, "elb-logs", "other/ignored.log", []byte("x\n"))
	ls := logstashtest.New(t, logstashtest.Options{Username: "shipper", Password: "pw"})
	vars := map[string]string{
		"AWS_ENDPOINT_URL_S3": s3.URL, "LOGFERRY_S3_PATH_STYLE": "1", "AWS_REGION": "us-east-1",
		"AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s",
		"LOGSTASH_USERNAME": "shipper", "LOGSTASH_PASSWORD": "wrong",
	}
	// Wrong password: the first 401 stops the run; nothing is copied into dead letters (the
	// S3 objects are the durable copy), every object is reported not shipped.
	e, _, errb := testEnv(vars)
	code := run(context.Background(), e, []string{"ingest", "s3://elb-logs/AWSLogs/", "--to", ls.URL, "--dead-letter", "s3://dead-letters/failed/", "--parallel", "1"})
	if code != 1 || !strings.Contains(errb.String(), "Logstash refused the credentials; stopped. 2 of 2 objects not shipped") || len(ls.Docs()) != 0 {
		t.Fatalf("exit %d, %d docs: %s", code, len(ls.Docs()), errb)
	}
	if !strings.Contains(errb.String(), "x_1.log: not started") || ls.StatusCounts()[401] != 1 {
		t.Fatalf("want one refused request and the second object not started; statuses %v: %s", ls.StatusCounts(), errb)
	}
	if strings.Contains(errb.String(), "wrong") {
		t.Fatal("the password was printed")
	}
	if n := len(s3.List(t, "dead-letters", "failed/")); n != 0 {
		t.Fatalf("%d dead letters written for refused documents", n)
	}
	// Fixed password: the same objects again deliver everything.
	vars["LOGSTASH_PASSWORD"] = "pw"
	e, _, errb = testEnv(vars)
	if code := run(context.Background(), e, []string{"ingest", "s3://elb-logs/AWSLogs/", "--to", ls.URL}); code != 0 {
		t.Fatalf("exit %d: %s", code, errb)
	}
	if len(ls.Docs()) != want {
		t.Fatalf("%d documents, want %d", len(ls.Docs()), want)
	}
}

func TestIngestUsageAndBadSources(t *testing.T) {
	e, _, errb := testEnv(nil)
	if code := run(context.Background(), e, []string{"ingest", "x.log"}); code != 2 || !strings.Contains(errb.String(), "--to") {
		t.Fatalf("exit %d: %s", code, errb)
	}
	e, _, errb = testEnv(nil)
	if code := run(context.Background(), e, []string{"ingest", "/nonexistent/x.log", "--to", "http://127.0.0.1:1"}); code != 1 || !strings.Contains(errb.String(), "/nonexistent/x.log") {
		t.Fatalf("exit %d: %s", code, errb)
	}
}

// A Logstash restart during a backfill is waited out with the default backoff and budget:
// nothing is dead-lettered and the command exits 0. (The stand-in is down for 1 s here;
// shared/logstash checks that the defaults outlast a 20 s one.)
func TestIngestWaitsOutALogstashRestart(t *testing.T) {
	ls := logstashtest.New(t, logstashtest.Options{})
	dir := t.TempDir()
	body, offs := classicLines(3000)
	os.WriteFile(filepath.Join(dir, "a.log"), body, 0o644)
	back := ls.Outage(time.Second)
	e, _, errb := testEnv(nil)
	code := run(context.Background(), e, []string{"ingest", dir, "--to", ls.URL, "--retry-budget", "2m", "--dead-letter", filepath.Join(dir, "..", "dl")})
	if err := <-back; err != nil {
		t.Fatal(err)
	}
	if code != 0 || !strings.Contains(errb.String(), "dead-lettered 0") {
		t.Fatalf("exit %d: %s", code, errb)
	}
	if len(ls.Docs()) != len(offs) || len(ls.Redelivered()) != 0 {
		t.Fatalf("%d documents (%d redelivered), want %d once each", len(ls.Docs()), len(ls.Redelivered()), len(offs))
	}
}

// Ctrl-C mid-run: the message names every object left unfinished and the documents that
// went to the dead letter, and says a re-run finishes the job.
func TestIngestInterruptedNamesWhatIsLeft(t *testing.T) {
	ls := logstashtest.New(t, logstashtest.Options{})
	ls.Pause() // the first request is held: the run is mid-object when interrupted
	dir, dl := t.TempDir(), t.TempDir()
	for _, name := range []string{"a.log", "b.log", "c.log"} {
		body, _ := classicLines(600)
		os.WriteFile(filepath.Join(dir, name), body, 0o644)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e, _, errb := testEnv(nil)
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, e, []string{"ingest", dir, "--to", ls.URL, "--dead-letter", dl, "--parallel", "1", "--batch-docs", "100"})
	}()
	for deadline := time.Now().Add(10 * time.Second); ls.Pending() == 0; {
		if time.Now().After(deadline) {
			t.Fatal("no request reached the stand-in")
		}
		time.Sleep(time.Millisecond) // how often the condition is looked at
	}
	cancel()
	var code int
	select {
	case code = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the run did not stop after the interrupt")
	}
	ls.Resume()
	msg := errb.String()
	if code != 1 || !strings.Contains(msg, "interrupted: 3 of 3 objects left unfinished") {
		t.Fatalf("exit %d: %s", code, msg)
	}
	for _, name := range []string{"a.log", "b.log", "c.log"} {
		if strings.Count(msg, filepath.Join(dir, name)) != 1 {
			t.Errorf("%s not named exactly once: %s", name, msg)
		}
	}
	if !strings.Contains(msg, "documents dead-lettered in "+dl) || !strings.Contains(msg, "run the same command again") {
		t.Fatalf("message does not say what was dead-lettered and what to do: %s", msg)
	}
	if strings.Contains(msg, "redelivered") {
		t.Fatalf("the CLI promises a redelivery nothing will make: %s", msg)
	}
}
