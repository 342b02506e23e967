package ingest

import (
	"context"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
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

// TestAllocationsDoNotGrowWithLines guards the streaming claim from the allocation side:
// shipping ten times the lines must not allocate per line (sink batches sized so that each
// object is one request, leaving only per-object costs).
func TestAllocationsDoNotGrowWithLines(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation counts need a quiet run")
	}
	s := s3test.New(t)
	s.CreateBucket(t, bucket)
	g, _ := loggen.New("alb", 2)
	var raw []byte
	sizes := map[int]string{}
	for n := 1; n <= 10000; n++ {
		raw = append(g.Append(raw), '\n')
		if n == 1000 || n == 10000 {
			key := fmt.Sprintf("AWSLogs/1/elasticloadbalancing/eu-west-1/2026/11/25/x_%d.log.gz", n)
			s.Put(t, bucket, key, gz(t, raw))
			sizes[n] = key
		}
	}
	drain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
	}))
	t.Cleanup(drain.Close)
	cfg := Config{
		Getter: s.Client,
		NewIndexer: func(o Object) (logstash.Indexer, error) {
			return logstash.NewIndexer(logstash.Config{URL: drain.URL, HTTPClient: drain.Client(), BatchDocs: 20000, BatchBytes: 64 << 20, Workers: 1})
		},
		Logger: quiet,
	}
	allocs := map[int]float64{}
	for n, key := range sizes {
		allocs[n] = testing.AllocsPerRun(3, func() {
			if _, err := Run(context.Background(), Object{Bucket: bucket, Key: key}, cfg); err != nil {
				t.Fatal(err)
			}
		})
	}
	perLine := (allocs[10000] - allocs[1000]) / 9000
	t.Logf("allocations per object: %.0f (1,000 lines), %.0f (10,000 lines): %.3f per extra line", allocs[1000], allocs[10000], perLine)
	if perLine > 0.05 {
		t.Fatalf("%.3f allocations per line: the path allocates per line", perLine)
	}
}

// BenchmarkRunSmallObjects ships 10 objects of 200 ALB lines each to an HTTPS receiver,
// the way an invocation with a batch of SQS messages does: "client=per-object" is each
// Indexer making its own client (a new connection and TLS handshake per object, as before
// the Shipper), "client=shared" is one client for all (what Shipper does).
func BenchmarkRunSmallObjects(b *testing.B) {
	g, err := loggen.New("alb", 1)
	if err != nil {
		b.Fatal(err)
	}
	var raw []byte
	for range 200 {
		raw = append(g.Append(raw), '\n')
	}
	s := s3test.New(b)
	s.CreateBucket(b, bucket)
	var keys []string
	for i := range 10 {
		k := fmt.Sprintf("AWSLogs/1/elasticloadbalancing/eu-west-1/2026/11/25/small_%02d.log.gz", i)
		s.Put(b, bucket, k, gz(b, raw))
		keys = append(keys, k)
	}
	drain := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Write([]byte("ok"))
	}))
	var conns atomic.Int64
	drain.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			conns.Add(1)
		}
	}
	drain.StartTLS()
	b.Cleanup(drain.Close)
	pem := pemCert(drain.Certificate().Raw)
	base := logstash.Config{URL: drain.URL, CACertPEM: pem}
	shared, err := logstash.NewHTTPClient(base, 3)
	if err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		client *http.Client
	}{{"client=per-object", nil}, {"client=shared", shared}} {
		b.Run(tc.name, func(b *testing.B) {
			cfg := Config{
				Getter: s.Client,
				NewIndexer: func(o Object) (logstash.Indexer, error) {
					c := base
					c.HTTPClient = tc.client
					return logstash.NewIndexer(c)
				},
				Logger: quiet,
			}
			b.SetBytes(int64(10 * len(raw)))
			b.ReportAllocs()
			conns.Store(0)
			for range b.N {
				for _, k := range keys {
					if res, err := Run(context.Background(), Object{Bucket: bucket, Key: k}, cfg); err != nil || res.Sink.Sent != 200 {
						b.Fatalf("sent %d: %v", res.Sink.Sent, err)
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*10), "ns/object")
			b.ReportMetric(float64(conns.Load())/float64(b.N*10), "conns/object")
		})
	}
}

func pemCert(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}
