package logstash_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/logferry/logferry/shared/logstash"
	"github.com/logferry/logferry/shared/logstash/logstashtest"
	"github.com/logferry/logferry/shared/s3test"
)

func TestS3DeadLetterThenReplay(t *testing.T) {
	s3srv := s3test.New(t)
	s3srv.CreateBucket(t, "dead")
	dl, err := logstash.NewS3DeadLetter(s3srv.Client, "dead", "/logferry/failed")
	if err != nil {
		t.Fatal(err)
	}
	srv := logstashtest.New(t, logstashtest.Options{})
	srv.Script(logstashtest.Fault{Status: 503, Times: 1000})
	src := logstash.Source{Bucket: "elb-logs", Key: "AWSLogs/123/elasticloadbalancing/eu-west-1/2026/11/25/x y.log.gz"}
	ix := newIndexer(t, logstash.Config{URL: srv.URL, BatchDocs: 40, MaxRetries: 2, DeadLetter: dl, Source: src})
	addAll(t, ix, 0, 200)
	err = ix.Close(context.Background())
	var de *logstash.DeliveryError
	if !errors.As(err, &de) || de.DeadLettered != 200 || de.Lost != 0 {
		t.Fatalf("Close = %v; want 200 dead-lettered, none lost", err)
	}
	keys := s3srv.List(t, "dead", "")
	if len(keys) != 5 {
		t.Fatalf("dead-letter objects %v; want 5", keys)
	}
	day := time.Now().UTC().Format("2006/01/02")
	for _, k := range keys {
		want := "logferry/failed/" + day + "/elb-logs/AWSLogs/123/elasticloadbalancing/eu-west-1/2026/11/25/x%20y.log.gz/"
		if !strings.HasPrefix(k, want) || !strings.HasSuffix(k, logstash.Ext) {
			t.Errorf("dead-letter key %q; want %q…%s", k, want, logstash.Ext)
		}
		fb, err := logstash.ReadFailedBatch(bytes.NewReader(s3srv.Get(t, "dead", k)))
		if err != nil {
			t.Fatal(err)
		}
		if len(fb.Docs) != 40 || fb.Status != 503 || fb.Attempts != 3 || fb.Source != src || !strings.Contains(fb.Err, "503") {
			t.Errorf("dead letter %s: %d docs, status %d, attempts %d, source %+v, err %q", k, len(fb.Docs), fb.Status, fb.Attempts, fb.Source, fb.Err)
		}
	}

	srv.ClearScript()
	s3src, err := logstash.NewS3Source(s3srv.Client, "dead", "logferry/failed/")
	if err != nil {
		t.Fatal(err)
	}
	st, err := logstash.Replay(context.Background(), s3src, fastRetries(logstash.Config{URL: srv.URL}))
	if err != nil || st.Batches != 5 || st.Replayed != 5 || st.Docs != 200 || st.Sent != 200 {
		t.Fatalf("Replay = %+v, %v", st, err)
	}
	assertExactlyOnce(t, srv, 0, 200)
	if keys := s3srv.List(t, "dead", ""); len(keys) != 0 {
		t.Errorf("dead letters left after replay: %v", keys)
	}
	// Replaying again finds nothing and changes nothing.
	st, err = logstash.Replay(context.Background(), s3src, logstash.Config{URL: srv.URL})
	if err != nil || st.Batches != 0 {
		t.Errorf("second Replay = %+v, %v", st, err)
	}
}

func TestDeadLetterFailureCountsLost(t *testing.T) {
	s3srv := s3test.New(t) // no bucket: every PutObject fails
	dl, _ := logstash.NewS3DeadLetter(s3srv.Client, "missing", "dl")
	srv := logstashtest.New(t, logstashtest.Options{})
	srv.Script(logstashtest.Fault{Status: 500, Times: 1000})
	ix := newIndexer(t, logstash.Config{URL: srv.URL, MaxRetries: 1, DeadLetter: dl, DeadLetterTimeout: 5 * time.Second})
	addAll(t, ix, 0, 10)
	err := ix.Close(context.Background())
	var de *logstash.DeliveryError
	if !errors.As(err, &de) || de.Lost != 10 || de.DeadLettered != 0 {
		t.Fatalf("Close = %v; want 10 lost", err)
	}
}

func TestReplayKeepsCorruptAndFailingBatches(t *testing.T) {
	dir := t.TempDir()
	dl, _ := logstash.NewDir(dir)
	ctx := context.Background()
	good := logstash.FailedBatch{Docs: [][]byte{doc(1), doc(2)}, Status: 503, Time: time.Now()}
	if err := dl.Put(ctx, good); err != nil {
		t.Fatal(err)
	}
	corrupt := filepath.Join(dir, "2026", "01", "01", "b", "k", "x"+logstash.Ext)
	os.MkdirAll(filepath.Dir(corrupt), 0o755)
	os.WriteFile(corrupt, []byte("not gzip"), 0o644)

	srv := logstashtest.New(t, logstashtest.Options{})
	st, err := logstash.Replay(ctx, dl, fastRetries(logstash.Config{URL: srv.URL}))
	if err == nil || !strings.Contains(err.Error(), "2026/01/01/b/k/x"+logstash.Ext) || !strings.Contains(err.Error(), "not gzip") {
		t.Fatalf("Replay error %v; want one naming the corrupt batch", err)
	}
	if st.Batches != 2 || st.Replayed != 1 || st.Kept != 1 {
		t.Errorf("Replay = %+v", st)
	}
	assertExactlyOnce(t, srv, 1, 3)
	if _, err := os.Stat(corrupt); err != nil {
		t.Errorf("corrupt batch was removed: %v", err)
	}
}

func TestFailedBatchFormat(t *testing.T) {
	b := logstash.FailedBatch{
		Docs: [][]byte{doc(1), doc(2), doc(3)}, Source: logstash.Source{Bucket: "b", Key: "k"},
		Status: 429, Err: "too many", Attempts: 9, Time: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC),
	}
	var buf bytes.Buffer
	if err := logstash.WriteFailedBatch(&buf, b); err != nil {
		t.Fatal(err)
	}
	got, err := logstash.ReadFailedBatch(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Docs) != 3 || !bytes.Equal(got.Docs[2], doc(3)) || got.Source != b.Source || got.Status != 429 ||
		got.Err != "too many" || got.Attempts != 9 || !got.Time.Equal(b.Time) {
		t.Errorf("round trip = %+v", got)
	}
	// The stored form is plain gzip NDJSON: zcat shows a header line and the documents.
	zr, _ := gzip.NewReader(bytes.NewReader(buf.Bytes()))
	var plain bytes.Buffer
	plain.ReadFrom(zr)
	lines := strings.Split(strings.TrimSuffix(plain.String(), "\n"), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], `{"logferry_dead_letter":1,"docs":3,`) || lines[1] != string(doc(1)) {
		t.Errorf("stored form:\n%s", plain.String())
	}

	// A truncated batch is an error, not fewer documents.
	if _, err := logstash.ReadFailedBatch(bytes.NewReader(buf.Bytes()[:buf.Len()-10])); err == nil {
		t.Error("truncated batch read without error")
	}
	// A batch missing a document disagrees with its header.
	var short bytes.Buffer
	zw := gzip.NewWriter(&short)
	zw.Write([]byte(lines[0] + "\n" + lines[1] + "\n"))
	zw.Close()
	if _, err := logstash.ReadFailedBatch(&short); err == nil || !strings.Contains(err.Error(), "header says 3") {
		t.Errorf("short batch: %v", err)
	}
	var other bytes.Buffer
	zw = gzip.NewWriter(&other)
	zw.Write([]byte(string(doc(1)) + "\n"))
	zw.Close()
	if _, err := logstash.ReadFailedBatch(&other); err == nil || !strings.Contains(err.Error(), "not a logferry dead letter") {
		t.Errorf("headerless file: %v", err)
	}
}

func TestDirNamesCannotEscapeTheRoot(t *testing.T) {
	root := t.TempDir()
	dl, _ := logstash.NewDir(filepath.Join(root, "dl"))
	ctx := context.Background()
	for _, key := range []string{"../../etc/passwd", "/abs//x/./y", "..", ""} {
		if err := dl.Put(ctx, logstash.FailedBatch{Docs: [][]byte{doc(1)}, Source: logstash.Source{Bucket: "..", Key: key}}); err != nil {
			t.Fatalf("Put key %q: %v", key, err)
		}
	}
	names, err := dl.List(ctx)
	if err != nil || len(names) != 4 {
		t.Fatalf("List = %v, %v", names, err)
	}
	for _, n := range names {
		if !filepath.IsLocal(n) {
			t.Errorf("name %q escapes the root", n)
		}
		if _, err := dl.Get(ctx, n); err != nil {
			t.Errorf("Get(%q): %v", n, err)
		}
	}
	entries, _ := os.ReadDir(root)
	if len(entries) != 1 {
		t.Errorf("files outside the dead-letter root: %v", entries)
	}
	if _, err := dl.Get(ctx, "../x"+logstash.Ext); err == nil {
		t.Error("Get accepted a name outside the root")
	}
	for _, n := range names {
		if err := dl.Delete(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	if entries, _ := os.ReadDir(filepath.Join(root, "dl")); len(entries) != 0 {
		t.Errorf("Delete left directories: %v", entries)
	}
}
