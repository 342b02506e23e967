package gunzip

import (
	"bytes"
	stdgzip "compress/gzip"
	"io"
	"os"
	"sync"
	"testing"

	kgzip "github.com/klauspost/compress/gzip"

	"github.com/logferry/logferry/shared/elblog/loggen"
)

// logs returns ~8 MB of loggen lines of format, and their gzip -6 compression (what AWS
// writes is gzip's default level), generated once per format.
var logs = sync.OnceValue(func() map[string][2][]byte {
	m := map[string][2][]byte{}
	for _, f := range loggen.Formats {
		g, _ := loggen.New(f, 1)
		var plain []byte
		for len(plain) < 8<<20 {
			plain = append(g.Append(plain), '\n')
		}
		var c bytes.Buffer
		w, _ := stdgzip.NewWriterLevel(&c, 6)
		w.Write(plain)
		w.Close()
		m[f] = [2][]byte{plain, c.Bytes()}
	}
	return m
})

// BenchmarkDecompress compares this package with klauspost/compress/gzip (what shared/lines
// used before) and compress/gzip on each log format; SetBytes is the decompressed size.
func BenchmarkDecompress(b *testing.B) {
	readers := []struct {
		name string
		open func(io.Reader) (io.Reader, error)
	}{
		{"gunzip", func(r io.Reader) (io.Reader, error) { return NewReader(r) }},
		{"klauspost", func(r io.Reader) (io.Reader, error) { return kgzip.NewReader(r) }},
		{"stdlib", func(r io.Reader) (io.Reader, error) { return stdgzip.NewReader(r) }},
	}
	for _, f := range loggen.Formats {
		plain, compressed := logs()[f][0], logs()[f][1]
		for _, rd := range readers {
			b.Run(f+"/"+rd.name, func(b *testing.B) {
				b.SetBytes(int64(len(plain)))
				buf := make([]byte, 128<<10)
				for b.Loop() {
					r, err := rd.open(bytes.NewReader(compressed))
					if err != nil {
						b.Fatal(err)
					}
					n, err := io.CopyBuffer(io.Discard, struct{ io.Reader }{r}, buf)
					if err != nil || n != int64(len(plain)) {
						b.Fatalf("%d bytes, %v", n, err)
					}
				}
			})
		}
	}
}

// TestDecompressFile decompresses $GUNZIP_BENCH_FILE once, for instruction counts of a
// fixed amount of work (scripts/bench-instructions.sh); it is skipped without it.
func TestDecompressFile(t *testing.T) {
	name := os.Getenv("GUNZIP_BENCH_FILE")
	if name == "" {
		t.Skip("GUNZIP_BENCH_FILE not set")
	}
	compressed, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	z, err := NewReader(bytes.NewReader(compressed))
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.CopyBuffer(io.Discard, struct{ io.Reader }{z}, make([]byte, 128<<10))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: %d bytes", name, n)
}
