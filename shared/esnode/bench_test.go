package esnode

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
)

// BenchmarkStartToHealthy measures a warm start (launcher already built): JVM exec to a yellow
// cluster. It also reports the JVM's resident memory when idle and after a small reindex
// (5,000 docs); stopping is not timed. Run: go test -run '^$' -bench StartToHealthy -benchtime 5x
func BenchmarkStartToHealthy(b *testing.B) {
	if testing.Short() {
		b.Skip("starts a JVM")
	}
	var idleMB, reindexMB float64
	for i := 0; i < b.N; i++ {
		b.StartTimer()
		n, err := Start(context.Background(), Options{})
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		time.Sleep(2 * time.Second) // let start-up garbage settle before calling it idle
		idleMB += rssMB(b, n.PID())
		es, err := elasticsearch.NewClient(elasticsearch.Config{Addresses: []string{n.URL}})
		if err != nil {
			b.Fatal(err)
		}
		seedB(b, es, "bench-src", 5000)
		resp, err := es.Reindex(strings.NewReader(`{"source":{"index":"bench-src"},"dest":{"index":"bench-dst"}}`),
			es.Reindex.WithWaitForCompletion(true), es.Reindex.WithRefresh(true))
		if err != nil || resp.IsError() {
			b.Fatalf("reindex: %v %v", err, resp)
		}
		resp.Body.Close()
		reindexMB += rssMB(b, n.PID())
		if err := n.Stop(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(idleMB/float64(b.N), "idle-RSS-MB")
	b.ReportMetric(reindexMB/float64(b.N), "reindex-RSS-MB")
}

func seedB(b *testing.B, es *elasticsearch.Client, index string, n int) {
	b.Helper()
	var sb strings.Builder
	for i := 0; i < n; i++ {
		sb.WriteString(`{"index":{}}` + "\n" + `{"message":"GET /index.html 200","n":` + strconv.Itoa(i) + "}\n")
	}
	resp, err := es.Bulk(strings.NewReader(sb.String()), es.Bulk.WithIndex(index), es.Bulk.WithRefresh("true"))
	if err != nil || resp.IsError() {
		b.Fatalf("bulk: %v %v", err, resp)
	}
	resp.Body.Close()
}

// rssMB reads VmRSS of pid from procfs.
func rssMB(b *testing.B, pid int) float64 {
	b.Helper()
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		b.Skipf("no procfs: %v", err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, err := strconv.ParseFloat(f[1], 64)
			if err != nil {
				b.Fatalf("VmRSS %q: %v", line, err)
			}
			return kb / 1024
		}
	}
	b.Fatalf("no VmRSS in /proc/%d/status", pid)
	return 0
}
