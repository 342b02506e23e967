package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/logferry/logferry/shared/elblog"
)

const fixtureDir = "../../testdata/s3/elb-logs/AWSLogs/123456789012/elasticloadbalancing/eu-west-1/2026/11/25/"

func fixture(t *testing.T, suffix string) string {
	t.Helper()
	m, _ := filepath.Glob(fixtureDir + "*" + suffix)
	if len(m) != 1 {
		t.Fatalf("fixture *%s: found %q", suffix, m)
	}
	return m[0]
}

// ndjson splits output into documents, failing on any line that is not a JSON object.
func ndjson(t *testing.T, out []byte) []map[string]any {
	t.Helper()
	var docs []map[string]any
	for _, l := range bytes.Split(bytes.TrimSuffix(out, []byte("\n")), []byte("\n")) {
		if len(l) == 0 {
			continue
		}
		var d map[string]any
		if err := json.Unmarshal(l, &d); err != nil {
			t.Fatalf("output line is not a JSON object: %v\n%.300s", err, l)
		}
		docs = append(docs, d)
	}
	return docs
}

func offsets(docs []map[string]any) []float64 {
	var o []float64
	for _, d := range docs {
		o = append(o, d["log"].(map[string]any)["offset"].(float64))
	}
	return o
}

// With -bucket and -key the output is byte for byte the golden documents the library
// test checks (except the elided long originals, absent from these fixtures).
func TestParseMatchesGolden(t *testing.T) {
	for _, suffix := range []string{"_5u9f.log", "_2x8y.log.gz", "_3k9q.log.gz", "_7hd2.log.gz"} {
		path := fixture(t, suffix)
		key := strings.TrimPrefix(path, "../../testdata/s3/elb-logs/")
		e, out, errb := testEnv(nil)
		if code := run(context.Background(), e, []string{"parse", "-bucket", "elb-logs", "-key", key, path}); code != 0 {
			t.Fatalf("%s: exit %d: %s", suffix, code, errb)
		}
		want, err := os.ReadFile("../../testdata/golden/" + filepath.Base(path) + ".ndjson")
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out.Bytes(), want) {
			t.Errorf("%s: output differs from the golden file", suffix)
		}
		n := bytes.Count(want, []byte("\n"))
		if !strings.Contains(errb.String(), ": "+itoa(n)+" lines, "+itoa(n)+" documents, 0 parse failures") {
			t.Errorf("%s: summary %q", suffix, errb)
		}
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestParseBadLinesExitZero(t *testing.T) {
	path := fixture(t, "_bad1.log.gz")
	e, out, errb := testEnv(nil)
	if code := run(context.Background(), e, []string{"parse", path}); code != 0 {
		t.Fatalf("exit %d: %s", code, errb)
	}
	docs := ndjson(t, out.Bytes())
	// 9 lines, one of them blank: 8 documents in input order, 5 of them failures.
	if len(docs) != 8 {
		t.Fatalf("%d documents, want 8", len(docs))
	}
	o := offsets(docs)
	for i := 1; i < len(o); i++ {
		if o[i] <= o[i-1] {
			t.Fatalf("documents out of input order: offsets %v", o)
		}
	}
	var failures int
	for _, d := range docs {
		if tags, ok := d["tags"].([]any); ok && tags[0] == "_elb_parse_failure" {
			failures++
			if d["event"].(map[string]any)["original"] == nil || d["error"].(map[string]any)["message"] == "" {
				t.Errorf("failure document without original or message: %v", d)
			}
		}
	}
	if failures != 5 {
		t.Errorf("%d failure documents, want 5", failures)
	}
	if !strings.Contains(errb.String(), "9 lines, 8 documents, 5 parse failures (1 longer than 1048576 bytes), 1 blank lines skipped") {
		t.Errorf("summary: %q", errb)
	}
	// Default key is ingest's for a local file: from AWSLogs/ on, however the path is spelled.
	key := strings.TrimPrefix(path, "../../testdata/s3/elb-logs/")
	if id := docs[0]["@metadata"].(map[string]any)["_id"]; id != elblog.DocumentID("", key, 0) {
		t.Errorf("_id %v, want DocumentID(\"\", %q, 0)", id, key)
	}
}

func TestParseTruncatedFails(t *testing.T) {
	e, out, errb := testEnv(nil)
	code := run(context.Background(), e, []string{"parse", fixture(t, "_trnc.log.gz"), fixture(t, "_3k9q.log.gz")})
	if code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	if !strings.Contains(errb.String(), "_trnc.log.gz: read at offset 7182: gzip stream truncated") || strings.Count(errb.String(), "_trnc.log.gz") != 2 {
		t.Errorf("stderr does not name the file and what broke: %q", errb)
	}
	// Everything before the cut, and the next file, still came out.
	docs := ndjson(t, out.Bytes())
	if len(docs) != 14+4 {
		t.Errorf("%d documents, want 14 before the cut + 4 from the next file", len(docs))
	}
}

func TestParseUnreadableAndNonLog(t *testing.T) {
	e, _, errb := testEnv(nil)
	if code := run(context.Background(), e, []string{"parse", "/nonexistent/x.log"}); code != 1 || !strings.Contains(errb.String(), "/nonexistent/x.log") {
		t.Errorf("missing file: exit %d, %q", code, errb)
	}
	e, out, errb := testEnv(nil)
	if code := run(context.Background(), e, []string{"parse", "../../testdata/s3/elb-logs/exports/daily-summary.csv"}); code != 1 || !strings.Contains(errb.String(), "not an ELB log") {
		t.Errorf("non-log: exit %d, %q", code, errb)
	}
	if out.Len() != 0 {
		t.Errorf("non-log object produced output: %s", out)
	}
	e, out, _ = testEnv(nil)
	if code := run(context.Background(), e, []string{"parse", "../../testdata/s3/elb-logs/AWSLogs/123456789012/ELBAccessLogTestFile"}); code != 0 || out.Len() != 0 {
		t.Errorf("test file: exit %d, output %q", code, out)
	}
	e, out, errb = testEnv(nil)
	if code := run(context.Background(), e, []string{"parse", fixture(t, "_empt.log.gz")}); code != 0 || out.Len() != 0 || !strings.Contains(errb.String(), "0 lines, 0 documents") {
		t.Errorf("empty object: exit %d, output %q, stderr %q", code, out, errb)
	}
}

// Stdin, gzip recognised by its magic bytes whatever the name, and -original.
func TestParseStdinGzip(t *testing.T) {
	raw, err := os.ReadFile(fixture(t, "_5u9f.log"))
	if err != nil {
		t.Fatal(err)
	}
	var z bytes.Buffer
	w := gzip.NewWriter(&z)
	w.Write(raw)
	w.Close()
	for _, args := range [][]string{{"parse", "-original"}, {"parse", "-original", "-"}} {
		e, out, errb := testEnv(nil)
		e.Stdin = bytes.NewReader(z.Bytes())
		if code := run(context.Background(), e, args); code != 0 {
			t.Fatalf("%q: exit %d: %s", args, code, errb)
		}
		docs := ndjson(t, out.Bytes())
		if len(docs) != 9 {
			t.Fatalf("%d documents, want 9", len(docs))
		}
		first, _, _ := strings.Cut(string(raw), "\n")
		if docs[0]["event"].(map[string]any)["original"] != first {
			t.Errorf("-original: event.original = %v", docs[0]["event"])
		}
	}
	e, _, errb := testEnv(nil)
	if code := run(context.Background(), e, []string{"parse", "-key", "k", "a", "b"}); code != 2 || !strings.Contains(errb.String(), "one FILE") {
		t.Errorf("-key with two files: exit %d %q", code, errb)
	}
}

func TestGenerate(t *testing.T) {
	dir := t.TempDir()
	for _, format := range []string{"alb", "classic", "nlb", "conn"} {
		name := filepath.Join(dir, format+".log.gz")
		e, _, errb := testEnv(nil)
		if code := run(context.Background(), e, []string{"generate", "-format", format, "-size", "200KB", "-o", name}); code != 0 {
			t.Fatalf("%s: exit %d: %s", format, code, errb)
		}
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(f)
		if err != nil {
			t.Fatalf("%s: output is not gzip: %v", format, err)
		}
		var plain bytes.Buffer
		plain.ReadFrom(zr)
		f.Close()
		if plain.Len() < 200_000 || plain.Len() > 200_000+4096 {
			t.Errorf("%s: %d bytes, want about 200KB", format, plain.Len())
		}
		// Everything generated parses.
		e, out, errb := testEnv(nil)
		if code := run(context.Background(), e, []string{"parse", name}); code != 0 || !strings.Contains(errb.String(), " 0 parse failures") {
			t.Fatalf("%s: parse exit %d: %s", format, code, errb)
		}
		if n := bytes.Count(out.Bytes(), []byte("\n")); n != bytes.Count(plain.Bytes(), []byte("\n")) {
			t.Errorf("%s: %d documents for %d lines", format, n, bytes.Count(plain.Bytes(), []byte("\n")))
		}
	}
	// Same seed, same bytes.
	e1, o1, _ := testEnv(nil)
	e2, o2, _ := testEnv(nil)
	run(context.Background(), e1, []string{"generate", "-format", "nlb", "-size", "5000"})
	run(context.Background(), e2, []string{"generate", "-format", "nlb", "-size", "5000"})
	if o1.Len() < 5000 || !bytes.Equal(o1.Bytes(), o2.Bytes()) {
		t.Errorf("generate is not deterministic (%d vs %d bytes)", o1.Len(), o2.Len())
	}
	e, _, errb := testEnv(nil)
	if code := run(context.Background(), e, []string{"generate", "-format", "apache"}); code != 2 || !strings.Contains(errb.String(), "apache") {
		t.Errorf("bad format: exit %d %q", code, errb)
	}
	e, _, errb = testEnv(nil)
	if code := run(context.Background(), e, []string{"generate", "-size", "lots"}); code != 2 || !strings.Contains(errb.String(), "lots") {
		t.Errorf("bad size: exit %d %q", code, errb)
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"200MB": 200e6, "1GB": 1e9, "10MiB": 10 << 20, "512": 512, "1.5kb": 1500, "3 GiB": 3 << 30} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "MB", "-5MB", "x"} {
		if _, err := parseSize(bad); err == nil {
			t.Errorf("parseSize(%q) accepted", bad)
		}
	}
}
