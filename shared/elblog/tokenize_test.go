package elblog

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/logferry/logferry/shared/elblog/loggen"
)

// plainRef is the definition tokenize's one-pass answer must match: no byte that JSON
// escapes (control, backslash), valid UTF-8 (appendEscaped replaces the rest), and no
// quote but the delimiters of the quotedFields quoted fields.
func plainRef(line []byte, quotedFields int) bool {
	for _, c := range line {
		if c < 0x20 || c == '\\' {
			return false
		}
	}
	return utf8.Valid(line) && bytes.Count(line, []byte(`"`)) == 2*quotedFields
}

// tokenizeRef is the straightforward splitter: byte by byte, counting quoted fields.
func tokenizeRef(line []byte) (fields [][]byte, quoted int, ok bool) {
	for i := 0; i < len(line); {
		if line[i] == '"' {
			j := i + 1
			for {
				k := bytes.IndexByte(line[j:], '"')
				if k < 0 {
					return nil, 0, false
				}
				j += k
				if line[j-1] == '\\' {
					j++
					continue
				}
				if j+2 < len(line) && line[j+1] == ',' && line[j+2] == '"' {
					j += 3
					continue
				}
				if j+1 < len(line) && line[j+1] != ' ' {
					return nil, 0, false // a closing quote not followed by a space
				}
				break
			}
			fields = append(fields, line[i+1:j])
			i = j + 2
			quoted++
			continue
		}
		j := bytes.IndexByte(line[i:], ' ')
		if j < 0 {
			j = len(line) - i
		}
		fields = append(fields, line[i:i+j])
		i += j + 1
	}
	return fields, quoted, true
}

func checkTokenize(t *testing.T, line []byte) {
	t.Helper()
	f, n, dirty, err := split(line)
	plain := dirty.empty()
	checkTokenizeOld(t, line, f[:], n, plain, err)
	want, quoted, ok := tokenizeRef(line)
	if ok != (err == nil) {
		t.Fatalf("%q: error %v, reference ok=%v", line, err, ok)
	}
	if !ok {
		return
	}
	if n != len(want) {
		t.Fatalf("%q: %d fields, want %d", line, n, len(want))
	}
	for i := range min(n, maxFields) {
		if !bytes.Equal(f[i], want[i]) {
			t.Fatalf("%q: field %d = %q, want %q", line, i, f[i], want[i])
		}
	}
	if wantPlain := plainRef(line, quoted); plain != wantPlain {
		t.Fatalf("%q: plain = %v, want %v", line, plain, wantPlain)
	}
	// Every byte of a field that a value cut from it would need escaped lies in the
	// dirty span: controls, quotes, backslashes and, on a line that is not valid UTF-8,
	// non-ASCII bytes.
	valid := utf8.Valid(line)
	for i := range min(n, maxFields) {
		off := cap(line) - cap(f[i])
		for k, c := range f[i] {
			if (c < 0x20 || c == '"' || c == '\\' || c >= utf8.RuneSelf && !valid) && (off+k < dirty.lo || off+k >= dirty.hi) {
				t.Fatalf("%q: field %d %q: byte %d (%q) is outside the dirty span %v", line, i, f[i], k, c, dirty)
			}
		}
	}
}

func TestTokenize(t *testing.T) {
	for _, l := range []string{
		``, ` `, `a`, `a b`, `a  b `, `"a b" c`, `"a"`, `"" ""`, `a"b c`, `"a"b" c`, `"a\" b" c`, `"h2","http/1.1" x`, `"a",b c`, `"a"," c`,
		`"unterminated`, `x "unterminated`, "tab\there", "caf\xc3\xa9 x", "\x7f del", `back\slash`,
		`h2 2024-05-01T00:00:00.000554Z app/x/1 1.2.3.4:5 - -1 -1 -1 200 - 0 0 "GET http://a/b?c HTTP/1.1" "ua \"q\"" - -`,
		`https 2024-05-01T00:00:00Z a "GET / HTTP/1.1" "Mozilla/5.0 (X11; Linux x86_64)" c "d" "e,f" "-"`,
		"0123456789abcdef\"0123456789 \"abcdef\x00",
		`"a"x`, `"a",`, `"a","`, `"a",""`, `"a",""," b`, `"\"`, `"\\" x`, `"a\""`, `"" `, `""`, `"`, `  `, `a"`, `a" b"`,
		`12345678 "1234567" 123456 "12345678901234567890123456789012" x`, `1234567"`, `1234567 "`, `123456 ""`,
		`"tls 2 2024" "h2","http/1.1","h3" end`, "\xc3\xa9\"abc\" d", "\x1f2345678\"a\"",
		"caf\xe9 x", strings.Repeat("a ", maxFields+5) + `"b c" d`, strings.Repeat(`"a" `, maxFields) + `b "c`, "\"K\xc3\xb6ln\" \xe2\x82", "\"K\xc3\xb6ln \xed\xa0\x80\"",
	} {
		checkTokenize(t, []byte(l))
	}
}

// Delimiters at every offset around tokenize's 64-byte block edges, and the non-ASCII
// bytes its delimiter test lets through (0xa0, 0xa2) to be told apart by reading them.
func TestTokenizeBlockEdges(t *testing.T) {
	for _, tail := range []string{` "b c" d`, ` "b" `, ` "h2","x" y`, ` "a\"b" c`, ` x"y z`, ` "a"b c`, ` "a",`, ` "ab`, "\xa0\xa2 \"\xa2\xa0\" \xa0"} {
		for k := 50; k < 136; k++ {
			checkTokenize(t, []byte(strings.Repeat("a", k)+tail))
			checkTokenize(t, []byte(strings.Repeat(`"`+strings.Repeat("-", k%9)+`" `, k/8)+tail))
		}
	}
}

// Random lines over the bytes tokenize treats specially (and their neighbours), more
// of them than the fuzzer reaches in a minute on a busy machine.
func TestTokenizeRandom(t *testing.T) {
	const alphabet = " \"\\,a#!\x00\x1f\x7f\xa0\xa2\xc3"
	rng := rand.New(rand.NewPCG(9, 9))
	line := make([]byte, 0, 200)
	for range 100_000 {
		line = line[:0]
		for range rng.IntN(200) {
			if rng.IntN(4) == 0 {
				line = append(line, alphabet[rng.IntN(len(alphabet))])
			} else {
				line = append(line, "a \""[rng.IntN(3)])
			}
		}
		checkTokenize(t, line)
	}
}

// Generated lines of every format split as the old tokenize split them.
func TestTokenizeGenerated(t *testing.T) {
	for _, format := range loggen.Formats {
		for _, l := range genLines(t, format, 500) {
			checkTokenize(t, l)
		}
	}
}

func FuzzTokenize(f *testing.F) {
	for _, format := range loggen.Formats {
		for _, l := range genLines(f, format, 5) {
			f.Add(string(l))
		}
	}
	f.Add(`a "b c" d`)
	f.Add(`"a\"b" "c"d e" \x01`)
	f.Fuzz(func(t *testing.T, line string) { checkTokenize(t, []byte(line)) })
}

// checkTokenizeOld compares tokenize's answer with tokenizeOld's, error messages included
// (they are in the golden files).
func checkTokenizeOld(t *testing.T, line []byte, f [][]byte, n int, plain bool, err error) {
	t.Helper()
	var g [maxFields][]byte
	wn, wplain, werr := tokenizeOld(line, g[:])
	// The old one took every non-ASCII byte for one to escape; valid UTF-8 is plain now
	// (plainRef holds tokenize to that).
	if !isASCII(line) {
		wplain = plain
	}
	if fmt.Sprint(err) != fmt.Sprint(werr) || n != wn || plain != wplain {
		t.Fatalf("%q: tokenize = %d, %v, %v; old = %d, %v, %v", line, n, plain, err, wn, wplain, werr)
	}
	for i := range min(n, maxFields) {
		if !bytes.Equal(f[i], g[i]) {
			t.Fatalf("%q: field %d = %q, old %q", line, i, f[i], g[i])
		}
	}
}

// split is tokenize with the fields as slices, as the tests compare them; past the
// maxFields stored, fields are counted only (n).
func split(line []byte) (f [maxFields][]byte, n int, dirty span, err error) {
	var fs fields
	n, dirty, err = tokenize(line, &fs)
	for i := range fs.n {
		f[i] = fs.get(i)
	}
	return f, n, dirty, err
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
