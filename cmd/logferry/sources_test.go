package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/logferry/logferry/shared/elblog"
	"github.com/logferry/logferry/shared/ingest"
	"github.com/logferry/logferry/shared/logstash"
	"github.com/logferry/logferry/shared/logstash/logstashtest"
	"github.com/logferry/logferry/shared/s3test"
)

// A re-run from another directory, or through the directory, must overwrite the same
// documents: four spellings of one file give one set of ids, each delivered four times.
func TestIdsDoNotDependOnHowThePathIsSpelled(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	body, offs := classicLines(50)
	os.Mkdir("in", 0o755)
	os.WriteFile("in/x.log.gz", gzipped(t, body), 0o644)
	ls := logstashtest.New(t, logstashtest.Options{})
	for _, src := range []string{"in/x.log.gz", "./in/x.log.gz", filepath.Join(dir, "in", "x.log.gz"), "in/"} {
		e, _, errb := testEnv(nil)
		if code := run(context.Background(), e, []string{"ingest", src, "--to", ls.URL}); code != 0 {
			t.Fatalf("%s: exit %d: %s", src, code, errb)
		}
	}
	docs := ls.Docs()
	if len(docs) != len(offs) {
		t.Fatalf("%d documents for %d lines: the spellings gave different ids", len(docs), len(offs))
	}
	for _, off := range offs {
		if id := elblog.DocumentID("", "x.log.gz", off); ls.Deliveries(id) != 4 {
			t.Fatalf("line at %d: %d deliveries of %s, want 4", off, ls.Deliveries(id), id)
		}
	}
	// parse names the file the same way.
	e, out, errb := testEnv(nil)
	if code := run(context.Background(), e, []string{"parse", "./in/x.log.gz"}); code != 0 {
		t.Fatalf("parse: exit %d: %s", code, errb)
	}
	if first := ndjson(t, out.Bytes())[0]["@metadata"].(map[string]any)["_id"]; first != elblog.DocumentID("", "x.log.gz", 0) {
		t.Fatalf("parse gave _id %v, ingest %s", first, elblog.DocumentID("", "x.log.gz", 0))
	}
}

// Logs downloaded after an outage and ingested with --bucket become the very documents the
// Lambda writes for those objects (ids, aws.s3.*, everything), so they overwrite.
func TestDownloadedAWSLogsWithBucketMatchTheLambda(t *testing.T) {
	key := "AWSLogs/123456789012/elasticloadbalancing/eu-west-1/2026/11/25/123456789012_elasticloadbalancing_eu-west-1_web_20261125T1200Z_10.0.1.7_a1b2.log.gz"
	body, _ := classicLines(40)
	obj := gzipped(t, body)
	s3 := s3test.New(t)
	s3.CreateBucket(t, "elb-logs")
	s3.Put(t, "elb-logs", key, obj)
	fromS3 := logstashtest.New(t, logstashtest.Options{})
	vars := map[string]string{"AWS_ENDPOINT_URL_S3": s3.URL, "LOGFERRY_S3_PATH_STYLE": "1", "AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s"}
	e, _, errb := testEnv(vars)
	if code := run(context.Background(), e, []string{"ingest", "s3://elb-logs/" + key, "--to", fromS3.URL}); code != 0 {
		t.Fatalf("s3: exit %d: %s", code, errb)
	}

	dl := filepath.Join(t.TempDir(), "downloads")
	path := filepath.Join(dl, filepath.FromSlash(key))
	os.MkdirAll(filepath.Dir(path), 0o755)
	os.WriteFile(path, obj, 0o644)
	fromDisk := logstashtest.New(t, logstashtest.Options{})
	e, _, errb = testEnv(nil)
	if code := run(context.Background(), e, []string{"ingest", dl, "--bucket", "elb-logs", "--to", fromDisk.URL}); code != 0 {
		t.Fatalf("local: exit %d: %s", code, errb)
	}
	a, b := fromS3.Docs(), fromDisk.Docs()
	if len(a) != 40 || len(b) != 40 {
		t.Fatalf("%d documents from S3, %d from disk; want 40 each", len(a), len(b))
	}
	for id, doc := range a {
		if !bytes.Equal(doc, b[id]) {
			t.Fatalf("document %s differs:\nS3:   %s\ndisk: %s", id, doc, b[id])
		}
	}
	// parse agrees with both.
	e, out, errb := testEnv(nil)
	if code := run(context.Background(), e, []string{"parse", "-bucket", "elb-logs", path}); code != 0 {
		t.Fatalf("parse: exit %d: %s", code, errb)
	}
	if id := ndjson(t, out.Bytes())[0]["@metadata"].(map[string]any)["_id"].(string); a[id] == nil {
		t.Fatalf("parse's _id %s is not among the Lambda's", id)
	}
}

// Linked files and directories in a directory source are shipped; a link loop and a
// broken link are named in the summary, and the run still succeeds.
func TestSymlinkedFilesAreShippedAndSkipsNamed(t *testing.T) {
	root, outside := t.TempDir(), t.TempDir()
	a, offsA := classicLines(10)
	b, offsB := classicLines(20)
	c, offsC := classicLines(30)
	os.WriteFile(filepath.Join(root, "a.log"), a, 0o644)
	os.WriteFile(filepath.Join(outside, "b.log"), b, 0o644)
	os.Mkdir(filepath.Join(outside, "more"), 0o755)
	os.WriteFile(filepath.Join(outside, "more", "c.log"), c, 0o644)
	for link, target := range map[string]string{
		"b.log":    filepath.Join(outside, "b.log"),
		"more":     filepath.Join(outside, "more"),
		"loop":     root,
		"gone.log": filepath.Join(outside, "nothing-here.log"),
	} {
		if err := os.Symlink(target, filepath.Join(root, link)); err != nil {
			t.Fatal(err)
		}
	}
	ls := logstashtest.New(t, logstashtest.Options{})
	e, _, errb := testEnv(nil)
	if code := run(context.Background(), e, []string{"ingest", root, "--to", ls.URL}); code != 0 {
		t.Fatalf("exit %d: %s", code, errb)
	}
	for key, offs := range map[string][]int64{"a.log": offsA, "b.log": offsB, "more/c.log": offsC} {
		for _, off := range offs {
			if ls.Deliveries(elblog.DocumentID("", key, off)) != 1 {
				t.Fatalf("%s line at %d not shipped once", key, off)
			}
		}
	}
	if n := len(ls.Docs()); n != 60 {
		t.Fatalf("%d documents, want 60", n)
	}
	s := errb.String()
	if !strings.Contains(s, "skipped 2 (not shipped)") || !strings.Contains(s, filepath.Join(root, "loop")+": symbolic link loop") || !strings.Contains(s, filepath.Join(root, "gone.log")+": broken symbolic link") {
		t.Fatalf("summary does not name the loop and the broken link: %s", s)
	}
}

// A local file resumes like an S3 object: a plain one from its offset, a gzip one by
// skipping, never re-shipping a line.
func TestLocalFilesResumeWithoutReshipping(t *testing.T) {
	for _, compress := range []bool{false, true} {
		ls := logstashtest.New(t, logstashtest.Options{})
		body, offs := classicLines(2000)
		path := filepath.Join(t.TempDir(), "web.log")
		if compress {
			body = gzipped(t, body)
		}
		os.WriteFile(path, body, 0o644)
		local := newLocalFiles(nil)
		obj := ingest.Object{Key: "web.log"}
		local.add(obj, path)
		cfg := ingest.Config{
			Getter: local,
			NewIndexer: func(o ingest.Object) (logstash.Indexer, error) {
				return logstash.NewIndexer(logstash.Config{URL: ls.URL})
			},
		}
		start := time.Now()
		var ticks atomic.Int64
		first := cfg
		first.StopAt = start.Add(2 * time.Second)
		first.Clock = func() time.Time { return start.Add(time.Duration(ticks.Add(1)) * time.Second) }
		res, err := ingest.Run(context.Background(), obj, first)
		if err != nil || res.Continue == nil || res.Continue.Offset <= 0 {
			t.Fatalf("gzip %v: first run %+v, %v; want a continuation", compress, res, err)
		}
		if _, err := ingest.Run(context.Background(), *res.Continue, cfg); err != nil {
			t.Fatal(err)
		}
		for _, off := range offs {
			if ls.Deliveries(elblog.DocumentID("", "web.log", off)) != 1 {
				t.Fatalf("gzip %v: line at %d delivered %d times", compress, off, ls.Deliveries(elblog.DocumentID("", "web.log", off)))
			}
		}
		if len(ls.Docs()) != len(offs) {
			t.Fatalf("gzip %v: %d documents, want %d", compress, len(ls.Docs()), len(offs))
		}
	}
}

// A load balancer logging under a prefix writes <prefix>/AWSLogs/…: a download of that tree
// ingested with --bucket and --key-prefix gets the ids and aws.s3.object.key the Lambda
// gives the S3 object, and parse agrees; without the prefix the ids differ (they must).
func TestKeyPrefixMakesTheLambdasKeys(t *testing.T) {
	key := "AWSLogs/123456789012/elasticloadbalancing/eu-west-1/2026/11/25/123456789012_elasticloadbalancing_eu-west-1_web_20261125T1200Z_10.0.1.7_a1b2.log"
	body, offs := classicLines(12)
	dl := filepath.Join(t.TempDir(), "downloads")
	path := filepath.Join(dl, filepath.FromSlash(key))
	os.MkdirAll(filepath.Dir(path), 0o755)
	os.WriteFile(path, body, 0o644)
	for _, prefix := range []string{"prod/web", "prod/web/"} {
		ls := logstashtest.New(t, logstashtest.Options{})
		e, _, errb := testEnv(nil)
		if code := run(context.Background(), e, []string{"ingest", dl, "--bucket", "elb-logs", "--key-prefix", prefix, "--to", ls.URL}); code != 0 {
			t.Fatalf("--key-prefix %q: exit %d: %s", prefix, code, errb)
		}
		docs := ls.Docs()
		if len(docs) != len(offs) {
			t.Fatalf("--key-prefix %q: %d documents, want %d", prefix, len(docs), len(offs))
		}
		for _, off := range offs {
			doc, ok := docs[elblog.DocumentID("elb-logs", "prod/web/"+key, off)]
			if !ok {
				t.Fatalf("--key-prefix %q: no document with the Lambda's id for the line at %d", prefix, off)
			}
			if !bytes.Contains(doc, []byte(`"key":"prod/web/`+key+`"`)) {
				t.Fatalf("--key-prefix %q: aws.s3.object.key is not the S3 key: %s", prefix, doc)
			}
		}
		e, out, errb := testEnv(nil)
		if code := run(context.Background(), e, []string{"parse", "-bucket", "elb-logs", "-key-prefix", prefix, path}); code != 0 {
			t.Fatalf("parse --key-prefix %q: exit %d: %s", prefix, code, errb)
		}
		if id := ndjson(t, out.Bytes())[0]["@metadata"].(map[string]any)["_id"].(string); docs[id] == nil {
			t.Fatalf("parse --key-prefix %q: _id %s is not ingest's", prefix, id)
		}
	}
	ls := logstashtest.New(t, logstashtest.Options{})
	e, _, errb := testEnv(nil)
	if code := run(context.Background(), e, []string{"ingest", dl, "--bucket", "elb-logs", "--to", ls.URL}); code != 0 {
		t.Fatalf("without --key-prefix: exit %d: %s", code, errb)
	}
	if _, ok := ls.Docs()[elblog.DocumentID("elb-logs", "prod/web/"+key, offs[0])]; ok {
		t.Fatal("without --key-prefix the ids must be those of the unprefixed key")
	}
}
