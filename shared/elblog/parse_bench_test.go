package elblog

import (
	"testing"

	"github.com/logferry/logferry/shared/elblog/loggen"
)

// genLines returns n generated lines of format (internal tests cannot use bench_test.go's sample).
func genLines(tb testing.TB, format string, n int) [][]byte {
	tb.Helper()
	g, err := loggen.New(format, 1)
	if err != nil {
		tb.Fatal(err)
	}
	out := make([][]byte, n)
	for i := range out {
		out[i] = g.Append(nil)
	}
	return out
}

// benchLines runs fn over 4096 generated lines of each format, reporting MB/s of input.
func benchLines(b *testing.B, fn func(e *Encoder, line []byte)) {
	for _, format := range loggen.Formats {
		b.Run(format, func(b *testing.B) {
			lines := genLines(b, format, 4096)
			var total int
			for _, l := range lines {
				total += len(l) + 1
			}
			e := NewEncoder(Source{Bucket: "logs", Key: "k"})
			b.SetBytes(int64(total / len(lines)))
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				fn(e, lines[i&4095])
				i++
			}
		})
	}
}

// BenchmarkParse is Append's parse half alone (tokenize and validate into e.rec, no
// encoding), so that parse and encode costs can be told apart.
func BenchmarkParse(b *testing.B) {
	benchLines(b, func(e *Encoder, line []byte) {
		e.rec = record{}
		if err := e.parse(line); err != nil {
			b.Fatal(err)
		}
	})
}

// BenchmarkTokenize is the field splitting alone.
func BenchmarkTokenize(b *testing.B) {
	benchLines(b, func(e *Encoder, line []byte) {
		if _, _, err := tokenize(line, &e.fields); err != nil {
			b.Fatal(err)
		}
	})
}

// BenchmarkSplitURL is url.* splitting alone, over the URLs of generated ALB lines.
func BenchmarkSplitURL(b *testing.B) {
	e := NewEncoder(Source{Bucket: "logs", Key: "k"})
	var urls [][]byte
	for _, l := range genLines(b, "alb", 1024) {
		e.rec = record{}
		if err := e.parse(l); err != nil {
			b.Fatal(err)
		}
		urls = append(urls, e.rec.url)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		e.splitURL(urls[i&1023])
		i++
	}
}

// BenchmarkHostPort is client:port and backend:port checking alone, over the values of
// generated ALB lines ("-" included, as logged).
func BenchmarkHostPort(b *testing.B) {
	e := NewEncoder(Source{Bucket: "logs", Key: "k"})
	var vs [][]byte
	for _, l := range genLines(b, "alb", 512) {
		n, _, err := tokenize(l, &e.fields)
		if err != nil || n < 5 {
			b.Fatalf("generated line: %d fields, %v", n, err)
		}
		vs = append(vs, e.fields.get(3), e.fields.get(4))
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, _, err := e.hostPort("client:port", vs[i&1023]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
