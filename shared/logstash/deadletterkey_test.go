package logstash_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/logferry/logferry/shared/logstash"
	"github.com/logferry/logferry/shared/logstash/logstashtest"
	"github.com/logferry/logferry/shared/s3test"
)

// S3 keys are at most 1,024 bytes; a dead letter named after a long source key must
// still be storable, and replayable, with the full key in its header.
func TestDeadLetterKeyNeverExceeds1024Bytes(t *testing.T) {
	s3srv := s3test.New(t)
	s3srv.CreateBucket(t, "dead")
	const prefix = "logferry/failed/"
	dl, err := logstash.NewS3DeadLetter(s3srv.Client, "dead", prefix)
	if err != nil {
		t.Fatal(err)
	}
	srv := logstashtest.New(t, logstashtest.Options{})
	srv.Script(logstashtest.Fault{Status: 503, Times: 1000})
	dir := "AWSLogs/123456789012/elasticloadbalancing/eu-west-1/2026/11/25/"
	sources := []logstash.Source{
		{Bucket: "elb-logs", Key: dir + strings.Repeat("a", 1003-len(dir))},         // 1,003 bytes: 1,076 before
		{Bucket: "elb-logs", Key: dir + strings.Repeat("a", 1003-len(dir)-1) + "b"}, // differs only at the end
		{Bucket: "elb-logs", Key: strings.Repeat("é %/", 250)},                      // 1,250 bytes, escaping triples most
		{Bucket: "elb-logs", Key: strings.Repeat("../", 340)},                       // dot segments
	}
	n := 0
	for _, src := range sources {
		ix := newIndexer(t, logstash.Config{URL: srv.URL, MaxRetries: 1, DeadLetter: dl, Source: src})
		addAll(t, ix, n, n+10)
		n += 10
		var de *logstash.DeliveryError
		if err := ix.Close(context.Background()); !errors.As(err, &de) || de.DeadLettered != 10 {
			t.Fatalf("%.40s…: Close = %v; want 10 dead-lettered", src.Key, err)
		}
	}
	keys := s3srv.List(t, "dead", "")
	if len(keys) != len(sources) {
		t.Fatalf("%d dead letters, want %d: %q", len(keys), len(sources), keys)
	}
	dirs := map[string]bool{}
	got := map[logstash.Source]bool{}
	for _, k := range keys {
		if len(k) > logstash.MaxKeyBytes {
			t.Errorf("key of %d bytes (> %d): %.80s…", len(k), logstash.MaxKeyBytes, k)
		}
		if !strings.HasPrefix(k, prefix) || strings.Contains(k, "/../") || strings.Contains(k, "//") {
			t.Errorf("key %q leaves its prefix or has empty/dot segments", k)
		}
		dirs[k[:strings.LastIndexByte(k, '/')]] = true
		fb, err := logstash.ReadFailedBatch(bytes.NewReader(s3srv.Get(t, "dead", k)))
		if err != nil {
			t.Fatal(err)
		}
		got[fb.Source] = true
	}
	for _, src := range sources {
		if !got[src] {
			t.Errorf("no dead-letter header holds the full source %.60s… (%d bytes)", src.Key, len(src.Key))
		}
	}
	if len(dirs) != len(sources) {
		t.Errorf("distinct sources share a folder: %d folders for %d sources", len(dirs), len(sources))
	}

	srv.ClearScript()
	s3src, err := logstash.NewS3Source(s3srv.Client, "dead", prefix)
	if err != nil {
		t.Fatal(err)
	}
	st, err := logstash.Replay(context.Background(), s3src, fastRetries(logstash.Config{URL: srv.URL}))
	if err != nil || st.Replayed != len(sources) || st.Sent != uint64(n) {
		t.Fatalf("replay: %+v, %v; want %d batches and %d documents delivered", st, err, len(sources), n)
	}
	for i := range n {
		if srv.Deliveries(id(i)) != 1 {
			t.Errorf("%s delivered %d times, want once", id(i), srv.Deliveries(id(i)))
		}
	}
	if left := s3srv.List(t, "dead", ""); len(left) != 0 {
		t.Errorf("left after replay: %q", left)
	}
}

func TestDeadLetterKeyPrefixTooLongRefused(t *testing.T) {
	s3srv := s3test.New(t)
	if _, err := logstash.NewS3DeadLetter(s3srv.Client, "dead", strings.Repeat("p", 1000)); err == nil || !strings.Contains(err.Error(), "1024") {
		t.Fatalf("a 1,000-byte prefix: got %v, want a refusal naming S3's 1024-byte limit", err)
	}
}

// Replay reads a stored batch whole; what it reads is capped, stored and decompressed, so
// an object someone else put under the prefix cannot take the replaying process's memory.
func TestDeadLetterReadIsCapped(t *testing.T) {
	defer logstash.SetMaxStoredBatchBytes(1 << 20)()
	s3srv := s3test.New(t)
	s3srv.CreateBucket(t, "dead")
	big := make([]byte, 2<<20)
	rand.Read(big) // incompressible: 2 MiB stored
	s3srv.Put(t, "dead", "p/2026/11/25/big"+logstash.Ext, big)
	var bomb bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&bomb, gzip.BestCompression)
	zw.Write([]byte(`{"logferry_dead_letter":1,"docs":1}` + "\n"))
	zw.Write(bytes.Repeat([]byte{' '}, 4<<20)) // 4 MiB decompressed from a few KiB
	zw.Close()
	s3srv.Put(t, "dead", "p/2026/11/25/bomb"+logstash.Ext, bomb.Bytes())

	src, err := logstash.NewS3Source(s3srv.Client, "dead", "p/")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"2026/11/25/big" + logstash.Ext, "2026/11/25/bomb" + logstash.Ext} {
		_, err := src.Get(context.Background(), name)
		if !errors.Is(err, logstash.ErrBatchTooLarge) || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: got %v, want ErrBatchTooLarge naming the object", name, err)
		}
	}
	srv := logstashtest.New(t, logstashtest.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := logstash.Replay(ctx, src, logstash.Config{URL: srv.URL})
	if err == nil || st.Kept != 2 || len(s3srv.List(t, "dead", "")) != 2 {
		t.Errorf("replay of oversized objects: %+v, %v; want both kept, with an error", st, err)
	}
}
