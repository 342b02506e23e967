package ingest

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/logferry/logferry/shared/elblog/loggen"
	"github.com/logferry/logferry/shared/logstash"
	"github.com/logferry/logferry/shared/s3test"
)

// BenchmarkRun measures the whole path — S3 GET through the real SDK, gunzip, lines,
// parse+encode, batching, gzip, HTTP POST — per object of 20,000 ALB lines. The receiver
// only drains the body and answers 200 (Logstash's own cost is not ours); SetBytes is the
// decompressed size, so MB/s compares with `gzip -dc`.
func BenchmarkRun(b *testing.B) {
	g, err := loggen.New("alb", 1)
	if err != nil {
		b.Fatal(err)
	}
	var raw []byte
	for range 20000 {
		raw = append(g.Append(raw), '\n')
	}
	s := s3test.New(b)
	s.CreateBucket(b, bucket)
	s.Put(b, bucket, albKey, gz(b, raw))
	drain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Write([]byte("ok"))
	}))
	b.Cleanup(drain.Close)
	client := drain.Client()
	cfg := Config{
		Getter: s.Client,
		NewIndexer: func(o Object) (logstash.Indexer, error) {
			return logstash.NewIndexer(logstash.Config{URL: drain.URL, HTTPClient: client, Source: logstash.Source{Bucket: o.Bucket, Key: o.Key}})
		},
		Logger: quiet,
	}
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		res, err := Run(context.Background(), Object{Bucket: bucket, Key: albKey}, cfg)
		if err != nil || res.Sink.Sent != 20000 {
			b.Fatalf("sent %d: %v", res.Sink.Sent, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*20000), "ns/line")
}
