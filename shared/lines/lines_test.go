package lines

import (
	"bytes"
	stdgzip "compress/gzip"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"testing/iotest"
)

type got struct {
	line    string
	off     int64
	tooLong *LineTooLongError
}

// readAll drains r, failing the test on any error other than io.EOF and *LineTooLongError.
func readAll(t *testing.T, r *Reader) []got {
	t.Helper()
	var out []got
	for {
		line, off, err := r.Next()
		if err == io.EOF {
			return out
		}
		var tl *LineTooLongError
		if err != nil && !errors.As(err, &tl) {
			t.Fatalf("Next after %d lines: %v", len(out), err)
		}
		out = append(out, got{string(line), off, tl})
	}
}

func gz(t testing.TB, members ...string) []byte {
	t.Helper()
	var b bytes.Buffer
	for _, m := range members {
		w := stdgzip.NewWriter(&b)
		if _, err := io.WriteString(w, m); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return b.Bytes()
}

func TestLines(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []got
	}{
		{"empty", "", nil},
		{"one line", "a\n", []got{{"a", 0, nil}}},
		{"no trailing newline", "a\nbc", []got{{"a", 0, nil}, {"bc", 2, nil}}},
		{"crlf", "a\r\nb\r\n", []got{{"a", 0, nil}, {"b", 3, nil}}},
		{"lone cr at end kept stripped", "a\r", []got{{"a", 0, nil}}},
		{"empty lines", "\n\nx\n", []got{{"", 0, nil}, {"", 1, nil}, {"x", 2, nil}}},
		{"cr inside line kept", "a\rb\n", []got{{"a\rb", 0, nil}}},
	}
	for _, tc := range tests {
		for _, compressed := range []bool{false, true} {
			name := tc.name
			in := []byte(tc.in)
			if compressed {
				name += "/gzip"
				in = gz(t, tc.in)
			}
			t.Run(name, func(t *testing.T) {
				r, err := NewReader(bytes.NewReader(in), Options{})
				if err != nil {
					t.Fatal(err)
				}
				if r.Compressed() != compressed {
					t.Errorf("Compressed() = %v, want %v", r.Compressed(), compressed)
				}
				g := readAll(t, r)
				if len(g) != len(tc.want) {
					t.Fatalf("got %d lines %+v, want %d", len(g), g, len(tc.want))
				}
				for i := range g {
					if g[i].line != tc.want[i].line || g[i].off != tc.want[i].off {
						t.Errorf("line %d = %q@%d, want %q@%d", i, g[i].line, g[i].off, tc.want[i].line, tc.want[i].off)
					}
				}
				if r.Offset() != int64(len(tc.in)) {
					t.Errorf("Offset() at end = %d, want %d", r.Offset(), len(tc.in))
				}
			})
		}
	}
}

func TestOverlongLineThenGoodLines(t *testing.T) {
	const max = 1000
	long := strings.Repeat("x", 5000)
	in := "first\n" + long + "\nsecond\n" + strings.Repeat("y", max) + "\n" + strings.Repeat("z", max+1) + "\nlast"
	for _, readSize := range []int{1, 7, 100, 4096} {
		r, err := NewReader(strings.NewReader(in), Options{MaxLineBytes: max, ReadSize: readSize})
		if err != nil {
			t.Fatal(err)
		}
		g := readAll(t, r)
		if len(g) != 6 {
			t.Fatalf("readSize %d: got %d lines, want 6", readSize, len(g))
		}
		if g[5].line != "last" || g[5].off != int64(len(in)-4) {
			t.Errorf("last line = %q@%d", g[5].line, g[5].off)
		}
		if g[0].line != "first" || g[0].tooLong != nil {
			t.Errorf("line 0 = %+v", g[0])
		}
		if g[1].tooLong == nil || g[1].line != long[:max] || g[1].off != 6 || g[1].tooLong.Length != 5000 || g[1].tooLong.Offset != 6 {
			t.Errorf("line 1: len %d off %d err %v, want truncated to %d at 6 with Length 5000", len(g[1].line), g[1].off, g[1].tooLong, max)
		}
		if g[2].line != "second" || g[2].off != 6+5001 {
			t.Errorf("line 2 = %q@%d", g[2].line, g[2].off)
		}
		if g[3].tooLong != nil || len(g[3].line) != max {
			t.Errorf("a line of exactly MaxLineBytes must not be an error: %v", g[3].tooLong)
		}
		if g[4].tooLong == nil || g[4].tooLong.Length != max+1 {
			t.Errorf("line 4 (max+1 bytes): err %v", g[4].tooLong)
		}
		if g[4].tooLong != nil && !strings.Contains(g[4].tooLong.Error(), "longer than the 1000-byte maximum") {
			t.Errorf("error text %q does not name the limit", g[4].tooLong.Error())
		}
	}
}

func TestOverlongLastLineWithoutNewline(t *testing.T) {
	r, err := NewReader(strings.NewReader("ok\n"+strings.Repeat("q", 300)), Options{MaxLineBytes: 100, ReadSize: 64})
	if err != nil {
		t.Fatal(err)
	}
	g := readAll(t, r)
	if len(g) != 2 || g[1].tooLong == nil || g[1].tooLong.Length != 300 || len(g[1].line) != 100 {
		t.Fatalf("got %+v", g)
	}
	if r.Offset() != 303 {
		t.Errorf("Offset = %d, want 303", r.Offset())
	}
}

// A line far beyond bufio.Scanner's 64 KiB default is returned whole.
func TestHugeLineUnderLimit(t *testing.T) {
	huge := strings.Repeat("h", 900<<10)
	in := gz(t, "a\n"+huge+"\nb\n")
	r, err := NewReader(bytes.NewReader(in), Options{})
	if err != nil {
		t.Fatal(err)
	}
	g := readAll(t, r)
	if len(g) != 3 || g[1].line != huge || g[2].line != "b" || g[2].off != int64(2+len(huge)+1) {
		t.Fatalf("got %d lines; line 1 len %d", len(g), len(g[1].line))
	}
}

func TestMultiMemberGzip(t *testing.T) {
	// A member boundary in the middle of a line must not split it.
	in := gz(t, "one\ntw", "o\nthree\n", "", "four")
	r, err := NewReader(bytes.NewReader(in), Options{})
	if err != nil {
		t.Fatal(err)
	}
	g := readAll(t, r)
	want := []got{{"one", 0, nil}, {"two", 4, nil}, {"three", 8, nil}, {"four", 14, nil}}
	if len(g) != len(want) {
		t.Fatalf("got %+v", g)
	}
	for i := range want {
		if g[i].line != want[i].line || g[i].off != want[i].off {
			t.Errorf("line %d = %q@%d, want %q@%d", i, g[i].line, g[i].off, want[i].line, want[i].off)
		}
	}
}

func TestTruncatedGzip(t *testing.T) {
	var body strings.Builder
	for i := range 2000 {
		body.WriteString("line number ")
		body.WriteString(strings.Repeat("x", i%50))
		body.WriteString("\n")
	}
	full := gz(t, body.String())
	for _, cut := range []int{len(full) - 1, len(full) - 8, len(full) / 2, 12} {
		r, err := NewReader(bytes.NewReader(full[:cut]), Options{})
		if err != nil {
			if !strings.Contains(err.Error(), "truncated") {
				t.Errorf("cut %d: NewReader error %v does not say truncated", cut, err)
			}
			continue
		}
		var n int
		for {
			_, _, err = r.Next()
			if err != nil {
				break
			}
			n++
		}
		if err == io.EOF {
			t.Fatalf("cut at %d of %d: truncated gzip read as clean EOF after %d lines", cut, len(full), n)
		}
		if !errors.Is(err, io.ErrUnexpectedEOF) || !strings.Contains(err.Error(), "gzip stream truncated") {
			t.Errorf("cut %d: error %q should say the gzip stream is truncated", cut, err)
		}
		if n >= 2000 && cut < len(full)-8 { // a cut in the 8-byte trailer leaves every line intact
			t.Errorf("cut %d: got all %d lines from a truncated stream", cut, n)
		}
		// The error is sticky.
		if _, _, err2 := r.Next(); err2 == nil || err2 == io.EOF {
			t.Errorf("cut %d: Next after error returned %v", cut, err2)
		}
	}
}

func TestCorruptGzip(t *testing.T) {
	full := gz(t, strings.Repeat("some log line\n", 1000))
	bad := bytes.Clone(full)
	bad[len(bad)-6] ^= 0xff // CRC32 trailer
	r, err := NewReader(bytes.NewReader(bad), Options{})
	if err != nil {
		t.Fatal(err)
	}
	for err == nil {
		_, _, err = r.Next()
	}
	if err == io.EOF || !strings.Contains(err.Error(), "gzip stream corrupt") {
		t.Errorf("corrupted CRC: got %v, want a 'gzip stream corrupt' error", err)
	}
	// Garbage after a good member is a corrupt second member, not silently ignored.
	r, _ = NewReader(bytes.NewReader(append(bytes.Clone(full), "this is not a gzip member header"...)), Options{})
	err = nil
	for err == nil {
		_, _, err = r.Next()
	}
	if err == io.EOF || !strings.Contains(err.Error(), "corrupt") {
		t.Errorf("trailing garbage: got %v", err)
	}
}

func TestStartOffset(t *testing.T) {
	r, _ := NewReader(strings.NewReader("x\ny\n"), Options{StartOffset: 1000})
	g := readAll(t, r)
	if g[0].off != 1000 || g[1].off != 1002 || r.Offset() != 1004 {
		t.Errorf("got %+v, Offset %d", g, r.Offset())
	}
}

// Random lines through awkward readers must come back byte for byte with exact offsets.
func TestRandomizedAgainstSplit(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for iter := range 50 {
		var b strings.Builder
		for range rng.IntN(200) {
			n := rng.IntN(300)
			if rng.IntN(20) == 0 {
				n = rng.IntN(5000)
			}
			for range n {
				b.WriteByte(byte('a' + rng.IntN(26)))
			}
			b.WriteByte('\n')
		}
		if rng.IntN(2) == 0 {
			b.WriteString("tail")
		}
		in := b.String()
		var src io.Reader = strings.NewReader(in)
		switch iter % 3 {
		case 1:
			src = iotest.OneByteReader(src)
		case 2:
			src = bytes.NewReader(gz(t, in))
		}
		r, err := NewReader(src, Options{MaxLineBytes: 6000, ReadSize: 1 + rng.IntN(700)})
		if err != nil {
			t.Fatal(err)
		}
		g := readAll(t, r)
		want := strings.Split(in, "\n")
		if want[len(want)-1] == "" {
			want = want[:len(want)-1]
		}
		if len(g) != len(want) {
			t.Fatalf("iter %d: %d lines, want %d", iter, len(g), len(want))
		}
		var off int64
		for i := range want {
			if g[i].line != want[i] || g[i].off != off {
				t.Fatalf("iter %d line %d: %q@%d, want %q@%d", iter, i, g[i].line, g[i].off, want[i], off)
			}
			off += int64(len(want[i]) + 1)
		}
	}
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

func TestSourceReadError(t *testing.T) {
	boom := errors.New("connection reset")
	r, err := NewReader(io.MultiReader(strings.NewReader("a\nb"), errReader{boom}), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if line, _, err := r.Next(); err != nil || string(line) != "a" {
		t.Fatalf("first line: %q %v", line, err)
	}
	// The partial "b" must not be passed off as a complete last line.
	if _, _, err := r.Next(); !errors.Is(err, boom) {
		t.Fatalf("got %v, want the read error", err)
	}
}

// Memory stays bounded by MaxLineBytes+ReadSize however long a line is.
func TestBufferBounded(t *testing.T) {
	const max, rs = 4096, 1024
	in := io.MultiReader(strings.NewReader("a\n"), io.LimitReader(infiniteX{}, 50<<20), strings.NewReader("\nb\n"))
	r, _ := NewReader(in, Options{MaxLineBytes: max, ReadSize: rs})
	g := readAll(t, r)
	if len(g) != 3 || g[1].tooLong == nil || g[1].tooLong.Length != 50<<20 || g[2].line != "b" {
		t.Fatalf("got %d lines", len(g))
	}
	if cap(r.buf) > max+rs {
		t.Errorf("buffer grew to %d, want ≤ %d", cap(r.buf), max+rs)
	}
}

type infiniteX struct{}

func (infiniteX) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'x'
	}
	return len(p), nil
}

// `gzip -d` accepts zero bytes after the last member (padding from tape or block copies):
// so do we, with and without the decompression goroutine; anything else after the padding
// is still damage.
func TestGzipTrailingZeroPadding(t *testing.T) {
	for _, concurrent := range []bool{false, true} {
		padded := append(gz(t, "a 1\nb 2\n", "c 3\n"), make([]byte, 4096)...)
		r, err := NewReader(bytes.NewReader(padded), Options{Concurrent: concurrent})
		if err != nil {
			t.Fatal(err)
		}
		if got := readAll(t, r); len(got) != 3 || got[2].line != "c 3" {
			t.Fatalf("concurrent %v: got %+v, want the three lines", concurrent, got)
		}
		r.Close()

		bad := append(append(gz(t, "a 1\n"), make([]byte, 10)...), 'x')
		r, _ = NewReader(bytes.NewReader(bad), Options{Concurrent: concurrent})
		var last error
		for last == nil {
			_, _, last = r.Next()
		}
		if !errors.Is(last, ErrCorrupt) {
			t.Fatalf("concurrent %v: garbage after padding gave %v, want ErrCorrupt", concurrent, last)
		}
		r.Close()
	}
}
