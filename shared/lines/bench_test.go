package lines

import (
	"bytes"
	stdgzip "compress/gzip"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"testing"
)

// benchInput is ~16 MiB of access-log-like lines, gzip-compressed, so that the
// ratio and line lengths resemble real ELB objects.
func benchInput(b *testing.B) (plain, compressed []byte) {
	b.Helper()
	rng := rand.New(rand.NewPCG(7, 7))
	var p bytes.Buffer
	for p.Len() < 16<<20 {
		fmt.Fprintf(&p, `https 2024-05-01T00:%02d:%02d.%06dZ app/my-alb/50dc6c495c0c9188 10.%d.%d.%d:%d 172.31.%d.%d:8080 0.%03d 0.%03d 0.000 200 200 %d %d "GET https://shop.example.com:443/api/v1/items/%d?page=%d HTTP/1.1" "Mozilla/5.0 (X11; Linux x86_64)" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/73e2d6bc24d8a067 "Root=1-%08x-%024x" "shop.example.com" "arn:aws:acm:us-east-1:123456789012:certificate/abc" 1 2024-05-01T00:00:00.000000Z "forward" "-" "-" "172.31.1.2:8080" "200" "-" "-" TID_%016x`+"\n",
			rng.IntN(60), rng.IntN(60), rng.IntN(1e6), rng.IntN(256), rng.IntN(256), rng.IntN(256), 1024+rng.IntN(60000),
			rng.IntN(256), rng.IntN(256), rng.IntN(1000), rng.IntN(1000), 100+rng.IntN(900), 200+rng.IntN(50000), rng.IntN(100000), rng.IntN(20),
			rng.Uint32(), rng.Uint64(), rng.Uint64())
	}
	var c bytes.Buffer
	w, _ := stdgzip.NewWriterLevel(&c, stdgzip.DefaultCompression)
	w.Write(p.Bytes())
	w.Close()
	return p.Bytes(), c.Bytes()
}

func drain(b *testing.B, r *Reader) {
	for {
		_, _, err := r.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReader measures lines per decompressed byte (SetBytes is the decompressed size).
func BenchmarkReader(b *testing.B) {
	plain, compressed := benchInput(b)
	b.Run("plain", func(b *testing.B) {
		b.SetBytes(int64(len(plain)))
		b.ReportAllocs()
		for b.Loop() {
			r, err := NewReader(bytes.NewReader(plain), Options{})
			if err != nil {
				b.Fatal(err)
			}
			drain(b, r)
		}
	})
	for _, concurrent := range []bool{false, true} {
		name := "gzip"
		if concurrent {
			name = "gzip-concurrent"
		}
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(plain)))
			b.ReportAllocs()
			for b.Loop() {
				r, err := NewReader(bytes.NewReader(compressed), Options{Concurrent: concurrent})
				if err != nil {
					b.Fatal(err)
				}
				drain(b, r)
				r.Close()
			}
		})
	}
}

// The decompressors themselves are compared in shared/gunzip (BenchmarkDecompress).

// BenchmarkReaderFile reads the object LINES_BENCH_FILE names line by line and nothing
// more: scripts/bench-parse.sh times it beside gzip -dc as the floor under logferry parse
// (decompression and line splitting, no parsing). Skipped when the variable is unset.
func BenchmarkReaderFile(b *testing.B) {
	path := os.Getenv("LINES_BENCH_FILE")
	if path == "" {
		b.Skip("LINES_BENCH_FILE is not set")
	}
	for b.Loop() {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		r, err := NewReader(f, Options{})
		if err != nil {
			b.Fatal(err)
		}
		drain(b, r)
		r.Close()
		f.Close()
	}
}
