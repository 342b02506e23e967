//go:build unix

package ingest

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"

	"github.com/logferry/logferry/shared/elblog/loggen"
	"github.com/logferry/logferry/shared/logstash"
	"github.com/logferry/logferry/shared/s3test"
)

// BenchmarkRunMirror is BenchmarkRun's path without and with a healthy mirror (a second
// draining receiver getting every batch through logstash.NewMirrored): the mirror's cost
// on the primary's throughput. Compare the two with benchstat.
func BenchmarkRunMirror(b *testing.B) {
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
	newDrain := func() *httptest.Server {
		d := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			w.Write([]byte("ok"))
		}))
		b.Cleanup(d.Close)
		return d
	}
	primary, mirror := newDrain(), newDrain()
	for _, tc := range []struct {
		name   string
		mirror bool
	}{{"mirror=none", false}, {"mirror=healthy", true}} {
		b.Run(tc.name, func(b *testing.B) {
			cfg := Config{
				Getter: s.Client,
				NewIndexer: func(o Object) (logstash.Indexer, error) {
					src := logstash.Source{Bucket: o.Bucket, Key: o.Key}
					ix, err := logstash.NewIndexer(logstash.Config{URL: primary.URL, HTTPClient: primary.Client(), Source: src})
					if err != nil || !tc.mirror {
						return ix, err
					}
					return logstash.NewMirrored(ix, logstash.MirrorConfig{Config: logstash.Config{URL: mirror.URL, HTTPClient: mirror.Client(), Source: src}})
				},
				Logger: quiet,
			}
			b.SetBytes(int64(len(raw)))
			b.ReportAllocs()
			cpu0 := cpuTime()
			b.ResetTimer()
			for range b.N {
				res, err := Run(context.Background(), Object{Bucket: bucket, Key: albKey}, cfg)
				if err != nil || res.Sink.Sent != 20000 || (tc.mirror && res.Sink.Mirror.Sent != 20000) {
					b.Fatalf("sent %d, mirror %d: %v", res.Sink.Sent, res.Sink.Mirror.Sent, err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*20000), "ns/line")
			// CPU spent by the process (user + system) per line: the mirror's cost even when
			// other work on the machine makes the elapsed time noisy.
			b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N*20000), "cpu-ns/line")
		})
	}
}

// cpuTime is the process's user + system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
