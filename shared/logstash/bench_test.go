package logstash_test

import (
	"context"
	"testing"

	"github.com/logferry/logferry/shared/logstash"
	"github.com/logferry/logferry/shared/logstash/logstashtest"
)

// BenchmarkIndexer measures the sink end to end against the stand-in over loopback:
// Add, batching, gzip, HTTP, and the stand-in decoding and storing every document
// (the stand-in's JSON decoding dominates; the sink's own share shows in allocs/op).
func BenchmarkIndexer(b *testing.B) {
	for _, bc := range []struct {
		name string
		cfg  logstash.Config
	}{
		{"json-gzip", logstash.Config{}},
		{"json_lines-gzip", logstash.Config{Codec: logstash.CodecJSONLines}},
		{"json-plain", logstash.Config{DisableGzip: true}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			srv := logstashtest.New(b, logstashtest.Options{Codecs: map[string]string{
				"application/json": "json", "application/x-ndjson": "json_lines"}})
			docs := make([][]byte, 1000)
			var size int
			for i := range docs {
				docs[i] = doc(i)
				size += len(docs[i])
			}
			cfg := bc.cfg
			cfg.URL = srv.URL
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
		})
	}
}
