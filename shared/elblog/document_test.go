package elblog

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/klauspost/compress/gzip"

	"github.com/logferry/logferry/shared/elblog/loggen"
)

const oracleKey = "AWSLogs/123456789012/elasticloadbalancing/us-east-1/2024/05/01/x.log.gz"

// checkOracle checks that the direct writer writes what the old writer did for line.
func checkOracle(t *testing.T, e *Encoder, o *oracle, line []byte) {
	t.Helper()
	got, res := e.Append(nil, line, 7)
	want, wantRes := o.Append(nil, line, 7)
	if !bytes.Equal(got, want) {
		t.Fatalf("line %q:\ndirect: %s\noracle: %s", line, got, want)
	}
	if (res.Err == nil) != (wantRes.Err == nil) || res.Time != wantRes.Time {
		t.Fatalf("line %q: result %+v, oracle %+v", line, res, wantRes)
	}
	err := errors.New("line longer than 1048576 bytes")
	got, _ = e.AppendFailure(nil, line, 9, err)
	want, _ = o.AppendFailure(nil, line, 9, err)
	if !bytes.Equal(got, want) {
		t.Fatalf("failure document of %q:\ndirect: %s\noracle: %s", line, got, want)
	}
}

func newPair(src Source) (*Encoder, *oracle) {
	return NewEncoder(src), &oracle{Encoder: NewEncoder(src)}
}

// withAbsent returns line with its k-th field replaced by "-" (quoted if it was), so that
// every member that may be left out is left out at least once.
func withAbsent(t *testing.T, line []byte, k int) []byte {
	f, n, _, err := split(line)
	if err != nil {
		t.Fatal(err)
	}
	var b []byte
	for j := range min(n, maxFields) {
		if j > 0 {
			b = append(b, ' ')
		}
		quoted := bytes.Contains(line, []byte(`"`+string(f[j])+`"`)) && (j == 0 || f[j-1] != nil)
		v := f[j]
		if j == k {
			v = []byte("-")
		}
		if quoted {
			b = append(append(append(b, '"'), v...), '"')
		} else {
			b = append(b, v...)
		}
	}
	return b
}

// Generated lines of every format (with and without event.original), each tenth of them
// with every field in turn absent, and every line of the fixture objects.
func TestDirectWriterMatchesOracle(t *testing.T) {
	for _, original := range []bool{false, true} {
		e, o := newPair(Source{Bucket: "logs", Key: oracleKey, IncludeOriginal: original})
		for _, format := range loggen.Formats {
			g, err := loggen.New(format, 5)
			if err != nil {
				t.Fatal(err)
			}
			for i := range 500 {
				line := g.Append(nil)
				checkOracle(t, e, o, line)
				if i%10 != 0 {
					continue
				}
				for k := range maxFields {
					checkOracle(t, e, o, withAbsent(t, line, k))
				}
			}
		}
	}
	objects, err := filepath.Glob("../../testdata/s3/*/AWSLogs/*/elasticloadbalancing/*/*/*/*/*")
	if err != nil || len(objects) == 0 {
		t.Fatalf("no fixture objects (%v)", err)
	}
	e, o := newPair(Source{Key: oracleKey}) // no bucket: the local-file documents
	for _, path := range objects {
		for _, line := range fixtureLines(t, path) {
			checkOracle(t, e, o, line)
		}
	}
}

func fixtureLines(t *testing.T, path string) [][]byte {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if zr, err := gzip.NewReader(bytes.NewReader(data)); err == nil {
		var buf bytes.Buffer
		buf.ReadFrom(zr) // a truncated fixture gives what it has
		data = buf.Bytes()
	}
	return bytes.Split(data, []byte("\n"))
}

func FuzzDirectWriter(f *testing.F) {
	for _, format := range loggen.Formats {
		g, err := loggen.New(format, 6)
		if err != nil {
			f.Fatal(err)
		}
		for range 10 {
			f.Add(string(g.Append(nil)))
		}
	}
	f.Add(`http 2018-07-02T22:23:00.186641Z app/lb/1 1.2.3.4:5 - -1 -1 -1 200 - 0 0 "GET http://a:80/b?c#d HTTP/1.1" "-" c TLSv1.2 - - - - - - "a,b" - - "1.2.3.4:80 5.6.7.8:80" "200 502"`)
	f.Add("tls 2.0 2020-04-01T08:51:42 net/lb/1 listener/x 1.2.3.4:5 5.6.7.8:9 2 - 0 0 - - - - - - a%22b - - \"h2\",\"\\u\" -")
	e, o := newPair(Source{Bucket: "b", Key: oracleKey})
	f.Fuzz(func(t *testing.T, line string) { checkOracle(t, e, o, []byte(line)) })
}

// Lines of every format in turn through one encoder give the documents a fresh encoder
// gives each: reset clears what one format's line left for the next.
func TestMixedFormatsReset(t *testing.T) {
	var gens []*loggen.Generator
	for _, format := range loggen.Formats {
		g, err := loggen.New(format, 8)
		if err != nil {
			t.Fatal(err)
		}
		gens = append(gens, g)
	}
	src := Source{Bucket: "logs", Key: oracleKey}
	e := NewEncoder(src)
	for i := range 2000 {
		line := gens[i%len(gens)].Append(nil)
		if i%7 == 0 { // and now and then a line that breaks halfway
			line = line[:len(line)/2]
		}
		got, _ := e.Append(nil, line, int64(i))
		want, _ := NewEncoder(src).Append(nil, line, int64(i))
		if !bytes.Equal(got, want) {
			t.Fatalf("line %d %q:\nafter other lines: %s\nfresh encoder:     %s", i, line, got, want)
		}
	}
}

// quotedList copies a list that is JSON already and splits the others: the same bytes
// as list either way.
func TestQuotedListMatchesList(t *testing.T) {
	e := NewEncoder(Source{Key: "k"})
	for _, v := range []string{`h2","http/1.1`, `http/1.1`, `h2`, `","a`, `a","`, `a",""`, `a","","b`, `a,b","c`,
		`a"",""b`, `a"b`, `a","b"`, `"`, `,`, `a\","b`, "a\x01b", "caf\xc3\xa9\",\"x", `a",b`, `a,"b`, "\x7f"} {
		for _, dirty := range []span{noSpan, everySpan} {
			e.dirty, e.lineCap = dirty, 0
			got := string(e.quotedList(nil, []byte(v)))
			want := string(e.list(nil, []byte(v), ',', true))
			if got != want {
				t.Errorf("quotedList(%q) = %s, list %s", v, got, want)
			}
		}
	}
}

// appendString, whose escaping skips to the first byte of a word that needs it, writes
// what the old byte-by-byte escaper wrote.
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain", "a\\\"b\\c\x00\x1f\t\n\xff\xfe ok é 日本 \u2028", `Mozilla/5.0 \"x\"`, "12345678\"", "1234567\xc3\xa9\x01", "\xe6\x97\xa5\xe6"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := appendString(nil, []byte(s)), oldAppendString(nil, []byte(s)); !bytes.Equal(got, want) {
			t.Fatalf("appendString(%q) = %s, old %s", s, got, want)
		}
	})
}
