package elblog_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/logferry/logferry/shared/elblog"
	"github.com/logferry/logferry/shared/elblog/loggen"
	"github.com/logferry/logferry/shared/lines"
)

const benchKey = "AWSLogs/123456789012/elasticloadbalancing/us-east-1/2024/05/01/123456789012_elasticloadbalancing_us-east-1_app.shop-prod-alb.50dc6c495c0c9188_20240501T0005Z_10.0.0.1_2lj5d1oa.log.gz"

// sample returns n generated lines of format.
func sample(tb testing.TB, format string, n int) [][]byte {
	tb.Helper()
	g, err := loggen.New(format, 1)
	if err != nil {
		tb.Fatal(err)
	}
	lines := make([][]byte, n)
	for i := range lines {
		lines[i] = g.Append(nil)
	}
	return lines
}

// Every generated line of every format parses, and Append allocates nothing once the
// destination buffer has grown.
func TestAppendZeroAllocs(t *testing.T) {
	for _, format := range loggen.Formats {
		t.Run(format, func(t *testing.T) {
			lines := sample(t, format, 2000)
			e := elblog.NewEncoder(elblog.Source{Bucket: "logs", Key: benchKey})
			buf := make([]byte, 0, 64<<10)
			for i, l := range lines {
				out, res := e.Append(buf[:0], l, int64(i))
				if res.Err != nil {
					t.Fatalf("generated line %d does not parse: %v\n%s", i, res.Err, l)
				}
				if !json.Valid(out) {
					t.Fatalf("invalid JSON: %s", out)
				}
			}
			i := 0
			allocs := testing.AllocsPerRun(1000, func() {
				buf, _ = e.Append(buf[:0], lines[i%len(lines)], int64(i))
				i++
			})
			if allocs != 0 {
				t.Errorf("%v allocs per Append, want 0", allocs)
			}
		})
	}
}

func TestGeneratorDeterministic(t *testing.T) {
	for _, format := range loggen.Formats {
		a, b := sample(t, format, 100), sample(t, format, 100)
		for i := range a {
			if !bytes.Equal(a[i], b[i]) {
				t.Fatalf("%s line %d differs between runs with the same seed", format, i)
			}
		}
	}
	if _, err := loggen.New("apache", 1); err == nil || !strings.Contains(err.Error(), "apache") {
		t.Errorf("unknown format error = %v", err)
	}
}

// BenchmarkAppend is parse+encode per line; SetBytes is the input line size, so MB/s
// compares directly with decompression throughput.
func BenchmarkAppend(b *testing.B) {
	for _, format := range loggen.Formats {
		b.Run(format, func(b *testing.B) {
			lines := sample(b, format, 4096)
			var total int
			for _, l := range lines {
				total += len(l) + 1
			}
			e := elblog.NewEncoder(elblog.Source{Bucket: "logs", Key: benchKey})
			buf := make([]byte, 0, 64<<10)
			b.SetBytes(int64(total / len(lines)))
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				buf, _ = e.Append(buf[:0], lines[i&4095], int64(i))
				i++
			}
		})
	}
}

func FuzzAppend(f *testing.F) {
	for _, format := range loggen.Formats {
		for _, l := range sample(f, format, 20) {
			f.Add(string(l))
		}
	}
	f.Add(`http 2018-07-02T22:23:00.186641Z app/lb/1 [::1]:2817 - -1 -1 -1 200 - 0 0 "GET http://[::1]:80/a b?c#d HTTP/1.1" "\"" - -`)
	f.Add("\xff\x00\"\\")
	e := elblog.NewEncoder(elblog.Source{Bucket: "b", Key: "AWSLogs/1/elasticloadbalancing/r/k.log"})
	f.Fuzz(func(t *testing.T, line string) {
		out, res := e.Append(nil, []byte(line), 5)
		if !json.Valid(out) {
			t.Fatalf("invalid JSON for %q:\n%s", line, out)
		}
		var m map[string]any
		if err := json.Unmarshal(out, &m); err != nil {
			t.Fatal(err)
		}
		if res.Err != nil {
			ev, _ := m["event"].(map[string]any)
			if _, ok := ev["original"]; !ok {
				t.Fatalf("failed line without event.original: %s", out)
			}
			if tags, _ := m["tags"].([]any); len(tags) != 1 || tags[0] != "_elb_parse_failure" {
				t.Fatalf("failed line without the failure tag: %s", out)
			}
			if er, _ := m["error"].(map[string]any); er["message"] == nil {
				t.Fatalf("failed line without error.message: %s", out)
			}
		} else if _, ok := m["tags"]; ok {
			t.Fatalf("good line tagged: %s", out)
		}
	})
}

// BenchmarkObject is what `logferry parse` does per object, without the output write:
// gunzip → lines → Append, over 8 MB of generated lines. SetBytes is the decompressed size.
func BenchmarkObject(b *testing.B) {
	for _, format := range loggen.Formats {
		b.Run(format, func(b *testing.B) {
			g, _ := loggen.New(format, 2)
			var plain []byte
			nlines := 0
			for len(plain) < 8<<20 {
				plain = append(g.Append(plain), '\n')
				nlines++
			}
			var z bytes.Buffer
			zw := gzip.NewWriter(&z)
			zw.Write(plain)
			zw.Close()
			e := elblog.NewEncoder(elblog.Source{Bucket: "logs", Key: benchKey})
			buf := make([]byte, 0, 64<<10)
			b.SetBytes(int64(len(plain)))
			b.ReportAllocs()
			for b.Loop() {
				lr, err := lines.NewReader(bytes.NewReader(z.Bytes()), lines.Options{})
				if err != nil {
					b.Fatal(err)
				}
				for {
					line, off, err := lr.Next()
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
					buf, _ = e.Append(buf[:0], line, off)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*nlines), "ns/line")
		})
	}
}
