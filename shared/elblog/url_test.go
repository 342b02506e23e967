package elblog

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"testing"
)

// splitURLRef is the straightforward splitURL: searching for each delimiter in turn.
func splitURLRef(u []byte) (r record) {
	rest := u
	isScheme := func(b []byte) bool {
		for _, c := range b {
			if !isSchemeByte(c) {
				return false
			}
		}
		return true
	}
	if i := bytes.Index(u, []byte("://")); i > 0 && isScheme(u[:i]) {
		r.scheme = u[:i]
		rest = u[i+3:]
		end := len(rest)
		if k := bytes.IndexAny(rest, "/?#"); k >= 0 {
			end = k
		}
		host := rest[:end]
		rest = rest[end:]
		if at := bytes.LastIndexByte(host, '@'); at >= 0 {
			host = host[at+1:]
		}
		if c := bytes.LastIndexByte(host, ':'); c >= 0 && c > bytes.LastIndexByte(host, ']') {
			if p := host[c+1:]; isPort(p) {
				r.port = trimZeros(p)
			}
			host = host[:c]
		}
		if len(host) > 1 && host[0] == '[' && host[len(host)-1] == ']' {
			host = host[1 : len(host)-1]
		}
		r.domain = opt(host)
	}
	if i := bytes.IndexByte(rest, '#'); i >= 0 {
		r.fragment = opt(rest[i+1:])
		rest = rest[:i]
	}
	if i := bytes.IndexByte(rest, '?'); i >= 0 {
		r.query = opt(rest[i+1:])
		rest = rest[:i]
	}
	if len(rest) > 0 {
		r.path = rest
	}
	return r
}

func checkSplitURL(t *testing.T, u string) {
	t.Helper()
	var e Encoder
	e.splitURL([]byte(u))
	want := splitURLRef([]byte(u))
	got := fmt.Sprintf("%q %q %q %q %q %q", e.rec.scheme, e.rec.domain, e.rec.port, e.rec.path, e.rec.query, e.rec.fragment)
	exp := fmt.Sprintf("%q %q %q %q %q %q", want.scheme, want.domain, want.port, want.path, want.query, want.fragment)
	if got != exp {
		t.Fatalf("splitURL(%q) = %s, want %s", u, got, exp)
	}
}

func TestSplitURL(t *testing.T) {
	for _, u := range []string{
		"https://shop.example.com:443/index.html", "http://a/b?c#d", "/api?q=1", "http://[::1]:80/x",
		"http://[::1]/x", "http://u:p@h:8080/p", "http://u:p@[::1]/", "http://u@h", "x://", "://a",
		"a.b+c-d://h:0080?q#f", "h2:/x", "http://h:99999/", "http://h:/", "http://h#f?q", "*", "",
		"http://a:1@b:2@c:3/", "http://]:1", "http://h]:1", "http://[h:1",
	} {
		checkSplitURL(t, u)
	}
}

func FuzzSplitURL(f *testing.F) {
	f.Add("http://u:p@[::1]:80/a?b#c")
	f.Fuzz(func(t *testing.T, u string) { checkSplitURL(t, u) })
}

func TestSchemeWords(t *testing.T) {
	if httpsWord != binary.LittleEndian.Uint64([]byte("https://")) || httpWord != binary.LittleEndian.Uint64([]byte("http://\x00")) {
		t.Fatalf("httpsWord %#x, httpWord %#x: not the schemes' bytes", httpsWord, httpWord)
	}
}
