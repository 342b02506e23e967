package elblog

import (
	"bytes"
	"testing"
)

// plainRef is the definition tokenize's one-pass answer must match: no byte that JSON
// escapes (control, backslash, non-ASCII) and no quote but the delimiters of the
// quotedFields quoted fields.
func plainRef(line []byte, quotedFields int) bool {
	for _, c := range line {
		if c < 0x20 || c >= 0x80 || c == '\\' {
			return false
		}
	}
	return bytes.Count(line, []byte(`"`)) == 2*quotedFields
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
	var f [maxFields][]byte
	n, plain, err := tokenize(line, f[:])
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
}

func TestTokenize(t *testing.T) {
	for _, l := range []string{
		``, ` `, `a`, `a b`, `a  b `, `"a b" c`, `"a"`, `"" ""`, `a"b c`, `"a"b" c`, `"a\" b" c`, `"h2","http/1.1" x`, `"a",b c`, `"a"," c`,
		`"unterminated`, `x "unterminated`, "tab\there", "caf\xc3\xa9 x", "\x7f del", `back\slash`,
		`h2 2024-05-01T00:00:00.000554Z app/x/1 1.2.3.4:5 - -1 -1 -1 200 - 0 0 "GET http://a/b?c HTTP/1.1" "ua \"q\"" - -`,
		`https 2024-05-01T00:00:00Z a "GET / HTTP/1.1" "Mozilla/5.0 (X11; Linux x86_64)" c "d" "e,f" "-"`,
		"0123456789abcdef\"0123456789 \"abcdef\x00",
	} {
		checkTokenize(t, []byte(l))
	}
}

func FuzzTokenize(f *testing.F) {
	f.Add(`a "b c" d`)
	f.Add(`"a\"b" "c"d e" \x01`)
	f.Fuzz(func(t *testing.T, line string) { checkTokenize(t, []byte(line)) })
}
