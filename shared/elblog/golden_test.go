package elblog_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/logferry/logferry/shared/elblog"
	"github.com/logferry/logferry/shared/lines"
)

var update = flag.Bool("update", false, "rewrite testdata/golden from the current output")

const (
	s3Root    = "../../testdata/s3"
	goldenDir = "../../testdata/golden"
)

// objects lists the fixture objects as (bucket, key, path).
func objects(t *testing.T) [][3]string {
	t.Helper()
	var objs [][3]string
	err := filepath.WalkDir(s3Root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(s3Root, path)
		bucket, key, _ := strings.Cut(filepath.ToSlash(rel), "/")
		objs = append(objs, [3]string{bucket, key, path})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) < 9 {
		t.Fatalf("found %d fixture objects under %s, want at least 9", len(objs), s3Root)
	}
	return objs
}

// render turns one object into what its golden file holds: one document per non-blank
// line, then a {"_read_error":…} line if reading broke. An event.original longer than
// 4 KiB is replaced by its length and SHA-256 so the golden files stay reviewable.
func render(t *testing.T, bucket, key, path string) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out bytes.Buffer
	lr, err := lines.NewReader(f, lines.Options{})
	if err != nil {
		fmt.Fprintf(&out, "{\"_read_error\":%q}\n", err.Error())
		return out.Bytes()
	}
	enc := elblog.NewEncoder(elblog.Source{Bucket: bucket, Key: key})
	var buf []byte
	for {
		line, off, err := lr.Next()
		var tooLong *lines.LineTooLongError
		switch {
		case err == io.EOF:
			return out.Bytes()
		case errors.As(err, &tooLong):
			buf, _ = enc.AppendFailure(buf[:0], line, off, err)
		case err != nil:
			b, _ := json.Marshal(map[string]string{"_read_error": err.Error()})
			out.Write(append(b, '\n'))
			return out.Bytes()
		default:
			if len(line) == 0 {
				continue
			}
			buf, _ = enc.Append(buf[:0], line, off)
		}
		if !json.Valid(buf) {
			t.Fatalf("%s: invalid JSON at offset %d: %s", key, off, buf)
		}
		if len(line) > 4096 {
			esc, _ := json.Marshal(string(line))
			buf = bytes.Replace(buf, esc, fmt.Appendf(nil, `"<elided: %d bytes, sha256 %x>"`, len(line), sha256.Sum256(line)), 1)
		}
		out.Write(buf)
		out.WriteByte('\n')
	}
}

// TestGolden checks the documents of every fixture object against testdata/golden.
// Run `go test ./shared/elblog -run TestGolden -update` after an intended change and
// review the diff.
func TestGolden(t *testing.T) {
	kinds := map[elblog.Kind]int{}
	for _, o := range objects(t) {
		bucket, key, path := o[0], o[1], o[2]
		kind := elblog.Classify(key)
		kinds[kind]++
		if kind == elblog.KindTestFile || kind == elblog.KindUnknown {
			continue
		}
		name := filepath.Join(goldenDir, filepath.Base(key)+".ndjson")
		t.Run(filepath.Base(key), func(t *testing.T) {
			got := render(t, bucket, key, path)
			if *update {
				if err := os.MkdirAll(goldenDir, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(name, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(name)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
				for i := range max(len(gl), len(wl)) {
					var g, w string
					if i < len(gl) {
						g = gl[i]
					}
					if i < len(wl) {
						w = wl[i]
					}
					if g != w {
						t.Fatalf("%s differs at document %d:\ngot  %s\nwant %s\n(run with -update if intended)", name, i+1, g, w)
					}
				}
			}
		})
	}
	for _, k := range []elblog.Kind{elblog.KindAccessLog, elblog.KindConnectionLog, elblog.KindTestFile, elblog.KindUnknown} {
		if kinds[k] == 0 {
			t.Errorf("no fixture object of kind %v", k)
		}
	}
}

// The non-log fixtures behave as the spec says: the test file is recognised by its key,
// and the unknown object's first line does not parse (callers report it by key).
func TestNonLogFixtures(t *testing.T) {
	for _, o := range objects(t) {
		switch elblog.Classify(o[1]) {
		case elblog.KindTestFile:
			if !strings.HasSuffix(o[1], "/ELBAccessLogTestFile") {
				t.Errorf("%s classified as the test file", o[1])
			}
		case elblog.KindUnknown:
			b, err := os.ReadFile(o[2])
			if err != nil {
				t.Fatal(err)
			}
			first, _, _ := bytes.Cut(b, []byte("\n"))
			if _, res := elblog.NewEncoder(elblog.Source{Bucket: o[0], Key: o[1]}).Append(nil, first, 0); res.Err == nil {
				t.Errorf("%s: first line of a non-log object parsed", o[1])
			}
		}
	}
}
