package logstash_test

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/logferry/logferry/shared/logstash"
	"github.com/logferry/logferry/shared/logstash/logstashtest"
)

// realisticDocs returns ALB-like ECS documents whose varying fields (ids, addresses,
// timings, paths) make gzip work about as hard as it does on real logs.
func realisticDocs(n int) ([][]byte, int) {
	r := rand.New(rand.NewPCG(1, 2))
	docs := make([][]byte, n)
	size := 0
	for i := range docs {
		docs[i] = fmt.Appendf(nil, `{"@timestamp":"2026-11-25T10:%02d:%02d.%06dZ","@metadata":{"_id":"%016x%016x"},`+
			`"cloud":{"provider":"aws","region":"eu-west-1","account":{"id":"123456789012"}},`+
			`"aws":{"elb":{"name":"app/my-alb/50dc6c495c0c9188","type":"https","target_port":["10.0.%d.%d:8080"],`+
			`"request_processing_time":{"sec":0.00%d},"backend_processing_time":{"sec":0.0%d},"response_processing_time":{"sec":0.00%d},`+
			`"trace_id":"Root=1-%08x-%024x"}},"source":{"ip":"%d.%d.%d.%d","port":%d},`+
			`"http":{"request":{"method":"GET","bytes":%d},"response":{"status_code":%d,"bytes":%d},"version":"1.1"},`+
			`"url":{"original":"https://example.com:443/api/v1/items/%d?page=%d","path":"/api/v1/items/%d","domain":"example.com"},`+
			`"user_agent":{"original":"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/%d.0"},`+
			`"event":{"dataset":"aws.elb_logs","kind":"event"},"log":{"file":{"path":"s3://logs/AWSLogs/123456789012/elasticloadbalancing/x.log.gz"}}}`,
			r.IntN(60), r.IntN(60), r.IntN(1e6), r.Uint64(), r.Uint64(),
			r.IntN(256), r.IntN(256), r.IntN(1000), r.IntN(1000), r.IntN(1000),
			r.Uint32(), r.Uint64(), r.IntN(256), r.IntN(256), r.IntN(256), r.IntN(256), 1024+r.IntN(60000),
			r.IntN(2000), []int{200, 200, 200, 304, 404, 500}[r.IntN(6)], r.IntN(100000),
			r.IntN(1e6), r.IntN(50), r.IntN(1e6), 100+r.IntN(30))
		size += len(docs[i])
	}
	return docs, size
}

func benchIndexer(b *testing.B, url string, cfg logstash.Config) {
	docs, size := realisticDocs(4096)
	cfg.URL = url
	ix, err := logstash.NewIndexer(cfg)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.SetBytes(int64(size / len(docs)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := ix.Add(ctx, docs[i%len(docs)]); err != nil {
			b.Fatal(err)
		}
	}
	if err := ix.Close(ctx); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	st := ix.Stats()
	if st.Sent != uint64(b.N) {
		b.Fatalf("sent %d of %d", st.Sent, b.N)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "docs/s")
	b.ReportMetric(float64(st.BytesSent)/float64(b.N), "wire-B/doc")
}

var codecs = []struct {
	name string
	cfg  logstash.Config
}{
	{"json-gzip", logstash.Config{}},
	{"json_lines-gzip", logstash.Config{Codec: logstash.CodecJSONLines}},
	{"json-nogzip", logstash.Config{DisableGzip: true}},
}

// BenchmarkIndexer measures the sink end to end against the stand-in over loopback:
// Add, batching, gzip, HTTP, and the stand-in decoding and storing every document by id.
// The stand-in's JSON decoding shares the same 2 cores, so this is a lower bound.
func BenchmarkIndexer(b *testing.B) {
	for _, bc := range codecs {
		b.Run(bc.name, func(b *testing.B) {
			srv := logstashtest.New(b, logstashtest.Options{Codecs: map[string]string{
				"application/json": "json", "application/x-ndjson": "json_lines"}})
			benchIndexer(b, srv.URL, bc.cfg)
		})
	}
}

// BenchmarkIndexerSinkOnly isolates the sink's own cost: the receiver only drains the
// body and answers 200, so time and allocations are the sink's (and net/http's).
func BenchmarkIndexerSinkOnly(b *testing.B) {
	for _, bc := range codecs {
		b.Run(bc.name, func(b *testing.B) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.Copy(io.Discard, r.Body)
				io.WriteString(w, "ok")
			}))
			b.Cleanup(srv.Close)
			benchIndexer(b, srv.URL, bc.cfg)
		})
	}
}
