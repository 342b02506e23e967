package gunzip

import (
	"bytes"
	stdgzip "compress/gzip"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"os/exec"
	"testing"
	"testing/iotest"

	kflate "github.com/klauspost/compress/flate"
	kgzip "github.com/klauspost/compress/gzip"

	"github.com/logferry/logferry/shared/elblog/loggen"
)

// samples are plaintexts that take the decoder down each of its paths: log lines (long
// and short matches, literals), random bytes (literals only, stored blocks at level 0),
// runs of one byte (distance 1), short periods (distances 2-7), and the empty stream.
func samples() map[string][]byte {
	rng := rand.New(rand.NewPCG(1, 2))
	random := make([]byte, 300<<10)
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	var periods []byte
	for p := 1; p <= 9; p++ {
		for range 500 {
			periods = append(periods, "abcdefghi"[:p]...)
		}
		periods = append(periods, random[:p*37]...)
	}
	m := map[string][]byte{
		"empty":   {},
		"byte":    {'x'},
		"random":  random,
		"zeros":   make([]byte, 700<<10),
		"periods": periods,
		"text":    bytes.Repeat([]byte("GET /index.html HTTP/1.1 200 \"Mozilla/5.0\"\n"), 20000),
	}
	for f, l := range logs() {
		m[f] = l[0][:2<<20]
	}
	return m
}

// compressors make deflate streams of every kind: stored, fixed-Huffman (tiny input,
// klauspost's level 1 on short blocks), dynamic, Huffman-only, with sync flushes (empty
// stored blocks), from two independent encoders.
var compressors = []struct {
	name string
	gzip func(w io.Writer, p []byte)
}{
	{"std-0", stdLevel(0)}, {"std-1", stdLevel(1)}, {"std-6", stdLevel(6)}, {"std-9", stdLevel(9)},
	{"std-huffman", stdLevel(stdgzip.HuffmanOnly)},
	{"klauspost-1", kLevel(1)}, {"klauspost-5", kLevel(5)}, {"klauspost-9", kLevel(9)},
	{"klauspost-stateless", kLevel(kflate.ConstantCompression)},
	{"std-6-flushed", func(w io.Writer, p []byte) {
		z, _ := stdgzip.NewWriterLevel(w, 6)
		for len(p) > 0 {
			n := min(len(p), 10007)
			z.Write(p[:n])
			z.Flush()
			p = p[n:]
		}
		z.Close()
	}},
	{"std-named", func(w io.Writer, p []byte) {
		z := stdgzip.NewWriter(w)
		z.Name, z.Comment, z.Extra = "access.log", "a comment", []byte("extra field bytes")
		z.Write(p)
		z.Close()
	}},
}

func stdLevel(l int) func(io.Writer, []byte) {
	return func(w io.Writer, p []byte) {
		z, _ := stdgzip.NewWriterLevel(w, l)
		z.Write(p)
		z.Close()
	}
}

func kLevel(l int) func(io.Writer, []byte) {
	return func(w io.Writer, p []byte) {
		z, _ := kgzip.NewWriterLevel(w, l)
		z.Write(p)
		z.Close()
	}
}

func gz(c func(io.Writer, []byte), p []byte) []byte {
	var b bytes.Buffer
	c(&b, p)
	return b.Bytes()
}

func readAll(r io.Reader) ([]byte, error) {
	z, err := NewReader(r)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(z)
}

func TestMatchesOtherDecoders(t *testing.T) {
	for name, plain := range samples() {
		for _, c := range compressors {
			comp := gz(c.gzip, plain)
			got, err := readAll(bytes.NewReader(comp))
			if err != nil {
				t.Errorf("%s/%s: %v", name, c.name, err)
				continue
			}
			if !bytes.Equal(got, plain) {
				t.Errorf("%s/%s: %d bytes out, want %d; first difference at %d", name, c.name, len(got), len(plain), firstDiff(got, plain))
			}
		}
	}
}

// TestMatchesGNUGzip reads what the gzip program writes (another encoder, and the one
// behind most .gz files), at its fastest, default and best levels.
func TestMatchesGNUGzip(t *testing.T) {
	if _, err := exec.LookPath("gzip"); err != nil {
		t.Skip("no gzip program")
	}
	for _, name := range []string{"alb", "conn", "periods", "random"} {
		plain := samples()[name]
		for _, level := range []string{"-1", "-6", "-9"} {
			cmd := exec.Command("gzip", "-c", "-n", level)
			cmd.Stdin = bytes.NewReader(plain)
			comp, err := cmd.Output()
			if err != nil {
				t.Fatalf("gzip %s: %v", level, err)
			}
			got, err := readAll(bytes.NewReader(comp))
			if err != nil || !bytes.Equal(got, plain) {
				t.Errorf("%s/gzip %s: %d bytes, %v; want %d bytes", name, level, len(got), err, len(plain))
			}
		}
	}
}

// TestReadShapes reads through sources that return a byte at a time, half of what is
// asked, or data together with io.EOF, and into buffers of odd sizes: every boundary
// between refills, rounds and Reads falls somewhere new.
func TestReadShapes(t *testing.T) {
	plain := samples()["alb"][:300<<10]
	comp := gz(stdLevel(6), plain)
	sources := map[string]func() io.Reader{
		"onebyte": func() io.Reader { return iotest.OneByteReader(bytes.NewReader(comp)) },
		"half":    func() io.Reader { return iotest.HalfReader(bytes.NewReader(comp)) },
		"dataerr": func() io.Reader { return iotest.DataErrReader(bytes.NewReader(comp)) },
	}
	for name, src := range sources {
		for _, size := range []int{1, 7, 4096, 1 << 20} {
			z, err := NewReader(src())
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			var got []byte
			buf := make([]byte, size)
			for {
				n, err := z.Read(buf)
				got = append(got, buf[:n]...)
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatalf("%s/%d: %v", name, size, err)
				}
			}
			if !bytes.Equal(got, plain) {
				t.Errorf("%s/%d: output differs at %d", name, size, firstDiff(got, plain))
			}
		}
	}
}

// TestSourceError: a read error of the input comes back as it is, after the bytes that
// could be decoded from what was read before it.
func TestSourceError(t *testing.T) {
	plain := samples()["alb"][:200<<10]
	comp := gz(stdLevel(6), plain)
	boom := errors.New("connection reset")
	for _, at := range []int{5, 20, 1000, len(comp) / 2, len(comp) - 3} {
		src := io.MultiReader(bytes.NewReader(comp[:at]), iotest.ErrReader(boom))
		z, err := NewReader(src)
		if at < 10 {
			if !errors.Is(err, boom) {
				t.Errorf("error at %d, in the header: %v, want %v", at, err, boom)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(z)
		if !errors.Is(err, boom) || !bytes.HasPrefix(plain, got) {
			t.Errorf("error at %d: %d bytes, %v; want a prefix of the original, then %v", at, len(got), err, boom)
		}
	}
}

func TestMembersAndPadding(t *testing.T) {
	a, b := []byte("first member\n"), samples()["conn"][:100<<10]
	two := append(gz(stdLevel(6), a), gz(kLevel(9), b)...)
	want := append(bytes.Clone(a), b...)
	for name, in := range map[string][]byte{
		"two members":     two,
		"zero padding":    append(bytes.Clone(two), make([]byte, 100<<10)...),
		"empty member":    append(gz(stdLevel(6), nil), two...),
		"one zero byte":   append(bytes.Clone(two), 0),
		"padding at once": append(bytes.Clone(two), make([]byte, 7)...),
	} {
		got, err := readAll(bytes.NewReader(in))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: %d bytes, %v; want %d bytes, nil", name, len(got), err, len(want))
		}
	}
	for name, in := range map[string][]byte{
		"garbage after":         append(bytes.Clone(two), "not gzip"...),
		"garbage after padding": append(append(bytes.Clone(two), make([]byte, 70<<10)...), 1),
	} {
		got, err := readAll(bytes.NewReader(in))
		if !errors.Is(err, ErrHeader) || !bytes.Equal(got, want) {
			t.Errorf("%s: %d bytes, %v; want all %d bytes then ErrHeader", name, len(got), err, len(want))
		}
	}
}

func TestHeaderCRC(t *testing.T) {
	plain := []byte("header with a CRC-16\n")
	body := gz(stdLevel(6), plain)[10:] // deflate data and trailer
	head := []byte{0x1f, 0x8b, 8, 0x02 | 0x08, 0, 0, 0, 0, 0, 255}
	head = append(head, "name.log\x00"...)
	crc := crc32.ChecksumIEEE(head)
	good := append(append(bytes.Clone(head), byte(crc), byte(crc>>8)), body...)
	if got, err := readAll(bytes.NewReader(good)); err != nil || !bytes.Equal(got, plain) {
		t.Errorf("valid header CRC: %q, %v", got, err)
	}
	bad := append(append(bytes.Clone(head), byte(crc)^1, byte(crc>>8)), body...)
	if _, err := readAll(bytes.NewReader(bad)); !errors.Is(err, ErrHeader) {
		t.Errorf("wrong header CRC: %v, want ErrHeader", err)
	}
	if _, err := NewReader(bytes.NewReader([]byte("\x1f\x8b\x07rest of it"))); !errors.Is(err, ErrHeader) {
		t.Errorf("method 7: %v, want ErrHeader", err)
	}
}

// TestTruncated cuts streams at every byte (or, for big ones, at many): the reader must
// say io.ErrUnexpectedEOF, and what it returned before must be the start of the original,
// never bytes decoded from bits that were not there.
func TestTruncated(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, tc := range []struct {
		name  string
		plain []byte
		c     func(io.Writer, []byte)
		every bool
	}{
		{"text/std-6", []byte("a short line of an access log\nand another one, longer than the first\n"), stdLevel(6), true},
		{"periods/klauspost-9", samples()["periods"][:4000], kLevel(9), true},
		{"alb/std-6", samples()["alb"][:20000], stdLevel(6), true},
		{"random/std-0", samples()["random"][:5000], stdLevel(0), true},
		{"conn/std-6-flushed", samples()["conn"], compressors[9].gzip, false},
	} {
		comp := gz(tc.c, tc.plain)
		cuts := make([]int, 0, len(comp))
		for i := range comp {
			if tc.every || rng.IntN(len(comp)/500+1) == 0 {
				cuts = append(cuts, i)
			}
		}
		for _, cut := range cuts {
			got, err := readAll(bytes.NewReader(comp[:cut]))
			if !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("%s cut at %d of %d: %v, want io.ErrUnexpectedEOF", tc.name, cut, len(comp), err)
			}
			if !bytes.HasPrefix(tc.plain, got) {
				t.Fatalf("%s cut at %d: returned %d bytes that are not the start of the original", tc.name, cut, len(got))
			}
		}
	}
}

// TestDamaged flips bits all over streams: never a panic or a hang, and never wrong
// output without an error (the CRC-32 and length catch what deflate's syntax cannot).
func TestDamaged(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, name := range []string{"alb", "periods", "random"} {
		plain := samples()[name]
		plain = plain[:min(len(plain), 50000)]
		for _, c := range compressors[:9] {
			comp := gz(c.gzip, plain)
			for range 60 {
				bad := bytes.Clone(comp)
				for range 1 + rng.IntN(3) {
					i := rng.IntN(len(bad))
					bad[i] ^= 1 << rng.IntN(8)
				}
				got, err := readAll(bytes.NewReader(bad))
				if err == nil && !bytes.Equal(got, plain) {
					t.Fatalf("%s/%s: damaged stream read without error as different bytes", name, c.name)
				}
			}
		}
	}
}

func TestCorruptErrors(t *testing.T) {
	member := func(deflate []byte) []byte {
		return append([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255}, append(deflate, make([]byte, 8)...)...)
	}
	for name, tc := range map[string]struct {
		deflate []byte
		problem string
	}{
		"block type 3":       {[]byte{0x07}, "invalid block type 3"},
		"stored length":      {[]byte{0x01, 5, 0, 5, 0}, "stored block length does not match its complement"},
		"too far back":       {[]byte{0x03, 0x02, 0x00}, "distance reaches back before the start of the output"},
		"too many litlen":    {[]byte{0xfd, 0xff}, "literal/length and"},
		"oversubscribed lit": {[]byte{0x05, 0xe0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, "code"},
	} {
		_, err := readAll(bytes.NewReader(member(tc.deflate)))
		var ce *CorruptError
		if !errors.As(err, &ce) || !bytes.Contains([]byte(ce.Problem), []byte(tc.problem)) {
			t.Errorf("%s: %v, want a *CorruptError saying %q", name, err, tc.problem)
		}
	}
}

// FuzzReader feeds arbitrary bytes, and compares with klauspost/compress/gzip reading
// member by member with the same padding rule: where either succeeds, both must, with
// the same bytes.
func FuzzReader(f *testing.F) {
	for _, c := range compressors {
		f.Add(gz(c.gzip, []byte("GET /a/b/c?d=e HTTP/1.1 GET /a/b/c?d=f HTTP/1.1 aaaaaaaaaaaaaaaaaaaaaaaa")))
	}
	f.Add(gz(stdLevel(6), fewLines("alb", 10)))
	f.Fuzz(func(t *testing.T, in []byte) {
		got, err := readAll(bytes.NewReader(in))
		want, oerr := oracle(in)
		if (err == nil) != (oerr == nil) {
			t.Fatalf("gunzip: %d bytes, %v; klauspost: %d bytes, %v", len(got), err, len(want), oerr)
		}
		if err == nil && !bytes.Equal(got, want) {
			t.Fatalf("outputs differ at %d", firstDiff(got, want))
		}
	})
}

// FuzzRoundTrip compresses fuzzed text at a fuzzed level and reads it back.
func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte("hello hello hello"), 6, uint16(0))
	f.Add(fewLines("nlb", 10), 9, uint16(100))
	f.Fuzz(func(t *testing.T, plain []byte, level int, flushEvery uint16) {
		level = level%12 - 2 // -2 (Huffman only) to 9
		var b bytes.Buffer
		z, err := kgzip.NewWriterLevel(&b, level)
		if err != nil {
			t.Skip()
		}
		for p := plain; len(p) > 0; {
			n := len(p)
			if flushEvery > 0 {
				n = min(n, int(flushEvery))
			}
			z.Write(p[:n])
			if flushEvery > 0 {
				z.Flush()
			}
			p = p[n:]
		}
		z.Close()
		got, err := readAll(bytes.NewReader(b.Bytes()))
		if err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("level %d: %d bytes, %v; want %d bytes", level, len(got), err, len(plain))
		}
	})
}

// fewLines is n lines of format: fuzz seeds that are cheap to make in every worker.
func fewLines(format string, n int) []byte {
	g, _ := loggen.New(format, 1)
	var b []byte
	for range n {
		b = append(g.Append(b), '\n')
	}
	return b
}

func oracle(in []byte) ([]byte, error) {
	br := bytes.NewReader(in)
	var out []byte
	for first := true; ; first = false {
		if !first {
			rest := in[len(in)-br.Len():]
			if len(rest) == 0 || bytes.Count(rest, []byte{0}) == len(rest) {
				return out, nil
			}
		}
		z, err := kgzip.NewReader(br)
		if err != nil {
			return out, err
		}
		z.Multistream(false)
		p, err := io.ReadAll(z)
		out = append(out, p...)
		if err != nil {
			return out, err
		}
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func ExampleReader() {
	var b bytes.Buffer
	w := stdgzip.NewWriter(&b)
	w.Write([]byte("2024-05-01T00:00:00Z an access log line\n"))
	w.Close()
	z, err := NewReader(&b)
	if err != nil {
		panic(err)
	}
	line, err := io.ReadAll(z)
	fmt.Printf("%q %v\n", line, err)
	// Output: "2024-05-01T00:00:00Z an access log line\n" <nil>
}
